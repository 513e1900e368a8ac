// SessionRecorder: lets the REPL keep what each input printed and displayed, so `%save
// NAME.ipynb` writes the session with its outputs. The global print is wrapped (it still prints
// as before) and display(x) prints its text and records every representation. Output written
// by other means (io.write, Swift progress lines) reaches the terminal but not the record.

import CLua
import LuaShim
import TesseraLua

extension Session {
    /// Starts recording printed text and displays into the transcript.
    public func recordOutput() {
        let L = runtime.L
        runtime.pushFunction("print") { [unowned self] s in
            // print's own text: tostring of each argument, tab-separated
            let n = s.count
            var parts: [String] = []
            for i in stride(from: 1, through: n, by: 1) {
                _ = luashim_getglobal(s.L, "tostring")
                lua_pushvalue(s.L, i)
                if luashim_pcall(s.L, 1, 1, 0) != LUA_OK { throw LuaCalleeError() }
                parts.append(s.string(at: -1) ?? "")
                lua_settop(s.L, -2)
            }
            let line = parts.joined(separator: "\t") + "\n"
            fputs(line, stdout)
            if !self.echoing { self.pendingOutputs.append(.stream(name: "stdout", text: line)) }
            return 0
        }
        lua_setglobal(L, "print")
        Display.sink = { [unowned self] bundle in
            self.echoing = true
            defer { self.echoing = false }
            try self.printLine(bundle.text)
            self.pendingOutputs.append(.displayData(bundle))
        }
    }

    /// The transcript as a notebook (Tessera's kernelspec; the jupytext header for .lua).
    public func transcriptNotebook() -> Notebook {
        Notebook(
            cells: transcript,
            metadata: [
                "kernelspec": Notebook.kernelspec,
                "jupytext": .object(["text_representation": .object(["extension": .string(".lua"), "format_name": .string("percent")])]),
            ])
    }
}
