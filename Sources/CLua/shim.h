/* CLua: the C build of Lua 5.4 (Debian liblua5.4-dev; errors longjmp, never C++ exceptions). */
#include <lua.h>
#include <lualib.h>
#include <lauxlib.h>
