-- tensor_api: the `tensor` library and the tensor methods as a Lua user sees them
-- (1-based dimensions and indices, views, arithmetic, reductions, activations, printing).
local T = require "tessera.test"

-- constructors
local z = tensor.zeros(2, 3)
T.eq(z:shape(), {2, 3}, "zeros shape")
T.eq(z:dim(), 2, "dim")
T.eq(z:numel(), 6, "numel")
T.eq(z:dtype(), "f32", "default dtype is f32")
T.eq(z:totable(), {{0, 0, 0}, {0, 0, 0}}, "zeros values")
T.eq(tensor.zeros({2, 3}):shape(), {2, 3}, "sizes as a table")
T.eq(tensor.zeros():shape(), {}, "no sizes: a 0-d tensor")
T.eq(tensor.ones(2):totable(), {1, 1}, "ones")
T.eq(tensor.ones({2}, {dtype = "i64"}):dtype(), "i64", "dtype option")
T.eq(tensor.full({2, 2}, 7):totable(), {{7, 7}, {7, 7}}, "full")
T.eq(tensor.arange(4):totable(), {0, 1, 2, 3}, "arange(stop)")
T.eq(tensor.arange(2, 5):totable(), {2, 3, 4}, "arange(start, stop)")
T.eq(tensor.arange(1, 2, 0.25):totable(), {1, 1.25, 1.5, 1.75}, "arange with a step")
T.eq(tensor.arange(3):dtype(), "i64", "integral arange is i64")
T.eq(tensor.arange(0, 1, 0.5):dtype(), "f32", "fractional arange is f32")
T.eq(tensor.eye(2):totable(), {{1, 0}, {0, 1}}, "eye")
T.eq(tensor.eye(2, 3):shape(), {2, 3}, "eye n x m")
T.eq(tensor.linspace(0, 1, 5):totable(), {0, 0.25, 0.5, 0.75, 1}, "linspace")

-- seeded randomness: bit-identical for the same seed, different otherwise
tensor.manual_seed(7)
local a, b = tensor.rand(100), tensor.randn(3, 4)
tensor.manual_seed(7)
T.eq(tensor.rand(100):totable(), a:totable(), "manual_seed repeats rand")
T.eq(tensor.randn(3, 4):totable(), b:totable(), "manual_seed repeats randn")
T.ok(a:min():item() >= 0 and a:max():item() < 1, "rand in [0, 1)")
tensor.manual_seed(8)
T.ok(not tensor.rand(100):eq(a):all(), "another seed, other values")
tensor.manual_seed(1)
local n = tensor.randn(10000)
T.near(n:mean():item(), 0, 0.05, "randn mean near 0")
T.near(n:std():item(), 1, 0.05, "randn std near 1")
local r = tensor.randint(1, 6, {1000})
T.ok(r:min():item() >= 1 and r:max():item() <= 6, "randint within [low, high]")
T.eq(tensor.randperm(5):sort():totable(), {1, 2, 3, 4, 5}, "randperm is a permutation of 1..n")

-- shape and element access (1-based, negative from the end)
local x = tensor.from{{1, 2, 3}, {4, 5, 6}}
T.eq(x:size(2), 3, "size(dim)")
T.eq(#x, 2, "# is the first size")
T.eq(x[1]:totable(), {1, 2, 3}, "x[1] is the first row")
T.eq(x[2][3], 6, "x[2][3] is a number")
T.eq(x[-1][-1], 6, "negative indices count from the end")
T.eq(tensor.from{{7}}:item(), 7, "item")
T.eq(x:stride(), {3, 1}, "row-major strides")

-- views share memory; clone does not
local v = x:view(3, 2)
T.eq(v:shape(), {3, 2}, "view")
T.eq(x:view(-1):shape(), {6}, "view with -1")
T.eq(x:view({2, 3}):shape(), {2, 3}, "view with a table")
T.eq(x:reshape(1, 6):shape(), {1, 6}, "reshape")
T.eq(x:t():totable(), {{1, 4}, {2, 5}, {3, 6}}, "t")
T.ok(not x:t():is_contiguous(), "t is a strided view")
T.eq(x:t():reshape(6):totable(), {1, 4, 2, 5, 3, 6}, "reshape copies a non-contiguous view")
T.eq(x:transpose(1, 2):totable(), x:t():totable(), "transpose(1, 2)")
T.eq(tensor.zeros(2, 3, 4):permute(3, 1, 2):shape(), {4, 2, 3}, "permute")
T.eq(tensor.arange(1, 11):narrow(1, 3, 4):totable(), {3, 4, 5, 6}, "narrow(dim, start, len)")
T.eq(x:select(2, 1):totable(), {1, 4}, "select(dim, i)")
T.eq(x:select(1, -1):totable(), {4, 5, 6}, "select with a negative index")
T.eq(tensor.zeros(1, 3, 1):squeeze():shape(), {3}, "squeeze")
T.eq(tensor.zeros(3):unsqueeze(1):shape(), {1, 3}, "unsqueeze")
T.eq(tensor.zeros(2, 3, 4):flatten(2):shape(), {2, 12}, "flatten")
T.eq(tensor.from{{1}, {2}}:expand(2, 3):totable(), {{1, 1, 1}, {2, 2, 2}}, "expand")
local c = x:clone()
c[1][1] = 100
T.eq(x[1][1], 1, "clone owns its memory")
local view = x:view(6)
view[1] = 100
T.eq(x[1][1], 100, "a view writes through to its base")
x[1][1] = 1
local row = x[2]
row[1] = 40
T.eq(x[2][1], 40, "x[i] is a view")
x[2][1] = 4
x[1] = 0
T.eq(x[1]:totable(), {0, 0, 0}, "x[i] = number fills the row")
x[1] = tensor.from{1, 2, 3}
T.eq(x:totable(), {{1, 2, 3}, {4, 5, 6}}, "x[i] = tensor copies the row")
T.eq(#tensor.arange(5):split(2), 3, "split")
T.eq(#tensor.arange(10):chunk(3), 3, "chunk")
T.eq(tensor.cat({tensor.ones(1, 2), tensor.zeros(2, 2)}):shape(), {3, 2}, "cat along dim 1")
T.eq(tensor.stack({tensor.ones(2), tensor.zeros(2)}, 2):shape(), {2, 2}, "stack along dim 2")

-- arithmetic: operators broadcast and accept numbers on either side
local p, q = tensor.from{1, 2, 3}, tensor.from{4, 5, 6}
T.eq((p + q):totable(), {5, 7, 9}, "x + y")
T.eq((p - q):totable(), {-3, -3, -3}, "x - y")
T.eq((p * q):totable(), {4, 10, 18}, "x * y is elementwise")
T.eq((q / p):totable(), {4, 2.5, 2}, "x / y")
T.eq((-p):totable(), {-1, -2, -3}, "-x")
T.eq((p ^ 2):totable(), {1, 4, 9}, "x ^ p")
T.eq((2 ^ p):totable(), {2, 4, 8}, "p ^ x")
T.eq((10 - p):totable(), {9, 8, 7}, "number - tensor")
T.eq((p / 2):totable(), {0.5, 1, 1.5}, "tensor / number")
T.eq((tensor.ones(2, 3) + tensor.from{1, 2, 3}):totable(), {{2, 3, 4}, {2, 3, 4}}, "broadcasting")
T.eq(p:add(q):totable(), {5, 7, 9}, "add method")
T.eq(p:gt(1):totable(), {false, true, true}, "comparison gives bool")
T.eq(tensor.where(p:gt(1), p, 0):totable(), {0, 2, 3}, "where")

-- matmul
local m = tensor.from{{1, 2}, {3, 4}}
T.eq(m:matmul(m):totable(), {{7, 10}, {15, 22}}, "matmul")
T.eq(tensor.eye(2):matmul(m):totable(), m:totable(), "identity @ m")
T.eq(m:matmul(tensor.from{1, 1}):totable(), {3, 7}, "matrix @ vector")
T.eq(tensor.ones(4, 2, 3):matmul(tensor.ones(3, 5)):shape(), {4, 2, 5}, "batched matmul broadcasts")

-- reductions (dims are 1-based; max/min along a dim return values and 1-based indices)
T.eq(x:sum():item(), 21, "sum")
T.eq(x:sum(1):totable(), {5, 7, 9}, "sum(1)")
T.eq(x:sum(2):totable(), {6, 15}, "sum(2)")
T.eq(x:sum(-1):totable(), {6, 15}, "sum(-1)")
T.eq(x:sum(2, true):shape(), {2, 1}, "keepdim")
T.eq(x:sum({1, 2}):item(), 21, "sum over a table of dims")
T.eq(x:mean():item(), 3.5, "mean")
T.eq(x:mean(1):totable(), {2.5, 3.5, 4.5}, "mean(1)")
T.eq(x:max():item(), 6, "max")
T.eq(x:min():item(), 1, "min")
local vals, idx = x:max(2)
T.eq(vals:totable(), {3, 6}, "max(dim) values")
T.eq(idx:totable(), {3, 3}, "max(dim) 1-based indices")
local _, imin = x:min(1)
T.eq(imin:totable(), {1, 1, 1}, "min(dim) 1-based indices")
T.eq(tensor.from{3, 9, 1}:argmax():item(), 2, "argmax is 1-based")
T.eq(tensor.from{3, 9, 1}:argmin():item(), 3, "argmin is 1-based")
T.eq(x:argmax(2):totable(), {3, 3}, "argmax(dim)")
local tv, ti = tensor.from{3, 1, 4, 1, 5}:topk(2)
T.eq(tv:totable(), {5, 4}, "topk values")
T.eq(ti:totable(), {5, 3}, "topk 1-based indices")

-- elementwise functions and activations
T.near(tensor.from{0, 1}:exp(), {1, math.exp(1)}, 1e-6, "exp")
T.near(tensor.from{1, math.exp(2)}:log(), {0, 2}, 1e-6, "log")
T.eq(tensor.from{-1, 0, 2}:relu():totable(), {0, 0, 2}, "relu")
T.near(tensor.from{-1, 0, 1}:gelu(), {-0.158655, 0, 0.841345}, 1e-5, "gelu (exact, erf form)")
T.near(tensor.from{0}:sigmoid(), {0.5}, 1e-7, "sigmoid")
T.near(tensor.from{0, 1}:tanh(), {0, math.tanh(1)}, 1e-6, "tanh")
local sm = tensor.from{{1, 2, 3}, {1, 1, 1}}:softmax(2)
T.near(sm:sum(2), {1, 1}, 1e-6, "softmax rows sum to 1")
T.near(sm[2], {1 / 3, 1 / 3, 1 / 3}, 1e-6, "softmax of equal values")
T.near(tensor.from{1, 2, 3}:log_softmax(1):exp(), tensor.from{1, 2, 3}:softmax(1), 1e-6, "log_softmax = log(softmax)")
T.near(tensor.from{1000, 1000}:softmax(1), {0.5, 0.5}, 1e-6, "softmax is stable for large inputs")

-- printing: exact for small tensors, summarised (with "...") for large ones
local small = tostring(tensor.from{{1, 2}, {3, 4}})
T.ok(small:find("[f32 tensor of shape 2x2]", 1, true), "small tensor names dtype and shape")
T.ok(small:find("3.", 1, true) and not small:find("...", 1, true), "small tensor shows every element")
local big = tostring(tensor.zeros(1000, 1000))
T.ok(big:find("...", 1, true) ~= nil, "large tensor is summarised")
T.ok(#big < 2000, "summary stays short (" .. #big .. " chars for 10^6 elements)")
T.ok(tostring(tensor.from(2.5)):find("scalar", 1, true), "0-d tensor prints as a scalar")
T.ok(tostring(tensor.zeros(0)):find("shape 0", 1, true), "empty tensor prints")

-- one-row products go to BLAS's matrix-vector routine: every layout and dtype agrees with a
-- broadcast reference, and the gradient flows through it
do
  tensor.manual_seed(3)
  local function ref(a, b) return (a:transpose(-1, -2) * b):sum(-2, true) end
  for _, dt in ipairs{"f32", "f64"} do
    local K, N = 37, 53
    local a, at = tensor.randn(1, K, {dtype = dt}), tensor.randn(K, 1, {dtype = dt}):t()
    local B, Bt = tensor.randn(K, N, {dtype = dt}), tensor.randn(N, K, {dtype = dt}):t()
    for i, pair in ipairs{{a, B}, {a, Bt}, {at, B}, {at, Bt}} do
      T.ok((pair[1]:matmul(pair[2]) - ref(pair[1], pair[2])):abs():max():item() < 1e-4, dt .. " row times matrix, layout " .. i)
    end
    local a3, B3 = tensor.randn(3, 1, K, {dtype = dt}), tensor.randn(3, K, N, {dtype = dt})
    T.ok((a3:matmul(B3) - ref(a3, B3)):abs():max():item() < 1e-4, dt .. " batched rows times matrices")
    local w = tensor.randn(K, N, {dtype = dt}):requires_grad(true)
    local x = tensor.randn(1, K, {dtype = dt}):requires_grad(true)
    x:matmul(w):sum():backward()
    T.ok((x.grad - w:detach():sum(2):reshape(1, K)):abs():max():item() < 1e-4, dt .. " gradient through a row product")
  end
end

T.summary()
