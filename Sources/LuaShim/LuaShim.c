/* LuaShim: the trampoline between Lua and Swift (the only code that calls lua_error), the
** traceback handler, and Ctrl-C handling after lua.c's laction/lstop. */
#include <malloc.h>
#include <signal.h>
#include <string.h>
#include "LuaShim.h"

/* Calls the Swift function stored as upvalue 1 of this closure; a LUASHIM_ERROR result means
** the error message is on top of the stack. Like luaL_error, position information is added to
** string messages. */
static int luashim_trampoline(lua_State *L) {
    luashim_SwiftFunction fn = (luashim_SwiftFunction)lua_touserdata(L, lua_upvalueindex(1));
    int n = fn(L);
    if (n == LUASHIM_RETHROW) return lua_error(L);
    if (n == LUASHIM_ERROR) {
        if (lua_type(L, -1) == LUA_TSTRING) {
            luaL_where(L, 1);
            lua_rotate(L, -2, 1);
            lua_concat(L, 2);
        }
        return lua_error(L); /* every Swift frame has returned by now */
    }
    return n;
}

void luashim_pushswiftclosure(lua_State *L, luashim_SwiftFunction fn, int nupvalues) {
    lua_pushlightuserdata(L, (void *)fn);
    if (nupvalues > 0) lua_rotate(L, -(nupvalues + 1), 1);
    lua_pushcclosure(L, luashim_trampoline, nupvalues + 1);
}

int luashim_traceback(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

void luashim_tunemalloc(int trim_threshold, int mmap_threshold) {
    mallopt(M_TRIM_THRESHOLD, trim_threshold);
    mallopt(M_MMAP_THRESHOLD, mmap_threshold);
}

int luashim_gc(lua_State *L, int what, int arg) { return lua_gc(L, what, arg); }

/* ---- Ctrl-C ---- */

static lua_State *volatile sigint_state = NULL;
static volatile int *sigint_flag = NULL;

static void luashim_stop(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

static void luashim_action(int sig) {
    int mask = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
    signal(sig, SIG_DFL); /* a second Ctrl-C before the hook runs terminates */
    if (sigint_flag) *sigint_flag = 1;
    if (sigint_state) lua_sethook(sigint_state, luashim_stop, mask, 1);
}

void luashim_setsigint(lua_State *L, volatile int *flag) {
    sigint_state = L;
    sigint_flag = flag;
    signal(SIGINT, luashim_action);
}

void luashim_clearsigint(void) {
    signal(SIGINT, SIG_DFL);
    /* a Ctrl-C that a Swift kernel answered first leaves the hook armed: disarm it, or the
    ** next input would stop at its first instruction */
    if (sigint_state) lua_sethook(sigint_state, NULL, 0, 0);
    sigint_state = NULL;
}
