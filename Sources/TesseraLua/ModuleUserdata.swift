// ModuleUserdata: a TesseraNN Module in Lua is one userdata kind for every layer class; `m(x)`
// runs its forward pass (ModuleForward.swift), `m:name(...)` finds the methods of
// ModuleMethodList.swift, and `m.child` reaches a direct submodule by its (Hugging Face) name.

import CLua
import LuaShim
import TesseraNN
import TesseraTensor

let moduleMetatableName = "tessera.Module"
let moduleMethodsName = "tessera.Module.methods"
nonisolated(unsafe) let moduleMetatableKey = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
nonisolated(unsafe) let moduleMethodsKey = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

extension LuaStack {
    /// The module at index i, or nil if the value is not a module.
    public func module(at i: Int32) -> Module? {
        retainedObject(at: i, metatable: moduleMetatableKey, as: Module.self)
    }

    public func checkModule(_ i: Int32, _ fn: String) throws -> Module {
        guard let m = module(at: i) else { throw LuaError.argument(i, fn, "module expected, got \(typeName(i))") }
        return m
    }

    /// Pushes a module as a new userdata (each push is its own Lua value sharing the Module).
    public func push(_ m: Module) { pushRetained(m, metatable: moduleMetatableKey) }

    /// A list of names as a Lua sequence.
    func push(names: [String]) {
        lua_createtable(L, Int32(names.count), 0)
        for (k, n) in names.enumerated() {
            push(n)
            lua_rawseti(L, -2, lua_Integer(k + 1))
        }
    }

    /// name -> tensor as a Lua table (the tensors themselves: they share memory with the model)
    func push(tensors: [(name: String, tensor: Tensor)]) {
        lua_createtable(L, 0, Int32(tensors.count))
        for (name, t) in tensors {
            push(t)
            lua_setfield(L, -2, name)
        }
    }

    /// A table of string keys to tensors at i, as a state dict.
    func tensorDictionary(_ i: Int32, _ fn: String, arg: Int32? = nil) throws -> [String: Tensor] {
        let i = lua_absindex(L, i), arg = arg ?? i
        guard lua_type(L, i) == LUA_TTABLE, tensor(at: i) == nil else {
            throw LuaError.argument(arg, fn, "table of name -> tensor expected, got \(typeName(i))")
        }
        var out: [String: Tensor] = [:]
        lua_pushnil(L)
        while lua_next(L, i) != 0 {
            defer { lua_settop(L, -2) }
            guard lua_type(L, -2) == LUA_TSTRING, let key = string(at: -2) else {
                throw LuaError.argument(arg, fn, "keys must be tensor names (strings), got a \(typeName(-2)) key")
            }
            guard let v = tensor(at: -1) else {
                throw LuaError.argument(arg, fn, "'\(key)' holds a \(typeName(-1)), not a tensor")
            }
            out[key] = v
        }
        return out
    }
}

extension LuaOptions {
    public func tensor(_ key: String) throws -> Tensor? {
        guard let v = values[key] else { return nil }
        guard case .tensor(let t) = v else { throw bad(key, "a tensor") }
        return t
    }
}

extension LuaRuntime {
    func openModuleMetatable() {
        newRetainedMetatable(moduleMetatableName, key: moduleMetatableKey, shownAs: "module")
        setFunction("__tostring", qualifiedName: "tostring") { s in
            s.push(try s.checkModule(1, "tostring").description)
            return 1
        }
        setFunction("__eq", qualifiedName: "==") { s in
            s.push(s.module(at: 1) === s.module(at: 2))
            return 1
        }
        setFunction("__call", qualifiedName: "forward") { s in try moduleForward(s) }
        setMethodIndex(methodsKey: moduleMethodsKey, qualifiedName: "index") { s in
            let m = try s.checkModule(1, "index")
            if let name = s.string(at: 2), lua_type(s.L, 2) == LUA_TSTRING,
                let child = m.children.first(where: { $0.name == name })?.module
            {
                s.push(child)
            } else {
                s.pushNil()
            }
        }
        setFunction("__newindex", qualifiedName: "newindex") { s in
            throw LuaError("cannot set field '\(s.string(at: 2) ?? s.typeName(2))' of a module (use m:replace(name, module) to swap a submodule)")
        }
        lua_settop(L, -2)
        openMethodTable(key: moduleMethodsKey, registryName: moduleMethodsName) { openModuleMethods() }
        openHookHandles()
    }
}
