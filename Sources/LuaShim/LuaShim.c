/* LuaShim: the trampoline between Lua and Swift, the only code that calls lua_error. */
#include "LuaShim.h"

/* Calls the Swift function stored as the light userdata upvalue of this closure;
** a LUASHIM_ERROR result means the error message is on top of the stack. */
static int luashim_trampoline(lua_State *L) {
    luashim_SwiftFunction fn = (luashim_SwiftFunction)lua_touserdata(L, lua_upvalueindex(1));
    int n = fn(L);
    if (n == LUASHIM_ERROR) return lua_error(L); /* every Swift frame has returned by now */
    return n;
}

void luashim_pushswiftclosure(lua_State *L, luashim_SwiftFunction fn, int nupvalues) {
    /* the function pointer goes below the caller's upvalues, as upvalue 1 */
    lua_pushlightuserdata(L, (void *)fn);
    if (nupvalues > 0) lua_rotate(L, -(nupvalues + 1), 1);
    lua_pushcclosure(L, luashim_trampoline, nupvalues + 1);
}
