-- help: every public function (the tensor, nn, optim and metrics libraries, the methods of tensors, modules,
-- optimizers and hook handles, `help` itself and `display`) has a help entry with signature, summary and
-- example, and every example runs without error.
--
-- help(f) prints its text through the global print, so this file reads it by replacing print for
-- the call; the example is the indented block after "Example:" (the layout HelpEntry.text
-- guarantees), run with its own print silenced.
local T = require "tessera.test"

local real_print = print

-- the text help(f) prints, or nil and the error
local function help_text(f)
  local out = {}
  print = function(...)
    local t = table.pack(...)
    for i = 1, t.n do out[#out + 1] = tostring(t[i]) end
  end
  local ok, err = pcall(help, f)
  print = real_print
  if not ok then return nil, err end
  return table.concat(out, "\n")
end

local function example_of(text)
  local block = text:match("\nExample:\n(.*)$")
  return block and (block:gsub("^  ", ""):gsub("\n  ", "\n"))
end

-- every function value reachable by users: the libraries (tensor, nn, optim with its nested
-- tables), the method tables of tensors, modules, optimizers and hook handles, and help
local functions = {}
local function walk(prefix, sep, t)
  for k, v in pairs(t) do
    if type(v) == "function" then
      functions[#functions + 1] = {name = prefix .. sep .. k, f = v}
    elseif type(v) == "table" then
      walk(prefix .. sep .. k, ".", v)
    end
  end
end
-- the libraries are the global tables that are not Lua's own, the method tables every
-- registry entry "tessera.<Kind>.methods": a library added later is walked without a change here
local lua_own = {string = true, table = true, math = true, io = true, os = true, coroutine = true,
  debug = true, utf8 = true, package = true, _G = true}
local libraries, kinds = {}, {}
for name, v in pairs(_G) do
  if type(v) == "table" and not lua_own[name] then libraries[#libraries + 1] = name end
end
for key, v in pairs(debug.getregistry()) do
  local kind = type(key) == "string" and key:match("^tessera%.(.+)%.methods$")
  if kind and type(v) == "table" then kinds[#kinds + 1] = kind end
end
table.sort(libraries)
table.sort(kinds)
local function has(list, x) for _, y in ipairs(list) do if y == x then return true end end end
for _, lib in ipairs{"tensor", "nn", "optim", "metrics", "plot", "progress", "sft", "data", "models", "tokenizers",
  "safetensors", "gguf", "spiel", "lora", "instruct"} do
  T.ok(has(libraries, lib), "the " .. lib .. " library is loaded")
end
for _, kind in ipairs{"Tensor", "Module", "Optimizer", "HookHandle", "Plot", "Progress", "SparseDiff", "Dataset"} do
  T.ok(has(kinds, kind), "the " .. kind .. " method table is in the registry")
end
for _, lib in ipairs(libraries) do walk(lib, ".", _G[lib]) end
for _, kind in ipairs(kinds) do walk(kind, ":", debug.getregistry()["tessera." .. kind .. ".methods"]) end
functions[#functions + 1] = {name = "help", f = help}
functions[#functions + 1] = {name = "display", f = display}
table.sort(functions, function(a, b) return a.name < b.name end)
T.ok(#functions > 150, #functions .. " public functions found")

local examples_run = 0
for _, fn in ipairs(functions) do
  local text, err = help_text(fn.f)
  if T.ok(text ~= nil, "help entry for " .. fn.name .. (err and (": " .. tostring(err)) or "")) then
    local signature = text:match("^[^\n]+")
    T.ok(signature and signature:find("[({]"), "signature for " .. fn.name)
    T.ok(text:match("^[^\n]+\n  %S"), "one-line summary for " .. fn.name)
    local example = example_of(text)
    if T.ok(example and example:find("%S"), "example for " .. fn.name) then
      local chunk, cerr = load(example, "=example of " .. fn.name)
      local ok, rerr = false, cerr
      if chunk then
        print = function() end
        tensor.manual_seed(0)
        ok, rerr = pcall(chunk)
        print = real_print
      end
      if T.ok(ok, "example of " .. fn.name .. " runs" .. (ok and "" or (": " .. tostring(rerr)))) then
        examples_run = examples_run + 1
      end
    end
  end
end
T.eq(examples_run, #functions, "every example ran")

-- lookup by name: qualified, bare, method with . or :, library topics
local randn = help_text(tensor.randn)
T.eq(help_text("tensor.randn"), randn, "help(\"tensor.randn\") is help(tensor.randn)")
T.eq(help_text("randn"), randn, "a bare name finds the tensor function")
T.ok(help_text("Tensor:matmul"):find("x:matmul(y)", 1, true), "help(\"Tensor:matmul\")")
T.eq(help_text("Tensor.matmul"), help_text("Tensor:matmul"), "Tensor.matmul finds the method")
T.eq(help_text(tensor.zeros(1).matmul), help_text("Tensor:matmul"), "help(x.matmul)")
local topic = help_text("tensor")
T.ok(topic and topic:find("tensor.randn - ", 1, true), "help(\"tensor\") lists the library")
for _, fn in ipairs(functions) do
  if fn.name:match("^tensor%.") and fn.name ~= "tensor.tensor" then
    T.ok(topic:find("  " .. fn.name .. " - ", 1, true), "help(\"tensor\") lists " .. fn.name)
  end
end
T.ok(help_text("Tensor"):find("Tensor:matmul - ", 1, true), "help(\"Tensor\") lists the methods")
-- every other library and method table has a topic listing each of its functions
-- (the libraries and method tables named in DESIGN's layers; newer ones are checked by the
-- walk above for their entries and examples)
for _, topic_name in ipairs{"nn", "optim", "metrics", "plot", "progress", "Module", "Optimizer", "HookHandle", "Plot", "Progress"} do
  local text = help_text(topic_name)
  if T.ok(text, "help(\"" .. topic_name .. "\") is a topic") then
    for _, fn in ipairs(functions) do
      local lib = fn.name:match("^([%w]+)[.:]")
      if lib == topic_name then
        T.ok(text:find("  " .. fn.name .. " - ", 1, true), "help(\"" .. topic_name .. "\") lists " .. fn.name)
      end
    end
  end
end
T.ok(help_text(nn.Linear):find("nn.Linear(in, out", 1, true), "help(nn.Linear)")
T.eq(help_text(nn.Linear(1, 1).freeze), help_text("Module:freeze"), "help(m.freeze)")
T.eq(help_text(optim.schedule.cosine), help_text("optim.schedule.cosine"), "help of a nested library function")
T.ok(help_text():find("help(tensor.randn)", 1, true), "help() says how to use help")
T.raises(function() help(print) end, "not one of Tessera's", "help of a Lua builtin")
T.raises(function() help(function() end) end, "not one of Tessera's", "help of a user function")
T.raises(function() help("no_such_function") end, "no help entry named 'no_such_function'", "unknown name")

-- help writes through print, so a replaced print (a notebook capturing output) sees it
local captured = help_text(tensor.zeros)
T.ok(captured:find("tensor.zeros(", 1, true) == 1, "help text starts with the signature")

T.summary()
