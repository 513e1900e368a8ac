// REPL: Tessera's interactive loop. Numbered prompts, multi-line input by lua.c's rule,
// auto-printed values, `_` for the last one, persistent top-level locals, errors with tracebacks,
// Ctrl-C to stop a running cell, Ctrl-D to leave, and IPython-style magics (see Magics).

import CLua
import LuaShim
import TesseraLua
#if canImport(Glibc)
    import Glibc
#endif

public final class REPL {
    let session: Session
    let editor: LineEditor

    public init(session: Session, historyPath: String?) {
        self.session = session
        session.recordOutput()
        let L = session.runtime.L
        editor = LineEditor(historyPath: historyPath) { text in Completion.candidates(text, L) }
    }

    public func run(banner: String) {
        print(banner)
        while let input = readInput() {
            editor.remember(input)
            if input.trimmingWhitespace().isEmpty { continue }
            if let magic = Magic(input) {
                magic.run(in: session)
                continue
            }
            if input.trimmingWhitespace().hasPrefix("?") {
                Magic.help(for: String(input.trimmingWhitespace().dropFirst()), in: session)
                continue
            }
            if case .error(let message) = session.evaluate(input) {
                fputs(message + "\n", stderr)
            }
        }
        print("")
    }

    /// one complete input: more lines are read while the chunk is incomplete (`<eof>` errors)
    private func readInput() -> String? {
        guard var text = editor.readLine(prompt: "[\(session.counter)]> ") else { return nil }
        if Magic(text) != nil || text.trimmingWhitespace().hasPrefix("?") { return text }
        while session.completeness(text) == .incomplete {
            guard let more = editor.readLine(prompt: String(repeating: " ", count: "\(session.counter)".count + 1) + "...> ") else {
                return text
            }
            text += "\n" + more
        }
        return text
    }
}
