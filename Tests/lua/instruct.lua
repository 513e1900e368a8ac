-- instruct: instruction-tuning data and evaluation: SQuAD-style exact match and token F1, packed
-- batches (fixed rows, loss only on responses, never across examples), translation examples from
-- pairs, TSV and the fetched Bibles, GSM8K and Self-Instruct JSONL (../shared/data, skipped when
-- absent) and instruct.evaluate's greedy answers; errors name the function and argument.
local T = require "tessera.test"

local script_dir = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local assets = os.getenv("TESSERA_ASSETS") or (script_dir .. "/../../assets")
local shared = os.getenv("TESSERA_DATA") or (script_dir .. "/../../../shared/data")
local function present(root, path, how)
  local f = io.open(root .. "/" .. path, "rb")
  if f then f:close(); return root .. "/" .. path end
  print("skipped: " .. path .. " is not under " .. root .. " (" .. how .. ")")
end

-- metrics
T.eq(metrics.normalize_answer("  The  Answer is: ¡42!  "), "answer is 42", "normalisation")
T.eq(metrics.exact_match("The Eiffel Tower.", "eiffel  tower"), 1, "exact match after normalisation")
T.eq(metrics.exact_match({"Paris", "42"}, {"paris", "41"}), 0.5, "exact match over lists")
T.near(metrics.token_f1("the cat sat", "a cat sat down"), 0.8, 1e-12, "token F1")
T.raises(function() metrics.exact_match({"a"}, {"a", "b"}) end, "metrics.exact_match", "lists of different lengths")
T.raises(function() metrics.token_f1({1}, {"a"}) end, "#1 to 'metrics.token_f1'", "a non-string prediction")

-- a tokenizer with ChatML's markers as control tokens, and a tiny decoder over its vocabulary
local tokens = {}
for c in ("abcdefghijklmnopqrstuvwxyz"):gmatch(".") do tokens[#tokens + 1] = c end
for _, t in ipairs{"Ġ", "Ċ", "<|im_start|>", "<|im_end|>", "<pad>"} do tokens[#tokens + 1] = t end
local types = {}
for i = 1, #tokens do types[i] = i > 28 and 3 or 1 end
local tok = tokenizers.bpe{tokens = tokens, merges = {}, types = types, pad = #tokens - 1}
local im_start = tok:encode("<|im_start|>", {add_special_tokens = false})[1]

-- packing
local ex = {{instruction = "ab", output = "ab"}, {instruction = "b", input = "a", output = "abc"},
  {instruction = "c", output = "c"}, {instruction = "dd", output = "d"}}
local pids, plabels, pn = instruct.batch(tok, ex, {max_length = 48, pack = true})
local ids, labels, n = instruct.batch(tok, ex, {max_length = 48})
T.eq(pids:size(2), 48, "packed rows have exactly max_length tokens")
T.ok(pids:size(1) < #ex, "several examples share a row: " .. pids:size(1) .. " rows")
T.eq(pn, n, "packing keeps every response token")
T.eq(plabels:ne(-100):sum():item(), pn, "labels only on response tokens")
T.ok(plabels:masked_select(pids:eq(im_start)):eq(-100):all(), "no example's first token is trained on")
T.raises(function() instruct.batch(tok, ex, {pack = "yes"}) end, "pack", "pack must be a boolean")

-- bitext
local pairs_ = {{"one", "uno"}, {"two", "dos"}, {source = "three", target = "tres"}, {"", "vacío"}}
local bt = instruct.bitext(pairs_, {to = "Spanish", seed = 2})
T.eq(#bt, 3, "pairs with an empty side are left out")
T.eq(instruct.bitext(pairs_, {to = "Spanish", seed = 2}), bt, "deterministic for a seed")
T.ok(bt[1].instruction:match("^Translate to Spanish: ") ~= nil, "the instruction asks for the language")
local tsv = os.tmpname()
local f = io.open(tsv, "w")
f:write("good morning\tbuenos días\nthank you\tgracias\n")
f:close()
local fromfile = instruct.bitext(tsv, {to = "Spanish", count = 1})
T.eq(#fromfile, 1, "a TSV file, count")
os.remove(tsv)
T.raises(function() instruct.bitext({{"a"}}, {to = "x"}) end, "#1 to 'instruct.bitext'", "a pair without a target")
T.raises(function() instruct.bitext(pairs_) end, "'to'", "to is required")
T.raises(function() instruct.bible("/nonexistent", {direction = "english"}) end, "direction", "a bad direction")

local kjv = present(assets, "bible/kjv/engKJV2006eb.conf", "run scripts/fetch-assets")
if kjv and present(assets, "bible/sparv/spaRV1909eb.conf", "run scripts/fetch-assets") then
  local verses = instruct.bible(assets .. "/bible", {count = 3, seed = 1, max_chars = 100})
  T.eq(#verses, 3, "Bible: count")
  T.ok(verses[1].instruction:match("^Translate to Spanish: ") and #verses[1].instruction <= 122, "Bible: KJV verse to translate")
  T.eq(instruct.bible(assets .. "/bible", {count = 3, seed = 1, max_chars = 100}), verses, "Bible: deterministic for a seed")
  T.ok(instruct.bible(assets .. "/bible", {count = 1, direction = "es-en"})[1].instruction:match("^Translate to English: "),
    "Bible: the other direction")
  T.raises(function() instruct.bible(assets .. "/bible", {direction = "en-fr"}) end, "languages found", "Bible: no such module")
end

-- JSONL from ../shared/data
local gsm = present(shared, "gsm8k/grade-school-math/grade_school_math/data/test.jsonl", "../shared/data or $TESSERA_DATA")
if gsm then
  local g = instruct.read(gsm)
  T.eq(#g, 1319, "GSM8K: every test problem")
  T.eq(g[1].answer, "18", "GSM8K: the answer after ####")
  T.ok(not g[1].output:find("<<", 1, true), "GSM8K: calculator annotations removed")
end
local seeds = present(shared, "self_instruct/self-instruct/data/seed_tasks.jsonl", "../shared/data or $TESSERA_DATA")
if seeds then T.ok(#instruct.read(seeds) >= 175, "Self-Instruct: the seed tasks' instances") end

-- evaluation on a tiny decoder
tensor.manual_seed(0)
local m = nn.DecoderForCausalLM{vocab_size = #tokens, hidden_size = 16, num_hidden_layers = 1, num_attention_heads = 2,
  intermediate_size = 32, max_position_embeddings = 64}
local seen = 0
local r = instruct.evaluate(m, tok, ex, {max_new_tokens = 3, on_example = function(i, p)
  seen = seen + 1
  T.eq(p.exact_match, metrics.exact_match(p.answer, p.reference) == 1, "per-example exact match")
end})
T.eq({r.count, seen, #r.predictions}, {4, 4, 4}, "every example evaluated")
T.ok(r.exact_match >= 0 and r.exact_match <= 1 and r.f1 >= r.exact_match, "scores in [0, 1], F1 at least EM")
local stopped = instruct.evaluate(m, tok, ex, {max_new_tokens = 2, extract = function() return "ab" end,
  on_example = function() return false end})
T.eq({stopped.count, stopped.exact_match}, {1, 1}, "extract function and early stop")
local gsm_like = {{instruction = "q", output = "x #### 7", answer = "7"}}
T.eq(instruct.evaluate(m, tok, gsm_like, {max_new_tokens = 1, extract = "gsm8k"}).predictions[1].reference, "7",
  "the answer field is the reference")
T.raises(function() instruct.evaluate(nn.Linear(2, 2), tok, ex) end, "causal language model", "not a causal LM")
T.raises(function() instruct.evaluate(m, tok, {}) end, "#3 to 'instruct.evaluate'", "no examples")
T.raises(function() instruct.evaluate(m, tok, ex, {extract = "first"}) end, "extract", "unknown extraction")
T.raises(function() instruct.evaluate(m, tok, ex, {extract = function() error("boom") end}) end, "boom", "extract's error")

T.summary()
