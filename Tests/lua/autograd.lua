-- autograd: requires_grad, backward, .grad, detach and tensor.no_grad from Lua, with gradients
-- checked against finite differences (f64) through the Lua binding.
local T = require "tessera.test"

-- d/dx sum(x*x) = 2x; a second backward accumulates
local x = tensor.from{1, 2, 3}:requires_grad(true)
T.eq(x:requires_grad(), true, "requires_grad(true) marks x and returns it")
T.eq(x:is_leaf(), true, "a user tensor is a leaf")
T.eq(x.grad, nil, "no grad before backward")
local y = (x * x):sum()
T.eq(y:requires_grad(), true, "results of tracked ops require grad")
T.eq(y:is_leaf(), false, "results are not leaves")
y:backward()
T.eq(x.grad:totable(), {2, 4, 6}, "d sum(x^2) / dx = 2x")
;(x * x):sum():backward()
T.eq(x.grad:totable(), {4, 8, 12}, "gradients accumulate")
x.grad = nil
T.eq(x.grad, nil, "x.grad = nil clears it")
x.grad = tensor.zeros(3)
;(x * 3):sum():backward()
T.eq(x.grad:totable(), {3, 3, 3}, "accumulates into an assigned grad")
T.eq(tensor.zeros(2, {requires_grad = true}):requires_grad(), true, "requires_grad option")
T.eq(tensor.zeros(2):requires_grad(), false, "tensors do not require grad by default")

-- backward with an explicit gradient, and retain_graph
local v = tensor.from{1, 2}:requires_grad(true)
;(v * 2):backward(tensor.from{1, 10})
T.eq(v.grad:totable(), {2, 20}, "backward(gradient) for a non-scalar output")
local u = tensor.from{1, 2}:requires_grad(true)
local s = (u * u):sum()
s:backward({retain_graph = true})
s:backward()
T.eq(u.grad:totable(), {4, 8}, "retain_graph allows a second backward")
local w = tensor.from{1}:requires_grad(true)
local sw = (w * 5):sum()
sw:backward(nil, {retain_graph = true})
sw:backward()
T.eq(w.grad:totable(), {10}, "options after a nil gradient are honoured")
T.raises(function() s:backward() end, "already freed", "third backward without retain_graph")
T.raises(function() (v * 2):backward() end, "one-element", "non-scalar output needs a gradient")
T.raises(function() tensor.ones(2):sum():backward() end, "does not require grad", "nothing to differentiate")
T.raises(function() tensor.from({1}, {dtype = "i64"}):requires_grad(true) end, "floating-point", "integers cannot require grad")
T.raises(function() (v * 2):requires_grad(false) end, "leaf", "only leaves can change the flag")
T.raises(function() v.grad = 5 end, "tensor expected, got number", "grad must be a tensor")
T.raises(function() y:backward(5) end, "bad argument #2 to 'backward' (tensor expected, got number)", "gradient type")

-- detach and no_grad cut the graph
local d = x:detach()
T.eq(d:requires_grad(), false, "detach gives a tensor without grad")
local r = tensor.no_grad(function() return x * 2 end)
T.eq(r:requires_grad(), false, "no_grad records nothing")
T.eq((x * 2):requires_grad(), true, "grad mode is back after no_grad")
local a, b, c = tensor.no_grad(function(p, q) return p + q, "two", nil end, 1, 2)
T.eq({a, b, c}, {3, "two", nil}, "no_grad passes arguments and returns every result")
T.raises(function() tensor.no_grad(function() error("inside") end) end, "inside", "errors pass through no_grad")
T.eq((x * 2):requires_grad(), true, "grad mode is restored after an error in no_grad")
T.raises(function() tensor.no_grad(42) end, "function expected, got number", "no_grad needs a function")

-- gradients match central finite differences in f64
local function numeric_grad(f, x0, eps)
  local values = x0:totable()
  local g = {}
  for i = 1, #values do
    local plus, minus = {table.unpack(values)}, {table.unpack(values)}
    plus[i], minus[i] = values[i] + eps, values[i] - eps
    local fp = f(tensor.from(plus, {dtype = "f64"})):item()
    local fm = f(tensor.from(minus, {dtype = "f64"})):item()
    g[i] = (fp - fm) / (2 * eps)
  end
  return g
end

local function check(name, f)
  tensor.manual_seed(11)
  local x0 = tensor.randn(5, {dtype = "f64"})
  local xv = x0:clone():requires_grad(true)
  f(xv):backward()
  T.near(xv.grad, numeric_grad(f, x0, 1e-6), 1e-6, "gradient of " .. name)
end

local W = tensor.randn(5, 3, {dtype = "f64"})
check("exp", function(t) return t:exp():sum() end)
check("relu", function(t) return (t:relu() * t):sum() end)
check("gelu", function(t) return t:gelu():sum() end)
check("softmax", function(t) return (t:softmax(1) * tensor.arange(1, 6):double()):sum() end)
check("log_softmax", function(t) return t:log_softmax(1):select(1, 2) end)
check("matmul", function(t) return t:view(1, 5):matmul(W):pow(2):sum() end)
check("mean and division", function(t) return (t / (t:abs() + 1)):mean() end)
check("max", function(t) return t:max() * 3 end)
check("power", function(t) return (t ^ 2):sum() end)
check("view and transpose", function(t) return t:narrow(1, 1, 4):view(2, 2):t():matmul(tensor.ones(2, 1, {dtype = "f64"})):sum() end)

-- a tiny fit: gradient descent on least squares drives the loss down
tensor.manual_seed(3)
local A = tensor.randn(20, 3)
local truth = tensor.from{{1}, {-2}, {0.5}}
local target = A:matmul(truth)
local theta = tensor.zeros(3, 1):requires_grad(true)
local first
for step = 1, 200 do
  local loss = (A:matmul(theta) - target):pow(2):mean()
  if step == 1 then first = loss:item() end
  theta.grad = nil
  loss:backward()
  tensor.no_grad(function() theta:copy_(theta - theta.grad * 0.1) end)
end
T.near(theta:view(3), {1, -2, 0.5}, 1e-3, "gradient descent recovers the weights (loss from " .. first .. ")")

T.summary()
