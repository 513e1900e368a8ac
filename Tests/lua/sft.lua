-- sft: sft.train gives exactly K entries, leaves every other maskable entry at θ0 and carries the
-- head only for a task SFT; diffs apply and revert exactly, compose (commuting, equal to the dense
-- sum), save and load bitwise (3-D tensors included), prune and overlap; errors are Lua errors.
local T = require "tessera.test"

local config = {vocab_size = 12, hidden_size = 8, num_hidden_layers = 1, num_attention_heads = 2,
  intermediate_size = 16, max_position_embeddings = 8, hidden_dropout_prob = 0, attention_probs_dropout_prob = 0}

local function copy(m)
  local out = {}
  for name, t in pairs(m:parameters()) do out[name] = t:clone() end
  return out
end
local function same(a, b) return a:eq(b):all() end

tensor.manual_seed(1)
local ids = tensor.randint(1, 11, {8, 6})
local rows = ids:totable()
for _, row in ipairs(rows) do for j, v in ipairs(row) do row[j] = v % 3 end end
local labels = tensor.from(rows, {dtype = "i64"})
local function tag_loss(model, b) return nn.cross_entropy(model(b.ids), b.labels) end

-- a task SFT on a tiny tagger
local tagger = nn.EncoderForTokenClassification(config, 3)
local theta0 = copy(tagger)
local d, h = sft.train{model = tagger, data = {{ids = ids, labels = labels}}, loss = tag_loss, k = 40,
  full_steps = 4, sparse_steps = 4, lr = 0.01, log_every = 0}
T.eq(#h.full[1].loss, 4, "phase 1 ran through nn.fit")
T.eq(#h.sparse[1].loss, 4, "phase 2 ran through nn.fit")
T.ok(d:nnz() <= 40 and d:nnz() > 30, "at most K entries changed: " .. d:nnz())
T.eq(d:info().k, 40, "K recorded")
T.eq(d:info().kind, "task", "a tagger trains a task SFT")
T.eq(d:info().heads, {"classifier.bias", "classifier.weight"}, "the task SFT carries the dense head")
local changed = 0
for name, t in pairs(tagger:parameters()) do
  if name:find("^bert") then changed = changed + t:ne(theta0[name]):sum():item() end
  if name:find("LayerNorm") then T.ok(same(t, theta0[name]), name .. " is frozen") end
end
T.ok(changed <= 40, "only the selected encoder entries moved (" .. changed .. ")")
for _, name in ipairs(d:params()) do T.ok(name:find("^bert") and not name:find("LayerNorm"), name .. " is maskable") end
T.ok(tagger:parameters()["bert.embeddings.LayerNorm.weight"]:requires_grad(), "trainability restored")

-- θ0 + diff is the trained model
local again = nn.EncoderForTokenClassification(config, 3)
again:load_state_dict(theta0)
d:apply(again)
for name, t in pairs(again:parameters()) do
  T.near(t, tagger:parameters()[name], 1e-6, "θ0 + diff = trained: " .. name)
end
d:revert(again)
for name, t in pairs(again:parameters()) do T.ok(same(t, theta0[name]), "revert is exact: " .. name) end

-- random selection at equal K
local random_model = nn.EncoderForTokenClassification(config, 3)
local r = sft.train{model = random_model, data = {{ids = ids, labels = labels}}, loss = tag_loss, k = 40,
  full_steps = 2, sparse_steps = 2, lr = 0.01, selection = "random", log_every = 0}
T.eq(r:info().training.method, "random-mask sft", "random selection recorded")
T.ok(r:nnz() <= 40, "random selection keeps K")

-- a language SFT: no head, the decoder untied and frozen
-- (its encoder is the tagger's base, as a pretrained model would be shared)
local mlm = nn.EncoderForMaskedLM(config)
local encoder_only = {}
for name, t in pairs(theta0) do if name:find("^bert") then encoder_only[name] = t end end
mlm:load_state_dict(encoder_only, {strict = false})
local embeddings = mlm:parameters()["bert.embeddings.word_embeddings.weight"]:clone()
local lang = sft.train{model = mlm, data = {{ids = ids}}, density = 0.05, full_steps = 3, sparse_steps = 3, lr = 0.01,
  l1 = 0.1, log_every = 0, loss = function(model, b) return nn.cross_entropy(model(b.ids), b.ids) end}
T.eq(lang:info().kind, "language", "an MLM model trains a language SFT")
T.eq(#lang:info().heads, 0, "a language SFT carries no head")
T.ok(same(mlm:parameters()["cls.predictions.decoder.weight"], embeddings), "the untied decoder stayed frozen")

-- multi-source: each batch's source-language SFT is applied for its step and taken out after;
-- θ0 and the diff stay relative to the model without any source SFT
local ms = nn.EncoderForTokenClassification(config, 3)
ms:load_state_dict(theta0)
local probe = "bert.embeddings.word_embeddings.weight"
local function shifted(by) -- a source SFT that moves one entry (token 0, unused by the batches) by `by`
  local tuned = {}
  for name, t in pairs(ms:parameters()) do tuned[name] = t:detach():clone() end
  local entry = tuned[probe]:select(1, 1):narrow(1, 1, 1)
  entry:copy_(entry + by)
  return sft.extract(copy(ms), tuned)
end
local sources = {a = shifted(100), b = shifted(-100)}
T.eq(sources.a:nnz(), 1, "a one-entry source SFT")
local seen = {}
local ms_loss = function(model, b)
  local v = model:parameters()[probe][1][1] - theta0[probe][1][1]
  seen[#seen + 1] = b.source .. (v > 50 and "+" or v < -50 and "-" or "0")
  return tag_loss(model, b)
end
local ms_data = {{ids = ids, labels = labels, source = "a"}, {ids = ids, labels = labels, source = "b"}}
local msd = sft.train{model = ms, data = ms_data, loss = ms_loss, k = 40, full_steps = 4, sparse_steps = 4, lr = 0.01,
  sources = sources, log_every = 0}
T.eq(table.concat(seen, " "), "a+ b- a+ b- a+ b- a+ b-", "each batch sees its own source SFT, in both phases")
local ms_again = nn.EncoderForTokenClassification(config, 3)
ms_again:load_state_dict(theta0)
msd:apply(ms_again)
for name, t in pairs(ms_again:parameters()) do
  T.near(t, ms:parameters()[name], 1e-4, "multi-source: θ0 + diff = trained, no source left in: " .. name)
end
T.raises(function() sft.train{model = ms, data = {{ids = ids, labels = labels, source = "c"}}, loss = tag_loss, k = 10,
  full_steps = 1, sparse_steps = 1, sources = sources, log_every = 0} end, "not a key of sources", "unknown source")
T.raises(function() sft.train{model = ms, data = ms_data, loss = tag_loss, k = 10, full_steps = 1, sparse_steps = 1,
  sources = {a = 1}, log_every = 0} end, "SparseDiff", "sources that are not diffs")

-- composition: language (no head) + task, in either order, equals the dense sum
local function fresh() local m = nn.EncoderForTokenClassification(config, 3); m:load_state_dict(theta0); return m end
local ab, ba = fresh(), fresh()
lang:apply(ab); d:apply(ab)
d:apply(ba); lang:apply(ba)
local sum = lang + d
local summed = fresh()
sum:apply(summed)
for name, t in pairs(ab:parameters()) do
  T.near(t, ba:parameters()[name], 1e-6, "composition commutes: " .. name)
  T.near(t, summed:parameters()[name], 1e-6, "equals the summed diff: " .. name)
end
T.eq(sum:nnz(), lang:nnz() + d:nnz() - lang:overlap(d).shared, "the sum's support is the union")
local o = d:overlap(d * 3)
T.eq(o.shared, d:nnz(), "a diff overlaps itself fully")
T.near(o.cosine, 1, 1e-6, "cosine with a scaled copy")
T.eq(d:top_k(5):nnz(), 5, "top_k prunes to k")
T.ok(d:density() > 0 and d:density() < 0.1, "density " .. d:density())
local st = d:stats()
T.ok(#st.params == #d:params() and #st.layers >= 2, "stats per parameter and per layer")

-- save / load bitwise, with a 3-D tensor
local a3 = {cube = tensor.randn(3, 4, 5), flat = tensor.randn(7)}
local b3 = {cube = a3.cube:clone(), flat = a3.flat + 1}
tensor.no_grad(function() b3.cube:copy_(b3.cube + tensor.randn(3, 4, 5):gt(1):to("f32") * 0.5) end)
local e = sft.extract(a3, b3)
local path = os.tmpname()
e:save(path)
local loaded = sft.load(path)
os.remove(path)
T.eq(loaded:nnz(), e:nnz(), "same nnz after load")
T.eq(loaded:params(), {"cube", "flat"}, "parameter names kept")
T.eq(loaded:stats().params[1].shape, {3, 4, 5}, "3-D shape kept")
T.eq(loaded:stats().params[1].norm, e:stats().params[1].norm, "values kept bitwise")
T.eq(loaded:info().base_hash, e:info().base_hash, "base hash kept")
local saved_with_head = os.tmpname()
d:save(saved_with_head)
local d2 = sft.load(saved_with_head)
os.remove(saved_with_head)
local m1, m2 = fresh(), fresh()
d:apply(m1); d2:apply(m2)
for name, t in pairs(m1:parameters()) do T.ok(same(t, m2:parameters()[name]), "loaded diff applies bitwise: " .. name) end

-- errors
local other = nn.EncoderForTokenClassification(config, 3)
T.raises(function() d:apply(other) end, "wrong base model", "another base model")
local wider = nn.EncoderForTokenClassification({vocab_size = 12, hidden_size = 16, num_hidden_layers = 1,
  num_attention_heads = 2, intermediate_size = 16, max_position_embeddings = 8}, 3)
T.raises(function() d:apply(wider) end, "shape", "another shape")
T.raises(function() d:apply(nn.Linear(2, 2)) end, "has no parameter", "another architecture")
T.raises(function() sft.train{model = fresh(), data = {{ids = ids, labels = labels}}, loss = tag_loss, k = 10,
  full_steps = 1, sparse_steps = 1, selection = "best"} end, "selection", "unknown selection")
T.raises(function() sft.train{model = fresh(), data = {{ids = ids, labels = labels}}, loss = tag_loss, k = 10} end,
  "full_steps", "missing phase length")
T.raises(function() sft.train{model = fresh(), data = {{ids = ids, labels = labels}}, loss = tag_loss, k = 10 ^ 9,
  full_steps = 1, sparse_steps = 1} end, "k = ", "K beyond the maskable entries")
T.raises(function() sft.train{model = fresh(), k = 10, full_steps = 1, sparse_steps = 1, lr = 1, lrr = 2} end,
  "unknown option 'lrr'", "typo in an option")
T.raises(function() sft.load("/nonexistent/diff.safetensors") end, "sft.load", "missing file")
local not_diff = os.tmpname()
local f = io.open(not_diff, "w"); f:write("junk"); f:close()
T.raises(function() sft.load(not_diff) end, "sft.load", "not a safetensors file")
os.remove(not_diff)
T.raises(function() return d + lang * "x" end, "number expected", "scaling by a string")
T.raises(function() d:top_k(-1) end, "non-negative", "negative k")
T.raises(function() sft.extract({w = tensor.zeros(2)}, {w = tensor.zeros(3)}) end, "shape", "extract mismatched shapes")

T.summary()
