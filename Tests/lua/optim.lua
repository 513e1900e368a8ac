-- optim: training loops written in Lua fit small problems; frozen parameters stay bitwise equal;
-- parameter groups, schedules, state dicts, gradient clipping, and the errors of bad arguments.
local T = require "tessera.test"

local function same(a, b) return a:eq(b):all() end

-- XOR with a small MLP and Adam
tensor.manual_seed(1)
local xor = nn.Sequential{nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1)}
local x = tensor.from{{0, 0}, {0, 1}, {1, 0}, {1, 1}}
local y = tensor.from{{0}, {1}, {1}, {0}}
local opt = optim.Adam(xor, {lr = 0.05})
local loss
for _ = 1, 300 do
  loss = nn.mse_loss(xor(x), y)
  loss:backward(); opt:step(); opt:zero_grad()
end
T.ok(loss:item() < 1e-4, "Adam fits XOR (loss " .. loss:item() .. ")")
T.near(xor(x), y, 0.02, "XOR predictions")
T.eq(opt:steps(), 300, "steps counts the updates")
T.ok(tostring(opt):find("Adam(lr: 0.05, 1 group(s), 4 parameter(s), 300 step(s))", 1, true), "tostring(opt)")

-- linear regression y = 3x + 1 with SGD and momentum
tensor.manual_seed(2)
local reg = nn.Linear(1, 1)
local xs = tensor.randn(32, 1)
local ys = xs * 3 + 1
local sgd = optim.SGD(reg, {lr = 0.1, momentum = 0.9, nesterov = true})
for _ = 1, 200 do
  local l = nn.mse_loss(reg(xs), ys)
  l:backward(); sgd:step(); sgd:zero_grad()
end
T.near(reg:parameters().weight:item(), 3, 1e-4, "SGD finds the slope")
T.near(reg:parameters().bias:item(), 1, 1e-4, "SGD finds the intercept")

-- a classifier with cross-entropy and AdamW (class ids 0-based)
tensor.manual_seed(3)
local clf = nn.Sequential{nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3)}
local pts = tensor.from{{1, 0}, {0, 1}, {-1, -1}, {2, 0.1}, {0.1, 2}, {-2, -1.5}}
local labels = tensor.from({0, 1, 2, 0, 1, 2}, {dtype = "i64"})
local adamw = optim.AdamW(clf, {lr = 0.05, weight_decay = 0.01})
for _ = 1, 100 do
  local l = nn.cross_entropy(clf(pts), labels)
  l:backward(); adamw:step(); adamw:zero_grad()
end
T.eq((clf(pts):argmax(2) - 1):totable(), labels:totable(), "AdamW learns the classes")

-- frozen parameters stay bitwise equal; the trainable ones move
tensor.manual_seed(4)
local net = nn.Sequential{nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)}
net:freeze("0")
local before = {}
for k, v in pairs(net:parameters()) do before[k] = v:clone() end
local frozen_opt = optim.AdamW(net, {lr = 0.1})
local inputs, targets = tensor.randn(8, 3), tensor.randn(8, 1)
for _ = 1, 5 do
  nn.mse_loss(net(inputs), targets):backward(); frozen_opt:step(); frozen_opt:zero_grad()
end
local after = net:parameters()
T.ok(same(after["0.weight"], before["0.weight"]) and same(after["0.bias"], before["0.bias"]), "frozen parameters are unchanged")
T.ok(not same(after["2.weight"], before["2.weight"]), "trainable parameters moved")
-- an optimizer over every parameter still leaves frozen ones alone (they get no gradient)
local all_opt = optim.SGD(net:parameters(), {lr = 0.1, weight_decay = 0.1})
nn.mse_loss(net(inputs), targets):backward(); all_opt:step(); all_opt:zero_grad()
T.ok(same(net:parameters()["0.weight"], before["0.weight"]), "frozen parameters get no gradient, so no update")
net:unfreeze("0")
nn.mse_loss(net(inputs), targets):backward(); all_opt:step(); all_opt:zero_grad()
T.ok(not same(net:parameters()["0.weight"], before["0.weight"]), "unfrozen parameters train again")
T.raises(function() net:freeze(); optim.SGD(net) end, "no parameters to optimize", "an optimizer over a frozen model")
net:unfreeze()

-- parameter groups: their own lr; a group with lr 0 does not move
local g = nn.Sequential{nn.Linear(2, 2), nn.Linear(2, 1)}
local g0 = g:parameters()["0.weight"]:clone()
local grouped = optim.SGD({{params = g:module("0"), lr = 0}, {params = g:module("1")}}, {lr = 0.5})
T.eq(grouped:lr(1), 0, "group 1 lr")
T.eq(grouped:lr(2), 0.5, "group 2 takes the shared lr")
nn.mse_loss(g(tensor.ones(4, 2)), tensor.zeros(4, 1)):backward(); grouped:step()
T.ok(same(g:parameters()["0.weight"], g0), "a group with lr 0 stays")
grouped:set_lr(0.25, 1)
T.eq(grouped:lr(1), 0.25, "set_lr on one group")
T.raises(function() grouped:lr(3) end, "group 3 out of range (the optimizer has 2 group(s), counted from 1)", "group range")
local w = tensor.zeros(2):requires_grad(true)
local listed = optim.SGD({w}, {lr = 1})
;(w * tensor.from{1, 2}):sum():backward(); listed:step()
T.eq(w:totable(), {-1, -2}, "a list of tensors")
T.raises(function() optim.SGD({{params = g:module("0")}, {params = g:module("0")}}) end, "one tensor is in two groups", "a parameter in two groups")

-- schedules
local lin = optim.schedule.linear{warmup = 10, total = 110}
T.eq(lin, {kind = "linear", warmup = 10, total = 110}, "a schedule is a plain table")
T.near(optim.schedule.factor(lin, 5), 0.5, 1e-12, "linear warm-up")
T.near(optim.schedule.factor(lin, 60), 0.5, 1e-12, "linear decay")
T.near(optim.schedule.factor(optim.schedule.cosine{total = 100, min_factor = 0.1}, 100), 0.1, 1e-12, "cosine ends at min_factor")
T.near(optim.schedule.factor(optim.schedule.constant{warmup = 4}, 2), 0.5, 1e-12, "constant warm-up")
local sched_model = nn.Linear(2, 1)
local sched_opt = optim.AdamW(sched_model, {lr = 0.1, schedule = optim.schedule.linear{warmup = 2, total = 4}})
local lrs = {}
for _ = 1, 4 do
  lrs[#lrs + 1] = sched_opt:lr()
  nn.mse_loss(sched_model(tensor.ones(1, 2)), tensor.zeros(1, 1)):backward(); sched_opt:step(); sched_opt:zero_grad()
end
T.near(lrs, {0, 0.05, 0.1, 0.05}, 1e-12, "the optimizer follows its schedule")

-- state dicts: resuming from saved model and optimizer state continues bit for bit
tensor.manual_seed(5)
local function make() return nn.Sequential{nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 1)} end
local m1 = make()
local o1 = optim.Adam(m1, {lr = 0.05, betas = {0.8, 0.99}})
local data, goal = tensor.randn(6, 3), tensor.randn(6, 1)
local function train(m, o, n)
  for _ = 1, n do nn.mse_loss(m(data), goal):backward(); o:step(); o:zero_grad() end
end
train(m1, o1, 3)
local saved_model, saved_opt = {}, o1:state_dict()
for k, v in pairs(m1:state_dict()) do saved_model[k] = v:clone() end
T.eq(saved_opt.step:item(), 3, "the optimizer state holds the step")
T.eq(saved_opt["0.weight.exp_avg"]:shape(), {3, 3}, "per-parameter state by dotted name")
train(m1, o1, 2)
local m2 = make()
m2:load_state_dict(saved_model)
local o2 = optim.Adam(m2, {lr = 0.05, betas = {0.8, 0.99}})
o2:load_state_dict(saved_opt)
T.eq(o2:steps(), 3, "load_state_dict restores the step count")
train(m2, o2, 2)
T.ok(same(m1:parameters()["2.weight"], m2:parameters()["2.weight"]), "resumed training matches bit for bit")
T.raises(function() o2:load_state_dict({}) end, "state has no 'step'", "an empty optimizer state")

-- gradient clipping
local v = tensor.from{3.0, 4.0}:requires_grad(true)
;(v * v):sum():backward()
T.near(optim.clip_grad_norm({v}, 1), 10, 1e-5, "clip_grad_norm returns the norm before clipping")
T.near(v.grad:square():sum():sqrt():item(), 1, 1e-5, "the gradient is clipped to max_norm")
nn.mse_loss(reg(xs), ys * 2):backward()
local n1 = optim.clip_grad_norm(reg, 0.5)
T.ok(n1 > 0.5, "clip_grad_norm over a module")
T.near(sgd:clip_grad_norm(0.5), 0.5, 1e-4, "opt:clip_grad_norm sees the clipped norm")

-- bad arguments
local m = nn.Linear(2, 2)
T.raises(function() optim.SGD(m, {lrr = 0.1}) end, "bad argument #2 to 'optim.SGD' (unknown option 'lrr'; expected one of: dampening, lr, momentum, nesterov, schedule, weight_decay)", "unknown option")
T.raises(function() optim.Adam(m, {momentum = 0.9}) end, "unknown option 'momentum'", "an SGD option given to Adam")
T.raises(function() optim.Adam(m, {lr = "fast"}) end, "option 'lr' must be a number", "option type")
T.raises(function() optim.Adam(m, {betas = 0.9}) end, "option 'betas' must be a table of two numbers", "betas type")
T.raises(function() optim.Adam(m, {betas = {0.9, 1.5}}) end, "betas must lie in [0, 1)", "betas range")
T.raises(function() optim.SGD(m, {lr = -1}) end, "learning rate must be non-negative", "negative lr")
T.raises(function() optim.SGD(m, {nesterov = true}) end, "Nesterov momentum needs momentum > 0", "Nesterov without momentum")
T.raises(function() optim.SGD("weights") end, "bad argument #1 to 'optim.SGD' (module, tensor or table of tensors expected, got string)", "params type")
T.raises(function() optim.SGD({}) end, "no parameters to optimize", "no parameters")
T.raises(function() optim.SGD({tensor.zeros(1), 5}) end, "element 2 of the parameter list is a number, not a tensor", "a list with a number")
T.raises(function() optim.SGD({{params = m, lrr = 1}}) end, "unknown option 'lrr'", "unknown group option")
T.raises(function() optim.SGD(m, {schedule = {kind = "step"}}) end, "option 'schedule' must be made by optim.schedule", "bad schedule")
T.raises(function() optim.schedule.linear{warmup = 10} end, "option 'total' (the number of steps) is required", "linear without total")
T.raises(function() optim.schedule.cosine{total = 10, min_factor = 2} end, "min_factor must lie in [0, 1]", "min_factor range")
T.raises(function() optim.schedule.constant{warm = 1} end, "unknown option 'warm'", "unknown schedule option")
T.raises(function() opt.step() end, "bad argument #1 to 'step' (optimizer expected, got no value)", "opt.step()")
T.raises(function() opt:load_state_dict(5) end, "table of name -> tensor expected, got number", "state dict type")
T.raises(function() optim.clip_grad_norm(m) end, "bad argument #2 to 'optim.clip_grad_norm' (number expected, got no value)", "missing max_norm")
T.raises(function() optim.clip_grad_norm(m, -1) end, "max norm must be non-negative", "negative max_norm")

T.summary()
