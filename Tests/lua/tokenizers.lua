-- tokenizers: WordPiece, unigram and byte-level BPE built from Lua tables and loaded from files;
-- encode/decode/batch/tokens and the special-token fields; real MiniLM when assets/ has it.
local T = require "tessera.test"

local vocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "##s", "un", "##aff", "##able", ".", "!"}
local wp = tokenizers.wordpiece{vocab = vocab}
T.eq(wp.kind, "WordPiece", "kind")
T.eq({wp.pad_id, wp.unk_id, wp.cls_id, wp.sep_id, wp.mask_id}, {0, 1, 2, 3, 4}, "special ids are 0-based")
T.eq(wp:encode("The cats sat."), {2, 5, 6, 8, 7, 12, 3}, "encode adds [CLS] ... [SEP]")
T.eq(wp:encode("The cats sat.", {add_special_tokens = false}), {5, 6, 8, 7, 12}, "without special tokens")
T.eq(wp:tokens("Unaffable!"), {"un", "##aff", "##able", "!"}, "## continuation pieces")
T.eq(wp:tokens("dog"), {"[UNK]"}, "unknown word")
T.eq(wp:encode("the [MASK] sat", {add_special_tokens = false}), {5, 4, 7}, "added tokens are matched first")
T.eq(wp:decode({2, 5, 6, 8, 7, 12, 3}), "the cats sat.", "decode joins ## and skips specials")
T.eq(wp:decode({2, 5, 3}, {skip_special_tokens = false}), "[CLS] the [SEP]", "decode keeps specials on request")
T.eq(wp:decode(tensor.from({5, 6}, {dtype = "i64"})), "the cat", "decode a tensor")
T.eq(wp:vocab_size(), #vocab, "vocab_size")
T.eq(wp:token_to_id("cat"), 6, "token_to_id")
T.eq(wp:token_to_id("dog"), nil, "token_to_id of an unknown token")
T.eq(wp:id_to_token(6), "cat", "id_to_token")
T.eq(wp:id_to_token(99), nil, "id_to_token out of range")
T.ok(tostring(wp):find("Tokenizer(WordPiece", 1, true), "tostring")

-- batches: padding side, truncation, attention masks
local ids, mask = wp:batch({"the cat", "the cats sat."})
T.eq(ids:shape(), {2, 7}, "padded to the longest")
T.eq(ids:dtype(), "i64", "ids are i64")
T.eq(ids[1]:totable(), {2, 5, 6, 3, 0, 0, 0}, "right padding with pad_id")
T.eq(mask[1]:totable(), {1, 1, 1, 1, 0, 0, 0}, "attention mask")
ids, mask = wp:batch({"the cat", "the cats sat."}, {padding = "left", max_length = 5})
T.eq(ids:totable(), {{0, 2, 5, 6, 3}, {2, 5, 6, 8, 3}}, "left padding and truncation keep [CLS] ... [SEP]")
T.eq(mask[1]:totable(), {0, 1, 1, 1, 1}, "left-padded mask")
ids = wp:batch({"the"}, {max_length = 6, pad_to_max_length = true})
T.eq(ids:shape(), {1, 6}, "pad_to_max_length")
T.raises(function() wp:batch({"the", "the cat"}, {padding = false}) end, "different lengths", "no padding needs equal lengths")
T.raises(function() wp:batch({"the"}, {padding = "middle"}) end, "'right', 'left' or false", "bad padding side")
T.raises(function() wp:batch({}, {}) end, "at least one text", "empty batch")
T.raises(function() wp:batch({"a"}, {max_len = 3}) end, "unknown option 'max_len'", "typo in an option")
T.raises(function() wp:encode(5 > 3) end, "bad argument #2 to 'encode'", "encode needs a string")
T.raises(function() wp:decode({999}) end, "not in the vocabulary", "decode of an unknown id")
T.raises(function() wp.encode(nil, "x") end, "tokenizer expected", "method without a tokenizer")

-- vocab.txt through tokenizers.load, as a file and as a folder
local dir = os.tmpname()
os.remove(dir)
os.execute("mkdir " .. dir)
local f = io.open(dir .. "/vocab.txt", "w")
f:write(table.concat(vocab, "\n") .. "\n")
f:close()
T.eq(tokenizers.load(dir .. "/vocab.txt"):encode("The cats sat."), wp:encode("The cats sat."), "load(vocab.txt)")
T.eq(tokenizers.load(dir):encode("The cats sat."), wp:encode("The cats sat."), "load(folder)")
f = io.open(dir .. "/tokenizer.json", "w")
f:write('{"model": {"type": "Mystery"}}')
f:close()
T.raises(function() tokenizers.load(dir) end, "model type Mystery", "unsupported model type")
f = io.open(dir .. "/tokenizer.json", "w")
f:write('{"model": ')
f:close()
T.raises(function() tokenizers.load(dir) end, "not valid JSON", "malformed tokenizer.json")
os.remove(dir .. "/tokenizer.json")
os.remove(dir .. "/vocab.txt")
os.remove(dir)
T.raises(function() tokenizers.load("/nonexistent/tokenizer.json") end, "no such file", "missing file")

-- unigram: Viterbi over scored pieces, metaspace, <s> ... </s>
local uni = tokenizers.unigram{pieces = {"<unk>", "<s>", "</s>", "▁", "▁hello", "h", "e", "l", "o"},
  scores = {0, 0, 0, -2, -1, -3, -3, -3, -3}, unk = 0, bos = 1, eos = 2}
T.eq(uni:tokens("hello hoe"), {"▁hello", "▁", "h", "o", "e"}, "best-scoring segmentation")
T.eq(uni:encode("hello x"), {1, 4, 3, 0, 2}, "unknown character and <s> ... </s>")
T.eq(uni:decode(uni:encode("hello hoe")), "hello hoe", "metaspace decoding")
T.raises(function() tokenizers.unigram{pieces = {"a"}, scores = {0, 1}} end, "1 pieces but 2 scores", "length mismatch")
T.raises(function() tokenizers.unigram{pieces = {"a"}, scores = {"x"}} end, "not a number", "bad score")

-- byte-level BPE from GGUF-style arrays
local bpe = tokenizers.bpe{tokens = {"h", "i", "Ġ", "hi", "Ġhi", "<|end|>"}, merges = {"h i", "Ġ hi"},
  types = {1, 1, 1, 1, 1, 3}, eos = 5}
T.eq(bpe:tokens("hi hi"), {"hi", "Ġhi"}, "merges by rank")
T.eq(bpe:encode("hi<|end|>"), {3, 5}, "control tokens are special added tokens")
T.eq(bpe:decode(bpe:encode("hi hi<|end|>")), "hi hi", "byte-level decoding skips specials")
T.eq(bpe.eos_id, 5, "eos_id")
T.raises(function() tokenizers.bpe{tokens = {"a"}, merges = {"a b"}} end, "not in the vocabulary", "merge of unknown tokens")
T.raises(function() tokenizers.bpe{tokens = {"a"}, merges = {}, pre = "mystery"} end, "mystery", "unknown pre-tokenizer")
T.raises(function() tokenizers.bpe{tokens = "a", merges = {}} end, "table of strings", "tokens must be a table")

-- the real MiniLM tokenizer (HF: [CLS] hello , world ! [SEP] = 101 7592 1010 2088 999 102)
local assets = os.getenv("TESSERA_ASSETS") or "assets"
local function exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end
if exists(assets .. "/minilm/tokenizer.json") then
  local tok = tokenizers.load(assets .. "/minilm")
  T.eq(tok:encode("Hello, World!"), {101, 7592, 1010, 2088, 999, 102}, "MiniLM ids equal HF's")
  T.eq(tok:vocab_size(), 30522, "MiniLM vocabulary")
else
  print("skipped: MiniLM tokenizer not found in " .. assets .. "/minilm (run scripts/fetch-assets)")
end
-- tokenizers inside model files (HF: SmolLM2 'The capital' = 504 3575; e5 '<s> ▁Hello </s>' = 0 35378 2)
local smollm = assets .. "/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
if exists(smollm) then
  local tok = tokenizers.load(smollm)
  T.eq(tok:encode("The capital"), {504, 3575}, "SmolLM2 from its GGUF")
  T.eq(tok:decode(tok:encode("<|im_start|>user\nHi 123<|im_end|>")), "user\nHi 123", "SmolLM2 decodes without specials")
else
  print("skipped: SmolLM2 GGUF not found in " .. assets .. "/smollm2")
end
local e5 = assets .. "/e5/e5-small-q4.bin"
if exists(e5) then
  T.eq(tokenizers.load(e5):encode("Hello"), {0, 35378, 2}, "e5 from its model file")
else
  print("skipped: e5 model file not found in " .. assets .. "/e5")
end

T.summary()
