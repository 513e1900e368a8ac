-- conversion: Lua values to tensors and back (tensor.from, x:totable(), x:item(), dtypes) and
-- the checked options tables that every function taking options shares.
local T = require "tessera.test"

-- nested tables <-> tensors, round trip
local nested = {{1, 2, 3}, {4, 5, 6}}
local x = tensor.from(nested)
T.eq(x:shape(), {2, 3}, "shape from nesting")
T.eq(x:dtype(), "f32", "numbers give f32")
T.eq(x:totable(), nested, "totable round trip")
T.eq(tensor.tensor(nested):totable(), nested, "tensor.tensor is tensor.from")
local deep = {}
for i = 1, 3 do
  deep[i] = {}
  for j = 1, 4 do deep[i][j] = {i, j} end
end
T.eq(tensor.from(deep):shape(), {3, 4, 2}, "three levels of nesting")
T.eq(tensor.from(deep):totable(), deep, "three-level round trip")
T.eq(tensor.from(x:t():totable()):totable(), {{1, 4}, {2, 5}, {3, 6}}, "totable of a strided view")

-- scalars and empty tables
local s = tensor.from(2.5)
T.eq(s:dim(), 0, "a number gives a 0-d tensor")
T.eq(s:totable(), 2.5, "totable of a 0-d tensor is a number")
T.eq(s:item(), 2.5, "item of a 0-d tensor")
T.eq(tensor.from{}:shape(), {0}, "empty table: shape {0}")
T.eq(tensor.from{{}, {}}:shape(), {2, 0}, "table of empty tables")

-- dtypes: Lua integers for integer tensors, booleans for bool tensors
local b = tensor.from{true, false, true}
T.eq(b:dtype(), "bool", "booleans give bool")
T.eq(b:totable(), {true, false, true}, "bool round trip")
local i = tensor.from({1, 2, 3}, {dtype = "i64"})
T.eq(i:dtype(), "i64", "dtype option")
T.eq(math.type(i:totable()[1]), "integer", "i64 elements are Lua integers")
T.eq(math.type(i:sum():item()), "integer", "i64 item is a Lua integer")
T.eq(math.type(x[1][1]), "float", "f32 elements are Lua floats")
T.eq(tensor.from({1.7, -2.5}, {dtype = "i64"}):totable(), {1, -2}, "float to integer truncates")
T.eq(tensor.from({1, 2}, {dtype = "f64"}):dtype(), "f64", "f64")
T.near(tensor.from({0.1}, {dtype = "f64"}):item(), 0.1, 1e-16, "f64 keeps double precision")
T.near(tensor.from{0.1}:item(), 0.1, 1e-8, "f32 rounds to single precision")
T.eq(tensor.from{1, 0}:to("bool"):totable(), {true, false}, "to(bool)")
T.eq(tensor.from{1, 2}:long():dtype(), "i64", "long")
T.eq(tensor.from{1, 2}:int():dtype(), "i32", "int")
T.eq(tensor.from{1, 2}:double():dtype(), "f64", "double")
T.eq(tensor.from{1, 2}:float():dtype(), "f32", "float")
T.eq(tensor.from(2 ^ 53, {dtype = "i64"}):item(), 9007199254740992, "large integers survive i64")
local inf = tensor.from{1e39}:item()
T.ok(inf == math.huge, "f32 overflow gives inf")
local nan = tensor.from{0 / 0}:item()
T.ok(nan ~= nan, "nan round trips")

-- malformed data is an error naming the argument
T.raises(function() tensor.from{{1, 2}, {3}} end, "ragged nested table", "ragged rows")
T.raises(function() tensor.from{1, {2}} end, "numbers and tables mixed", "mixed depth")
T.raises(function() tensor.from{"a"} end, "found a string", "strings are not numbers")
T.raises(function() tensor.from{1, nil, 3} end, "found a nil", "holes")
T.raises(function() tensor.from{dtype = "f64"} end, "table with named fields", "options in place of data")
T.raises(function() tensor.from{1, 2, dtype = "f64"} end, "table with named fields", "options mixed into data")
T.raises(function() tensor.from(true) end, "bad argument #1 to 'tensor.from'", "a lone boolean")
T.raises(function() tensor.from(print) end, "table or number expected, got function", "a function")
local cyclic = {}
cyclic[1] = cyclic
T.raises(function() tensor.from(cyclic) end, "nested too deeply", "a self-referencing table")
T.raises(function() tensor.from{1}:to("f16") end, "unknown dtype \"f16\"", "unknown dtype in to")

-- options tables: known keys pass, unknown keys are named, values are type-checked
T.ok(pcall(tensor.zeros, 2, {dtype = "f64", requires_grad = true}), "known options accepted")
T.raises(function() tensor.zeros(2, {lrr = 1}) end, "unknown option 'lrr'", "unknown key is named")
T.raises(function() tensor.zeros(2, {lrr = 1}) end, "expected one of: dtype, requires_grad", "known keys listed")
T.raises(function() tensor.from({1}, {dtyp = "f64"}) end, "unknown option 'dtyp'", "typo in tensor.from")
T.raises(function() tensor.zeros(2, {dtype = 5}) end, "option 'dtype' must be a string", "dtype type")
T.raises(function() tensor.zeros(2, {dtype = "f16"}) end, "got \"f16\"", "unknown dtype named")
T.raises(function() tensor.zeros(2, {requires_grad = "yes"}) end, "must be a boolean", "flag type")
T.raises(function() tensor.zeros(2, {[1] = 3, dtype = "f32"}) end, "option names must be strings", "positional entries")
T.raises(function() tensor.zeros(2, "f64") end, "options table expected, got string", "not a table")
T.raises(function() tensor.ones(3):backward(nil, {retain = true}) end, "unknown option 'retain'", "backward options")

T.summary()
