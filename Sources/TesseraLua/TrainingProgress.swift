// TrainingProgress: what nn.fit shows while it runs, a ProgressBar counting steps with the loss
// as its metric. On a terminal, one line redrawn in place (bar, step/N, steps/s, ETA, loss) on
// stdout; elsewhere (a log file, a notebook) a plain line every log_every steps with the
// learning rate, written through the global print so notebooks capture it.

import CLua
import LuaShim

struct TrainingProgress {
    private let printer = PrintTarget()
    private var bar: ProgressBar

    /// `logEvery` steps between plain lines; 0 shows nothing
    init(total: Int, logEvery: Int) {
        let printer = self.printer
        bar = ProgressBar(
            total: total, unit: "steps", lineEvery: logEvery,
            output: logEvery > 0 ? .standard { try printer.print($0) } : nil)
        bar.linePrefix = "step "
    }

    var elapsed: Double { bar.elapsed }

    /// After step `step`: redraws the bar (at most 10 times a second) or prints a line.
    mutating func update(_ L: OpaquePointer, step: Int, loss: Double, lr: Double) throws {
        printer.L = L
        bar.metrics = [("loss", loss)]
        try bar.update(step, lineExtra: "  lr " + format(lr, decimals: -1))
    }

    /// A line of its own (evaluation results, the final note), below the bar on a terminal.
    mutating func note(_ L: OpaquePointer, _ text: String) throws {
        printer.L = L
        try bar.note(text)
    }

    /// Ends the bar's line so later output starts on a fresh one.
    mutating func finish() { bar.end() }
}

/// Writes `text` through the global print, which notebooks replace to capture output; a failing
/// print leaves its error on the stack and throws LuaCalleeError.
func printLine(_ L: OpaquePointer, _ text: String) throws {
    _ = luashim_getglobal(L, "print")
    LuaStack(L).push(text)
    if luashim_pcall(L, 1, 0, 0) != LUA_OK { throw LuaCalleeError() }
}

/// The Lua thread of the current call, whose global print a bar's plain lines go through (set
/// at each call: a loop may run in a coroutine).
final class PrintTarget {
    var L: OpaquePointer?

    func print(_ text: String) throws {
        if let L { try printLine(L, text) }
    }
}
