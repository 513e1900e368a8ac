// HelpLibrary: the global `help`, reading the help registry.

import CLua
import LuaShim

extension LuaRuntime {
    func openHelp() {
        Help.add(
            HelpEntry(
                name: "help", signature: "help([f | \"name\"])",
                summary: "Prints the signature, summary, details and a runnable example of a Tessera function.",
                details: """
                    f is the function itself: help(tensor.randn), help(x.matmul). A name may be qualified
                    ("tensor.randn", "Tensor:matmul"), bare ("randn") or a library ("tensor", "Tensor"),
                    which lists its functions. The text goes through print, so notebooks capture it.
                    In the REPL, ?tensor.randn is help("tensor.randn").
                    """,
                example: "help(tensor.zeros)\nhelp(\"Tensor:matmul\")"))
        pushFunction("help") { s in
            let text: String
            if s.isNoneOrNil(1) {
                text = """
                    Tessera help. Try help(tensor.randn), help("tensor"), help("Tensor") (tensor methods),
                    or in the REPL ?tensor.randn and %help for the REPL's own commands.
                    """
            } else if lua_type(s.L, 1) == LUA_TFUNCTION {
                lua_getfield(s.L, luashim_registryindex(), helpNamesKey)
                lua_pushvalue(s.L, 1)
                lua_rawget(s.L, -2)
                guard let name = s.string(at: -1), let t = Help.lookup(name) else {
                    throw LuaError.argument(1, "help", "no help for this function (it is not one of Tessera's)")
                }
                text = t
            } else {
                let name = try s.checkString(1, "help")
                guard let t = Help.lookup(name) else {
                    throw LuaError.argument(1, "help", "no help entry named '\(name)'; try help(\"tensor\")")
                }
                text = t
            }
            // through the global print, so notebooks capture it like any other output
            lua_settop(s.L, 0)
            _ = luashim_getglobal(s.L, "print")
            s.push(text)
            if luashim_pcall(s.L, 1, 0, 0) != LUA_OK { throw LuaCalleeError() }
            return 0
        }
        nameForHelp("help")
        lua_setglobal(L, "help")
    }
}
