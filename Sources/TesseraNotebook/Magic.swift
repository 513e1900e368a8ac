// Magic: the REPL's %-commands (IPython's names): %time, %timeit, %who, %reset, %load, %save, %run,
// %help.

import CLua
import LuaShim
import TesseraLua
#if canImport(Glibc)
    import Glibc
#endif

struct Magic {
    let name: String
    let argument: String

    static let summaries: [(String, String)] = [
        ("%time CODE", "run CODE once and print the wall time"),
        ("%timeit CODE", "run CODE repeatedly and print the time per run (best of several rounds)"),
        ("%who", "list the variables you defined, with their types"),
        ("%reset", "remove every variable you defined"),
        ("%load FILE.lua", "run a Lua file in this session (its globals and locals stay)"),
        ("%save FILE.lua", "write this session's inputs as a Jupytext percent notebook"),
        ("%save FILE.ipynb", "write this session's inputs and outputs as a Jupyter notebook"),
        ("%run NOTEBOOK", "run a notebook's code cells (.lua percent or .ipynb) in this session"),
        ("%help", "this list; ?NAME or help(f) shows a function's help"),
    ]

    /// nil when `line` is not a magic
    init?(_ line: String) {
        let t = line.trimmingWhitespace()
        guard t.hasPrefix("%"), !t.contains("\n") else { return nil }
        let body = t.dropFirst()
        let name = String(body.prefix { !$0.isWhitespace })
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter }) else { return nil }
        self.name = name
        argument = String(body.dropFirst(name.count)).trimmingWhitespace()
    }

    func run(in session: Session) {
        switch name {
        case "time":
            let t0 = now()
            let outcome = session.evaluate(argument)
            let dt = now() - t0
            if case .error(let m) = outcome { fputs(m + "\n", stderr) }
            print("time: \(formatDuration(dt))")
        case "timeit":
            timeit(session)
        case "who":
            let names = session.userGlobals()
            if names.isEmpty { print("no variables defined"); return }
            for n in names { print("\(n)\t\(typeDescription(of: n, session))") }
        case "reset":
            session.reset()
            print("variables removed")
        case "load":
            guard let src = readFile(argument) else { fputs("%load: cannot read '\(argument)'\n", stderr); return }
            if case .error(let m) = session.evaluate(src, echo: false) { fputs(m + "\n", stderr) }
        case "save":
            save(session)
        case "run":
            guard !argument.isEmpty else { fputs("%run: give a notebook, e.g. %run examples/quickstart.lua\n", stderr); return }
            runNotebook(session)
        case "help":
            print("REPL commands:")
            for (c, s) in Magic.summaries { print("  \(c.padding(18))\(s)") }
            print("Tab completes names, fields and tensor methods; Ctrl-C stops a running input; Ctrl-D quits.")
        default:
            fputs("unknown magic %\(name); %help lists them\n", stderr)
        }
    }

    /// `?name`: help for a name typed without help()
    static func help(for name: String, in session: Session) {
        let n = name.trimmingWhitespace()
        if let text = Help.lookup(n) { print(text); return }
        fputs("no help entry named '\(n)'; try ?tensor\n", stderr)
    }

    private func timeit(_ session: Session) {
        let L = session.runtime.L
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        // compile once as a function, then call it: the timing excludes parsing. The function
        // stays on the stack rather than in a global, so %who, %save and the history never see it.
        do {
            try session.runtime.run("return function() \(argument)\nend", name: "=stdin")
        } catch {
            fputs("\(error)\n", stderr)
            return
        }
        let fn = base + 1
        func runs(_ n: Int) -> Double? {
            let t0 = now()
            for _ in 0..<n {
                lua_pushvalue(L, fn)
                if luashim_pcall(L, 0, 0, 0) != LUA_OK {
                    fputs((LuaStack(L).string(at: -1) ?? "error") + "\n", stderr)
                    lua_settop(L, fn)
                    return nil
                }
            }
            return now() - t0
        }
        // Ctrl-C stops a slow or endless statement here as it does any input
        session.interruptible {
            var loops = 1
            guard var t = runs(1) else { return }
            while t < 0.2 && loops < 1_000_000 {
                loops *= 10
                guard let tt = runs(loops) else { return }
                t = tt
            }
            var best = t / Double(loops)
            for _ in 0..<4 {
                guard let tt = runs(loops) else { return }
                best = min(best, tt / Double(loops))
            }
            print("\(loops) loops, best of 5: \(formatDuration(best)) per loop")
        }
    }

    /// %save NAME.lua (percent notebook of the inputs) or NAME.ipynb (with their outputs)
    private func save(_ session: Session) {
        guard !argument.isEmpty else { fputs("%save: give a file name, e.g. %save session.lua or %save session.ipynb\n", stderr); return }
        var nb = session.transcriptNotebook()
        nb.cells.removeAll { Magic($0.source) != nil }
        let ipynb = argument.hasSuffix(".ipynb")
        if !ipynb {
            for k in nb.cells.indices { nb.cells[k].outputs = [] }
        }
        do {
            try writeAtomically(argument, ipynb ? IpynbFormat.write(nb) : PercentFormat.write(nb))
            print("saved \(nb.cells.count) input(s)\(ipynb ? " with their outputs" : "") to \(argument)")
        } catch {
            fputs("%save: \(error)\n", stderr)
        }
    }

    /// %run NB: the notebook's code cells in this session, each shown as if typed; stops at an error
    private func runNotebook(_ session: Session) {
        let nb: Notebook
        do {
            nb = try Notebook.read(path: argument)
        } catch {
            fputs("%run: \(error)\n", stderr)
            return
        }
        for (k, cell) in nb.cells.enumerated() where cell.kind == .code && !cell.source.trimmingWhitespace().isEmpty {
            if case .error(let m) = session.evaluate(cell.source, chunkName: "=cell \(k + 1)") {
                fputs(m + "\n%run: stopped at cell \(k + 1) of \(argument)\n", stderr)
                return
            }
        }
    }

    private func typeDescription(of name: String, _ session: Session) -> String {
        let L = session.runtime.L
        _ = luashim_getglobal(L, name)
        defer { lua_settop(L, -2) }
        if let t = LuaStack(L).tensor(at: -1) { return "tensor \(t.dtype) \(t.shape.map(String.init).joined(separator: "x"))" }
        return LuaStack(L).typeName(-1)
    }
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func formatDuration(_ s: Double) -> String {
    if s >= 1 { return String(format1(s)) + " s" }
    if s >= 1e-3 { return format1(s * 1e3) + " ms" }
    if s >= 1e-6 { return format1(s * 1e6) + " µs" }
    return format1(s * 1e9) + " ns"
}

/// three significant digits without Foundation
private func format1(_ v: Double) -> String {
    let digits = v >= 100 ? 0 : v >= 10 ? 1 : 2
    var p = 1.0
    for _ in 0..<digits { p *= 10 }
    let r = (v * p).rounded() / p
    var s = String(r)
    if digits == 0, s.hasSuffix(".0") { s.removeLast(2) }
    return s
}

/// the whole file as text, or nil
public func readFile(_ path: String) -> String? {
    readFileBytes(path).map { String(decoding: $0, as: UTF8.self) }
}

/// the whole file as bytes (Lua source need not be UTF-8), or nil
public func readFileBytes(_ path: String) -> [UInt8]? {
    guard let f = fopen(path, "rb") else { return nil }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buf, 1, buf.count, f)
        if n <= 0 { break }
        bytes += buf[0..<n]
    }
    return bytes
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
}
