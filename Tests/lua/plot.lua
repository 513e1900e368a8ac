-- plot: every plot kind from tables, tensors and nn.fit histories; overlays; options; the SVG
-- and text renderings; atomic saving; and errors for bad data (never a crash).
local T = require "tessera.test"

local function count(s, pattern) local _, n = s:gsub(pattern, "") return n end

-- line from y, from x and y, from tensors; the text chart has braille dots and the title
local p = plot.line({1, 4, 9, 16}, {title = "squares", xlabel = "n", ylabel = "n^2"})
local text = p:text(50)
T.ok(text:find("squares", 1, true) and text:find("n^2", 1, true), "title and labels in the text")
T.ok(text:find("[\226][\160-\163]"), "braille characters")
for line in text:gmatch("[^\n]+") do T.ok(utf8.len(line) <= 50, "line fits 50 columns: " .. line) end
T.ok(not text:find("\27", 1, true), "p:text has no colour escapes")
T.eq(tostring(plot.line({1, 2}, {3, 4})):find("┤", 1, true) ~= nil, true, "tostring draws the chart")
local svg = plot.line(tensor.arange(10), tensor.arange(10):float():pow(2), {label = "x^2"}):svg()
T.ok(svg:find("^<svg xmlns=\"http://www.w3.org/2000/svg\""), "svg document")
T.eq(count(svg, "<polyline"), 1, "one line")
T.ok(svg:find(">x^2</text>", 1, true), "legend entry")

-- overlays and a list of series
p = plot.line({1, 2, 3}, {label = "a"})
T.eq(p:add_line({3, 2, 1}, {label = "b"}), p, "add_line returns the plot")
p:add_scatter({1, 2, 3}, {2, 2, 2}, {label = "c"})
svg = p:svg()
T.eq(count(svg, "<polyline"), 2, "two lines")
T.ok(count(svg, "<circle") >= 3, "scatter points")
svg = plot.line{{1, 2, 3}, {x = {1, 2}, y = {5, 6}, label = "second"}, {{1, 2}, {0, 1}, label = "third"}}:svg()
T.eq(count(svg, "<polyline"), 3, "a list of series")
T.ok(svg:find(">second</text>", 1, true) and svg:find(">third</text>", 1, true), "their labels")

-- nn.fit histories: loss against step by default, columns and eval metrics by name
tensor.manual_seed(0)
local m = nn.Linear(1, 1)
local x = tensor.randn(16, 1)
local h = nn.fit{model = m, data = {{x = x, y = x * 2}}, optimizer = optim.SGD(m, {lr = 0.1}), steps = 20, log_every = 0,
  loss = function(model, b) return nn.mse_loss(model(b.x), b.y) end,
  eval = function(model) return {w = model:parameters().weight:item()} end, eval_every = 5}
text = plot.line(h):text(60)
T.ok(text:find("loss", 1, true) and text:find("step", 1, true), "history: loss against step, labelled")
svg = plot.line(h, {y = {"loss", "lr"}, logy = true}):svg()
T.eq(count(svg, "<polyline"), 2, "two history columns")
svg = plot.line(h, {y = "w"}):svg()
T.eq(count(svg, "<polyline"), 1, "an eval metric")
T.raises(function() plot.line(h, {y = "nope"}) end, "no column or eval metric named 'nope'", "unknown history key")

-- bars (grouped), histograms, heatmaps
local b = plot.bar({"en", "tr"}, {0.9, 0.7}, {label = "sft"})
b:add_bar({"en", "tr"}, {0.8, 0.6}, {label = "lora"})
svg = b:svg()
T.ok(count(svg, "<rect") >= 4 + 2, "four bars and the legend")
text = b:text(60)
T.ok(text:find("en", 1, true) and text:find("0.9", 1, true), "bar text shows labels and values")
T.ok(plot.bar({3, 1, 2}):text(40):find("█", 1, true), "bars from values alone")
local hist = plot.hist(tensor.randn(500), {bins = 10})
T.eq(count(hist:svg(), "fill%-opacity=\"0.85\""), 10, "ten bins")
T.ok(hist:text(50):find("█", 1, true), "block characters")
svg = plot.heatmap(tensor.from{{1, 2, 3}, {4, 5, 6}}, {rows = {"a", "b"}, cols = {"x", "y", "z"}}):svg()
T.ok(svg:find(">a</text>", 1, true) and svg:find(">z</text>", 1, true), "row and column labels")
T.ok(plot.heatmap({{0, 1}, {1, 0}}):text(40):find("▕", 1, true), "heatmap text")

-- options and p:set
p = plot.line({1, 10, 100}, {logy = true, width = 300, height = 200})
T.ok(p:svg():find("viewBox=\"0 0 300 200\"", 1, true), "width and height")
p:set{title = "set later"}
T.ok(p:svg():find("set later", 1, true), "p:set changes the title")
T.ok(plot.line({1, 2}, {title = "<b> & \"q\""}):svg():find("&lt;b&gt; &amp; &quot;q&quot;", 1, true), "text is escaped")

-- NaN, infinity, empty data and non-positive values on log axes draw without error
T.ok(plot.line({1, 0 / 0, 3, math.huge, 5}):svg(), "NaN and inf break the line")
T.ok(plot.line({}):text(40), "empty line")
T.ok(plot.hist({}):svg(), "empty histogram")
T.ok(plot.line({-1, 0, 1, 10}, {logy = true}):text(40), "non-positive values on a log axis are left out")
T.ok(plot.heatmap({{0 / 0, 1}}):svg(), "NaN cells")
T.ok(plot.scatter({1, 1, 1}, {2, 2, 2}):svg(), "all points equal")

-- saving: .svg and .txt, atomically; other extensions are errors
local base = os.tmpname()
p = plot.line({1, 2, 3}, {title = "saved"})
T.eq(p:save(base .. ".svg"), p, "save returns the plot")
local f = io.open(base .. ".svg")
local content = f:read("a")
f:close()
T.eq(content, p:svg(), "the file holds the SVG")
p:save(base .. ".txt")
f = io.open(base .. ".txt")
T.ok(f:read("a"):find("saved", 1, true), "the text file")
f:close()
os.remove(base .. ".svg")
os.remove(base .. ".txt")
os.remove(base)
T.raises(function() p:save(base .. ".png") end, "must end in .svg or .txt", "png is not written")
T.raises(function() p:save("/nonexistent-dir/x.svg") end, "cannot write '/nonexistent-dir/x.svg'", "unwritable path")

-- bad arguments are Lua errors naming the function
T.raises(function() plot.line("x") end, "bad argument #1 to 'plot.line'", "not data")
T.raises(function() plot.line({1, 2}, {1}) end, "x has 2 values but y has 1", "lengths differ")
T.raises(function() plot.line({1, "a"}) end, "element 2 is string", "a string in the data")
T.raises(function() plot.line({1}, {colour = "red"}) end, "unknown option 'colour'", "unknown option")
T.raises(function() plot.line({1}):add_bar({"a"}, {1}) end, "cannot add a bar series to a line", "mixing families")
T.raises(function() plot.heatmap({{1, 2}, {3}}) end, "every heatmap row must have 2 values", "ragged matrix")
T.raises(function() plot.heatmap(tensor.ones(2, 2, 2)) end, "2-D tensor expected", "3-D tensor")
T.raises(function() plot.heatmap({{1}}, {rows = {"a", "b"}}) end, "2 row labels for 1 rows", "label count")
T.raises(function() plot.hist({1, 2}, {bins = 0}) end, "bins must be between 1 and 10000", "zero bins")
T.raises(function() plot.line({1}, {width = 5}) end, "option 'width' must be 120..4000", "tiny width")
T.raises(function() p:text(3) end, "width must be 24..400", "tiny text width")
T.raises(function() plot.line(tensor.ones(2, 2)) end, "a 1-D tensor expected", "2-D tensor for a line")

-- display: notebooks get SVG; the text is the chart
if display then
  T.ok(tostring(p):find("saved", 1, true), "tostring has the title")
end

T.summary()
