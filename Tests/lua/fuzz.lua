-- fuzz.lua: every tensor method and library function called with random arguments (numbers,
-- NaN, huge values, strings, tables, tensors of odd shapes, functions, modules). Each call may
-- raise a Lua error; the process must survive them all, with every error a string naming a function.
local T = require "tessera.test"
local methods = debug.getregistry()["tessera.Tensor.methods"]
local names = {}
for k in pairs(methods) do names[#names + 1] = k end
table.sort(names)
local libs = {}
for _, lib in ipairs({"tensor", "nn", "optim", "metrics"}) do
  for k, v in pairs(_G[lib]) do if type(v) == "function" then libs[#libs + 1] = {lib .. "." .. k, v} end end
end
table.sort(libs, function(a, b) return a[1] < b[1] end)
local seed = tonumber(arg and arg[1]) or 12345
local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n end
local pool = {
  function() return nil end, function() return 0 end, function() return -1 end, function() return 1 end,
  function() return 2 end, function() return 3 end, function() return 1e300 end, function() return -1e18 end,
  function() return 0/0 end, function() return 1/0 end, function() return 0.5 end, function() return "f64" end,
  function() return "x" end, function() return true end, function() return {} end, function() return {1, 2} end,
  function() return {lr = 1} end, function() return {{1, 2}, {3, 4}} end,
  function() return tensor.zeros(2, 3) end, function() return tensor.ones(3) end, function() return tensor.from(5) end,
  function() return tensor.zeros(0) end, function() return tensor.arange(6):view(2, 3) end,
  function() return tensor.from({1, 0, 2}, {dtype = "i64"}) end, function() return tensor.from{true, false} end,
  function() return tensor.randn(2, 3, 4) end, function() return function() end end, function() return nn.Linear(2, 2) end,
}
local calls, errors = 0, 0
for round = 1, 12 do
  for _, name in ipairs(names) do
    local self = pool[19 + rnd(9)]()
    local args = {}
    local n = rnd(5)
    for i = 1, n do args[i] = pool[1 + rnd(#pool)]() end
    local ok, err = pcall(methods[name], self, table.unpack(args, 1, n))
    calls = calls + 1
    if not ok then
      errors = errors + 1
      if type(err) ~= "string" or err == "" then T.ok(false, name .. " raised a non-string error") end
    end
  end
  for _, entry in ipairs(libs) do
    if entry[1] ~= "nn.fit" then
      local args = {}
      local n = rnd(5)
      for i = 1, n do args[i] = pool[1 + rnd(#pool)]() end
      local ok, err = pcall(entry[2], table.unpack(args, 1, n))
      calls = calls + 1
      if not ok then
        errors = errors + 1
        if type(err) ~= "string" or err == "" then T.ok(false, entry[1] .. " raised a non-string error") end
      end
    end
  end
  -- module and optimizer methods, on a fresh object each time
  for _, kind in ipairs({"Module", "Optimizer"}) do
    for name, f in pairs(debug.getregistry()["tessera." .. kind .. ".methods"]) do
      local self
      if kind == "Module" then
        self = rnd(2) == 0 and nn.Linear(2, 2) or nn.Sequential{nn.Linear(2, 3), nn.GELU(), nn.Linear(3, 1)}
      else
        self = optim.AdamW(nn.Linear(2, 2), {lr = 0.1})
      end
      local args = {}
      local n = rnd(4)
      for i = 1, n do args[i] = pool[1 + rnd(#pool)]() end
      local ok, err = pcall(f, self, table.unpack(args, 1, n))
      calls = calls + 1
      if not ok then
        errors = errors + 1
        if type(err) ~= "string" or err == "" then T.ok(false, kind .. ":" .. name .. " raised a non-string error") end
      end
    end
  end
  collectgarbage()
end
print(string.format("%d random calls, %d raised errors, process alive", calls, errors))
T.ok(calls > 1000 and errors > 0 and errors < calls, "the calls ran, some failed and some succeeded")
T.summary()
