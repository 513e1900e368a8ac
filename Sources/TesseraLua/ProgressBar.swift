// ProgressBar: the progress of a long loop (count of total, rate, ETA and live metrics such as
// loss) for any caller, nn.fit and Lua's `progress` alike. On a terminal one line is redrawn in
// place at most 10 times a second; elsewhere (a pipe, a log file, a notebook) a few plain lines
// are written, never thousands. Pure Swift: where the text goes is the caller's choice.

#if canImport(Glibc)
    import Glibc
#endif

public struct ProgressBar {
    /// Where the bar is written.
    public struct Output {
        /// redraws of one line (text starting with "\r"), or nil to write plain lines instead
        public var live: ((String) -> Void)?
        /// a line of its own: a log line, a note
        public var line: (String) throws -> Void

        public init(live: ((String) -> Void)?, line: @escaping (String) throws -> Void) {
            self.live = live
            self.line = line
        }

        /// redraws on stdout when it is a terminal, lines through `line` otherwise
        public static func standard(line: @escaping (String) throws -> Void) -> Output {
            Output(
                live: isatty(1) != 0
                    ? {
                        fputs($0, stdout); fflush(stdout)
                    } : nil, line: line)
        }
    }

    /// the count at the end, or nil when unknown (no bar, no ETA)
    public let total: Int?
    /// shown before the bar on a terminal
    public var label: String
    /// what is counted, for the rate: `steps/s`
    public var unit: String
    /// starts each plain line (default: the label)
    public var linePrefix: String
    /// counts between plain lines (default: a tenth of the total); with no total, time decides
    public var lineEvery: Int
    /// plain lines (other than the last) come at least this many seconds apart
    public var minSecondsBetweenLines = 0.0
    /// nil: shows nothing at all
    let output: Output?
    /// latest values shown after the rate: `loss 0.1234`
    public var metrics: [(name: String, value: Double)] = []
    public private(set) var count = 0
    let start = monotonicSeconds()
    var lastDraw = -1.0, lastLine = monotonicSeconds()
    /// whether the redrawn line is on screen (and must be ended before other output)
    var shown = false

    /// with no total, plain lines come at most this often
    static let secondsBetweenLines = 15.0

    public init(total: Int?, label: String = "", unit: String = "it", lineEvery: Int? = nil, output: Output?) {
        self.total = total.map { max($0, 0) }
        self.label = label
        self.unit = unit
        self.linePrefix = label.isEmpty ? "" : label + " "
        self.lineEvery = max(1, lineEvery ?? (total ?? 0) / 10)
        self.output = output
    }

    public var elapsed: Double { monotonicSeconds() - start }

    /// `12/100  3.4 steps/s  ETA 0:26  loss 0.1234` (without a total: `12  3.4 it/s  0:03`)
    public func status(_ count: Int) -> String {
        let seconds = elapsed
        let rate = Double(count) / max(seconds, 1e-9)
        let rateText = "\(format(rate, decimals: rate < 10 ? 2 : 1)) \(unit)/s"
        var s: String
        if let total {
            let eta = Double(total - count) / max(rate, 1e-9)
            s = "\(count)/\(total)  \(rateText)  ETA \(clock(eta))"
        } else {
            s = "\(count)  \(rateText)  \(clock(seconds))"
        }
        for (name, value) in metrics { s += "  \(name) " + (abs(value) >= 1e4 ? cFormat("%.4g", value) : format(value, decimals: 4)) }
        return s
    }

    /// Records `count` done: redraws the line (throttled) or writes a plain line when one is
    /// due; `lineExtra` ends plain lines only.
    public mutating func update(_ count: Int, lineExtra: @autoclosure () -> String = "") throws {
        self.count = count
        guard let output else { return }
        let last = total.map { count >= $0 } ?? false
        if let live = output.live {
            let now = monotonicSeconds()
            guard now - lastDraw >= 0.1 || last else { return }
            lastDraw = now
            var bar = ""
            if let total {
                let width = 24, filled = total > 0 ? min(width, width * count / total) : width
                bar = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            }
            live("\r" + (label.isEmpty ? "" : label + " ") + bar + status(count) + "\u{1B}[K")
            shown = true
        } else {
            let due = total == nil ? monotonicSeconds() - lastLine >= ProgressBar.secondsBetweenLines : count % lineEvery == 0
            guard due && monotonicSeconds() - lastLine >= minSecondsBetweenLines || last else { return }
            lastLine = monotonicSeconds()
            try output.line(linePrefix + status(count) + lineExtra())
        }
    }

    /// A line of its own (a result, a note), below the bar on a terminal.
    public mutating func note(_ text: String) throws {
        guard let output else { return }
        end()
        try output.line(text)
    }

    /// Ends the redrawn line so later output starts on a fresh one; with no total and no
    /// terminal, writes the final count.
    public mutating func finish() throws {
        guard let output else { return }
        if output.live == nil && total == nil && count > 0 && monotonicSeconds() - lastLine > 0 {
            lastLine = .infinity
            try output.line(linePrefix + status(count))
        }
        end()
    }

    /// ends the redrawn line (never fails: safe in `defer`)
    public mutating func end() {
        if shown, let live = output?.live {
            live("\n")
            shown = false
        }
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
    let s = Int(min(seconds, 1e9).rounded())
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60)
    let mmss = (m < 10 && h > 0 ? "0" : "") + "\(m):" + (sec < 10 ? "0" : "") + "\(sec)"
    return h > 0 ? "\(h):" + mmss : mmss
}
