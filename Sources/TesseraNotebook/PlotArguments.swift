// PlotArguments: reading plot data from Lua: numbers from tables or 1-D tensors, nn.fit
// histories ({step=, loss=, ..., eval = {{step=, metric=}, ...}}), lists of series, matrices
// from nested tables or 2-D tensors, and the options every plot function takes.

import CLua
import LuaShim
import TesseraLua
import TesseraTensor

/// options of every plot function and method
let figureOptions = ["title", "xlabel", "ylabel", "legend", "logx", "logy", "width", "height", "label"]

extension LuaStack {
    /// The numbers of a sequence table or of a tensor with one dimension (or one non-1 dimension).
    func plotNumbers(_ i: Int32, _ fn: String, _ what: String) throws -> [Double] {
        if let t = tensor(at: i) {
            guard t.shape.filter({ $0 != 1 }).count <= 1 else {
                throw LuaError.argument(i, fn, "\(what): a 1-D tensor expected, got shape \(t.shape.map(String.init).joined(separator: "x"))")
            }
            return t.toDoubles()
        }
        guard lua_type(L, i) == LUA_TTABLE else { throw LuaError.argument(i, fn, "\(what): table of numbers or tensor expected, got \(typeName(i))") }
        let t = lua_absindex(L, i)
        let n = Int(lua_rawlen(L, t))
        var out: [Double] = []
        out.reserveCapacity(n)
        for k in stride(from: 1, through: n, by: 1) {
            lua_rawgeti(L, t, lua_Integer(k))
            defer { lua_settop(L, -2) }
            guard let v = number(at: -1) else { throw LuaError.argument(i, fn, "\(what): element \(k) is \(typeName(-1)), not a number") }
            out.append(v)
        }
        return out
    }

    /// Strings of a sequence (numbers are turned into text), or nil for nil.
    func plotLabels(_ i: Int32, _ fn: String, _ what: String) throws -> [String]? {
        if isNoneOrNil(i) { return nil }
        guard lua_type(L, i) == LUA_TTABLE, tensor(at: i) == nil else {
            throw LuaError.argument(i, fn, "\(what): table of strings expected, got \(typeName(i))")
        }
        let t = lua_absindex(L, i)
        var out: [String] = []
        for k in stride(from: 1, through: Int(lua_rawlen(L, t)), by: 1) {
            lua_rawgeti(L, t, lua_Integer(k))
            defer { lua_settop(L, -2) }
            guard let v = string(at: -1) else { throw LuaError.argument(i, fn, "\(what): element \(k) is \(typeName(-1)), not a string") }
            out.append(v)
        }
        return out
    }

    /// The rows of a 2-D tensor or of a table of number tables.
    func plotMatrix(_ i: Int32, _ fn: String) throws -> [[Double]] {
        if let t = tensor(at: i) {
            guard t.rank == 2 else { throw LuaError.argument(i, fn, "a 2-D tensor expected, got \(t.rank) dimension(s)") }
            let v = t.toDoubles(), columns = t.shape[1]
            return (0..<t.shape[0]).map { r in Array(v[r * columns..<(r + 1) * columns]) }
        }
        guard lua_type(L, i) == LUA_TTABLE else {
            throw LuaError.argument(i, fn, "matrix (table of rows or 2-D tensor) expected, got \(typeName(i))")
        }
        let t = lua_absindex(L, i)
        var rows: [[Double]] = []
        for k in stride(from: 1, through: Int(lua_rawlen(L, t)), by: 1) {
            lua_rawgeti(L, t, lua_Integer(k))
            defer { lua_settop(L, -2) }
            rows.append(try plotNumbers(-1, fn, "row \(k)"))
        }
        return rows
    }

    /// whether the value at i is an nn.fit history: a table with `step` and `loss` sequences
    func isHistory(_ i: Int32) -> Bool {
        guard lua_type(L, i) == LUA_TTABLE, tensor(at: i) == nil else { return false }
        let t = lua_absindex(L, i)
        let step = lua_getfield(L, t, "step"), loss = lua_getfield(L, t, "loss")
        lua_settop(L, -3)
        return step == LUA_TTABLE && loss == LUA_TTABLE
    }

    /// whether the table at i is a list of series (its first element is a table or tensor)
    func isSeriesList(_ i: Int32) -> Bool {
        guard lua_type(L, i) == LUA_TTABLE, tensor(at: i) == nil else { return false }
        let first = lua_rawgeti(L, i, 1)
        defer { lua_settop(L, -2) }
        return first == LUA_TTABLE || first == LUA_TUSERDATA
    }

    /// Series named `keys` of the history at i against its steps; a key that is not a column
    /// is looked up in the eval records (`accuracy` in history.eval[k].accuracy).
    func historySeries(_ i: Int32, _ fn: String, keys: [String]) throws -> [(x: [Double], y: [Double], label: String)] {
        let t = lua_absindex(L, i)
        var out: [(x: [Double], y: [Double], label: String)] = []
        for key in keys {
            lua_getfield(L, t, key)
            defer { lua_settop(L, -2) }
            if lua_type(L, -1) == LUA_TTABLE && key != "eval" {
                lua_getfield(L, t, "step")
                defer { lua_settop(L, -2) }
                let steps = try plotNumbers(-1, fn, "history.step"), values = try plotNumbers(-2, fn, "history.\(key)")
                let n = Swift.min(steps.count, values.count)
                out.append((Array(steps[..<n]), Array(values[..<n]), key))
                continue
            }
            var xs: [Double] = [], ys: [Double] = []
            lua_getfield(L, t, "eval")
            defer { lua_settop(L, -2) }
            if lua_type(L, -1) == LUA_TTABLE {
                for k in stride(from: 1, through: Int(lua_rawlen(L, -1)), by: 1) {
                    lua_rawgeti(L, -1, lua_Integer(k))
                    lua_getfield(L, -1, "step")
                    lua_getfield(L, -2, key)
                    let v = number(at: -1) ?? tensor(at: -1).flatMap { $0.numel == 1 ? try? $0.item() : nil }
                    if let s = number(at: -2), let v {
                        xs.append(s)
                        ys.append(v)
                    }
                    lua_settop(L, -4)
                }
            }
            guard !xs.isEmpty else {
                throw LuaError.argument(i, fn, "the history has no column or eval metric named '\(key)'")
            }
            out.append((xs, ys, key))
        }
        return out
    }

    /// A string or a list of strings (`y = "loss"` or `y = {"loss", "accuracy"}`) in field `key`
    /// of the options table at i.
    func stringOrList(_ i: Int32, _ fn: String, key: String) throws -> [String]? {
        guard lua_type(L, i) == LUA_TTABLE else { return nil }
        lua_getfield(L, i, key)
        defer { lua_settop(L, -2) }
        if isNoneOrNil(-1) { return nil }
        if lua_type(L, -1) == LUA_TSTRING, let s = string(at: -1) { return [s] }
        guard let list = try? plotLabels(-1, fn, key), !list.isEmpty else {
            throw LuaError.argument(i, fn, "option '\(key)' must be a string or a list of strings")
        }
        return list
    }
}

extension LuaOptions {
    /// Sets the figure-level options present (title, labels, legend, log scales, size).
    func apply(to f: inout Figure, _ fn: String, arg: Int32) throws {
        if let v = try string("title") { f.title = v }
        if let v = try string("xlabel") { f.xLabel = v }
        if let v = try string("ylabel") { f.yLabel = v }
        if let v = try bool("legend") { f.showLegend = v }
        if let v = try bool("logx") { f.xScale = v ? .log : .linear }
        if let v = try bool("logy") { f.yScale = v ? .log : .linear }
        for (key, range) in [("width", 120...4000), ("height", 80...4000)] {
            guard let v = try int(key) else { continue }
            guard range.contains(v) else {
                throw LuaError.argument(arg, fn, "option '\(key)' must be \(range.lowerBound)..\(range.upperBound) pixels, got \(v)")
            }
            if key == "width" { f.width = v } else { f.height = v }
        }
    }
}
