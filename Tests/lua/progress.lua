-- progress: the bar for Lua loops. Here stdout is not a terminal (tests run in a pipe), so the
-- bar prints a few plain lines through print: at most one a second and always the last.
local T = require "tessera.test"

local real_print = print
local lines
local function capture() lines = {}; print = function(s) lines[#lines + 1] = s end end
local function restore() print = real_print end

capture()
local seen = {}
for i, bar in progress(1, 5, {label = "work"}) do
  seen[#seen + 1] = i
  bar:set{loss = 1 / i}
end
restore()
T.eq(seen, {1, 2, 3, 4, 5}, "iterates first..last")
T.eq(#lines, 1, "a fast loop prints one line: " .. table.concat(lines, " | "))
T.ok(lines[1]:find("^work 5/5 ") and lines[1]:find("it/s", 1, true) and lines[1]:find("loss 0.2000", 1, true), "label, count, rate, metric: " .. lines[1])

-- a slow loop prints at most about ten lines, never one per iteration
capture()
local t0 = os.clock()
for i in progress(1, 40) do
  local t = os.time()
  local stop = os.clock() + 0.06
  while os.clock() < stop do end
end
restore()
T.ok(#lines >= 2 and #lines <= 11, "a 2.4 s loop of 40 steps prints a few lines: " .. #lines)
T.ok(lines[#lines]:find("^40/40 "), "the last line is the total")

-- steps, empty ranges, break and errors
local out = {}
for i in progress(10, 1, -3, {progress = false}) do out[#out + 1] = i end
T.eq(out, {10, 7, 4, 1}, "negative step")
capture()
for i in progress(1, 0) do error("never") end
restore()
T.eq(#lines, 0, "an empty range prints nothing")
capture()
for i in progress(1, 100, {progress = false}) do if i == 3 then break end end
T.eq(#lines, 0, "progress = false prints nothing")
local ok, err = pcall(function() for i in progress(1, 10) do if i == 2 then error("inside") end end end)
restore()
T.ok(not ok and err:find("inside", 1, true), "an error in the loop propagates")

-- wrap: lists (i, v) and functions (until nil)
capture()
local words = {}
for i, w in progress.wrap({"a", "b", "c"}, {label = "words"}) do words[i] = w end
T.eq(words, {"a", "b", "c"}, "wrap of a list gives i, v")
local k, got = 0, {}
for x, y in progress.wrap(function() k = k + 1; if k <= 3 then return k, k * 10 end end) do got[#got + 1] = x + y end
restore()
T.eq(got, {11, 22, 33}, "wrap of a function passes its values")
T.ok(lines[1]:find("^words 3/3 "), "list total known: " .. tostring(lines[1]))
T.ok(lines[2] and lines[2]:find("^3  ") and not lines[2]:find("ETA", 1, true), "unknown total: a count, no ETA: " .. tostring(lines[2]))

-- a bar advanced by hand
capture()
local bar = progress.bar(4, {label = "epochs"})
for e = 1, 4 do bar:update(e) end
bar:close()
bar:close()
restore()
T.eq(#lines, 1, "one line for a fast manual bar")
T.ok(tostring(bar):find("4/4", 1, true), "tostring shows the status")

-- bad arguments
T.raises(function() progress(1) end, "bad argument #2 to 'progress.range'", "missing last")
T.raises(function() progress(1, 5, 0) end, "step must not be 0", "zero step")
T.raises(function() progress(1, 5, {lable = "x"}) end, "unknown option 'lable'", "typo")
T.raises(function() progress.wrap(5) end, "table or function expected", "wrap of a number")
T.raises(function() for x in progress.wrap(function() error("in f") end) do end end, "in f", "an error in the wrapped function")
T.raises(function() progress.bar(3):set(1) end, "table {name = value} expected", "set needs a table")
T.raises(function() for _ in progress.bar(2), nil do end end, nil, "a manual bar is not an iterator")

T.summary()
