// LibraryBuilder: registers Lua functions together with their help entries, so no public
// function can exist without one.

import CLua
import LuaShim

/// registry key of the table mapping each documented function value to its help name
let helpNamesKey = "tessera.helpnames"

extension LuaRuntime {
    /// Maps the function on top of the stack to its help entry, for help(tensor.randn).
    func nameForHelp(_ qualified: String) {
        lua_getfield(L, luashim_registryindex(), helpNamesKey)
        lua_pushvalue(L, -2)
        LuaStack(L).push(qualified)
        lua_rawset(L, -3)
        lua_settop(L, -2)
    }

    /// Registers `entry` and pushes `body` as a Lua function that help(f) knows, for libraries
    /// built outside this module (TesseraNotebook's display); the caller stores it.
    public func pushDocumentedFunction(_ entry: HelpEntry, _ body: @escaping LuaFunctionBody) {
        Help.add(entry)
        pushFunction(entry.name, body)
        nameForHelp(entry.name)
    }
}

final class LibraryBuilder {
    let runtime: LuaRuntime
    /// `tensor` for library functions (`tensor.randn`), `Tensor` for methods (`Tensor:matmul`)
    let prefix: String
    let separator: String
    /// whether errors from TensorError name functions qualified (`nn.Linear: ...`) or bare
    let qualifiedErrors: Bool

    /// Builds into the table at the top of the stack.
    init(_ runtime: LuaRuntime, prefix: String, methods: Bool = false, qualifiedErrors: Bool = false) {
        self.runtime = runtime
        self.prefix = prefix
        self.separator = methods ? ":" : "."
        self.qualifiedErrors = qualifiedErrors
    }

    /// Adds `name` to the table on top of the stack, with its help entry.
    func def(
        _ name: String, _ signature: String, _ summary: String, details: String = "", example: String,
        _ body: @escaping LuaFunctionBody
    ) {
        let L = runtime.L
        let qualified = prefix + separator + name
        Help.add(HelpEntry(name: qualified, signature: signature, summary: summary, details: details, example: example))
        runtime.pushFunction(qualifiedErrors ? qualified : name, body)
        runtime.nameForHelp(qualified)
        lua_setfield(L, -2, name)
    }

    /// Another name for an existing entry (same function and help).
    func alias(_ alias: String, _ name: String) {
        let L = runtime.L
        lua_getfield(L, -1, name)
        lua_setfield(L, -2, alias)
    }
}
