#!/usr/bin/env bash
# leak.sh: errors raised from Swift-backed functions cross back into Lua through the C trampoline
# only, so no Swift frame is skipped by the longjmp and nothing leaks: 100,000 such errors leave
# the resident set flat (within a few MB) and the process alive.
source "$(dirname "$0")/lib/check.sh"

cat >"$WORK/leak.lua" <<'LUA'
local function kb(field)
  for line in io.lines("/proc/self/status") do
    local v = line:match("^" .. field .. ":%s+(%d+)")
    if v then return tonumber(v) end
  end
end
local x, y = tensor.zeros(20, 30), tensor.zeros(30, 20)
-- each fails inside Swift, several after allocating tensors or building strings
local failing = {
  function() return x:matmul(x) end,                          -- shape check in the engine
  function() return x + y end,                                -- broadcast error
  function() return x[21] end,                                -- index out of range (__index)
  function() x[0] = 1 end,                                    -- __newindex
  function() return tensor.zeros(20, {lrr = 1}) end,          -- unknown option
  function() return x:sum(5) end,                             -- dimension out of range
  function() return tensor.from{{1, 2}, {3, 4}, {5}} end,     -- ragged table, after collecting values
  function() return tensor.zeros(1e13) end,                   -- allocation refused
  function() return x:view(7) end,                            -- view shape
  function() return (x * 2):matmul("a") end,                  -- wrong type after an allocation
  function() return help("no such entry") end,                -- help
  function() return tensor.no_grad(function() error("cb") end) end,  -- error from a Lua callback
  function() return x:softmax() end,                          -- missing argument
  function() return tensor.zeros(2, 2):item() end,            -- item of many
}
local function round(n)
  for i = 1, n do
    local ok = pcall(failing[i % #failing + 1])
    if ok then error("call " .. (i % #failing + 1) .. " did not fail") end
  end
end
round(20000)  -- warm up: caches, string interning, allocator arenas
collectgarbage(); collectgarbage()
local before = kb("VmRSS")
local t0 = os.clock()
round(100000)
collectgarbage(); collectgarbage()
local after = kb("VmRSS")
print(string.format("rss_before_kb=%d rss_after_kb=%d growth_kb=%d seconds=%.2f", before, after, after - before, os.clock() - t0))
LUA

run "$TESSERA" "$WORK/leak.lua"
expect_eq "100,000 errors from Swift functions: no crash" "$rc" 0
echo "     $out"
growth=$(printf '%s' "$out" | sed -n 's/.*growth_kb=\(-*[0-9]*\).*/\1/p')
expect_true "resident set flat after 100,000 errors (growth ${growth:-?} KB < 4096 KB)" [ "${growth:-99999}" -lt 4096 ]

# the same with a traceback built for every error (what the REPL and scripts print)
cat >"$WORK/leak_session.lua" <<'LUA'
local x = tensor.zeros(2, 3)
for i = 1, 100000 do
  local ok, err = xpcall(function() return x:matmul(x) end, debug.traceback)
  assert(not ok and err:find("stack traceback", 1, true))
end
print("survived")
LUA
run "$TESSERA" "$WORK/leak_session.lua"
expect_eq "100,000 errors with tracebacks: no crash" "$out" "survived"

summary
