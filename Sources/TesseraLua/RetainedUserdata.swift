// RetainedUserdata: Swift objects (tensors, modules, optimizers) as Lua userdata: one retained
// reference per Lua value, a metatable found by pointer key (cheaper than luaL_testudata's string
// lookup on every argument check), a C `__gc` that drops the reference, and `__metatable` hiding
// the metatable from scripts. Public so libraries above this module (TesseraNotebook's plots)
// define their own userdata kinds the same way.

import CLua
import LuaShim

extension LuaStack {
    /// The object held by the userdata at i if its metatable is the one registered under `key`
    /// (which identifies the object's class, so no dynamic cast is needed).
    public func retainedObject<T: AnyObject>(at i: Int32, metatable key: UnsafeMutableRawPointer, as _: T.Type) -> T? {
        guard let ud = lua_touserdata(L, i), lua_getmetatable(L, i) != 0 else { return nil }
        lua_rawgetp(L, luashim_registryindex(), key)
        let matches = lua_rawequal(L, -1, -2) != 0
        lua_settop(L, -3)
        guard matches, let p = ud.assumingMemoryBound(to: UnsafeMutableRawPointer?.self).pointee else { return nil }
        return Unmanaged<T>.fromOpaque(p).takeUnretainedValue()
    }

    /// Pushes a new userdata holding a retained reference to `object`.
    public func pushRetained(_ object: AnyObject, metatable key: UnsafeMutableRawPointer) {
        let ud = luashim_newuserdata(L, MemoryLayout<UnsafeMutableRawPointer?>.size)!
        ud.assumingMemoryBound(to: UnsafeMutableRawPointer?.self).pointee = Unmanaged.passRetained(object).toOpaque()
        lua_rawgetp(L, luashim_registryindex(), key)
        lua_setmetatable(L, -2)
    }
}

extension LuaRuntime {
    /// Creates the metatable of a retained userdata kind, registered under `name` and `key`, with
    /// `__gc` and `__metatable` set; leaves it on the stack for the caller's metamethods.
    public func newRetainedMetatable(_ name: String, key: UnsafeMutableRawPointer, shownAs: String) {
        _ = luaL_newmetatable(L, name)
        lua_pushvalue(L, -1)
        lua_rawsetp(L, luashim_registryindex(), key)
        lua_pushcclosure(
            L,
            { L in
                if let L, let ud = lua_touserdata(L, 1) {
                    let slot = ud.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
                    if let p = slot.pointee { Unmanaged<AnyObject>.fromOpaque(p).release() }
                    slot.pointee = nil
                }
                return 0
            }, 0)
        lua_setfield(L, -2, "__gc")
        LuaStack(L).push(shownAs)
        lua_setfield(L, -2, "__metatable")
    }

    /// `__index` looking `key` up in the method table stored under `methodsKey`; `fallback`
    /// handles keys that are not methods (pushes one value).
    public func setMethodIndex(
        methodsKey: UnsafeMutableRawPointer, qualifiedName: String,
        fallback: @escaping (LuaStack) throws -> Void
    ) {
        setFunction("__index", qualifiedName: qualifiedName) { s in
            lua_rawgetp(s.L, luashim_registryindex(), methodsKey)
            lua_pushvalue(s.L, 2)
            if lua_rawget(s.L, -2) != LUA_TNIL { return 1 }
            try fallback(s)
            return 1
        }
    }

    /// Builds a method table with `fill`, stores it under `key` and `registryName`.
    public func openMethodTable(key: UnsafeMutableRawPointer, registryName: String, _ fill: () -> Void) {
        lua_createtable(L, 0, 32)
        fill()
        lua_pushvalue(L, -1)
        lua_rawsetp(L, luashim_registryindex(), key)
        lua_setfield(L, luashim_registryindex(), registryName)
    }
}
