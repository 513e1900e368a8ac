-- %% [markdown]
-- # SpIEL vs QLoRA on SmolLM2-135M-Instruct, base kept 4-bit
--
-- The real-model companion of `examples/spiel.lua`: SmolLM2-135M-Instruct is loaded from its GGUF
-- with its projections left in Q4_1 blocks (`{quantized = true}`), and instruction-tuned on word-sense
-- questions built from WordNet ("What does 'bank' mean in: "…"? " → the gloss) with SpIEL-AG and
-- with QLoRA at the same trainable count (rank 8 on the seven projections). We report held-out loss
-- on the responses before and after, step time, trainable-state bytes and a few generations.
-- Needs assets/smollm2 and assets/wordnet (scripts/fetch-assets). `TESSERA_FAST=1` shortens it.

-- %%
local seed = 0
local fast = os.getenv("TESSERA_FAST") ~= nil
tensor.manual_seed(seed)
local GGUF = "assets/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
local STEPS, BATCH, MAXLEN, RANK = fast and 4 or 80, 4, 96, 8
print("seed " .. seed .. ", " .. STEPS .. " updates of " .. BATCH .. " examples" .. (fast and " (fast mode)" or ""))

-- %% [markdown]
-- ## Data: word senses from WordNet
-- 2 000 shuffled synsets whose gloss quotes an example; 64 are held out.

-- %%
local all = instruct.wordnet("assets/wordnet", {count = fast and 200 or 2064, seed = seed})
local heldout, train = {}, {}
for i, e in ipairs(all) do if i <= 64 then heldout[#heldout + 1] = e else train[#train + 1] = e end end
print(#train .. " training and " .. #heldout .. " held-out examples; one of them:")
print(instruct.prompt(train[1]) .. train[1].output)

-- %%
local function load_model()
  local m, tok = models.load(GGUF, {quantized = true})
  return m, tok
end
local function response_loss(model, ids, labels)
  local T = ids:size(2)
  return nn.cross_entropy(model(ids):narrow(2, 1, T - 1), labels:narrow(2, 2, T - 1))
end
local function heldout_loss(model, tok)
  model:eval()
  local total, n = 0, 0
  for i = 1, #heldout, 8 do
    local chunk = {}
    for j = i, math.min(#heldout, i + 7) do chunk[#chunk + 1] = heldout[j] end
    local ids, labels, count = instruct.batch(tok, chunk, {max_length = MAXLEN})
    total = total + tensor.no_grad(function() return response_loss(model, ids, labels):item() end) * count
    n = n + count
  end
  model:train()
  return total / n
end
local function batches(tok)
  local out, k = {}, 0
  for s = 1, STEPS do
    local chunk = {}
    for b = 1, BATCH do k = k % #train + 1; chunk[b] = train[k] end
    local ids, labels = instruct.batch(tok, chunk, {max_length = MAXLEN})
    out[s] = {ids = ids, labels = labels}
  end
  return out
end
local function loss_fn(model, b) return response_loss(model, b.ids, b.labels) end

-- %%
local base, tok = load_model()
local im_end = tok:encode("<|im_end|>", {add_special_tokens = false})[1]
local before = heldout_loss(base, tok)
print(string.format("held-out response loss of the base model: %.3f", before))
local function answer(model, e)
  local ids = tok:encode(instruct.prompt(e), {add_special_tokens = false})
  local out = model:generate(ids, {max_new_tokens = 24, stop = im_end})
  return (tok:decode(out))
end
for i = 1, 3 do print("base: " .. heldout[i].instruction .. "\n  → " .. answer(base, heldout[i])) end
base = nil
collectgarbage()

-- %% [markdown]
-- ## SpIEL-AG and QLoRA at the same trainable count

-- %%
local results = {}
local function run(name, model, train_fn, count, bytes)
  local elapsed = 0
  local h = train_fn(function(info) elapsed = info.elapsed end)
  results[#results + 1] = {name = name, loss = heldout_loss(model, tok), ms = 1000 * elapsed / STEPS, count = count, bytes = bytes,
    first = h.loss[1], last = h.loss[#h.loss]}
  for i = 1, 3 do print(name .. ": " .. heldout[i].instruction .. "\n  → " .. answer(model, heldout[i])) end
end

local sm = load_model()
local d = spiel.wrap(sm, {match_lora_rank = RANK, seed = seed})
local data = batches(tok)
run("SpIEL-AG", sm, function(on_step)
  return spiel.train{model = sm, delta = d, data = data, loss = loss_fn, steps = STEPS, lr = 2e-3, log_every = 0, on_step = on_step}
end, d:k(), d:state_bytes())
for _, e in ipairs(d:selections()) do
  print(string.format("selection at update %d: replaced %d of %d planned, %d collisions", e.step, e.replaced, e.planned, e.collisions))
end
sm, d = nil, nil
collectgarbage()

local qm = load_model()
local a = lora.wrap(qm, {r = RANK, alpha = 16, dropout = 0.1, seed = seed})
run("QLoRA", qm, function(on_step)
  return nn.fit{model = qm, data = data, loss = loss_fn, optimizer = optim.AdamW(qm, {lr = 1e-3}), steps = STEPS, log_every = 0,
    on_step = on_step}
end, a:count(), a:state_bytes())

-- %%
print(string.format("base model: held-out response loss %.3f", before))
print(string.format("%-10s %10s %10s %10s %10s %12s", "method", "loss", "ms/step", "params", "state B", "train loss"))
for _, r in ipairs(results) do
  print(string.format("%-10s %10.3f %10.0f %10d %10d %5.2f→%5.2f", r.name, r.loss, r.ms, r.count, r.bytes, r.first, r.last))
end
