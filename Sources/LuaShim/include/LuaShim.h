/* LuaShim: Lua's function-like macros as functions Swift can call, the traceback handler, Ctrl-C,
** and the one place that raises Lua errors. Swift code never calls lua_error: a Swift function
** reports failure by returning LUASHIM_ERROR with the message on the stack, and the C trampoline
** raises it, so the longjmp crosses only C frames. */
#ifndef LUASHIM_H
#define LUASHIM_H

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

/* returned by a Swift function when it has pushed an error message instead of results */
#define LUASHIM_ERROR (-1)
/* returned when a lua_pcall the Swift function made failed: that error value (any Lua value,
** already carrying its own position) is on top of the stack and is raised unchanged */
#define LUASHIM_RETHROW (-2)

/* the Swift side of a Lua-callable function */
typedef int (*luashim_SwiftFunction)(lua_State *L);

/* push a C closure whose body is `fn`, raising its error (if any) from C; the caller's
** `nupvalues` values on the stack become upvalues 2.. (upvalue 1 holds `fn`) */
void luashim_pushswiftclosure(lua_State *L, luashim_SwiftFunction fn, int nupvalues);

/* message handler for lua_pcall: appends a traceback to string errors (as lua.c's msghandler) */
int luashim_traceback(lua_State *L);

/* Ctrl-C: while `L` runs, SIGINT sets a hook that raises "interrupted!" at the next Lua
** instruction and sets *flag (polled by long Swift kernels); a second Ctrl-C before the hook
** runs restores the default action, so it terminates as usual. */
void luashim_setsigint(lua_State *L, volatile int *flag);
void luashim_clearsigint(void);

/* glibc malloc settings for many short-lived tensors (see LuaRuntime.tuneMalloc); malloc.h's
** mallopt is not visible to Swift through Glibc */
void luashim_tunemalloc(int trim_threshold, int mmap_threshold);

/* lua_gc with one integer argument (lua_gc is variadic, which Swift cannot call) */
int luashim_gc(lua_State *L, int what, int arg);

/* lua_pushstring of a formatted message is variadic: Swift formats, this pushes */
static inline void luashim_pushlstring(lua_State *L, const char *s, size_t len) { lua_pushlstring(L, s, len); }

static inline void luashim_pop(lua_State *L, int n) { lua_settop(L, -(n)-1); }
static inline void luashim_newtable(lua_State *L) { lua_createtable(L, 0, 0); }
static inline int luashim_upvalueindex(int i) { return LUA_REGISTRYINDEX - i; }
static inline int luashim_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline const char *luashim_tostring(lua_State *L, int i, size_t *len) { return lua_tolstring(L, i, len); }
static inline int luashim_pcall(lua_State *L, int nargs, int nresults, int msgh) {
    return lua_pcallk(L, nargs, nresults, msgh, 0, NULL);
}
static inline int luashim_isnoneornil(lua_State *L, int i) { return lua_type(L, i) <= 0; }
static inline void luashim_insert(lua_State *L, int i) { lua_rotate(L, i, 1); }
static inline void luashim_remove(lua_State *L, int i) { lua_rotate(L, i, -1); lua_settop(L, -2); }
static inline lua_Number luashim_tonumber(lua_State *L, int i, int *isnum) { return lua_tonumberx(L, i, isnum); }
static inline lua_Integer luashim_tointeger(lua_State *L, int i, int *isnum) { return lua_tointegerx(L, i, isnum); }
static inline void *luashim_newuserdata(lua_State *L, size_t size) { return lua_newuserdatauv(L, size, 1); }
static inline int luashim_getglobal(lua_State *L, const char *name) { return lua_getglobal(L, name); }
static inline int luashim_loadbuffer(lua_State *L, const char *buf, size_t size, const char *name) {
    return luaL_loadbufferx(L, buf, size, name, NULL);
}

#endif
