// TerminalStyle: how wide terminal charts are and whether they use colour: the width from
// COLUMNS or the terminal itself (72 columns otherwise); colour only on a terminal, never
// with NO_COLOR set (no-color.org) or TERM=dumb.

#if canImport(Glibc)
    import Glibc
#endif

public struct TerminalStyle: Equatable, Sendable {
    /// columns for the whole chart, labels included
    public var width: Int
    /// whether to use xterm-256 colour escapes
    public var colour: Bool

    public init(width: Int = 72, colour: Bool = false) {
        self.width = min(max(width, 24), 400)
        self.colour = colour
    }

    /// The style for charts written to stdout now.
    public static func current() -> TerminalStyle {
        TerminalStyle(width: terminalWidth(), colour: colourAllowed(fd: 1))
    }

    /// COLUMNS if set to a number, else the width of the terminal on stdout or stderr, else 72
    public static func terminalWidth() -> Int {
        if let env = getenv("COLUMNS"), let n = Int(String(cString: env)), n > 0 { return n }
        var size = winsize()
        for fd in [Int32(1), 2] where ioctl(fd, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 {
            return Int(size.ws_col)
        }
        return 72
    }

    public static func colourAllowed(fd: Int32) -> Bool {
        if let v = getenv("NO_COLOR"), v.pointee != 0 { return false }
        if let t = getenv("TERM"), String(cString: t) == "dumb" { return false }
        return isatty(fd) != 0
    }
}
