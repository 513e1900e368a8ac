// LineEditor: GNU readline with a history file written after every entry and Tab completion
// through Completion. Ctrl-C while typing abandons the line, as in a shell.

import CReadline
#if canImport(Glibc)
    import Glibc
#endif

/// the completion source while the editor is active (readline's callbacks cannot capture)
nonisolated(unsafe) private var completionSource: ((String) -> [String])?
nonisolated(unsafe) private var pendingMatches: [String] = []

final class LineEditor {
    let historyPath: String?

    init(historyPath: String?, complete: @escaping (String) -> [String]) {
        self.historyPath = historyPath
        completionSource = complete
        rl_readline_name = UnsafePointer(strdup("tessera"))
        // the word to complete may contain . and : (x:ma, tensor.ra); break on everything else
        rl_basic_word_break_characters = UnsafePointer(strdup(" \t\n\"\\'`@$><=;|&{(,+-*/%^#~[]"))
        rl_attempted_completion_function = { text, _, _ in
            rl_attempted_completion_over = 1  // never fall back to file names
            guard let text, let source = completionSource else { return nil }
            pendingMatches = source(String(cString: text))
            if pendingMatches.isEmpty { return nil }
            // a candidate ending in ( or . should not get a trailing space
            rl_completion_append_character = 0
            return rl_completion_matches(text) { _, state in
                if state == 0 { pendingMatches = pendingMatches.reversed() }
                guard let next = pendingMatches.popLast() else { return nil }
                return strdup(next)
            }
        }
        if let historyPath { _ = read_history(historyPath) }
    }

    /// One line, or nil at end of input (Ctrl-D). Ctrl-C clears the line and shows a new prompt.
    func readLine(prompt: String) -> String? {
        signal(SIGINT) { _ in
            // abandon the current line: a new line, an empty buffer, a fresh prompt
            write(1, "^C\n", 3)
            rl_on_new_line()
            rl_replace_line("", 0)
            rl_redisplay()
        }
        defer { signal(SIGINT, SIG_DFL) }
        guard let p = readline(prompt) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// Adds an entry to the history and appends it to the history file at once, so a crash or a
    /// kill loses nothing (trepl rewrites its file after every line; lua.c never writes one).
    func remember(_ entry: String) {
        guard !entry.trimmingWhitespace().isEmpty else { return }
        add_history(entry)
        guard let historyPath else { return }
        if access(historyPath, F_OK) != 0 {
            let fd = open(historyPath, O_CREAT | O_WRONLY, 0o600)
            if fd >= 0 { close(fd) }
        }
        _ = append_history(1, historyPath)
        _ = history_truncate_file(historyPath, 10_000)
    }
}
