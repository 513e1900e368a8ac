// TrainingProgress: what nn.fit shows while it runs. On a terminal, one line redrawn in place
// (bar, step/N, steps/s, ETA, loss); elsewhere (a log file, a notebook) a plain line every
// log_every steps, written through the global print so notebooks capture it.

import CLua
import LuaShim
#if canImport(Glibc)
    import Glibc
#endif

struct TrainingProgress {
    let total: Int
    /// steps between plain lines; 0 shows nothing
    let logEvery: Int
    /// whether stdout is a terminal: redraw one line instead of printing lines
    let terminal: Bool
    let start = monotonicSeconds()
    var lastDraw = -1.0
    /// whether the bar is on screen (and must be cleared before other output)
    var barShown = false

    init(total: Int, logEvery: Int) {
        self.total = total
        self.logEvery = logEvery
        terminal = logEvery > 0 && isatty(1) != 0
    }

    var elapsed: Double { monotonicSeconds() - start }

    /// `12/100  3.4 steps/s  ETA 0:26  loss 0.1234`
    func status(step: Int, loss: Double) -> String {
        let rate = Double(step) / max(elapsed, 1e-9)
        let eta = Double(total - step) / max(rate, 1e-9)
        return "\(step)/\(total)  \(format(rate, decimals: rate < 10 ? 2 : 1)) steps/s  ETA \(clock(eta))  loss \(format(loss, decimals: 4))"
    }

    /// After step `step`: redraws the bar (at most 10 times a second) or prints a line.
    mutating func update(_ L: OpaquePointer, step: Int, loss: Double, lr: Double) throws {
        guard logEvery > 0 else { return }
        if terminal {
            let now = monotonicSeconds()
            guard now - lastDraw >= 0.1 || step == total else { return }
            lastDraw = now
            let width = 24, filled = total > 0 ? width * step / total : width
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            fputs("\r[\(bar)] " + status(step: step, loss: loss) + "\u{1B}[K", stdout)
            fflush(stdout)
            barShown = true
        } else if step % logEvery == 0 || step == total {
            try printLine(L, "step " + status(step: step, loss: loss) + "  lr " + format(lr, decimals: -1))
        }
    }

    /// A line of its own (evaluation results, the final note), below the bar on a terminal.
    mutating func note(_ L: OpaquePointer, _ text: String) throws {
        guard logEvery > 0 else { return }
        finish()
        try printLine(L, text)
    }

    /// Ends the bar's line so later output starts on a fresh one.
    mutating func finish() {
        if barShown {
            fputs("\n", stdout)
            fflush(stdout)
            barShown = false
        }
    }

    /// writes through the global print, which notebooks replace to capture output
    private func printLine(_ L: OpaquePointer, _ text: String) throws {
        _ = luashim_getglobal(L, "print")
        LuaStack(L).push(text)
        if luashim_pcall(L, 1, 0, 0) != LUA_OK { throw LuaCalleeError() }
    }
}

/// seconds on a clock that does not jump
func monotonicSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// `x` with `decimals` decimals, or in scientific notation (3 significant digits) for -1 or when tiny
func format(_ x: Double, decimals: Int) -> String {
    guard x.isFinite else { return "\(x)" }
    if decimals < 0 || (x != 0 && abs(x) < 1e-3) { return cFormat("%.2e", x) }
    return cFormat("%.\(decimals)f", x)
}

/// printf-style formatting of one number (Foundation's String(format:) is not linked here)
func cFormat(_ pattern: String, _ x: Double) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    _ = withVaList([x]) { vsnprintf(&buffer, buffer.count, pattern, $0) }
    return String(cString: buffer)
}

/// `1:02:03` or `2:03`
func clock(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "?" }
    let s = Int(seconds.rounded())
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60)
    let mmss = (m < 10 && h > 0 ? "0" : "") + "\(m):" + (sec < 10 ? "0" : "") + "\(sec)"
    return h > 0 ? "\(h):" + mmss : mmss
}
