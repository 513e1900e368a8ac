// Completion: what Tab offers for a partial expression. Keywords and globals; fields of tables
// after `.`; methods after `:`, following `__index` tables up the metatable chain (as trepl's
// lua_rl_getmetaindex) and tensors' method table. Only raw table reads are used, so completion
// never runs user code (a metamethod that errors would otherwise unwind through Swift).

import CLua
import LuaShim
import TesseraLua

enum Completion {
    static let keywords = [
        "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
        "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
    ]

    /// Full candidates for `text` (the word before the cursor), each with a suffix that says what
    /// it is: `.` for tables, `(` for functions.
    static func candidates(_ text: String, _ L: OpaquePointer) -> [String] {
        let chars = Array(text)
        guard let sepIndex = chars.lastIndex(where: { $0 == "." || $0 == ":" }) else {
            let globals = keys(ofGlobalsIn: L)
            return (keywords.filter { $0.hasPrefix(text) } + globals.filter { $0.name.hasPrefix(text) }.map { $0.name + $0.suffix })
                .sorted()
        }
        let path = String(chars[..<sepIndex])
        let sep = chars[sepIndex]
        let partial = String(chars[(sepIndex + 1)...])
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        guard resolve(path, L) else { return [] }
        var found: [(name: String, suffix: String)] = []
        collectKeys(at: lua_gettop(L), L, into: &found, methodsOnly: sep == ":")
        var seen = Set<String>()
        return found.filter { $0.name.hasPrefix(partial) && seen.insert($0.name).inserted }
            .map { path + String(sep) + $0.name + (sep == ":" ? "(" : $0.suffix) }
            .sorted()
    }

    /// pushes the value of a dotted path of names (`a.b.c`) using raw reads; false if not found
    private static func resolve(_ path: String, _ L: OpaquePointer) -> Bool {
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.allSatisfy({ isIdentifier($0) }) else { return false }
        lua_rawgeti(L, luashim_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        for p in parts {
            guard lua_type(L, -1) == LUA_TTABLE else { return false }
            LuaStack(L).push(p)
            lua_rawget(L, -2)
            lua_rotate(L, -2, -1)
            lua_settop(L, -2)
        }
        return lua_type(L, -1) != LUA_TNIL
    }

    private static func isIdentifier(_ s: String) -> Bool {
        guard let f = s.first, f.isLetter || f == "_" else { return false }
        return s.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
    }

    /// keys of the value at `idx`: its own (if a table) and those of `__index` tables up to 20
    /// levels; for tensors, the method table
    private static func collectKeys(at idx: Int32, _ L: OpaquePointer, into out: inout [(name: String, suffix: String)], methodsOnly: Bool) {
        var level = 0
        lua_pushvalue(L, idx)
        while level < 20 {
            if lua_type(L, -1) == LUA_TTABLE { addTableKeys(L, into: &out, methodsOnly: methodsOnly) }
            if lua_type(L, -1) == LUA_TUSERDATA { addUserdataMethods(L, into: &out, methodsOnly: methodsOnly) }
            guard lua_getmetatable(L, -1) != 0 else { break }
            LuaStack(L).push("__index")
            lua_rawget(L, -2)
            guard lua_type(L, -1) == LUA_TTABLE else { break }
            level += 1
        }
    }

    /// Tessera's userdata kinds (tensors, modules, optimizers) keep their methods in the registry
    /// under their metatable's __name + ".methods"
    private static func addUserdataMethods(_ L: OpaquePointer, into out: inout [(name: String, suffix: String)], methodsOnly: Bool) {
        guard lua_getmetatable(L, -1) != 0 else { return }
        defer { lua_settop(L, -2) }
        LuaStack(L).push("__name")
        guard lua_rawget(L, -2) == LUA_TSTRING, let name = LuaStack(L).string(at: -1) else { lua_settop(L, -2); return }
        lua_settop(L, -2)
        LuaStack(L).push(name + ".methods")
        guard lua_rawget(L, luashim_registryindex()) == LUA_TTABLE else { lua_settop(L, -2); return }
        addTableKeys(L, into: &out, methodsOnly: methodsOnly)
        lua_settop(L, -2)
        if !methodsOnly && name == "tessera.Tensor" { out.append(("grad", "")) }
    }

    private static func addTableKeys(_ L: OpaquePointer, into out: inout [(name: String, suffix: String)], methodsOnly: Bool) {
        let t = lua_absindex(L, -1)
        lua_pushnil(L)
        while lua_next(L, t) != 0 {
            let type = lua_type(L, -1)
            lua_settop(L, -2)
            guard lua_type(L, -1) == LUA_TSTRING, let k = LuaStack(L).string(at: -1), isIdentifier(k) else { continue }
            if methodsOnly && type != LUA_TFUNCTION { continue }
            out.append((k, type == LUA_TFUNCTION ? "(" : type == LUA_TTABLE ? "." : ""))
        }
    }

    private static func keys(ofGlobalsIn L: OpaquePointer) -> [(name: String, suffix: String)] {
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        lua_rawgeti(L, luashim_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        var out: [(name: String, suffix: String)] = []
        addTableKeys(L, into: &out, methodsOnly: false)
        return out
    }
}
