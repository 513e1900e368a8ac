// SparseDiffUserdata: a TesseraMethods SparseDiff in Lua: `d:apply(model)`, `d:revert(model)`,
// `d1 + d2` (composition), `d * s` (scaling), inspection (nnz, density, stats, overlap), pruning
// and saving; it displays as a per-layer table (text and HTML).

import CLua
import LuaShim
import TesseraMethods
import TesseraNN
import TesseraTensor

let sparseDiffMetatableName = "tessera.SparseDiff"
let sparseDiffMethodsName = "tessera.SparseDiff.methods"
nonisolated(unsafe) let sparseDiffMetatableKey = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
nonisolated(unsafe) let sparseDiffMethodsKey = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

extension LuaStack {
    /// The sparse diff at index i, or nil if the value is not one.
    public func sparseDiff(at i: Int32) -> SparseDiff? {
        retainedObject(at: i, metatable: sparseDiffMetatableKey, as: SparseDiff.self)
    }

    public func checkSparseDiff(_ i: Int32, _ fn: String) throws -> SparseDiff {
        guard let d = sparseDiff(at: i) else { throw LuaError.argument(i, fn, "sparse diff expected, got \(typeName(i))") }
        return d
    }

    public func push(_ d: SparseDiff) { pushRetained(d, metatable: sparseDiffMetatableKey) }

    /// a table of string keys to numbers, strings or nested rows
    func pushRecord(_ fields: [(String, Any)]) {
        lua_createtable(L, 0, Int32(fields.count))
        for (key, value) in fields {
            switch value {
            case let v as Int: push(v)
            case let v as Double: push(v)
            case let v as String: push(v)
            case let v as [Int]: push(v)
            case let v as [String: String]:
                lua_createtable(L, 0, Int32(v.count))
                for (k, x) in v {
                    push(x)
                    lua_setfield(L, -2, k)
                }
            default: pushNil()
            }
            lua_setfield(L, -2, key)
        }
    }
}

/// The per-layer table a diff displays as: rows of layer, nnz, density, norm.
func sparseDiffTable(_ d: SparseDiff) -> (text: String, html: String) {
    let rows = d.layerStats().map { row in
        [row.layer, "\(row.nnz)", percentText(row.numel == 0 ? 0 : Double(row.nnz) / Double(row.numel)), cFormat("%.4g", row.norm)]
    }
    let header = ["layer", "nnz", "density", "norm"]
    let widths = header.indices.map { c in ([header[c]] + rows.map { $0[c] }).map(\.count).max() ?? 0 }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { c, cell in
            c == 0 ? cell.padding(widths[c]) : String(repeating: " ", count: widths[c] - cell.count) + cell
        }.joined(separator: "  ")
    }
    var heads = d.heads.keys.sorted().joined(separator: ", ")
    if heads.isEmpty { heads = "none" }
    let title = d.description
    let text = ([title, line(header)] + rows.map(line) + ["head: " + heads]).joined(separator: "\n")
    func esc(_ s: String) -> String {
        s.replacingAll("&", "&amp;").replacingAll("<", "&lt;").replacingAll(">", "&gt;")
    }
    var html = "<div><p><b>SparseDiff</b> " + esc(d.summary) + ", base " + esc(d.base.name) + "</p><table><thead><tr>"
    html += header.map { "<th>\($0)</th>" }.joined() + "</tr></thead><tbody>"
    for r in rows { html += "<tr>" + r.map { "<td>\(esc($0))</td>" }.joined() + "</tr>" }
    html += "</tbody></table><p>head: " + esc(heads) + "</p></div>"
    return (text, html)
}

private func percentText(_ x: Double) -> String { cFormat("%.2f%%", x * 100) }

extension String {
    fileprivate func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }

    fileprivate func replacingAll(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

extension LuaRuntime {
    func openSparseDiffMetatable() {
        newRetainedMetatable(sparseDiffMetatableName, key: sparseDiffMetatableKey, shownAs: "sparse diff")
        setFunction("__tostring", qualifiedName: "tostring") { s in
            s.push(try s.checkSparseDiff(1, "tostring").description)
            return 1
        }
        setFunction("__add", qualifiedName: "+") { s in
            s.push(try s.checkSparseDiff(1, "+") + s.checkSparseDiff(2, "+"))
            return 1
        }
        setFunction("__mul", qualifiedName: "*") { s in
            // d * s or s * d
            let (d, n): (SparseDiff, Double) =
                if let d = s.sparseDiff(at: 1) { (d, try s.checkNumber(2, "*")) } else { (try s.checkSparseDiff(2, "*"), try s.checkNumber(1, "*")) }
            s.push(try d.scaled(n))
            return 1
        }
        setFunction("__display", qualifiedName: "display") { s in
            let table = sparseDiffTable(try s.checkSparseDiff(1, "display"))
            lua_createtable(s.L, 0, 2)
            s.push(table.text)
            lua_setfield(s.L, -2, "text/plain")
            s.push(table.html)
            lua_setfield(s.L, -2, "text/html")
            return 1
        }
        setMethodIndex(methodsKey: sparseDiffMethodsKey, qualifiedName: "index") { s in s.pushNil() }
        lua_settop(L, -2)
        openMethodTable(key: sparseDiffMethodsKey, registryName: sparseDiffMethodsName) { openSparseDiffMethods() }
    }

    private func openSparseDiffMethods() {
        let m = LibraryBuilder(self, prefix: "SparseDiff", methods: true)
        Help.addTopic(
            "SparseDiff",
            """
            A sparse fine-tuning (sft.train, sft.extract, sft.load), called as d:name(...): the changed
            entries of each parameter (sorted flat positions and deltas) and, for a task SFT, the dense
            head. d:apply(model) adds it, d:revert(model) takes it out; d1 + d2 composes two diffs,
            d * s scales one. display(d) shows nnz and norm per layer.
            """)
        let setup = """
            tensor.manual_seed(0)
            local base = nn.Linear(4, 3)
            local tuned = nn.Linear(4, 3)
            tuned:load_state_dict(base:state_dict())
            local w = tuned:parameters().weight
            tensor.no_grad(function() w:copy_(w + tensor.randn(3, 4) * 0.1) end)
            local d = sft.extract(base, tuned, {k = 5})

            """
        m.def(
            "apply", "d:apply(model [, {with_head=, check_base=}])",
            "Adds the diff to model's parameters; copies the head in too unless with_head = false.",
            details:
                "Every parameter must exist with the diff's shape, and the model must hold the base the diff was trained on (at least half of the base values it sampled match exactly; stacked SFTs keep that true); otherwise it is an error and nothing changes. check_base = false skips the base check.",
            example: setup
                + "local m = nn.Linear(4, 3)\nm:load_state_dict(base:state_dict())\nd:apply(m)\nprint((m:parameters().weight - tuned:parameters().weight):abs():max():item())"
        ) { s in
            let d = try s.checkSparseDiff(1, "apply")
            let model = try s.checkModule(2, "apply")
            let opts = try s.options(3, "apply", allowed: ["with_head", "check_base"])
            try d.apply(to: model, withHead: try opts.bool("with_head") ?? true, checkBase: try opts.bool("check_base") ?? true)
            return 0
        }
        m.def(
            "revert", "d:revert(model)",
            "Takes the diff back out: bitwise where nothing moved since apply, by subtraction elsewhere; heads are put back.",
            example: setup + "d:apply(base)\nd:revert(base)\nprint((base:parameters().weight - tuned:parameters().weight):abs():max():item() > 0)"
        ) { s in
            try s.checkSparseDiff(1, "revert").revert(from: try s.checkModule(2, "revert"))
            return 0
        }
        m.def("nnz", "d:nnz()", "Number of stored deltas.", example: setup + "print(d:nnz())") { s in
            s.push(try s.checkSparseDiff(1, "nnz").nnz)
            return 1
        }
        m.def(
            "density", "d:density()", "nnz divided by the number of entries the diff was chosen from.",
            example: setup + "print(d:density())"
        ) { s in
            s.push(try s.checkSparseDiff(1, "density").density)
            return 1
        }
        m.def("params", "d:params()", "Names of the parameters the diff changes, sorted.", example: setup + "print(d:params()[1])") { s in
            s.push(names: try s.checkSparseDiff(1, "params").names)
            return 1
        }
        m.def(
            "stats", "d:stats()", "Per parameter and per layer: nnz, density and norm of the deltas.",
            details:
                "Returns {params = {{name=, shape=, nnz=, density=, norm=}, ...}, layers = {{layer=, nnz=, density=, norm=}, ...}}; layers group parameters by the path up to their layer number.",
            example: setup + "local st = d:stats()\nprint(st.params[1].name, st.params[1].nnz, st.layers[1].norm)"
        ) { s in
            let d = try s.checkSparseDiff(1, "stats")
            lua_createtable(s.L, 0, 2)
            let params = d.stats()
            lua_createtable(s.L, Int32(params.count), 0)
            for (k, p) in params.enumerated() {
                s.pushRecord([("name", p.name), ("shape", p.shape), ("nnz", p.nnz), ("density", p.density), ("norm", p.norm)])
                lua_rawseti(s.L, -2, lua_Integer(k + 1))
            }
            lua_setfield(s.L, -2, "params")
            let layers = d.layerStats()
            lua_createtable(s.L, Int32(layers.count), 0)
            for (k, l) in layers.enumerated() {
                let density = l.numel == 0 ? 0 : Double(l.nnz) / Double(l.numel)
                s.pushRecord([("layer", l.layer), ("nnz", l.nnz), ("density", density), ("norm", l.norm)])
                lua_rawseti(s.L, -2, lua_Integer(k + 1))
            }
            lua_setfield(s.L, -2, "layers")
            return 1
        }
        m.def(
            "overlap", "d:overlap(other)",
            "Entries both diffs change and the cosine of their deltas there (interference between SFTs).",
            details:
                "Returns {shared=, cosine=, fraction=, nnz=, other_nnz=, params = {{name=, shared=, cosine=}, ...}}; fraction is shared / min(nnz, other_nnz).",
            example: setup + "local o = d:overlap(d * 2)\nprint(o.shared, o.cosine)"
        ) { s in
            let o = try s.checkSparseDiff(1, "overlap").overlap(try s.checkSparseDiff(2, "overlap"))
            let smaller = min(o.nnzSelf, o.nnzOther)
            s.pushRecord([
                ("shared", o.shared), ("cosine", o.cosine), ("fraction", smaller == 0 ? 0.0 : Double(o.shared) / Double(smaller)),
                ("nnz", o.nnzSelf), ("other_nnz", o.nnzOther),
            ])
            lua_createtable(s.L, Int32(o.perParameter.count), 0)
            for (k, p) in o.perParameter.enumerated() {
                s.pushRecord([("name", p.name), ("shared", p.shared), ("cosine", p.cosine)])
                lua_rawseti(s.L, -2, lua_Integer(k + 1))
            }
            lua_setfield(s.L, -2, "params")
            return 1
        }
        m.def(
            "top_k", "d:top_k(k)", "A new diff with the k largest deltas by magnitude over all parameters (ties to the lower position).",
            example: setup + "print(d:top_k(2):nnz())"
        ) { s in
            let d = try s.checkSparseDiff(1, "top_k")
            s.push(try d.topK(try s.checkInt(2, "top_k")))
            return 1
        }
        m.def(
            "save", "d:save(path)", "Writes the diff as a safetensors file (docs/formats.md); read it back with sft.load.",
            example: setup + "local path = os.tmpname()\nd:save(path)\nprint(sft.load(path):nnz())\nos.remove(path)"
        ) { s in
            try s.checkSparseDiff(1, "save").save(to: try s.checkString(2, "save"))
            return 0
        }
        m.def(
            "info", "d:info()", "The diff's metadata: kind, k, nnz, density, base name and hash, how it was trained.",
            example: setup + "local i = d:info()\nprint(i.kind, i.k, i.base_hash)"
        ) { s in
            let d = try s.checkSparseDiff(1, "info")
            s.pushRecord([
                ("kind", d.kind.rawValue), ("k", d.k), ("nnz", d.nnz), ("density", d.density), ("maskable", d.maskableCount),
                ("base_name", d.base.name), ("base_hash", String(d.base.hash, radix: 16)), ("training", d.training),
                ("heads", d.heads.count),
            ])
            lua_createtable(s.L, Int32(d.heads.count), 0)
            for (k, name) in d.heads.keys.sorted().enumerated() {
                s.push(name)
                lua_rawseti(s.L, -2, lua_Integer(k + 1))
            }
            lua_setfield(s.L, -2, "heads")
            return 1
        }
    }
}
