// NotebookRunner: runs a notebook's code cells in order in one session, as `tessera run` does.
// Each cell's stdout and stderr become stream outputs (OutputCapture), display(x) becomes
// display_data, the value of its last expression execute_result, and a failure an error output
// with the traceback; the run stops at the first failure unless errors are allowed.

import TesseraLua
import TesseraTensor

public final class NotebookRunner {
    public struct Options {
        /// keep running after a failing cell
        public var allowErrors = false
        /// seconds a cell may run; nil for no limit
        public var timeout: Double?
        /// also show each cell's outputs on the terminal as it runs
        public var echo = true

        public init(allowErrors: Bool = false, timeout: Double? = nil, echo: Bool = true) {
            self.allowErrors = allowErrors
            self.timeout = timeout
            self.echo = echo
        }
    }

    public struct Report {
        /// code cells run
        public var cellsRun = 0
        /// 1-based index (among all cells) of each cell that failed
        public var failedCells: [Int] = []
        public var seconds = 0.0
    }

    let session: Session
    let options: Options

    public init(session: Session, options: Options) {
        self.session = session
        self.options = options
    }

    /// Runs the code cells of `notebook`, replacing their outputs and execution counts.
    public func run(_ notebook: inout Notebook) throws -> Report {
        let capture = try OutputCapture()
        CellTimeout.reportFD = capture.savedErr
        var report = Report()
        let t0 = now()
        defer { report.seconds = now() - t0 }
        var count = 0
        for k in notebook.cells.indices where notebook.cells[k].kind == .code {
            notebook.cells[k].outputs = []
            notebook.cells[k].executionCount = nil
            guard !notebook.cells[k].source.trimmingWhitespace().isEmpty else { continue }
            count += 1
            let failed = runCell(&notebook.cells[k], number: count, index: k + 1, capture)
            report.cellsRun += 1
            if failed {
                report.failedCells.append(k + 1)
                if !options.allowErrors { break }
            }
        }
        report.seconds = now() - t0
        return report
    }

    /// Runs one cell; returns whether it failed.
    private func runCell(_ cell: inout NotebookCell, number: Int, index: Int, _ capture: OutputCapture) -> Bool {
        var outputs: [CellOutput] = []
        let previousSink = Display.sink
        Display.sink = { bundle in
            outputs += capture.drain()
            outputs.append(.displayData(bundle))
        }
        capture.start()
        if let timeout = options.timeout { CellTimeout.arm(timeout) }
        let outcome = session.evaluate(cell.source, echo: false, chunkName: "=cell \(index)")
        if options.timeout != nil { CellTimeout.disarm() }
        let timedOut = options.timeout != nil && CellTimeout.fired.pointee != 0
        Cancellation.reset()
        outputs += capture.drain()
        capture.stop()
        Display.sink = previousSink
        cell.executionCount = number
        var failed = false
        switch outcome {
        case .ok(let result):
            if let result { outputs.append(.executeResult(executionCount: number, result)) }
            if timedOut {
                outputs.append(.error(name: "Timeout", value: timeoutMessage, traceback: [timeoutMessage]))
                failed = true
            }
        case .error(let message):
            let lines = message.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let name = timedOut ? "Timeout" : isInterrupt(lines.first ?? "") ? "Interrupted" : "LuaError"
            let traceback = timedOut ? [timeoutMessage] + lines : lines
            outputs.append(.error(name: name, value: timedOut ? timeoutMessage : lines.first ?? message, traceback: traceback))
            failed = true
        }
        cell.outputs = CellOutput.merged(outputs)
        if options.echo { show(cell, index: index, capture) }
        return failed
    }

    private var timeoutMessage: String { "cell timed out after \(options.timeout.map(formatSeconds) ?? "?") s" }

    private func isInterrupt(_ line: String) -> Bool { line.hasSuffix("interrupted!") || line.hasSuffix(": interrupted") }

    /// the cell's outputs on the real terminal: streams as written, results and displays as text
    private func show(_ cell: NotebookCell, index: Int, _ capture: OutputCapture) {
        for o in cell.outputs {
            switch o {
            case .stream(let name, let text): capture.echo(text, toError: name == "stderr")
            case .executeResult, .displayData: capture.echo(o.text + "\n")
            case .error: capture.echo("error in cell \(index):\n" + o.text + "\n", toError: true)
            }
        }
    }
}

/// `2`, `0.5`
func formatSeconds(_ s: Double) -> String {
    s == s.rounded() ? String(Int(s)) : String(s)
}
