-- tessera.test: a tiny test helper for Lua-level tests (Tests/lua/*.lua).
--   local T = require "tessera.test"
--   T.eq(1 + 1, 2, "addition")            -- equal (tables compared element by element)
--   T.near(x, 0.3, 1e-6, "rounding")      -- |x - y| <= tol (numbers or tensors)
--   T.raises(function() f(nil) end, "expected", "bad call")  -- errors, message contains text
--   T.summary()                           -- prints "N passed, N failed"; exits 1 on failure

local T = { passed = 0, failed = 0 }

local function describe(v)
  if type(v) == "table" then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = describe(x) end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  return tostring(v)
end

local function deep_equal(a, b)
  if tensor and tensor.is_tensor(a) then a = a:totable() end
  if tensor and tensor.is_tensor(b) then b = b:totable() end
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  for k, v in pairs(a) do if not deep_equal(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

local this_file = debug.getinfo(1, "S").source

-- the test's own line: the first caller outside this file (the checks below tail-call record,
-- so a fixed stack level would name the wrong frame)
local function test_line()
  for level = 2, 20 do
    local info = debug.getinfo(level, "Sl")
    if not info then break end
    if info.source ~= this_file then return info.short_src .. ":" .. info.currentline end
  end
  return "?"
end

local function record(ok, name, detail)
  if ok then
    T.passed = T.passed + 1
  else
    T.failed = T.failed + 1
    io.stderr:write(string.format("FAIL %s (%s): %s\n", name or "?", test_line(), detail))
  end
  return ok
end

--- T.eq(actual, expected [, name]): equal values (tables and tensors element by element)
function T.eq(actual, expected, name)
  return record(deep_equal(actual, expected), name, "got " .. describe(actual) .. ", expected " .. describe(expected))
end

--- T.near(actual, expected, tol [, name]): numbers or tensors within tol elementwise
function T.near(actual, expected, tol, name)
  tol = tol or 1e-6
  local function flat(v, out)
    if tensor and tensor.is_tensor(v) then v = v:totable() end
    if type(v) == "table" then for _, x in ipairs(v) do flat(x, out) end else out[#out + 1] = v end
    return out
  end
  local a, b = flat(actual, {}), flat(expected, {})
  local ok = #a == #b
  for i = 1, #a do
    if not ok then break end
    ok = type(a[i]) == "number" and type(b[i]) == "number" and math.abs(a[i] - b[i]) <= tol
  end
  return record(ok, name, "got " .. describe(a) .. ", expected " .. describe(b) .. " within " .. tol)
end

--- T.raises(f, text [, name]): f() raises an error whose message contains text (plain match)
function T.raises(f, text, name)
  local ok, err = pcall(f)
  if ok then return record(false, name, "no error raised") end
  local msg = tostring(err)
  return record(text == nil or msg:find(text, 1, true) ~= nil, name, "error '" .. msg .. "' does not mention '" .. tostring(text) .. "'")
end

--- T.ok(cond [, name]): cond is true
function T.ok(cond, name)
  return record(cond and true or false, name, "condition is " .. tostring(cond))
end

--- T.summary(): prints "N passed, N failed" and exits with status 1 if any failed
function T.summary()
  print(string.format("%d passed, %d failed", T.passed, T.failed))
  if T.failed > 0 then os.exit(1) end
end

return T
