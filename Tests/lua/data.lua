-- data: datasets from CoNLL-U, text, TSV, bitext and JSONL files; malformed files give
-- file:line errors; seeded shuffle, batches and buckets; every help example of the library runs;
-- real treebanks from ../shared/data and assets/ when they are present.
local T = require "tessera.test"

local function write(text)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

local function row(...) return table.concat({...}, "\t") .. "\n" end

-- a sentence with a multiword token (2-3) and an empty node (4.1), and one with a CRLF line
local conllu = write(
  "# newdoc id = d1\n# sent_id = s1\n# text = I can't go.\n" ..
  row("1", "I", "I", "PRON", "PRP", "Case=Nom|Number=Sing", "4", "nsubj", "4:nsubj", "_") ..
  row("2-3", "can't", "_", "_", "_", "_", "_", "_", "_", "SpaceAfter=No") ..
  row("2", "ca", "can", "AUX", "MD", "VerbForm=Fin", "4", "aux", "_", "_") ..
  row("3", "n't", "not", "PART", "RB", "Polarity=Neg", "4", "advmod", "_", "_") ..
  row("4", "go", "go", "VERB", "VB", "VerbForm=Inf", "0", "root", "0:root", "SpaceAfter=No") ..
  row("4.1", "went", "go", "VERB", "VBD", "_", "_", "_", "4:conj", "_") ..
  row("5", ".", ".", "PUNCT", ".", "_", "4", "punct", "4:punct", "_") ..
  "\n\n# sent_id = s2\n" ..
  "1\tHi\thi\tINTJ\tUH\tA=x|A=y\t0\troot\t_\t_\r\n")

local ds = data.conllu(conllu)
T.eq(#ds, 2, "two sentences")
T.ok(tostring(ds):find("Dataset(conllu, 2 sentences, ", 1, true), "tostring")
local s = ds[1]
T.eq(s.sent_id, "s1", "sent_id")
T.eq(s.text, "I can't go.", "text")
T.eq(s.comments, {"newdoc id = d1", "sent_id = s1", "text = I can't go."}, "comments")
T.eq(s.line, 1, "first line")
T.eq(s.words, {"I", "ca", "n't", "go", "."}, "words are the syntactic words")
T.eq(s.lemmas, {"I", "can", "not", "go", "."}, "lemmas")
T.eq(s.upos, {"PRON", "AUX", "PART", "VERB", "PUNCT"}, "upos")
T.eq(s.xpos[2], "MD", "xpos")
T.eq(s.heads, {4, 4, 4, 0, 4}, "heads")
T.eq(s.deprels, {"nsubj", "aux", "advmod", "root", "punct"}, "deprels")
T.eq(s.feats[1], {Case = "Nom", Number = "Sing"}, "feats parsed")
T.eq(s.feats[5], {}, "feats _ is empty")
local t = s.tokens[1]
T.eq({t.id, t.form, t.lemma, t.upos, t.xpos, t.head, t.deprel, t.deps, t.misc, t.line},
  {1, "I", "I", "PRON", "PRP", 4, "nsubj", "4:nsubj", "_", 4}, "a full row")
T.eq(#s.tokens, 5, "tokens are the words")
T.eq(#s.multiword, 1, "one multiword token")
T.eq({s.multiword[1].id, s.multiword[1].form, s.multiword[1].first, s.multiword[1].last, s.multiword[1].misc},
  {"2-3", "can't", 2, 3, "SpaceAfter=No"}, "multiword token")
T.eq({s.empty[1].id, s.empty[1].form, s.empty[1].deps, s.empty[1].head}, {"4.1", "went", "4:conj", nil}, "empty node")
T.eq(ds[2].words, {"Hi"}, "CRLF line")
T.eq(ds[2].tokens[1].misc, "_", "no \\r left in MISC")
T.eq(ds[2].feats[1].A, "x,y", "a repeated feature keeps both values")
T.eq(ds[2].text, nil, "no text comment")
T.eq(ds[-1].sent_id, "s2", "negative index")
T.eq({ds[0], ds[3], ds.nope}, {}, "nil outside and for unknown keys")
local seen = {}
for i, x in ipairs(ds) do seen[i] = x.sent_id end
T.eq(seen, {"s1", "s2"}, "ipairs")
seen = {}
for i, x in ds:iter() do seen[#seen + 1] = i .. x.sent_id end
T.eq(seen, {"1s1", "2s2"}, "iter")

-- malformed files: the error names file:line and what is wrong
local good = row("1", "a", "a", "X", "_", "_", "0", "root", "_", "_")
local bad_cases = {
  {"# c\n" .. "1\ta\ta\tX\t_\t_\t0\troot\t_\n", 2, "expected 10 tab-separated columns, found 9"},
  {good .. row("3", "b", "b", "X", "_", "_", "1", "dep", "_", "_"), 2, "word ID 3 out of order (expected 2)"},
  {good .. row("2", "b", "b", "X", "_", "_", "9", "dep", "_", "_"), 2, "HEAD 9 is not a word of this sentence"},
  {good .. "\n" .. row("1", "b", "b", "X", "_", "Case", "0", "root", "_", "_"), 3, "FEATS entry 'Case' is not Key=Value"},
  {row("x", "a", "a", "X", "_", "_", "0", "root", "_", "_"), 1, "ID 'x' is not a word ID"},
  {good .. "# late\n", 2, "comment line inside a sentence"},
}
for _, case in ipairs(bad_cases) do
  local path = write(case[1])
  T.raises(function() data.conllu(path) end, path .. ":" .. case[2] .. ": " .. case[3], "malformed: " .. case[3])
  os.remove(path)
end
T.raises(function() data.conllu("/no/such.conllu") end, "/no/such.conllu: cannot open", "missing file")
T.raises(function() data.conllu() end, "bad argument #1 to 'data.conllu' (string expected", "no path")

-- text: lines keep blank lines unless asked; paragraphs join lines
local text = write("the cat sat\non the mat\n\n\na dog\n")
T.eq(#data.lines(text), 5, "all lines")
T.eq(data.lines(text)[2], "on the mat", "a line")
T.eq(#data.lines(text, {skip_empty = true}), 3, "skip_empty")
local paragraphs = data.paragraphs(text)
T.eq({#paragraphs, paragraphs[1], paragraphs[2]}, {2, "the cat sat\non the mat", "a dog"}, "paragraphs")
T.raises(function() data.lines(text, {skip = true}) end, "unknown option 'skip'", "option typo")

-- TSV and bitext
local tsv = write("en\tes\nthe house\tla casa\n\ngood\tbueno\n")
local rows = data.tsv(tsv, {header = true})
T.eq({#rows, rows[1].en, rows[1].es, rows[2][1]}, {2, "the house", "la casa", "good"}, "tsv with header")
T.eq(data.tsv(tsv, {columns = {"a", "b"}})[1].b, "es", "named columns")
T.eq(#data.tsv(tsv), 3, "tsv without header")
local ragged = write("a\tb\nc\n")
T.raises(function() data.tsv(ragged) end, ragged .. ":2: expected 2 tab-separated columns, found 1", "ragged tsv")
T.raises(function() data.tsv(tsv, {columns = {"a", "b", "c"}}) end, tsv .. ":1: expected 3 tab-separated columns", "columns must match")
T.raises(function() data.tsv(tsv, {columns = {1}}) end, "element 1 is a number, not a string", "column names are strings")
local en, es, short = write("one\ntwo\n"), write("uno\ndos\n"), write("uno\n")
local pairs_ = data.bitext(en, es)
T.eq({#pairs_, pairs_[2].source, pairs_[2].target, pairs_[1][2]}, {2, "two", "dos", "uno"}, "bitext")
T.raises(function() data.bitext(en, short) end, en .. ":2: " .. short .. " ends at line 1", "unaligned bitext")

-- JSONL
local jsonl = write('{"q": "2+2?", "a": 4, "x": 0.5, "ok": true, "n": null, "tags": ["m", "n"], "o": {"k": 1}}\n\n{"q": "1+1?", "a": 2}\n')
local recs = data.jsonl(jsonl)
local r = recs[1]
T.eq({#recs, r.q, r.a, math.type(r.a), r.x, r.ok, r.n, r.tags, r.o.k}, {2, "2+2?", 4, "integer", 0.5, true, nil, {"m", "n"}, 1}, "jsonl values")
T.eq(data.jsonl(jsonl, {fields = {"a"}})[2], {a = 2}, "fields")
T.raises(function() data.jsonl(jsonl, {fields = {"x"}}) end, jsonl .. ":3: no field 'x'", "missing field")
local badjson = write('{"a": 1}\n{"a": }\n')
T.raises(function() data.jsonl(badjson) end, badjson .. ":2: invalid JSON", "invalid JSON")
local notobject = write('[1, 2]\n')
T.raises(function() data.jsonl(notobject) end, notobject .. ":1: expected a JSON object, got an array", "not an object")

-- shuffle: seeded, a permutation, a view
local lines = data.lines(write("a\nb\nc\nd\ne\nf\ng\nh\n"))
local function all(d) local out = {} for i, x in d:iter() do out[i] = x end return out end
T.eq(all(lines:shuffle(1)), all(lines:shuffle(1)), "same seed, same order")
T.ok(table.concat(all(lines:shuffle(1))) ~= table.concat(all(lines:shuffle(2))), "another seed, another order")
local sorted = all(lines:shuffle(5))
table.sort(sorted)
T.eq(sorted, all(lines), "a permutation")
T.eq(all(lines:shuffle(1)), {"e", "h", "a", "c", "b", "g", "d", "f"}, "the order is pinned (xoshiro256** seeded by splitmix64)")
T.eq(lines:shuffle(1):indices(), {5, 8, 1, 3, 2, 7, 4, 6}, "indices of a view")
T.eq(all(lines), {"a", "b", "c", "d", "e", "f", "g", "h"}, "the original keeps its order")
tensor.manual_seed(3)
local before = tensor.rand(1):item()
tensor.manual_seed(3)
lines:shuffle(9)
T.eq(tensor.rand(1):item(), before, "shuffle leaves the global stream alone")

-- slices and batches
T.eq(all(lines:slice(2, 4)), {"b", "c", "d"}, "slice")
T.eq(all(lines:slice(-2)), {"g", "h"}, "slice from the end")
T.eq(#lines:slice(3, 2), 0, "empty slice")
T.raises(function() lines:slice(0, 9) end, "outside the dataset's 8 items", "slice out of range")
local b = lines:batches(3)
T.eq({#b, all(b[1]), all(b[3])}, {3, {"a", "b", "c"}, {"g", "h"}}, "batches")
T.eq(#lines:batches(3, {drop_last = true}), 2, "drop_last")
T.raises(function() lines:batches(0) end, "batch size must be at least 1", "size 0")
T.raises(function() lines:batches(2, {seed = 1}) end, "option 'seed' needs bucket=true", "seed without bucket")
local varied = data.lines(write("a b c d\na\na b\na b c\nx y\nz\n"))
local buckets = varied:batches(2, {bucket = true})
local lengths = {}
for i, bt in ipairs(buckets) do
  lengths[i] = {}
  for j, line in bt:iter() do lengths[i][j] = select(2, line:gsub("%S+", "")) end
end
T.eq(lengths, {{1, 1}, {2, 2}, {3, 4}}, "buckets of similar length, in length order")
local shuffled = varied:batches(2, {bucket = true, seed = 4})
T.eq(#shuffled, 3, "seeded buckets")
T.eq(shuffled[1]:indices(), varied:batches(2, {bucket = true, seed = 4})[1]:indices(), "seeded buckets repeat")
local by_key = varied:batches(3, {bucket = true, key = function(line) return -#line end})
T.eq(all(by_key[1]), {"a b c d", "a b c", "a b"}, "key function: longest first")
T.eq(#varied:batches(10, {bucket = true, max_tokens = 4}), 4, "max_tokens 4: {1,1} {2,2} {3} {4}")
T.raises(function() varied:batches(2, {bucket = true, key = function() return "x" end}) end, "not a number", "key returns a string")
T.raises(function() varied:batches(2, {bucket = true, key = function() error("boom") end}) end, "key failed", "key raises")
T.raises(function() recs:batches(2, {bucket = true}) end, "give key", "JSONL needs a key")
local sentence_buckets = ds:batches(1, {bucket = true})
T.eq({sentence_buckets[1][1].sent_id, sentence_buckets[2][1].sent_id}, {"s2", "s1"}, "sentences bucket by word count")

-- every function of the library and every Dataset method has a help entry whose example runs
-- (Tests/lua/help.lua walks the other libraries)
local real_print = print
local methods = debug.getregistry()["tessera.Dataset.methods"]
local names = {}
for k, f in pairs(data) do names[#names + 1] = {"data." .. k, f} end
for k, f in pairs(methods) do names[#names + 1] = {"Dataset:" .. k, f} end
T.ok(#names >= 11, #names .. " documented functions")
for _, nf in ipairs(names) do
  local out = {}
  print = function(...) out[#out + 1] = table.concat({...}, " ") end
  local ok, err = pcall(help, nf[2])
  print = real_print
  local text = table.concat(out, "\n")
  if T.ok(ok and text:find("Example:", 1, true), "help entry for " .. nf[1] .. (err and (": " .. tostring(err)) or "")) then
    local example = text:match("\nExample:\n(.*)$"):gsub("^  ", ""):gsub("\n  ", "\n")
    print = function() end
    local chunk, cerr = load(example, "=example of " .. nf[1])
    local ran, rerr = false, cerr
    if chunk then ran, rerr = pcall(chunk) end
    print = real_print
    T.ok(ran, "example of " .. nf[1] .. " runs" .. (ran and "" or (": " .. tostring(rerr))))
  end
end
for _, topic in ipairs{"data", "Dataset"} do
  local out = {}
  print = function(...) out[#out + 1] = table.concat({...}, " ") end
  help(topic)
  print = real_print
  T.ok(table.concat(out, "\n"):find("Functions:", 1, true), "help(\"" .. topic .. "\") is a topic")
end

-- real treebanks: the shared UD data and the fetched Turkish treebanks, when present
local here = debug.getinfo(1, "S").source:match("^@(.*)/Tests/lua/[^/]*$") or "."
local shared = os.getenv("TESSERA_SHARED_DATA") or (here .. "/../shared/data")
local pud = shared .. "/ud_pud/UD_English-PUD/en_pud-ud-test.conllu"
if io.open(pud) then
  local en = data.conllu(pud)
  local words, empty = 0, 0
  for _, x in en:iter() do words, empty = words + #x.words, empty + #x.empty end
  T.eq({#en, words}, {1000, 21180}, "English PUD: the sentence and word counts of its README")
  T.ok(empty > 0, "English PUD has empty nodes (" .. empty .. ")")
  local ja = data.conllu(shared .. "/ud_pud/UD_Japanese-PUD/ja_pud-ud-test.conllu")
  T.eq(#ja, 1000, "Japanese PUD")
else
  print("skipped: " .. pud .. " is absent (the shared UD data is not on this machine)")
end
local turkish = (os.getenv("TESSERA_ASSETS") or (here .. "/assets")) .. "/turkish-treebanks/web.conllu"
if io.open(turkish) then
  local tr = data.conllu(turkish)
  T.eq(#tr, 2541, "Turkish web treebank")
  T.ok(tr[1].text and #tr[1].words > 0, "Turkish sentences have text and words")
else
  print("skipped: " .. turkish .. " is absent (run scripts/fetch-assets)")
end

local bible = (os.getenv("TESSERA_ASSETS") or (here .. "/assets")) .. "/bible"
if io.open(bible .. "/kjv/ot.bzz") then
  local kjv = data.sword(bible .. "/kjv")
  T.eq({#kjv, kjv[1].reference, kjv[-1].reference}, {31102, "Gen.1.1", "Rev.22.21"}, "KJV: every verse of its versification")
  T.eq(kjv[1].text, "In the beginning God created the heaven and the earth.", "verse text without markup")
  local pairs_en_es = data.sword(bible .. "/kjv", bible .. "/sparv")
  T.ok(#pairs_en_es > 31000, #pairs_en_es .. " aligned English-Spanish verses")
  T.eq(pairs_en_es[1].target, "EN el principio crió Dios los cielos y la tierra.", "Reina-Valera Gen.1.1")
  T.eq(#pairs_en_es:batches(64, {bucket = true}), math.ceil(#pairs_en_es / 64), "verses bucket by the target's words")
else
  print("skipped: " .. bible .. " is absent (run scripts/fetch-assets)")
end
T.raises(function() data.sword("/no/such/module") end, "/no/such/module/ot.bzs", "missing module")

for _, p in ipairs{conllu, text, tsv, ragged, en, es, short, jsonl, badjson, notobject} do os.remove(p) end
T.summary()
