// DisplayBuiltins: how Tessera's own values display. Tensors: their summarised text, plus an HTML
// table when 2-D and small; modules: the structure tree (text, and HTML <pre>); nn.fit
// histories (a plain table {step=, loss=, lr=, grad_norm=, eval=}): a table of steps.

import CLua
import LuaShim
import TesseraLua
import TesseraTensor
#if canImport(Glibc)
    import Glibc
#endif

extension Display {
    /// a 2-D tensor gets an HTML table up to this many rows and columns
    static let htmlTableLimit = 20

    /// The built-in bundle for the value at `i`, or nil when it is not one of Tessera's kinds.
    static func builtinBundle(_ s: LuaStack, _ i: Int32) throws -> MimeBundle? {
        if let t = s.tensor(at: i) { return tensorBundle(t) }
        if let m = s.module(at: i) {
            let tree = m.description
            return MimeBundle(["text/plain": tree, "text/html": "<pre>" + tree.htmlEscaped + "</pre>"])
        }
        if let history = TrainingHistory(s, i) { return history.bundle() }
        return nil
    }

    static func tensorBundle(_ t: Tensor) -> MimeBundle {
        var bundle = MimeBundle(text: t.description)
        guard t.rank == 2, t.shape[0] <= htmlTableLimit, t.shape[1] <= htmlTableLimit else { return bundle }
        let values = t.toDoubles()
        let caption = "\(t.dtype) tensor of shape \(t.shape[0])x\(t.shape[1])" + (t.requiresGrad ? ", requires grad" : "")
        var html = "<table>\n<caption>\(caption)</caption>\n"
        for r in 0..<t.shape[0] {
            let cells = (0..<t.shape[1]).map { "<td>\(formatElement(values[r * t.shape[1] + $0], t.dtype))</td>" }
            html += "<tr>" + cells.joined() + "</tr>\n"
        }
        bundle.data["text/html"] = html + "</table>"
        return bundle
    }

    static func formatElement(_ v: Double, _ dtype: DType) -> String {
        switch dtype {
        case .bool: return v != 0 ? "true" : "false"
        case .i32, .i64: return String(Int(v))
        default: return formatNumber(v)
        }
    }
}

/// `%.4g` of a number (Foundation's String(format:) is not linked here)
func formatNumber(_ x: Double) -> String {
    guard x.isFinite else { return x.isNaN ? "nan" : x > 0 ? "inf" : "-inf" }
    var buffer = [CChar](repeating: 0, count: 48)
    _ = withVaList([x]) { vsnprintf(&buffer, buffer.count, "%.4g", $0) }
    return String(cString: buffer)
}

/// An nn.fit history read from Lua: equal-length number columns (step first) and eval rows.
struct TrainingHistory {
    static let columnOrder = ["step", "loss", "lr", "grad_norm"]
    /// shown at each end of a long history in text
    static let edgeRows = 5
    var columns: [(name: String, values: [Double])] = []
    var evalRows: [[(String, Double)]] = []
    var note: String?

    /// nil unless the value at `i` is a plain table with `step` and `loss` number sequences
    init?(_ s: LuaStack, _ i: Int32) {
        let L = s.L
        guard lua_type(L, i) == LUA_TTABLE, lua_getmetatable(L, i) == 0 else {
            if lua_type(L, i) == LUA_TTABLE { lua_settop(L, -2) }
            return nil
        }
        for name in TrainingHistory.columnOrder {
            guard let values = TrainingHistory.numbers(s, i, name) else { continue }
            columns.append((name, values))
        }
        guard columns.count >= 2, columns[0].name == "step", columns[1].name == "loss",
            columns.allSatisfy({ $0.values.count == columns[0].values.count })
        else { return nil }
        s.push("eval")
        if lua_rawget(L, i) == LUA_TTABLE {
            for k in 0..<Int(lua_rawlen(L, -1)) {
                if lua_rawgeti(L, -1, lua_Integer(k + 1)) == LUA_TTABLE { evalRows.append(TrainingHistory.numberFields(s, -1)) }
                lua_settop(L, -2)
            }
        }
        lua_settop(L, -2)
        s.push("note")
        if lua_rawget(L, i) == LUA_TSTRING { note = s.string(at: -1) }
        lua_settop(L, -2)
    }

    /// field `name` of the table at `i` as numbers, or nil when it is not a sequence of numbers
    private static func numbers(_ s: LuaStack, _ i: Int32, _ name: String) -> [Double]? {
        let L = s.L
        s.push(name)
        defer { lua_settop(L, -2) }
        guard lua_rawget(L, i) == LUA_TTABLE else { return nil }
        var out: [Double] = []
        let n = Int(lua_rawlen(L, -1))
        out.reserveCapacity(n)
        for k in 0..<n {
            lua_rawgeti(L, -1, lua_Integer(k + 1))
            defer { lua_settop(L, -2) }
            guard lua_type(L, -1) == LUA_TNUMBER, let v = s.number(at: -1) else { return nil }
            out.append(v)
        }
        return out
    }

    /// the number-valued string keys of the table at `i`, step first, then sorted
    private static func numberFields(_ s: LuaStack, _ i: Int32) -> [(String, Double)] {
        let L = s.L, t = lua_absindex(L, i)
        var out: [(String, Double)] = []
        lua_pushnil(L)
        while lua_next(L, t) != 0 {
            if lua_type(L, -2) == LUA_TSTRING, lua_type(L, -1) == LUA_TNUMBER, let k = s.string(at: -2), let v = s.number(at: -1) {
                out.append((k, v))
            }
            lua_settop(L, -2)
        }
        return out.sorted { ($0.0 == "step" ? 0 : 1, $0.0) < ($1.0 == "step" ? 0 : 1, $1.0) }
    }

    var steps: Int { columns[0].values.count }

    func cell(_ name: String, _ v: Double) -> String { name == "step" ? String(Int(v)) : formatNumber(v) }

    func bundle() -> MimeBundle {
        MimeBundle(["text/plain": text(), "text/html": html()])
    }

    /// `nn.fit history: 200 steps, loss 2.302 -> 0.1234`, then the first and last rows aligned
    func text() -> String {
        let loss = columns[1].values
        var lines = [
            "nn.fit history: \(steps) step\(steps == 1 ? "" : "s")"
                + (loss.isEmpty ? "" : ", loss \(formatNumber(loss[0])) -> \(formatNumber(loss[loss.count - 1]))")
        ]
        var rows: [[String]] = [columns.map(\.name)]
        let shown: [Int?] =
            steps <= 2 * TrainingHistory.edgeRows + 1
            ? Array(0..<steps) : Array(0..<TrainingHistory.edgeRows) + [nil] + Array((steps - TrainingHistory.edgeRows)..<steps)
        for r in shown {
            rows.append(r.map { r in columns.map { cell($0.name, $0.values[r]) } } ?? columns.map { _ in "..." })
        }
        lines += aligned(rows)
        if !evalRows.isEmpty {
            lines.append("eval:")
            lines += aligned(evalRows.map { $0.map { "\($0.0) \(cell($0.0, $0.1))" } })
        }
        if let note { lines.append(note) }
        return lines.joined(separator: "\n")
    }

    func html() -> String {
        var html = "<table>\n<caption>nn.fit history (\(steps) steps)</caption>\n<tr>" + columns.map { "<th>\($0.name)</th>" }.joined() + "</tr>\n"
        for r in 0..<steps {
            html += "<tr>" + columns.map { "<td>\(cell($0.name, $0.values[r]))</td>" }.joined() + "</tr>\n"
        }
        html += "</table>"
        if !evalRows.isEmpty {
            let names = evalRows.flatMap { $0.map(\.0) }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            html += "\n<table>\n<caption>evaluations</caption>\n<tr>" + names.map { "<th>\($0)</th>" }.joined() + "</tr>\n"
            for row in evalRows {
                let byName = Dictionary(row, uniquingKeysWith: { a, _ in a })
                html += "<tr>" + names.map { n in "<td>\(byName[n].map { cell(n, $0) } ?? "")</td>" }.joined() + "</tr>\n"
            }
            html += "</table>"
        }
        if let note { html += "\n<p>\(note.htmlEscaped)</p>" }
        return html
    }

    /// rows of cells padded to column widths, two spaces apart
    private func aligned(_ rows: [[String]]) -> [String] {
        let width = (0..<(rows.map(\.count).max() ?? 0)).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, v in String(repeating: " ", count: width[c] - v.count) + v }.joined(separator: "  ")
        }
    }
}

extension String {
    /// `<`, `>`, `&` and `"` as HTML entities
    var htmlEscaped: String {
        var out = ""
        out.reserveCapacity(count)
        for c in self {
            switch c {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
