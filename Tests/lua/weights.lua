-- weights: safetensors round trips and errors, GGUF files written here with string.pack (an f32
-- and a Q8_0 tensor), and the help examples of both libraries (run here, as help.lua lists only
-- the core libraries).
local T = require "tessera.test"

local function tmp()
  return os.tmpname()
end

local function write(path, bytes)
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
end

-- safetensors: every engine dtype round trips; metadata; dtypes option; header-only readers
local path = tmp()
local w = tensor.randn(3, 4)
local ids = tensor.from({1, -2, 3}, {dtype = "i64"})
local mask = tensor.from({true, false})
safetensors.save(path, {w = w, ids = ids, mask = mask, d = tensor.ones(2, {dtype = "f64"}), half = w}, {format = "pt", who = "test"},
  {dtypes = {half = "F16", ids = "i8"}})
local t, meta = safetensors.load(path)
T.eq(meta, {format = "pt", who = "test"}, "metadata round trip")
T.eq(t.w, w, "f32 round trip")
T.eq(t.ids, ids, "i64 saved as I8 loads as integers")
T.eq(t.ids:dtype(), "i32", "I8 loads as i32")
T.eq(t.mask, mask, "bool round trip")
T.eq(t.d:dtype(), "f64", "f64 round trip")
T.near(t.half, w, 2e-3, "F16 is close")
T.eq(safetensors.metadata(path), {format = "pt", who = "test"}, "safetensors.metadata")
local listed = {}
for _, e in ipairs(safetensors.list(path)) do listed[#listed + 1] = e.name .. ":" .. e.dtype .. ":" .. table.concat(e.shape, "x") end
T.eq(listed, {"d:F64:2", "w:F32:3x4", "half:F16:3x4", "ids:I8:3", "mask:BOOL:2"}, "safetensors.list in file order (largest elements first)")
safetensors.save(path, {x = tensor.zeros(1)})
T.eq(safetensors.metadata(path), {}, "no metadata")
os.remove(path)

-- safetensors errors name the function and the file
T.raises(function() safetensors.load("/nonexistent/x.safetensors") end, "safetensors.load: /nonexistent/x.safetensors: cannot open", "missing file")
local bad = tmp()
write(bad, string.pack("<I8", 1000) .. "{}")
T.raises(function() safetensors.load(bad) end, "header length 1000 is larger than the file allows", "bad header length")
write(bad, string.pack("<I8", 4) .. "{x:1")
T.raises(function() safetensors.load(bad) end, "safetensors.load: " .. bad .. ": header is not valid JSON", "non-JSON header")
local header = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
write(bad, string.pack("<I8", #header) .. header .. "1234")
T.raises(function() safetensors.load(bad) end, "lie outside the data area", "offsets outside the file")
T.raises(function() safetensors.metadata(bad) end, "safetensors.metadata: ", "metadata checks the header too")
os.remove(bad)
T.raises(function() safetensors.save(tmp(), "x") end, "bad argument #2 to 'safetensors.save' (table of named tensors expected, got string)", "not a table")
T.raises(function() safetensors.save(tmp(), {a = 1}) end, "'a' is a number, not a tensor", "not a tensor")
T.raises(function() safetensors.save(tmp(), {a = tensor.ones(1)}, {k = 1}) end, "metadata value 'k' must be a string", "metadata values are strings")
T.raises(function() safetensors.save(tmp(), {a = tensor.ones(1)}, nil, {dtypes = {a = "F7"}}) end, "unknown safetensors dtype 'F7'", "unknown dtype")
T.raises(function() safetensors.save(tmp(), {a = tensor.ones(1)}, nil, {dtype = "F16"}) end, "unknown option 'dtype'", "unknown option")
T.raises(function() safetensors.save("/nonexistent/dir/x.safetensors", {a = tensor.ones(1)}) end, "safetensors.save: /nonexistent/dir/x.safetensors: cannot create", "unwritable path")

-- GGUF: metadata of several types, an f32 (2, 4) tensor and a Q8_0 (1, 32) block
local function str(s) return string.pack("<s8", s) end
local function gguf_bytes(version, q8_type)
  local parts = {"GGUF", string.pack("<I4I8I8", version, 2, 3)}
  parts[#parts + 1] = str("general.name") .. string.pack("<I4", 8) .. str("tiny")
  parts[#parts + 1] = str("answer") .. string.pack("<I4i4", 5, -42)
  parts[#parts + 1] = str("tokens") .. string.pack("<I4I4I8", 9, 8, 2) .. str("<s>") .. str("hé")
  parts[#parts + 1] = str("w") .. string.pack("<I4I8I8I4I8", 2, 4, 2, 0, 0)
  parts[#parts + 1] = str("q") .. string.pack("<I4I8I8I4I8", 2, 32, 1, q8_type or 8, 32)
  local s = table.concat(parts)
  s = s .. string.rep("\0", (32 - #s % 32) % 32)
  for i = 1, 8 do s = s .. string.pack("<f", i) end
  -- Q8_0: f16 scale 0.5 (0x3800) and 32 int8 quants -16..15
  s = s .. string.pack("<I2", 0x3800)
  for q = -16, 15 do s = s .. string.pack("<i1", q) end
  return s
end
local gpath = tmp()
write(gpath, gguf_bytes(3))
local g = gguf.open(gpath)
T.eq({g.version, g.alignment, g.path}, {3, 32, gpath}, "fields")
T.eq(g.metadata.answer, -42, "int32 metadata")
T.eq(g.metadata["general.name"], "tiny", "string metadata")
T.eq(g.metadata.tokens, {"<s>", "hé"}, "array of strings")
T.eq(#g.tensors, 2, "two tensors")
T.eq({g.tensors[2].name, g.tensors[2].type, g.tensors[2].shape, g.tensors[2].bytes}, {"q", "Q8_0", {1, 32}, 34}, "directory entry")
T.eq(g:info("w").shape, {2, 4}, "row-major shape")
T.eq(g:tensor("w"), {{1, 2, 3, 4}, {5, 6, 7, 8}}, "f32 tensor")
local expected = {}
for q = -16, 15 do expected[#expected + 1] = q * 0.5 end
T.eq(g:tensor("q"), {expected}, "Q8_0 dequantised")
T.ok(tostring(g):find("GGUF(" .. gpath .. ", v3, 3 metadata keys, 2 tensors)", 1, true), "tostring")
T.eq(g.nonexistent, nil, "unknown field is nil")
T.raises(function() g:tensor("nope") end, "GGUF:tensor: " .. gpath .. ": no tensor named 'nope'", "missing tensor")
T.raises(function() g:tensor() end, "bad argument #2 to 'GGUF:tensor'", "missing name")
T.raises(function() g.tensor(5, "w") end, "GGUF file expected", "method on a non-GGUF")

-- GGUF errors
T.raises(function() gguf.open("/nonexistent.gguf") end, "gguf.open: /nonexistent.gguf: cannot open", "missing file")
write(gpath, "GGML" .. string.rep("\0", 40))
T.raises(function() gguf.open(gpath) end, "not a GGUF file", "bad magic")
write(gpath, gguf_bytes(7))
T.raises(function() gguf.open(gpath) end, "GGUF version 7 is not supported", "bad version")
write(gpath, gguf_bytes(3, 77))
T.raises(function() gguf.open(gpath) end, "tensor 'q' has unknown type 77", "unknown type")
write(gpath, gguf_bytes(3):sub(1, -20))
T.raises(function() gguf.open(gpath) end, "lies outside the file", "truncated data")
write(gpath, gguf_bytes(3):sub(1, 120))
T.raises(function() gguf.open(gpath) end, "gguf.open: " .. gpath .. ": metadata 'tokens' claims 2 elements", "truncated header")
os.remove(gpath)

-- random arguments: every call either works or raises a string error naming the function
local good_st, good_gguf, garbage = tmp(), tmp(), tmp()
safetensors.save(good_st, {a = tensor.ones(2)})
write(good_gguf, gguf_bytes(3))
write(garbage, string.rep("\255", 100))
local paths = {"/nonexistent/x", "/", "/dev/null", garbage, good_st, good_gguf, 5, {}, nil, true}
local values = {nil, 1, "F16", {}, {a = tensor.ones(1)}, {a = 1}, {[1] = tensor.ones(1)}, {dtypes = {a = "F16"}}, {dtypes = 3}, tensor.ones(2)}
local seed = 7
local function pick(t) seed = (seed * 1103515245 + 12345) % 2147483648; return t[1 + seed % 10] end
local fns = {
  {"safetensors.load", safetensors.load}, {"safetensors.metadata", safetensors.metadata}, {"safetensors.list", safetensors.list},
  {"gguf.open", gguf.open},
}
local fuzz_errors, fuzz_calls = 0, 0
for _ = 1, 60 do
  for _, f in ipairs(fns) do
    local ok, err = pcall(f[2], pick(paths), pick(values))
    fuzz_calls = fuzz_calls + 1
    if not ok then
      fuzz_errors = fuzz_errors + 1
      if type(err) ~= "string" or not err:find(f[1], 1, true) then T.ok(false, f[1] .. " raised " .. tostring(err)) end
    end
  end
  -- saves go only to a temporary file or a missing folder
  local ok, err = pcall(safetensors.save, pick{good_st, "/nonexistent/y", good_st, 3, good_st, "/nonexistent/y", good_st, nil, good_st, {}}, pick(values), pick(values), pick(values))
  if not ok and (type(err) ~= "string" or not err:find("safetensors.save", 1, true)) then T.ok(false, "safetensors.save raised " .. tostring(err)) end
  local g = gguf.open(good_gguf)
  ok, err = pcall(g.tensor, pick{g, g, 1, "w", g, nil, g, {}, g, g}, pick{"w", "q", 1, nil, "zz", {}, "w", "q", true, "w"})
  if not ok and (type(err) ~= "string" or not err:find("GGUF:tensor", 1, true)) then T.ok(false, "GGUF:tensor raised " .. tostring(err)) end
end
T.ok(fuzz_errors > 0 and fuzz_errors < fuzz_calls, fuzz_calls .. " random calls, " .. fuzz_errors .. " errors, process alive")
for _, p in ipairs{good_st, good_gguf, garbage} do os.remove(p) end

-- the help examples of these libraries run
for _, name in ipairs{"safetensors.load", "safetensors.save", "safetensors.metadata", "safetensors.list", "gguf.open", "GGUF:tensor", "GGUF:info"} do
  local out = {}
  local real_print = print
  print = function(...) out[#out + 1] = table.concat({...}, " ") end
  help(name)
  print = real_print
  local example = table.concat(out, "\n"):match("\nExample:\n(.*)$")
  if T.ok(example, "help example for " .. name) then
    example = example:gsub("^  ", ""):gsub("\n  ", "\n")
    print = function() end
    local ok, err = pcall(assert(load(example, "=example of " .. name)))
    print = real_print
    T.ok(ok, "example of " .. name .. " runs" .. (ok and "" or (": " .. tostring(err))))
  end
end

T.summary()
