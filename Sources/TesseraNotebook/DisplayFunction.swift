// DisplayFunction: the global `display(x, ...)`, which shows each value through the display
// protocol (Display.swift): its text in a terminal, every representation in a notebook.

import CLua
import LuaShim
import TesseraLua

extension Display {
    /// Defines the global `display` in `runtime`'s state.
    static func install(in runtime: LuaRuntime) {
        let entry = HelpEntry(
            name: "display", signature: "display(x, ...)",
            summary: "Shows each value with its richest representation: text in a terminal; text, HTML or SVG in a notebook.",
            details: """
                In the REPL and in scripts display(x) prints x's text (as the REPL prints a result).
                When a notebook runs (tessera run), each value becomes a display_data output holding
                every representation the value offers: tensors add an HTML table when small and 2-D,
                modules their structure, nn.fit histories a table of steps.
                A table or userdata offers its own representations with a metatable field
                __display = function(self) return {["text/plain"] = ..., ["text/html"] = ...,
                ["image/svg+xml"] = ...} end (mime type -> string; a string result is text/plain).
                """,
            example: """
                display(tensor.eye(2))
                local badge = setmetatable({}, {__display = function()
                  return {["text/plain"] = "ok", ["text/html"] = "<b>ok</b>"}
                end})
                display(badge, "and a string")
                """)
        runtime.pushDocumentedFunction(entry) { s in
            for i in stride(from: 1, through: s.count, by: 1) {
                try show(try bundle(s.L, at: i), s.L)
            }
            return 0
        }
        lua_setglobal(runtime.L, "display")
    }
}
