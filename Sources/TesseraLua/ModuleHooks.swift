// ModuleHooks: Lua functions as forward hooks. The function is kept in a registry table under
// the hook's id until its handle's :remove(); the Swift hook calls it with luashim_pcall on the
// Lua state that is running the forward pass (a coroutine's, when called from one).

import CLua
import LuaShim
import TesseraNN
import TesseraTensor

/// registry table (by pointer key) of hook id -> Lua function
nonisolated(unsafe) let hookFunctionsKey = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
nonisolated(unsafe) let hookHandleMethodsKey = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
let hookHandleMethodsName = "tessera.HookHandle.methods"

/// the Lua state running the innermost module call, which hooks call back into
nonisolated(unsafe) var forwardCallState: OpaquePointer?
/// Swift handles of live hooks, by the id their Lua handle holds
nonisolated(unsafe) var liveHooks: [Int: ForwardHookHandle] = [:]
nonisolated(unsafe) var nextLuaHookID = 0

/// Runs `body` with hooks calling back into `s`'s state.
func withHookState<R>(_ s: LuaStack, _ body: () throws -> R) rethrows -> R {
    let saved = forwardCallState
    forwardCallState = s.L
    defer { forwardCallState = saved }
    return try body()
}

extension LuaRuntime {
    func openHookHandles() {
        lua_createtable(L, 0, 0)
        lua_rawsetp(L, luashim_registryindex(), hookFunctionsKey)
        openMethodTable(key: hookHandleMethodsKey, registryName: hookHandleMethodsName) {
            let h = LibraryBuilder(self, prefix: "HookHandle", methods: true)
            Help.addTopic(
                "HookHandle",
                """
                HookHandle: what m:add_hook returns. Its field count says how many modules the hook
                watches; h:remove() detaches the hook (and lets its function be collected).
                """)
            h.def(
                "remove", "h:remove()", "Detaches the hook from every module it watches; removing twice is harmless.",
                example: "local m = nn.Linear(2, 2)\nlocal h = m:add_hook('', function(name, y) print(name, y) end)\nh:remove()\nm(tensor.ones(1, 2))"
            ) { s in
                guard lua_type(s.L, 1) == LUA_TTABLE else {
                    throw LuaError.argument(1, "remove", "hook handle expected, got \(s.typeName(1))")
                }
                lua_getfield(s.L, 1, "id")
                let id = s.number(at: -1).map { Int($0) }
                guard let id else { throw LuaError.argument(1, "remove", "hook handle expected (it has no id)") }
                liveHooks.removeValue(forKey: id)?.remove()
                lua_rawgetp(s.L, luashim_registryindex(), hookFunctionsKey)
                lua_pushnil(s.L)
                lua_rawseti(s.L, -2, lua_Integer(id))
                return 0
            }
        }
    }

    /// m:add_hook(pattern, f): f(name, output) after the forward pass of every matching module.
    func addHook(_ s: LuaStack) throws -> Int32 {
        let m = try s.checkModule(1, "add_hook")
        let pattern = try s.checkString(2, "add_hook")
        guard lua_type(s.L, 3) == LUA_TFUNCTION else {
            throw LuaError.argument(3, "add_hook", "function expected, got \(s.typeName(3))")
        }
        nextLuaHookID += 1
        let id = nextLuaHookID
        let handle = try m.addForwardHook(pattern) { name, output in
            guard let L = forwardCallState else { return }
            let stack = LuaStack(L)
            lua_rawgetp(L, luashim_registryindex(), hookFunctionsKey)
            lua_rawgeti(L, -1, lua_Integer(id))
            luashim_remove(L, -2)
            stack.push(name)
            stack.push(output)
            // the callee's error stays on top of the stack, where the trampoline raises it
            if luashim_pcall(L, 2, 0, 0) != LUA_OK { throw LuaCalleeError() }
        }
        liveHooks[id] = handle
        lua_rawgetp(s.L, luashim_registryindex(), hookFunctionsKey)
        lua_pushvalue(s.L, 3)
        lua_rawseti(s.L, -2, lua_Integer(id))
        lua_createtable(s.L, 0, 2)
        s.push(id)
        lua_setfield(s.L, -2, "id")
        s.push(handle.count)
        lua_setfield(s.L, -2, "count")
        lua_createtable(s.L, 0, 1)
        lua_rawgetp(s.L, luashim_registryindex(), hookHandleMethodsKey)
        lua_setfield(s.L, -2, "__index")
        lua_setmetatable(s.L, -2)
        return 1
    }
}
