-- %% [markdown]
-- # SpIEL: sparse fine-tuning that scales (Ansell et al. 2024)
--
-- SpIEL keeps a model's weights frozen — possibly in 4 bits — and learns a *sparse delta*: k values
-- at k positions of each adapted matrix, k ≈ LoRA's parameter count. Every 20 updates it drops the
-- deltas that moved least and regrows new positions, chosen either by **accumulated gradients**
-- (SpIEL-AG) or by the row/column statistics of the SM3 optimizer (**SpIEL-MA**, less memory).
--
-- This notebook runs without downloads: a tiny LLaMA-shaped decoder is pretrained here on task A,
-- then adapted to a new task B with SpIEL-AG, SpIEL-MA, LoRA and a fixed random mask (SpIEL with
-- selection switched off), all at the same trainable-parameter count, steps and seed. We compare
-- held-out loss on B, forgetting of A, step time and the bytes of trainable state.
-- With `TESSERA_FAST=1` every run is cut short (numbers are then meaningless, the cells still run).

-- %%
local seed = 0
local fast = os.getenv("TESSERA_FAST") ~= nil
tensor.manual_seed(seed)
math.randomseed(seed)
print("seed " .. seed .. (fast and " (fast mode: short runs, numbers not meaningful)" or ""))
local function steps(n) return fast and math.max(6, n // 25) or n end

-- %% [markdown]
-- ## Two synthetic tasks
-- Tokens are numbers mod 32. In task A a sequence counts upward with a stride of 1, 2 or 3 chosen
-- per sequence (the model must infer it from the first tokens). Task B is a new rule the base never
-- saw: the stride alternates, +5 then +1, repeating.

-- %%
local V, LEN = 32, 16
local function sequence(task)
  local x, row = math.random(0, V - 1), {}
  local stride = math.random(1, 3)
  for t = 1, LEN do
    row[t] = x
    if task == "A" then x = (x + stride) % V else x = (x + (t % 2 == 1 and 5 or 1)) % V end
  end
  return row
end
local function batch(task, n)
  local rows = {}
  for i = 1, n do rows[i] = sequence(task) end
  return tensor.from(rows, {dtype = "i64"})
end
local heldout = {A = batch("A", 64), B = batch("B", 64)}
local function lm_loss(model, ids)
  return nn.cross_entropy(model(ids):narrow(2, 1, LEN - 1), ids:narrow(2, 2, LEN - 1))
end
local function eval_loss(model, task)
  model:eval()
  local l = lm_loss(model, heldout[task]):item()
  model:train()
  return l
end
print(batch("B", 1))

-- %% [markdown]
-- ## Pretraining the base on task A
-- A 2-layer decoder (d = 64, 4 heads, SwiGLU FFN 128): every weight trains.

-- %%
local config = {vocab_size = V, hidden_size = 64, num_hidden_layers = 2, num_attention_heads = 4,
  intermediate_size = 128, max_position_embeddings = LEN}
local base = nn.DecoderForCausalLM(config)
local pre = nn.fit{model = base, data = function() return batch("A", 32) end, loss = lm_loss,
  optimizer = optim.AdamW(base, {lr = 3e-3}), steps = steps(600), log_every = 0}
local base_weights = base:state_dict()
print(string.format("after pretraining: held-out loss A %.3f, B %.3f", eval_loss(base, "A"), eval_loss(base, "B")))

-- %% [markdown]
-- ## Four ways to adapt it to B at the same budget
-- LoRA at rank 4 on the seven projections has r·Σ(in + out) trainable parameters; SpIEL gets the
-- same count (`match_lora_rank = 4`), spread over the matrices in proportion to their size. Each
-- method starts from the same pretrained weights and sees the same batches.

-- %%
local RANK, STEPS = 4, steps(100)
local function fresh()
  local m = nn.DecoderForCausalLM(config)
  m:load_state_dict(base_weights)
  return m
end
local function batches()
  math.randomseed(seed + 1)
  local data = {}
  for i = 1, STEPS do data[i] = batch("B", 16) end
  return data
end

local results, curves = {}, {}
local function record(name, model, history, count, bytes, seconds)
  results[#results + 1] = {name = name, b = eval_loss(model, "B"), a = eval_loss(model, "A"), count = count,
    bytes = bytes, ms = 1000 * seconds / STEPS, selections = history.selections and #history.selections or 0}
  local xs, ys = {}, {}
  for _, e in ipairs(history.eval or {}) do xs[#xs + 1] = e.step; ys[#ys + 1] = e.B end
  curves[#curves + 1] = {name = name, x = xs, y = ys}
end
local function eval_b(model) return {B = lm_loss(model, heldout.B):item()} end
local every = math.max(1, STEPS // 15)

local function run_spiel(name, regrow, lr, reselect)
  tensor.manual_seed(seed)
  local m = fresh()
  local d = spiel.wrap(m, {match_lora_rank = RANK, regrow = regrow, seed = seed})
  local elapsed = 0
  local h = spiel.train{model = m, delta = d, data = batches(), loss = lm_loss, steps = STEPS, lr = lr,
    reselect = reselect, eval = eval_b, eval_every = every, log_every = 0,
    on_step = function(info) elapsed = info.elapsed end}
  record(name, m, h, d:k(), d:state_bytes(), elapsed)
  return d
end
local ag = run_spiel("SpIEL-AG", "gradient", 3e-3, true)
run_spiel("SpIEL-MA", "momentum", 3e-2, true)
run_spiel("fixed random mask", "gradient", 3e-3, false)

tensor.manual_seed(seed)
local lm = fresh()
local adapter = lora.wrap(lm, {r = RANK, alpha = 2 * RANK, seed = seed})
local elapsed = 0
local hl = nn.fit{model = lm, data = batches(), loss = lm_loss, optimizer = optim.AdamW(lm, {lr = 3e-3}), steps = STEPS,
  eval = eval_b, eval_every = every, log_every = 0, on_step = function(info) elapsed = info.elapsed end}
record("LoRA r=" .. RANK, lm, hl, adapter:count(), adapter:state_bytes(), elapsed)

-- %% [markdown]
-- ## Results
-- Held-out loss on B (lower is better), on A (forgetting), milliseconds per update, trainable
-- count and the bytes of trainable state (values, indices and optimizer state for SpIEL; A, B and
-- AdamW's two moments for LoRA).

-- %%
print(string.format("%-18s %8s %8s %8s %8s %10s %5s", "method", "loss B", "loss A", "ms/step", "params", "state B", "sel"))
for _, r in ipairs(results) do
  print(string.format("%-18s %8.3f %8.3f %8.2f %8d %10d %5d", r.name, r.b, r.a, r.ms, r.count, r.bytes, r.selections))
end
if plot then
  local p = plot.line(curves[1].x, curves[1].y, {title = "held-out loss on task B", xlabel = "update", ylabel = "loss",
    label = curves[1].name})
  for i = 2, #curves do p:add_line(curves[i].x, curves[i].y, {label = curves[i].name}) end
  display(p)
end

-- %% [markdown]
-- ## What the selections did
-- Each selection drops the smallest |δ| and regrows as many entries; the first one replaces the
-- random initial positions entirely. `collisions` are entries dropped and regrown at once, which
-- keep their value.

-- %%
for _, e in ipairs(ag:selections()) do
  print(string.format("update %4d: rate %.3f, replaced %5d of %5d planned, %d collisions", e.step, e.rate, e.replaced,
    e.planned, e.collisions))
end
local st = ag:stats()
for i = 1, math.min(4, #st) do
  print(string.format("%-32s k %5d  density %.3f  mean|δ| %.4f", st[i].path, st[i].k, st[i].density, st[i].mean_abs))
end

-- %% [markdown]
-- The deltas are data: `d:diff()` is a SparseDiff that composes with LT-SFT diffs, `d:save(path)`
-- writes them, and `d:merge()` folds them into the weights. On a real model the base can stay
-- 4-bit: `models.load(path, {quantized = true})` keeps a GGUF's blocks, `lora.quantize(model)` makes
-- NF4, and SpIEL and LoRA both train on top.
