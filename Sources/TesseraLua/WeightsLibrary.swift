// WeightsLibrary: the `safetensors` and `gguf` Lua libraries: load and save safetensors files
// (tensors by name plus their `__metadata__`), and open GGUF files (metadata, tensor directory,
// tensors dequantised to f32 on request) as `GGUF` userdata.

import CLua
import LuaShim
import TesseraIO
import TesseraTensor

let ggufMetatableName = "tessera.GGUF"
let ggufMethodsName = "tessera.GGUF.methods"
nonisolated(unsafe) let ggufMetatableKey = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
nonisolated(unsafe) let ggufMethodsKey = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

/// a tiny GGUF file written from Lua (one string, one 2x4 f32 tensor), for the examples
private let tinyGGUFExample = """
    -- a tiny GGUF v3 file: metadata general.name = "tiny", a 2x4 f32 tensor "w"
    local path = os.tmpname()
    local f = io.open(path, "wb")
    local function str(s) return string.pack("<s8", s) end
    f:write("GGUF", string.pack("<I4I8I8", 3, 1, 1), str("general.name"), string.pack("<I4", 8), str("tiny"))
    f:write(str("w"), string.pack("<I4I8I8I4I8", 2, 4, 2, 0, 0))
    f:write(string.rep("\\0", (32 - f:seek() % 32) % 32))
    for i = 1, 8 do f:write(string.pack("<f", i)) end
    f:close()

    """

extension LuaStack {
    func checkGGUF(_ i: Int32, _ fn: String) throws -> GGUFFile {
        guard let g = retainedObject(at: i, metatable: ggufMetatableKey, as: GGUFFile.self) else {
            throw LuaError.argument(i, fn, "GGUF file expected (from gguf.open), got \(typeName(i))")
        }
        return g
    }

    /// A table of string keys and string values at i (nil or none: empty); names the bad entry.
    func stringDictionary(_ i: Int32, _ fn: String, _ what: String, argument: Int32? = nil) throws -> [String: String] {
        if isNoneOrNil(i) { return [:] }
        let arg = argument ?? i
        guard lua_type(L, i) == LUA_TTABLE, tensor(at: i) == nil else {
            throw LuaError.argument(arg, fn, "\(what) table expected, got \(typeName(i))")
        }
        var out: [String: String] = [:]
        let t = lua_absindex(L, i)
        lua_pushnil(L)
        while lua_next(L, t) != 0 {
            defer { lua_settop(L, -2) }
            guard lua_type(L, -2) == LUA_TSTRING, let k = string(at: -2) else {
                throw LuaError.argument(arg, fn, "\(what) keys must be strings, got a \(typeName(-2))")
            }
            guard lua_type(L, -1) == LUA_TSTRING, let v = string(at: -1) else {
                throw LuaError.argument(arg, fn, "\(what) value '\(k)' must be a string, got a \(typeName(-1))")
            }
            out[k] = v
        }
        return out
    }

    /// A table mapping names to tensors at i.
    func namedTensors(_ i: Int32, _ fn: String) throws -> [String: Tensor] {
        guard lua_type(L, i) == LUA_TTABLE, tensor(at: i) == nil else {
            throw LuaError.argument(i, fn, "table of named tensors expected, got \(typeName(i))")
        }
        var out: [String: Tensor] = [:]
        let t = lua_absindex(L, i)
        lua_pushnil(L)
        while lua_next(L, t) != 0 {
            defer { lua_settop(L, -2) }
            guard lua_type(L, -2) == LUA_TSTRING, let k = string(at: -2) else {
                throw LuaError.argument(i, fn, "tensor names must be strings, got a \(typeName(-2)) key")
            }
            guard let v = tensor(at: -1) else { throw LuaError.argument(i, fn, "'\(k)' is a \(typeName(-1)), not a tensor") }
            out[k] = v
        }
        return out
    }

    /// Pushes a string-to-string table.
    func push(_ d: [String: String]) {
        lua_createtable(L, 0, Int32(d.count))
        for (k, v) in d {
            push(v)
            lua_setfield(L, -2, k)
        }
    }

    /// Pushes a GGUF metadata value (arrays as 1-based tables; a uint64 beyond Lua's integers as a float).
    func push(_ v: GGUFValue) {
        switch v {
        case .float32(let x): push(Double(x))
        case .float64(let x): push(x)
        case .bool(let b): push(b)
        case .string(let s): push(s)
        case .uint64(let x) where x > UInt64(Int.max): push(Double(x))
        case .array(_, let items):
            lua_createtable(L, Int32(clamping: items.count), 0)
            for (k, item) in items.enumerated() {
                push(item)
                lua_rawseti(L, -2, lua_Integer(k + 1))
            }
        default: push(v.int ?? 0)
        }
    }

    /// Pushes {name=, shape=, type=} for a GGUF tensor (shape row-major, as the tensor loads).
    func push(_ t: GGUFTensorInfo) {
        lua_createtable(L, 0, 4)
        push(t.name)
        lua_setfield(L, -2, "name")
        push(t.shape)
        lua_setfield(L, -2, "shape")
        push(t.type.name)
        lua_setfield(L, -2, "type")
        push(t.byteCount)
        lua_setfield(L, -2, "bytes")
    }
}

extension LuaRuntime {
    func openWeightsLibraries() {
        openSafetensorsLibrary()
        openGGUFMetatable()
        openGGUFLibrary()
    }

    private func openSafetensorsLibrary() {
        lua_createtable(L, 0, 4)
        let lib = LibraryBuilder(self, prefix: "safetensors", qualifiedErrors: true)
        Help.addTopic(
            "safetensors",
            """
            safetensors: the weights format of Hugging Face checkpoints, memory-mapped. Every dtype of the
            format loads: f16, bf16 and f8 as f32, narrow integers as i32, u32/u64 as i64. Saves go to a
            temporary file renamed into place, so an interrupted save never leaves a torn file.
            """)
        lib.def(
            "load", "safetensors.load(path)", "All tensors of a safetensors file by name, and its __metadata__ as a second result.",
            details:
                "Malformed files (bad header, offsets outside the file, overlapping tensors, size mismatches,\nduplicate names, unknown dtypes) raise an error naming the file and the problem.",
            example:
                "local path = os.tmpname()\nsafetensors.save(path, {w = tensor.ones(2, 3)}, {format = 'pt'})\nlocal t, meta = safetensors.load(path)\nprint(t.w, meta.format)\nos.remove(path)"
        ) { s in
            let (tensors, metadata) = try Safetensors.load(path: try s.checkString(1, "safetensors.load"))
            lua_createtable(s.L, 0, Int32(tensors.count))
            for (k, t) in tensors {
                s.push(t)
                lua_setfield(s.L, -2, k)
            }
            s.push(metadata)
            return 2
        }
        lib.def(
            "save", "safetensors.save(path, tensors [, metadata [, {dtypes=}]])",
            "Writes a table of named tensors (and string metadata) to a safetensors file, atomically.",
            details: """
                Each tensor is stored as its own dtype (f32 as F32, i64 as I64, ...) unless dtypes names
                another for it: {dtypes = {w = "F16"}} (F16 or BF16 for floats; I8, U8, I16, U16, I32, U32
                for integers that fit). Tensors are laid out aligned, the header padded to 8 bytes.
                """,
            example:
                "local path = os.tmpname()\nsafetensors.save(path, {w = tensor.randn(4, 4), ids = tensor.from({1, 2}, {dtype = 'i64'})},\n  {format = 'pt', note = 'demo'}, {dtypes = {w = 'F16'}})\nlocal t = safetensors.load(path)\nprint(t.w:dtype(), t.ids)\nos.remove(path)"
        ) { s in
            let fn = "safetensors.save"
            let path = try s.checkString(1, fn)
            let tensors = try s.namedTensors(2, fn)
            let metadata = try s.stringDictionary(3, fn, "metadata")
            _ = try s.options(4, fn, allowed: [], raw: ["dtypes"])
            var dtypes: [String: SafetensorsDType] = [:]
            if !s.isNoneOrNil(4) {
                lua_getfield(s.L, 4, "dtypes")
                defer { lua_settop(s.L, -2) }
                for (k, v) in try s.stringDictionary(-1, fn, "dtypes", argument: 4) {
                    guard let d = SafetensorsDType(rawValue: v.uppercased()) else {
                        throw LuaError.argument(4, fn, "unknown safetensors dtype '\(v)' for '\(k)'")
                    }
                    dtypes[k] = d
                }
            }
            try Safetensors.save(tensors, metadata: metadata, to: path, dtypes: dtypes)
            return 0
        }
        lib.def(
            "metadata", "safetensors.metadata(path)", "The __metadata__ table of a safetensors file, reading only its header.",
            example:
                "local path = os.tmpname()\nsafetensors.save(path, {b = tensor.zeros(3)}, {format = 'pt'})\nprint(safetensors.metadata(path).format)\nos.remove(path)"
        ) { s in
            s.push(try SafetensorsFile(path: try s.checkString(1, "safetensors.metadata")).metadata)
            return 1
        }
        lib.def(
            "list", "safetensors.list(path)", "The tensors of a safetensors file as {name=, dtype=, shape=} in file order, reading only its header.",
            example:
                "local path = os.tmpname()\nsafetensors.save(path, {a = tensor.zeros(2, 5), b = tensor.ones(3)})\nfor _, e in ipairs(safetensors.list(path)) do print(e.name, e.dtype, table.concat(e.shape, 'x')) end\nos.remove(path)"
        ) { s in
            let f = try SafetensorsFile(path: try s.checkString(1, "safetensors.list"))
            lua_createtable(s.L, Int32(clamping: f.entries.count), 0)
            for (k, e) in f.entries.enumerated() {
                lua_createtable(s.L, 0, 3)
                s.push(e.name)
                lua_setfield(s.L, -2, "name")
                s.push(e.dtype.rawValue)
                lua_setfield(s.L, -2, "dtype")
                s.push(e.shape)
                lua_setfield(s.L, -2, "shape")
                lua_rawseti(s.L, -2, lua_Integer(k + 1))
            }
            return 1
        }
        lua_setglobal(L, "safetensors")
    }

    private func openGGUFLibrary() {
        lua_createtable(L, 0, 2)
        let lib = LibraryBuilder(self, prefix: "gguf", qualifiedErrors: true)
        Help.addTopic(
            "gguf",
            """
            gguf: llama.cpp's model files (GGUF v2 and v3), memory-mapped. gguf.open gives a GGUF value with
            fields path, version, alignment, metadata (key -> value; arrays as tables) and tensors (a list
            of {name=, shape=, type=, bytes=}); g:tensor(name) dequantises one tensor to f32 (F32, F16,
            BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K). Shapes are row-major: a linear weight
            is (out, in), as in PyTorch.
            """)
        lib.def(
            "open", "gguf.open(path)", "Opens a GGUF file: its metadata and tensor directory, with tensors read on request.",
            details:
                "Malformed files (bad magic or version, truncation, tensors outside the file, unknown types)\nraise an error naming the file and the problem.",
            example: tinyGGUFExample
                + "local g = gguf.open(path)\nprint(g.version, g.metadata['general.name'], g.tensors[1].name, g.tensors[1].type)\nos.remove(path)"
        ) { s in
            s.pushRetained(try GGUFFile(path: try s.checkString(1, "gguf.open")), metatable: ggufMetatableKey)
            return 1
        }
        lua_setglobal(L, "gguf")
    }

    private func openGGUFMetatable() {
        newRetainedMetatable(ggufMetatableName, key: ggufMetatableKey, shownAs: "GGUF")
        setFunction("__tostring", qualifiedName: "tostring") { s in
            let g = try s.checkGGUF(1, "tostring")
            s.push("GGUF(\(g.path), v\(g.version), \(g.metadata.count) metadata keys, \(g.tensors.count) tensors)")
            return 1
        }
        setMethodIndex(methodsKey: ggufMethodsKey, qualifiedName: "index") { s in
            let g = try s.checkGGUF(1, "index")
            switch s.string(at: 2) {
            case "path": s.push(g.path)
            case "version": s.push(g.version)
            case "alignment": s.push(g.alignment)
            case "metadata":
                lua_createtable(s.L, 0, Int32(clamping: g.metadata.count))
                for (k, v) in g.metadata {
                    s.push(v)
                    lua_setfield(s.L, -2, k)
                }
            case "tensors":
                lua_createtable(s.L, Int32(clamping: g.tensors.count), 0)
                for (k, t) in g.tensors.enumerated() {
                    s.push(t)
                    lua_rawseti(s.L, -2, lua_Integer(k + 1))
                }
            default: s.pushNil()
            }
        }
        lua_settop(L, -2)
        openMethodTable(key: ggufMethodsKey, registryName: ggufMethodsName) {
            let m = LibraryBuilder(self, prefix: "GGUF", methods: true, qualifiedErrors: true)
            Help.addTopic("GGUF", "GGUF methods (files from gguf.open), called as g:name(...).")
            m.def(
                "tensor", "g:tensor(name)", "One tensor of the file, dequantised to f32, in row-major shape.",
                example: tinyGGUFExample + "local g = gguf.open(path)\nprint(g:tensor('w'))\nos.remove(path)"
            ) { s in
                let g = try s.checkGGUF(1, "GGUF:tensor")
                s.push(try g.tensor(try s.checkString(2, "GGUF:tensor")))
                return 1
            }
            m.def(
                "info", "g:info(name)", "The directory entry {name=, shape=, type=, bytes=} of one tensor.",
                example: tinyGGUFExample
                    + "local g = gguf.open(path)\nlocal w = g:info('w')\nprint(w.type, table.concat(w.shape, 'x'), w.bytes)\nos.remove(path)"
            ) { s in
                let g = try s.checkGGUF(1, "GGUF:info")
                s.push(try g.info(try s.checkString(2, "GGUF:info")))
                return 1
            }
        }
    }
}
