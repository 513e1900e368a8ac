#!/usr/bin/env bash
# gc.sh: memory held by tensors drives Lua's collector. Lua sees an 8-byte userdata per tensor,
# so without being told about the storage behind it, a loop making big tensors would grow
# without bound. 10,000 tensors of 10^6 floats (40 GB allocated in total) must peak under 200 MB.
source "$(dirname "$0")/lib/check.sh"

cat >"$WORK/gc.lua" <<'LUA'
local function kb(field)
  for line in io.lines("/proc/self/status") do
    local v = line:match("^" .. field .. ":%s+(%d+)")
    if v then return tonumber(v) end
  end
end
local make = load("return " .. arg[1])
local start = kb("VmRSS")
local t0 = os.clock()
local keep = {}
for i = 1, 10000 do
  local x = make()
  keep[i % 3 + 1] = x  -- a few stay reachable: only garbage may be freed
end
assert(keep[1]:numel() == 1000000)
print(string.format("start_kb=%d peak_kb=%d end_kb=%d seconds=%.1f", start, kb("VmHWM"), kb("VmRSS"), os.clock() - t0))
LUA

for expr in "tensor.zeros(1000000)" "tensor.ones(1000, 1000) * 2"; do
    run "$TESSERA" "$WORK/gc.lua" "$expr"
    expect_eq "10,000 x $expr: finishes" "$rc" 0
    echo "     $out${err:+ $err}"
    peak=$(printf '%s' "$out" | sed -n 's/.*peak_kb=\([0-9]*\).*/\1/p')
    expect_true "10,000 x $expr: peak RSS $((${peak:-0} / 1024)) MB < 200 MB" [ "${peak:-999999}" -lt 204800 ]
done

summary
