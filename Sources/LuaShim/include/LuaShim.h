/* LuaShim: Lua's function-like macros as functions Swift can call, and the one place that raises
** Lua errors. Swift code never calls lua_error: a Swift function reports failure by returning
** LUASHIM_ERROR with the message on the stack, and the C trampoline raises it, so the longjmp
** crosses only C frames. */
#ifndef LUASHIM_H
#define LUASHIM_H

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

/* returned by a Swift function when it has pushed an error message instead of results */
#define LUASHIM_ERROR (-1)

/* the Swift side of a Lua-callable function: upvalue 1 is its boxed closure */
typedef int (*luashim_SwiftFunction)(lua_State *L);

/* push a C closure whose body is `fn`, raising its error (if any) from C */
void luashim_pushswiftclosure(lua_State *L, luashim_SwiftFunction fn, int nupvalues);

static inline void luashim_pop(lua_State *L, int n) { lua_settop(L, -(n)-1); }
static inline void luashim_newtable(lua_State *L) { lua_createtable(L, 0, 0); }
static inline int luashim_upvalueindex(int i) { return LUA_REGISTRYINDEX - i; }
static inline const char *luashim_tostring(lua_State *L, int i) { return lua_tolstring(L, i, NULL); }
static inline int luashim_pcall(lua_State *L, int nargs, int nresults, int msgh) {
    return lua_pcallk(L, nargs, nresults, msgh, 0, NULL);
}
static inline int luashim_isnoneornil(lua_State *L, int i) { return lua_type(L, i) <= 0; }

#endif
