-- errors: bad input from Lua becomes a Lua error with a clear message (naming the function and
-- the argument, counting from 1), never a crash; the state stays usable after each one.
local T = require "tessera.test"

local x = tensor.zeros(2, 3)

-- wrong argument types and counts
T.raises(function() x:matmul() end, "bad argument #2 to 'matmul' (tensor expected, got no value)", "missing argument")
T.raises(function() x:matmul(3) end, "bad argument #2 to 'matmul' (tensor expected, got number)", "number for a tensor")
T.raises(function() x:matmul("a") end, "tensor expected, got string", "string for a tensor")
T.raises(function() tensor.zeros("a") end, "bad argument #1 to 'tensor.zeros'", "string for a size")
T.raises(function() tensor.zeros(2.5) end, "number has no integer representation", "fractional size")
T.raises(function() tensor.zeros(2, -1) end, "size must be non-negative, got -1", "negative size")
T.raises(function() tensor.full({2}, "x") end, "bad argument #2 to 'tensor.full' (number expected, got string)", "value type")
T.raises(function() x:softmax() end, "bad argument #2 to 'softmax'", "missing dim")
T.raises(function() x:sum("a") end, "bad argument #2 to 'sum'", "dim type")
T.raises(function() x.shape() end, "bad argument #1 to 'shape' (tensor expected, got no value)", "x.f() instead of x:f()")
T.raises(function() return x + "a" end, "bad argument #2 to 'add' (tensor or number expected, got string)", "tensor + string")
T.raises(function() return x .. "a" end, "attempt to concatenate", "concatenating a tensor")
T.raises(function() return x < x end, "attempt to compare", "ordering tensors")
T.raises(function() x.foo = 1 end, "cannot set field 'foo' of a tensor", "setting a field")
T.raises(function() x:no_such_method() end, "attempt to call a nil value (method 'no_such_method')", "unknown method")
T.raises(function() help(42) end, "bad argument #1 to 'help'", "help of a number")
T.raises(function() help("no.such.thing") end, "no help entry named 'no.such.thing'", "help of an unknown name")

-- calling a method on nil, and errors raised by Lua itself
T.raises(function() local y; y:matmul(x) end, "attempt to index a nil value (local 'y')", "method on nil")
T.raises(function() local t = {}; t.a.b = 1 end, "attempt to index a nil value (field 'a')", "field of nil")
T.raises(function() return nil + 1 end, "attempt to perform arithmetic on a nil value", "arithmetic on nil")
T.raises(function() error("plain") end, "plain", "error()")

-- shape mismatches name both shapes
T.raises(function() x:matmul(x) end, "shapes 2x3 and 2x3 do not align", "matmul shapes")
T.raises(function() return x + tensor.zeros(3, 2) end, "shapes 2x3 and 3x2 cannot be broadcast", "broadcast shapes")
T.raises(function() x:view(7) end, "shape 7 is invalid for a tensor of shape 2x3", "view size")
T.raises(function() tensor.cat({x, tensor.zeros(2, 2)}) end, "cat", "cat shapes")

-- indices and dimensions count from 1 in messages too
T.raises(function() return x[3] end, "index 3 out of range", "x[3] of 2 rows")
T.raises(function() return x[-3] end, "index -3 out of range", "x[-3] of 2 rows")
T.raises(function() return x[0] end, "index 0", "x[0]")
T.raises(function() x[3] = 1 end, "index 3 out of range", "assigning x[3]")
T.raises(function() return x:select(2, 4) end, "index 4 out of range", "select past the end")
T.raises(function() return x:select(3, 1) end, "dimension 3 out of range", "select of a missing dim")
T.raises(function() return x:sum(3) end, "dimension 3 out of range", "sum over a missing dim")
T.raises(function() return x:sum(0) end, "dimension 0", "dimension 0")
T.raises(function() return x:softmax(-3) end, "dimension -3 out of range", "negative dim past the start")
T.raises(function() return x:transpose(1, 3) end, "dimension 3 out of range", "transpose dims")
T.raises(function() return x:narrow(2, 3, 2) end, "narrow", "narrow past the end")
T.raises(function() return x:narrow(2, 4, 1) end, "narrow", "narrow start past the end")
local ix = function(t) return tensor.from(t, {dtype = "i64"}) end
T.raises(function() return tensor.zeros(3):gather(1, ix{5}) end, "index 5 out of range for a dimension of size 3", "gather index")
T.raises(function() return tensor.zeros(3):index_select(1, ix{4}) end, "index 4 out of range", "index_select index")
T.raises(function() return tensor.zeros(3):index_select(1, ix{-4}) end, "index -4 out of range", "negative index tensor")
T.raises(function() return tensor.zeros(2, 3):scatter(2, ix{{9}}, 1) end, "index 9 out of range", "scatter index")
T.raises(function() return tensor.zeros(3):scatter_add(1, ix{1, 4}, tensor.ones(2)) end, "index 4 out of range", "scatter_add index")
T.raises(function() return tensor.zeros(3, 2):index_add(1, ix{0}, tensor.ones(1, 2)) end, "index 0 is invalid", "index_add index 0")
T.raises(function() return ix{2, 4}:one_hot(3) end, "index 4 out of range", "one_hot class past the end")
T.raises(function() return ix{1}:one_hot(0) end, "number of classes must be positive", "one_hot with no classes")
T.raises(function() return ix{-1}:one_hot(3) end, "id -1 is negative", "one_hot rejects a negative class")
T.eq(tensor.from{{1, 2}, {3, 4}}:gather(2, ix{{2}, {1}}):totable(), {{2}, {3}}, "gather with 1-based indices")
T.eq(tensor.arange(6):view(3, 2):index_select(1, ix{-1}):totable(), {{4, 5}}, "index -1 is the last")
T.raises(function() return tensor.zeros(3):topk(5) end, "bad argument #2 to 'topk' (k = 5 is out of range: the dimension has 3 elements)", "topk k")
T.raises(function() return tensor.zeros(2, 3):kthvalue(4) end, "k = 4 is out of range: the dimension has 3 elements", "kthvalue k")
T.raises(function() return tensor.zeros(2, 3):kthvalue(1, 3) end, "dimension 3 out of range", "kthvalue dim")
T.raises(function() return tensor.from{1, 2}:item() end, "only a one-element tensor has an item", "item of many")

-- division by zero follows IEEE 754: inf and nan, not an error
local q = tensor.from{1, -1, 0} / 0
T.eq(q[1], math.huge, "1/0 = inf")
T.eq(q[2], -math.huge, "-1/0 = -inf")
T.ok(q[3] ~= q[3], "0/0 = nan")
T.eq((tensor.from({1, 2}, {dtype = "i64"}) / 0):totable(), {math.huge, math.huge}, "integer / 0 gives inf (true division)")
T.eq(tensor.from{0}:log():item(), -math.huge, "log(0) = -inf")

-- impossible allocations are errors, not aborts
T.raises(function() tensor.zeros(1e13) end, "cannot allocate", "10^13 elements")
T.raises(function() tensor.zeros(100000, 100000, 1000) end, "cannot allocate", "10^13 elements as a shape")
T.raises(function() tensor.zeros(2 ^ 62, 4) end, "zeros", "element count that overflows")
T.raises(function() tensor.arange(0, 1e14) end, "cannot allocate", "huge arange")
T.raises(function() tensor.ones(1e7):view(1e7, 1):expand(1e7, 1e7):contiguous() end, "contiguous", "huge copy of an expanded view")

-- require of a missing module
T.raises(function() require "tessera.no_such_module" end, "module 'tessera.no_such_module' not found", "missing module")
T.ok(pcall(require, "tessera.test"), "stdlib is on package.path")

-- errors from Lua code called back from Swift keep their message
T.raises(function() tensor.no_grad(function() error("from inside") end) end, "from inside", "error inside no_grad")
T.raises(function() tensor.no_grad(function() local z; z() end) end, "attempt to call a nil value", "runtime error inside no_grad")

-- errors thrown as values other than strings survive no_grad
local ok, err = pcall(tensor.no_grad, function() error({code = 7}) end)
T.ok(not ok and type(err) == "table" and err.code == 7, "a table error passes through no_grad unchanged")

-- after all of that, the state still works
T.eq((tensor.ones(2) + 1):totable(), {2, 2}, "state usable after errors")

T.summary()
