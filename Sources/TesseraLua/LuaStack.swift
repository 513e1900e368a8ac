// LuaStack: typed access to the Lua stack for Swift functions, with argument checks that throw
// Lua-style messages (`bad argument #2 to 'matmul' (tensor expected, got nil)`). Only
// non-raising Lua API calls are used here.

import CLua
import LuaShim
import TesseraTensor

public struct LuaStack {
    public let L: OpaquePointer

    public init(_ L: OpaquePointer) { self.L = L }

    /// number of values on the stack (the arguments, inside a call)
    public var count: Int32 { lua_gettop(L) }

    public func isNoneOrNil(_ i: Int32) -> Bool { luashim_isnoneornil(L, i) != 0 }

    public func typeName(_ i: Int32) -> String {
        if tensor(at: i) != nil { return "tensor" }
        if module(at: i) != nil { return "module" }
        if optimizer(at: i) != nil { return "optimizer" }
        return String(cString: lua_typename(L, lua_type(L, i)))
    }

    // MARK: pushing

    public func push(_ s: String) {
        var s = s
        s.withUTF8 { buf in luashim_pushlstring(L, UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: CChar.self), buf.count) }
    }
    /// a Lua string of arbitrary bytes, which need not be UTF-8
    public func push(bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { luashim_pushlstring(L, $0.baseAddress, $0.count) }
        }
    }
    public func push(_ d: Double) { lua_pushnumber(L, d) }
    public func push(_ i: Int) { lua_pushinteger(L, lua_Integer(i)) }
    public func push(_ b: Bool) { lua_pushboolean(L, b ? 1 : 0) }
    public func pushNil() { lua_pushnil(L) }

    /// a Swift array of Ints as a Lua sequence
    public func push(_ a: [Int]) {
        lua_createtable(L, Int32(a.count), 0)
        for (k, v) in a.enumerated() {
            lua_pushinteger(L, lua_Integer(v))
            lua_rawseti(L, -2, lua_Integer(k + 1))
        }
    }

    // MARK: reading

    public func string(at i: Int32) -> String? {
        guard lua_type(L, i) == LUA_TSTRING || lua_type(L, i) == LUA_TNUMBER else { return nil }
        var len = 0
        guard let p = luashim_tostring(L, i, &len) else { return nil }
        let buf = UnsafeRawBufferPointer(start: p, count: len)
        return String(decoding: buf, as: UTF8.self)
    }

    public func number(at i: Int32) -> Double? {
        guard lua_type(L, i) == LUA_TNUMBER else { return nil }
        return luashim_tonumber(L, i, nil)
    }

    public func checkNumber(_ i: Int32, _ fn: String) throws -> Double {
        guard let d = number(at: i) else { throw LuaError.argument(i, fn, "number expected, got \(typeName(i))") }
        return d
    }

    public func optNumber(_ i: Int32, _ fn: String, _ def: Double) throws -> Double {
        isNoneOrNil(i) ? def : try checkNumber(i, fn)
    }

    public func checkInt(_ i: Int32, _ fn: String) throws -> Int {
        guard lua_type(L, i) == LUA_TNUMBER else { throw LuaError.argument(i, fn, "integer expected, got \(typeName(i))") }
        var ok: Int32 = 0
        let v = luashim_tointeger(L, i, &ok)
        guard ok != 0 else { throw LuaError.argument(i, fn, "number has no integer representation") }
        return Int(v)
    }

    public func optInt(_ i: Int32, _ fn: String, _ def: Int) throws -> Int {
        isNoneOrNil(i) ? def : try checkInt(i, fn)
    }

    public func checkString(_ i: Int32, _ fn: String) throws -> String {
        guard lua_type(L, i) == LUA_TSTRING, let s = string(at: i) else {
            throw LuaError.argument(i, fn, "string expected, got \(typeName(i))")
        }
        return s
    }

    public func optBool(_ i: Int32, _ fn: String, _ def: Bool) throws -> Bool {
        if isNoneOrNil(i) { return def }
        guard lua_type(L, i) == LUA_TBOOLEAN else { throw LuaError.argument(i, fn, "boolean expected, got \(typeName(i))") }
        return lua_toboolean(L, i) != 0
    }

    /// A 1-based Lua dimension (negative counts from the end) as the engine's 0-based one. In a
    /// method (a tensor at argument 1) the range is checked here, so the message counts from 1.
    public func checkDim(_ i: Int32, _ fn: String) throws -> Int {
        let d = try checkInt(i, fn)
        if let t = tensor(at: 1) {
            let rank = Swift.max(t.rank, 1)
            guard d != 0, d >= -rank, d <= rank else {
                throw LuaError.argument(
                    i, fn, "dimension \(d) out of range for a tensor with \(t.rank) dimension(s) (dimensions count from 1, or from -1 at the end)")
            }
        }
        return try LuaStack.dim(d, i, fn)
    }

    /// A 1-based index into a dimension of `size` as a 0-based one, checked with a 1-based message.
    public func checkIndex(_ i: Int32, _ fn: String, size: Int) throws -> Int {
        let v = try checkInt(i, fn)
        guard v != 0, v >= -size, v <= size else {
            throw LuaError.argument(i, fn, "index \(v) out of range for a dimension of size \(size) (indices count from 1, or from -1 at the end)")
        }
        return v > 0 ? v - 1 : v + size
    }

    public func optDim(_ i: Int32, _ fn: String) throws -> Int? {
        isNoneOrNil(i) ? nil : try checkDim(i, fn)
    }

    static func dim(_ d: Int, _ i: Int32, _ fn: String) throws -> Int {
        if d == 0 { throw LuaError.argument(i, fn, "dimension 0 is invalid: dimensions count from 1, or from -1 at the end") }
        return d > 0 ? d - 1 : d
    }

    /// A 1-based Lua index (negative counts from the end) as a 0-based one.
    public func checkIndex(_ i: Int32, _ fn: String) throws -> Int {
        let v = try checkInt(i, fn)
        if v == 0 { throw LuaError.argument(i, fn, "index 0 is invalid: indices count from 1, or from -1 at the end") }
        return v > 0 ? v - 1 : v
    }

    /// Sizes given either as integers from argument `i` on, or as one table `{2, 3}` at `i`.
    /// Stops at the first non-number (an options table may follow).
    public func sizes(from i: Int32, _ fn: String) throws -> (sizes: [Int], next: Int32) {
        if lua_type(L, i) == LUA_TTABLE && tensor(at: i) == nil && isSequence(i) {
            return (try intSequence(i, fn), i + 1)
        }
        var out: [Int] = []
        var j = i
        while lua_type(L, j) == LUA_TNUMBER {
            let n = try checkInt(j, fn)
            guard n >= 0 else { throw LuaError.argument(j, fn, "size must be non-negative, got \(n)") }
            out.append(n)
            j += 1
        }
        return (out, j)
    }

    /// whether the table at i has element [1] (a sequence rather than an options table)
    func isSequence(_ i: Int32) -> Bool {
        let t = lua_rawgeti(L, i, 1)
        lua_settop(L, -2)
        return t != LUA_TNIL || lua_rawlen(L, i) == 0 && !hasStringKeys(i)
    }

    func hasStringKeys(_ i: Int32) -> Bool {
        let t = lua_absindex(L, i)
        lua_pushnil(L)
        while lua_next(L, t) != 0 {
            lua_settop(L, -2)
            if lua_type(L, -1) == LUA_TSTRING { lua_settop(L, -2); return true }
        }
        return false
    }

    /// The integers of the sequence at i.
    public func intSequence(_ i: Int32, _ fn: String) throws -> [Int] {
        // raw table access on anything else is undefined behaviour in Lua's C API: check first
        guard lua_type(L, i) == LUA_TTABLE else {
            throw LuaError.argument(i, fn, "table of integers expected, got \(typeName(i))")
        }
        let t = lua_absindex(L, i)
        let n = Int(lua_rawlen(L, t))
        var out: [Int] = []
        for k in 1...max(n, 1) where k <= n {
            lua_rawgeti(L, t, lua_Integer(k))
            defer { lua_settop(L, -2) }
            var ok: Int32 = 0
            let v = luashim_tointeger(L, -1, &ok)
            guard lua_type(L, -1) == LUA_TNUMBER, ok != 0 else {
                throw LuaError.argument(i, fn, "table of integers expected, element \(k) is \(typeName(-1))")
            }
            out.append(Int(v))
        }
        return out
    }

    /// An options table at argument i (or nil): every key must be in `allowed`, so a typo such as
    /// `{lrr = 1}` is an error naming the key rather than a silently ignored setting. Keys in
    /// `raw` may hold any value (`betas = {0.9, 0.99}`, a module), which the caller reads itself.
    public func options(_ i: Int32, _ fn: String, allowed: [String], raw: [String] = []) throws -> LuaOptions {
        var opts = LuaOptions(fn: fn, arg: i)
        if isNoneOrNil(i) { return opts }
        guard lua_type(L, i) == LUA_TTABLE, tensor(at: i) == nil else {
            throw LuaError.argument(i, fn, "options table expected, got \(typeName(i))")
        }
        let t = lua_absindex(L, i)
        lua_pushnil(L)
        while lua_next(L, t) != 0 {
            defer { lua_settop(L, -2) }
            guard lua_type(L, -2) == LUA_TSTRING, let key = string(at: -2) else {
                throw LuaError.argument(i, fn, "option names must be strings, got a \(typeName(-2)) key")
            }
            guard allowed.contains(key) || raw.contains(key) else {
                let list = (allowed + raw).sorted().joined(separator: ", ")
                throw LuaError.argument(i, fn, "unknown option '\(key)'; expected one of: \(list)")
            }
            if raw.contains(key) { continue }
            switch lua_type(L, -1) {
            case LUA_TNUMBER: opts.values[key] = .number(luashim_tonumber(L, -1, nil))
            case LUA_TBOOLEAN: opts.values[key] = .bool(lua_toboolean(L, -1) != 0)
            case LUA_TSTRING: opts.values[key] = .string(string(at: -1) ?? "")
            default:
                if let tt = tensor(at: -1) {
                    opts.values[key] = .tensor(tt)
                } else {
                    throw LuaError.argument(i, fn, "option '\(key)' has an unsupported \(typeName(-1)) value")
                }
            }
        }
        return opts
    }

    /// Pushes the callback option `key` of the options table at argument i and returns its stack
    /// index, or 0 when it is absent (the nil stays pushed); any other value is an argument error
    /// saying it must be `signature` (e.g. "a function(id)").
    func callbackOption(_ i: Int32, _ key: String, _ fn: String, signature: String) throws -> Int32 {
        lua_getfield(L, i, key)
        switch lua_type(L, -1) {
        case LUA_TNIL: return 0
        case LUA_TFUNCTION: return lua_gettop(L)
        default: throw LuaError.argument(i, fn, "option '\(key)' must be \(signature), got \(typeName(-1))")
        }
    }
}

/// A checked options table.
public struct LuaOptions {
    public enum Value {
        case number(Double), bool(Bool), string(String), tensor(Tensor)
    }
    let fn: String
    let arg: Int32
    var values: [String: Value] = [:]

    func bad(_ key: String, _ what: String) -> LuaError {
        LuaError.argument(arg, fn, "option '\(key)' must be \(what)")
    }

    public func number(_ key: String) throws -> Double? {
        guard let v = values[key] else { return nil }
        guard case .number(let d) = v else { throw bad(key, "a number") }
        return d
    }

    public func int(_ key: String) throws -> Int? {
        guard let d = try number(key) else { return nil }
        guard d == d.rounded(), Swift.abs(d) < 9e15 else { throw bad(key, "an integer") }
        return Int(d)
    }

    public func bool(_ key: String) throws -> Bool? {
        guard let v = values[key] else { return nil }
        guard case .bool(let b) = v else { throw bad(key, "a boolean") }
        return b
    }

    public func string(_ key: String) throws -> String? {
        guard let v = values[key] else { return nil }
        guard case .string(let s) = v else { throw bad(key, "a string") }
        return s
    }

    public func dtype(_ key: String = "dtype") throws -> DType? {
        guard let s = try string(key) else { return nil }
        guard let d = DType(rawValue: s) else {
            throw bad(key, "one of " + DType.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ") + " (got \"\(s)\")")
        }
        return d
    }
}
