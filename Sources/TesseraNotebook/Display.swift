// Display: the display protocol. A value shown by `display(x)`, or as the result of a cell, becomes
// a MimeBundle (mime type -> content): the terminal prints its text/plain, notebooks store all
// of it and Jupyter shows the richest kind it can.
//
// How a value offers representations, first match wins:
//  1. Lua: its metatable has a `__display` field, a function(self) returning a table
//     {["text/plain"] = ..., ["image/svg+xml"] = ..., ["text/html"] = ...} (or a string, taken as
//     text/plain). A table without text/plain gets the value's plain text added.
//       local P = {__display = function(p) return {["text/plain"] = "chart", ["image/svg+xml"] = svg} end}
//  2. Swift: a representer registered for the userdata's metatable name (the `__name` set by
//     luaL_newmetatable / newRetainedMetatable), e.g. for a plot userdata:
//       Display.register(metatable: "tessera.Plot") { s, i in
//           let plot = ...  // read the object at stack index i
//           return MimeBundle(["text/plain": plot.unicodeChart(width: 72), "image/svg+xml": plot.svg()])
//       }
//     The representer may read the stack and push values, but must leave the stack as it found it.
//  3. Built in: tensors (text, and an HTML table when small and 2-D), modules (structure tree),
//     nn.fit histories (a table); see DisplayBuiltins.swift.
//  4. Anything else: the REPL's pretty-printed text.
// Binary kinds (image/png) are base64 text, as nbformat stores them.

import CLua
import LuaShim
import TesseraLua

/// One value's representations: mime type -> content (text; base64 for binary kinds).
public struct MimeBundle: Equatable, Sendable {
    public var data: [String: String]

    public init(_ data: [String: String]) { self.data = data }
    public init(text: String) { data = ["text/plain": text] }

    /// what a terminal shows
    public var text: String { data["text/plain"] ?? "" }
}

/// Representations of the value at a stack index; must leave the stack balanced.
public typealias Representer = (LuaStack, Int32) throws -> MimeBundle

public enum Display {
    /// metatable name (`__name`) -> representer
    nonisolated(unsafe) static var representers: [String: Representer] = [:]

    /// Where `display(x)` sends bundles. nil (the REPL, scripts): print text/plain through the
    /// global print. A notebook run sets it to collect `display_data` outputs.
    nonisolated(unsafe) public static var sink: ((MimeBundle) throws -> Void)?

    /// Makes userdata whose metatable is named `name` display through `representer`
    /// (replacing an earlier one for the same name).
    public static func register(metatable name: String, _ representer: @escaping Representer) {
        representers[name] = representer
    }

    /// The representations of the value at `index`.
    public static func bundle(_ L: OpaquePointer, at index: Int32) throws -> MimeBundle {
        let i = lua_absindex(L, index)
        let s = LuaStack(L)
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        if lua_getmetatable(L, i) != 0 {
            s.push("__display")
            if lua_rawget(L, -2) != LUA_TNIL {
                return try luaBundle(L, value: i)
            }
            lua_settop(L, top + 1)
            s.push("__name")
            if lua_rawget(L, -2) == LUA_TSTRING, let name = s.string(at: -1), let r = representers[name] {
                lua_settop(L, top)
                return try r(s, i)
            }
            lua_settop(L, top)
        }
        if let builtin = try builtinBundle(s, i) { return builtin }
        return MimeBundle(text: try plainText(L, at: i))
    }

    /// Shows a value's bundle: to the sink, or its text through the global print.
    public static func show(_ bundle: MimeBundle, _ L: OpaquePointer) throws {
        if let sink {
            try sink(bundle)
            return
        }
        _ = luashim_getglobal(L, "print")
        LuaStack(L).push(bundle.text)
        if luashim_pcall(L, 1, 0, 0) != LUA_OK {
            defer { lua_settop(L, -2) }
            throw LuaError(LuaStack(L).string(at: -1) ?? "print failed")
        }
    }

    /// The pretty printer's text of the value at `index` (strings quoted, tables expanded).
    static func plainText(_ L: OpaquePointer, at index: Int32) throws -> String {
        let i = lua_absindex(L, index)
        lua_getfield(L, luashim_registryindex(), "tessera.pretty")
        lua_pushvalue(L, i)
        let status = luashim_pcall(L, 1, 1, 0)
        defer { lua_settop(L, -2) }
        let text = LuaStack(L).string(at: -1) ?? ""
        if status != LUA_OK { throw LuaError(text) }
        return text
    }

    /// Calls the `__display` field on top of the stack with the value at `value`.
    private static func luaBundle(_ L: OpaquePointer, value: Int32) throws -> MimeBundle {
        let s = LuaStack(L)
        lua_pushvalue(L, value)
        if luashim_pcall(L, 1, 1, 0) != LUA_OK {
            throw LuaError("__display: " + (s.string(at: -1) ?? "error object is a \(s.typeName(-1)) value"))
        }
        var bundle = MimeBundle([:])
        switch lua_type(L, -1) {
        case LUA_TSTRING:
            bundle.data["text/plain"] = s.string(at: -1)
        case LUA_TTABLE:
            lua_pushnil(L)
            while lua_next(L, -2) != 0 {
                defer { lua_settop(L, -2) }
                guard lua_type(L, -2) == LUA_TSTRING, let mime = s.string(at: -2), mime.contains("/") else {
                    throw LuaError("__display: keys must be mime types such as \"text/html\", got \(s.typeName(-2)) \(s.string(at: -2) ?? "")")
                }
                guard lua_type(L, -1) == LUA_TSTRING, let content = s.string(at: -1) else {
                    throw LuaError("__display: the value for \"\(mime)\" must be a string, got \(s.typeName(-1))")
                }
                bundle.data[mime] = content
            }
        default:
            throw LuaError("__display must return a table of mime type -> string (or a string), got \(s.typeName(-1))")
        }
        if bundle.data["text/plain"] == nil { bundle.data["text/plain"] = try tostring(L, at: value) }
        return bundle
    }

    /// Lua's tostring of a value whose `__display` gave no text (run protected: `__tostring` may fail)
    private static func tostring(_ L: OpaquePointer, at i: Int32) throws -> String {
        _ = luashim_getglobal(L, "tostring")
        lua_pushvalue(L, i)
        let status = luashim_pcall(L, 1, 1, 0)
        defer { lua_settop(L, -2) }
        let text = LuaStack(L).string(at: -1) ?? ""
        if status != LUA_OK { throw LuaError(text) }
        return text
    }
}
