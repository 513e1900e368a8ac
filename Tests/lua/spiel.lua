-- spiel: spiel.wrap starts at the base model and trains only the deltas; spiel.train selects at
-- updates 5 and 25 (first replacing everything, later a decaying fraction) keeping k per layer, for
-- SpIEL-AG and SpIEL-MA, and never with reselect = false; deltas export as a SparseDiff, save and
-- load, merge; LoRA trains through optim.AdamW + nn.fit, round-trips peft's layout, and runs over an
-- NF4 base (QLoRA); SpIEL-MA's SM3 accumulators are in its optimizer's state dict; errors name the
-- function; every help example of spiel, lora, Spiel, LoRA runs.
local T = require "tessera.test"

local config = {vocab_size = 16, hidden_size = 16, num_hidden_layers = 1, num_attention_heads = 2,
  num_key_value_heads = 1, intermediate_size = 24, max_position_embeddings = 16}
local function lm_loss(model, ids)
  local n = ids:size(2)
  return nn.cross_entropy(model(ids):narrow(2, 1, n - 1), ids:narrow(2, 2, n - 1))
end
tensor.manual_seed(3)
-- a learnable task: each sequence counts up by one from a random start
local function batch()
  local rows = {}
  for b = 1, 4 do
    local s = math.random(0, 7)
    rows[b] = {}
    for t = 1, 8 do rows[b][t] = (s + t) % 16 end
  end
  return tensor.from(rows, {dtype = "i64"})
end
math.randomseed(1)
local data = {}
for i = 1, 4 do data[i] = batch() end

-- wrap: same outputs, only deltas train, budget r·Σ(in+out)
tensor.manual_seed(1)
local m = nn.DecoderForCausalLM(config)
local ids = data[1]
local before = m(ids)
local d = spiel.wrap(m, {match_lora_rank = 2, seed = 1})
T.ok((m(ids) - before):abs():max():item() < 1e-6, "the wrapped model starts equal to the base")
local per_rank = 2 * (16 + 16) + 2 * (16 + 8) + 2 * (16 + 24) + (24 + 16)
T.ok(d:k() <= 2 * per_rank and d:k() > 2 * per_rank - 7, "k = r·Σ(in+out) up to flooring: " .. d:k())
local sum = 0
for _, row in ipairs(d:stats()) do sum = sum + row.k end
T.eq(sum, d:k(), "per-layer k adds up")
T.eq(d:state_bytes(), 20 * d:k(), "AG state: values, i32 indices, age and two moments")

-- SpIEL-AG
local loss0 = lm_loss(m, data[1]):item()
local h = spiel.train{model = m, delta = d, data = data, loss = lm_loss, steps = 30, lr = 0.02, log_every = 0}
T.eq(#h.loss, 30, "30 updates through nn.fit")
T.eq(#h.selections, 2, "selections at updates 5 and 25")
T.eq(h.selections[1].step, 5, "first selection after update 5")
T.eq(h.selections[1].rate, 1, "the first selection replaces everything")
T.eq(h.selections[1].replaced + h.selections[1].collisions, h.selections[1].planned, "minus collisions")
T.near(h.selections[2].rate, 0.2 * (1 - 25 / 30), 1e-12, "then a linearly decaying fraction")
sum = 0
for _, row in ipairs(d:stats()) do sum = sum + row.k end
T.eq(sum, d:k(), "k per layer is unchanged by selection")
T.ok(lm_loss(m, data[1]):item() < loss0, "AG lowers the loss")
T.eq(#d:selections(), 2, "the handle keeps the selections")

-- export, save and load, merge
local diff = d:diff()
T.eq(diff:nnz(), d:k(), "the diff holds every delta")
local path = os.tmpname()
d:save(path)
tensor.manual_seed(1)
local m2 = nn.DecoderForCausalLM(config)
local d2 = spiel.load(path, m2)
os.remove(path)
T.ok((m2(ids) - m(ids)):abs():max():item() < 1e-6, "a loaded delta gives the same outputs")
local adapted = m(ids)
d:merge()
T.ok((m(ids) - adapted):abs():max():item() < 1e-4, "merging keeps the outputs")

-- SpIEL-MA with the cosine policy, and the fixed mask
tensor.manual_seed(1)
local ma_model = nn.DecoderForCausalLM(config)
local ma = spiel.wrap(ma_model, {count = 300, regrow = "momentum"})
T.ok(ma:state_bytes() < 20 * ma:k(), "MA keeps less state than AG")
local hm = spiel.train{model = ma_model, delta = ma, data = data, loss = lm_loss, steps = 30, lr = 1e-2, policy = "cosine", log_every = 0}
T.eq(#hm.selections, 2, "MA selects on the same schedule")
T.eq(hm.selections[2].collisions, 0, "MA never regrows a dropped index")
T.near(hm.selections[2].rate, 0.2 * (1 + math.cos(math.pi * 25 / 30)) / 2, 1e-12, "cosine rate")
tensor.manual_seed(1)
local fixed_model = nn.DecoderForCausalLM(config)
local fixed = spiel.wrap(fixed_model, {count = 300})
local hf = spiel.train{model = fixed_model, delta = fixed, data = data, loss = lm_loss, steps = 8, lr = 1e-2, reselect = false, log_every = 0}
T.eq(#hf.selections, 0, "reselect = false keeps the random mask")

-- user on_step still runs, and can stop
local seen = 0
spiel.train{model = fixed_model, delta = fixed, data = data, loss = lm_loss, steps = 5, log_every = 0,
  on_step = function(info) seen = seen + 1; return seen < 3 end}
T.eq(seen, 3, "the user's on_step runs after each step and can stop training")

-- LoRA with optim.AdamW and nn.fit; peft layout both ways
tensor.manual_seed(1)
local lm = nn.DecoderForCausalLM(config)
local a = lora.wrap(lm, {r = 2, alpha = 16})
T.eq(a:count(), 2 * per_rank, "LoRA trains r·Σ(in+out)")
T.ok((lm(ids) - before):abs():max():item() < 1e-6, "LoRA starts equal to the base")
local opt = optim.AdamW(lm, {lr = 1e-2})
local hl = nn.fit{model = lm, data = data, loss = lm_loss, optimizer = opt, steps = 10, log_every = 0}
T.ok(hl.loss[10] < hl.loss[1], "LoRA trains")
local dir = os.tmpname()
os.remove(dir)
a:save(dir)
tensor.manual_seed(1)
local lm2 = nn.DecoderForCausalLM(config)
local b = lora.load(dir, lm2)
T.ok((lm2(ids) - lm(ids)):abs():max():item() < 1e-5, "a peft directory reloads to the same outputs")
os.remove(dir .. "/adapter_config.json"); os.remove(dir .. "/adapter_model.safetensors"); os.remove(dir)
T.eq(b:count(), a:count(), "same adapter size")

-- QLoRA and qSpIEL over NF4
tensor.manual_seed(1)
local q = nn.DecoderForCausalLM(config)
local full = q(ids)
T.eq(#lora.quantize(q), 7, "seven projections quantised to NF4")
T.ok((q(ids) - full):abs():max():item() < 0.5, "NF4 stays close to the f32 model")
local qd = spiel.wrap(q, {count = 200})
local hq = spiel.train{model = q, delta = qd, data = data, loss = lm_loss, steps = 6, lr = 1e-2, log_every = 0}
T.eq(#hq.selections, 1, "qSpIEL trains and selects over a 4-bit base")

-- SpIEL-MA: the SM3 accumulators travel with the optimizer's state dict
local ma_config = {vocab_size = 16, hidden_size = 8, num_hidden_layers = 1, num_attention_heads = 2, intermediate_size = 16,
  max_position_embeddings = 16}
local ma_lm = nn.DecoderForCausalLM(ma_config)
local ma = spiel.wrap(ma_lm, {count = 40, regrow = "momentum", seed = 1})
T.eq(ma:optimizer(), nil, "no optimizer before training")
local ma_ids = tensor.randint(0, 15, {2, 8})
local function ma_loss(model, b) return nn.cross_entropy(model(b):narrow(2, 1, 7), b:narrow(2, 2, 7)) end
spiel.train{model = ma_lm, delta = ma, data = {ma_ids}, loss = ma_loss, steps = 2, log_every = 0}
local ma_opt = ma:optimizer()
local ma_sd = ma_opt:state_dict()
T.ok(ma_sd["model.layers.0.self_attn.q_proj.values.row"] ~= nil and ma_sd["model.layers.0.mlp.down_proj.values.col"] ~= nil,
  "SM3 state has row and col accumulators per layer")
T.eq(ma_sd["model.layers.0.mlp.down_proj.values.col"]:size(1), 16, "col: one per input feature")
ma_opt:load_state_dict(ma_sd)
T.eq(ma_opt:state_dict()["model.layers.0.self_attn.q_proj.values.row"], ma_sd["model.layers.0.self_attn.q_proj.values.row"],
  "loaded accumulators are saved again")
ma_sd["model.layers.0.self_attn.q_proj.values.row"] = tensor.zeros(3)
T.raises(function() ma_opt:load_state_dict(ma_sd) end, "accumulators have shapes", "mis-shaped accumulators")

-- errors
T.raises(function() spiel.wrap(nn.DecoderForCausalLM(config), {density = 0.1, count = 5}) end, "spiel.wrap", "two budgets")
T.raises(function() spiel.wrap(nn.DecoderForCausalLM(config), {count = 5, regrow = "magic"}) end, "regrow", "bad regrow")
T.raises(function() spiel.wrap(nn.DecoderForCausalLM(config), {count = 5, targets = {"nothing"}}) end, "no Linear", "no targets")
T.raises(function() spiel.train{model = m, delta = 3, data = data, loss = lm_loss, steps = 2} end, "delta", "bad delta")
T.raises(function() lora.wrap(nn.DecoderForCausalLM(config), {r = 0}) end, "rank", "bad rank")
T.raises(function() lora.load("/nonexistent", nn.DecoderForCausalLM(config)) end, "lora.load", "missing adapter")

-- replacing the parts of an adapted layer is an error, never a crash
local broken = nn.DecoderForCausalLM(config)
lora.wrap(broken, {r = 2})
broken:replace("model.layers.0.self_attn.q_proj.lora_A", nn.Tanh())
T.raises(function() broken(ids) end, "lora_A", "a replaced lora_A")
local broken2 = nn.DecoderForCausalLM(config)
spiel.wrap(broken2, {count = 50})
broken2:replace("model.layers.0.self_attn.q_proj.base_layer", nn.Tanh())
T.raises(function() broken2(ids) end, "base", "a replaced base layer")

-- instruction data: ChatML prompts, labels only on the response
local ex = {{instruction = "Say hi.", output = "hi"}, {instruction = "Add.", input = "2 and 3", output = "5"}}
T.ok(instruct.prompt(ex[2]):find("<|im_start|>user\nAdd.\n\n2 and 3<|im_end|>\n<|im_start|>assistant\n", 1, true) ~= nil, "ChatML prompt")
local tok = tokenizers.bpe{tokens = {"a", "b", "h", "i", "<|im_start|>", "<|im_end|>"}, merges = {}}
local bids, blabels, nresp = instruct.batch(tok, ex, {max_length = 200})
local labelled = blabels:ne(-100):sum():item()
T.eq(labelled, nresp, "labels are set on the response tokens only")
T.ok(blabels:narrow(2, 1, 1):eq(-100):all(), "the prompt is not trained on")
T.raises(function() instruct.batch(tok, {{output = "x"}}) end, "instruction", "an example needs an instruction")

-- help examples
local real_print = print
for _, lib in ipairs{{"spiel", spiel}, {"lora", lora}, {"instruct", instruct}} do
  for name, f in pairs(lib[2]) do
    local text = {}
    print = function(...) for _, v in ipairs{...} do text[#text + 1] = tostring(v) end end
    help(f)
    print = real_print
    local example = table.concat(text, "\n"):match("\nExample:\n(.*)$")
    T.ok(example ~= nil, "help entry with example for " .. lib[1] .. "." .. name)
    if example then
      print = function() end
      local ok, err = pcall(load(example:gsub("\n  ", "\n"):gsub("^  ", "")))
      print = real_print
      T.ok(ok, "example of " .. lib[1] .. "." .. name .. (ok and "" or (": " .. tostring(err))))
    end
  end
end
for _, kind in ipairs{"Spiel", "LoRA"} do
  for name, f in pairs(debug.getregistry()["tessera." .. kind .. ".methods"]) do
    local text = {}
    print = function(...) for _, v in ipairs{...} do text[#text + 1] = tostring(v) end end
    help(f)
    print = real_print
    local example = table.concat(text, "\n"):match("\nExample:\n(.*)$")
    if T.ok(example ~= nil, "help entry with example for " .. kind .. ":" .. name) then
      print = function() end
      local ok, err = pcall(load(example:gsub("\n  ", "\n"):gsub("^  ", "")))
      print = real_print
      T.ok(ok, "example of " .. kind .. ":" .. name .. (ok and "" or (": " .. tostring(err))))
    end
  end
end

T.summary()
