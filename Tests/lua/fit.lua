-- fit: nn.fit gives the losses of the same loop written in Lua bit for bit; its history, eval,
-- on_step, data functions and tables, log lines, errors in callbacks with their traceback, and
-- Ctrl-C stopping it between steps with the history so far.
local T = require "tessera.test"

local function problem(seed)
  tensor.manual_seed(seed)
  local m = nn.Sequential{nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)}
  local batches = {}
  for i = 1, 3 do
    batches[i] = {x = tensor.randn(16, 4), y = tensor.randint(0, 2, {16})}
  end
  local opt = optim.AdamW(m, {lr = 0.05, schedule = optim.schedule.linear{warmup = 2, total = 20}})
  return m, batches, opt
end
local function loss_fn(model, b) return nn.cross_entropy(model(b.x), b.y) end

-- the loop in Lua
local m1, batches1, opt1 = problem(11)
local lua_losses = {}
for step = 1, 20 do
  local loss = loss_fn(m1, batches1[(step - 1) % #batches1 + 1])
  loss:backward()
  optim.clip_grad_norm(m1, 0.5)
  opt1:step(); opt1:zero_grad()
  lua_losses[step] = loss:item()
end

-- the same in nn.fit
local m2, batches2, opt2 = problem(11)
local evals, infos = 0, {}
local h = nn.fit{model = m2, data = batches2, loss = loss_fn, optimizer = opt2, steps = 20, clip_grad_norm = 0.5,
  eval_every = 8, log_every = 0,
  eval = function(model)
    evals = evals + 1
    local w = model:parameters()["0.weight"]
    return {accuracy = metrics.accuracy(model(batches2[1].x), batches2[1].y), training = model:is_training() and 1 or 0,
            grad = (w * 2):requires_grad() and 1 or 0}
  end,
  on_step = function(info) infos[#infos + 1] = info end}
T.eq(h.loss, lua_losses, "nn.fit losses equal the Lua loop's bit for bit")
T.ok(m1:parameters()["2.weight"]:eq(m2:parameters()["2.weight"]):all(), "and so do the parameters")
T.eq(#h.step, 20, "one history entry per step")
T.eq(h.step[20], 20, "steps count from 1")
T.eq(h.lr[1], 0, "lr of step 1 (warm-up starts from 0, as Hugging Face)")
T.near(h.lr[2], 0.025, 1e-12, "lr of step 2 (warm-up 1/2)")
T.near(h.lr[20], 0.05 * 1 / 18, 1e-12, "lr of step 20 (linear decay)")
T.eq(#h.grad_norm, 20, "grad norms are recorded when clipping")
T.eq(opt2:steps(), 20, "the optimizer took every step")
T.eq(evals, 3, "eval at steps 8, 16 and after the last")
T.eq({h.eval[1].step, h.eval[2].step, h.eval[3].step}, {8, 16, 20}, "eval results carry their step")
T.eq({h.eval[1].training, h.eval[1].grad}, {0, 0}, "eval runs in eval mode without gradients")
T.ok(m2:is_training(), "training mode afterwards")
T.ok(h.eval[3].accuracy >= 0 and h.eval[3].accuracy <= 1, "eval metric")
T.eq(#infos, 20, "on_step after every step")
T.eq({infos[3].step, infos[3].loss, infos[3].lr}, {3, h.loss[3], h.lr[3]}, "on_step info")
T.ok(infos[3].elapsed >= 0 and infos[3].grad_norm == h.grad_norm[3], "info has elapsed and grad_norm")
T.eq(h.interrupted, nil, "a full run is not interrupted")

-- a data function; nil ends training early; on_step returning false stops
tensor.manual_seed(1)
local lin = nn.Linear(2, 1)
local seen = {}
h = nn.fit{model = lin, optimizer = optim.SGD(lin, {lr = 0.1}), steps = 10, log_every = 0,
  data = function(step) seen[#seen + 1] = step; if step <= 4 then return tensor.randn(3, 2) end end,
  loss = function(model, x) return model(x):pow(2):mean() end}
T.eq(seen, {1, 2, 3, 4, 5}, "data(step) is called with the step")
T.eq(#h.loss, 4, "nil from data ends training")
T.ok(h.note:find("returned nil at step 5", 1, true), "and says so in the note")
h = nn.fit{model = lin, optimizer = optim.SGD(lin, {lr = 0.1}), steps = 10, log_every = 0, data = {tensor.ones(1, 2)},
  loss = function(model, x) return model(x):sum() end, on_step = function(info) return info.step < 3 end}
T.eq(#h.loss, 3, "on_step returning false stops")

-- log lines through print when stdout is not a terminal
local lines = {}
local real_print = print
print = function(s) lines[#lines + 1] = s end
nn.fit{model = lin, optimizer = optim.SGD(lin, {lr = 0.01}), steps = 4, log_every = 2, data = {tensor.ones(1, 2)},
  loss = function(model, x) return model(x):sum() end, eval = function() return {score = 0.5} end}
print = real_print
T.eq(#lines, 3, "a line every log_every steps and one per eval")
T.ok(lines[1]:find("^step 2/4 ") and lines[1]:find("steps/s", 1, true) and lines[1]:find("ETA", 1, true) and lines[1]:find("loss", 1, true), "log line: " .. tostring(lines[1]))
T.ok(lines[2]:find("^step 4/4 "), "last step logged")
T.eq(lines[3], "eval at step 4: score 0.5000", "eval line")

-- errors in callbacks propagate with their traceback; bad options name the problem
local function fit_with(loss)
  return function()
    nn.fit{model = lin, optimizer = optim.SGD(lin, {lr = 0.1}), steps = 3, log_every = 0, data = {tensor.ones(1, 2)}, loss = loss}
  end
end
local function failing_loss(model, x)
  if x:sum():item() > 0 then error("boom in the loss") end
end
local ok, err = pcall(fit_with(failing_loss))
T.ok(not ok and err:find("nn.fit: loss failed at step 1: ", 1, true) and err:find("boom in the loss", 1, true), "callback error: " .. tostring(err))
T.ok(err:find("stack traceback:\n\t[C]: in function 'error'\n\tTests/lua/fit.lua:", 1, true), "with the callback's traceback: " .. err)
T.ok(not err:find("in main chunk", 1, true), "which stops at nn.fit (the outer traceback follows)")
T.raises(fit_with(function() return 1 end), "must return a one-element tensor, got number at step 1", "loss is not a tensor")
T.raises(fit_with(function(model, x) return tensor.ones(2) end), "must return a one-element tensor", "loss has two elements")
T.raises(fit_with(function(model, x) return tensor.ones(1) end), "nn.fit: step 1:", "loss without a graph")
T.raises(function() nn.fit{model = lin, steps = 1} end, "option 'data'", "missing data")
T.raises(function() nn.fit{model = lin, steps = 0} end, "option 'steps'", "steps must be positive")
T.raises(function() nn.fit{model = lin, step = 3} end, "unknown option 'step'", "typo in an option")
T.raises(function() nn.fit{model = 1, steps = 1} end, "option 'model' must be a module", "model not a module")
T.raises(function() nn.fit{model = lin, data = {}, steps = 1} end, "empty table of batches", "no batches")
T.raises(function()
  nn.fit{model = lin, optimizer = optim.SGD(lin), steps = 2, eval_every = 1, data = {tensor.ones(1, 2)}, loss = function(m, x) return m(x):sum() end}
end, "eval_every is set but there is no eval function", "eval_every without eval")
T.raises(function()
  nn.fit{model = lin, optimizer = optim.SGD(lin), steps = 2, log_every = 0, data = {tensor.ones(1, 2)},
    loss = function(m, x) return m(x):sum() end, eval = function() return 3 end}
end, "must return a table {metric = value}, got number", "eval returns a number")

-- Ctrl-C (SIGINT sent to this process from on_step at step 3) stops between steps
local m3, batches3, opt3 = problem(12)
local before_fit = m3:parameters()["2.weight"]:clone()
lines = {}
print = function(s) lines[#lines + 1] = s end
h = nn.fit{model = m3, data = batches3, loss = loss_fn, optimizer = opt3, steps = 50, log_every = 100,
  on_step = function(info)
    if info.step == 3 then io.popen("kill -INT $PPID"):close() end
  end}
print = real_print
T.eq(h.interrupted, true, "Ctrl-C marks the history interrupted")
T.eq(#h.loss, 3, "the history so far is returned")
T.eq(opt3:steps(), 3, "no step after the interruption")
T.ok(h.note and h.note:find("interrupted (Ctrl-C) after 3 of 50 steps", 1, true), "note: " .. tostring(h.note))
T.ok(lines[#lines] and lines[#lines]:find("interrupted", 1, true), "the note is printed")
T.ok(not m3:parameters()["2.weight"]:eq(before_fit):all(), "the steps taken were applied")
-- the script goes on, and training resumes normally
local h2 = nn.fit{model = m3, data = batches3, loss = loss_fn, optimizer = opt3, steps = 2, log_every = 0}
T.eq(#h2.loss, 2, "a later nn.fit runs normally")

-- gradient accumulation: 2 micro-batches per step give the step of their mean loss
local function accumulation_problem()
  tensor.manual_seed(5)
  local m = nn.Linear(3, 3)
  local bs = {}
  for i = 1, 4 do bs[i] = {x = tensor.randn(4, 3), y = tensor.randint(0, 2, {4})} end
  return m, bs, optim.SGD(m, {lr = 0.1})
end
local ma, bsa, opta = accumulation_problem()
local by_hand = {}
for step = 1, 2 do
  local l1 = loss_fn(ma, bsa[2 * step - 1])
  local l2 = loss_fn(ma, bsa[2 * step])
  local mean = (l1 + l2) * 0.5
  mean:backward()
  opta:step(); opta:zero_grad()
  by_hand[step] = (l1:item() + l2:item()) / 2
end
local mb, bsb, optb = accumulation_problem()
local seen = {}
local ha = nn.fit{model = mb, loss = loss_fn, optimizer = optb, steps = 2, accumulate = 2, log_every = 0,
  data = function(i) seen[#seen + 1] = i; return bsb[i] end}
T.eq(seen, {1, 2, 3, 4}, "accumulate: data is called with micro-batch numbers")
T.near(ha.loss[1], by_hand[1], 1e-6, "accumulate: the step's loss is the mean of its micro-batches")
T.near(ha.loss[2], by_hand[2], 1e-5, "accumulate: second step from the same weights")
local wa, wb = ma:parameters().weight, mb:parameters().weight
T.ok((wa - wb):abs():max():item() < 1e-6, "accumulate: weights equal to one step on the mean loss")
local partial = nn.fit{model = mb, loss = loss_fn, optimizer = optb, steps = 5, accumulate = 2, log_every = 0,
  data = function(i) return bsb[i] end}
T.eq(#partial.loss, 2, "accumulate: a partial last accumulation is dropped")
local quiet = nn.fit{model = mb, loss = loss_fn, optimizer = optb, steps = 2, progress = false, data = bsb}
T.eq(#quiet.loss, 2, "progress = false trains silently")
T.raises(function() nn.fit{model = mb, loss = loss_fn, optimizer = optb, steps = 1, accumulate = 0, data = bsb} end,
  "option 'accumulate' must be a positive integer", "accumulate must be positive")

T.summary()
