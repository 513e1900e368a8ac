// tessera: the command line. `tessera` opens the REPL; `tessera FILE.lua [args]` runs a script
// with `arg` as in `lua`; `tessera -e CODE` runs code; code on stdin runs when stdin is not a
// terminal; `tessera run` and `tessera convert` handle notebooks (NotebookCommands). A failing
// script exits with status 1 and its traceback on stderr.

import CLua
import TesseraLua
import TesseraNotebook
import TesseraTensor
#if canImport(Glibc)
    import Glibc
#endif

let version = "0.1.0"

BLASKernels.restartWithBetterSettingsIfNeeded()

let usage = """
    usage: tessera [options] [script.lua [args...]]
           tessera run NOTEBOOK [--out FILE] [--allow-errors] [--timeout S]
           tessera convert NOTEBOOK --to ipynb|lua|md [--out FILE]
      (no arguments)   open the REPL (or run code from stdin when it is not a terminal)
      script.lua ARGS  run a script; the global `arg` holds ARGS as in `lua`
      -e CODE          run CODE (may be repeated; runs before a script)
      -i               enter the REPL after running a script or -e code
      -v, --version    print the version
      -h, --help       this text
    In the REPL, %help lists its commands and ?NAME shows help for a function.
    """

/// stdlib/ next to the executable's package root: .build/<config>/tessera -> <root>/stdlib
func findStdlib() -> String? {
    if let env = getenv("TESSERA_STDLIB") { return String(cString: env) }
    var buf = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buf, buf.count - 1)
    guard n > 0 else { return nil }
    var dir = String(cString: buf)
    for _ in 0..<6 {
        guard let slash = dir.lastIndex(of: "/") else { break }
        dir = String(dir[..<slash])
        for candidate in [dir + "/stdlib", dir + "/share/tessera/stdlib"] where access(candidate + "/tessera/test.lua", R_OK) == 0 {
            return candidate
        }
    }
    return nil
}

func fail(_ message: String) -> Never {
    fputs(message + "\n", stderr)
    exit(1)
}

/// the arguments as bytes: Lua strings need not be UTF-8, and CommandLine.arguments replaces
/// invalid bytes with U+FFFD
let rawArguments: [[UInt8]] = (0..<Int(CommandLine.argc)).map { i in
    guard let p = CommandLine.unsafeArgv[i] else { return [] }
    return Array(UnsafeRawBufferPointer(start: p, count: strlen(p)))
}

var args = Array(CommandLine.arguments.dropFirst())
switch args.first {
case "run": exit(NotebookCommands.run(Array(args.dropFirst()), stdlibPath: findStdlib()))
case "convert": exit(NotebookCommands.convert(Array(args.dropFirst())))
default: break
}
var codes: [[UInt8]] = []
var interactive = false
while let first = args.first, first.hasPrefix("-"), first != "-" {
    args.removeFirst()
    switch first {
    case "-v", "--version": print("tessera \(version) (Lua 5.4, OpenBLAS)"); exit(0)
    case "-h", "--help": print(usage); exit(0)
    case "-i": interactive = true
    case "-e":
        guard !args.isEmpty else { fail("tessera: -e needs an argument\n" + usage) }
        codes.append(rawArguments[rawArguments.count - args.count])
        args.removeFirst()
    case "--": break
    default: fail("tessera: unknown option '\(first)'\n" + usage)
    }
    if first == "--" { break }
}

let session: Session
do {
    session = try Session(stdlibPath: findStdlib())
} catch {
    fail("tessera: \(error)")
}
let L = session.runtime.L

/// runs a chunk the way `lua` does: no auto-print, errors to stderr, exit 1
func runScript(_ code: [UInt8], name: String, args: [LuaRuntime.Value] = []) {
    do {
        try session.runtime.run(bytes: code, name: name, args: args)
        lua_settop(L, 0)
    } catch {
        fflush(stdout)
        fail("tessera: \(error)")
    }
}

for code in codes { runScript(code, name: "=(command line)") }

if let script = args.first {
    // arg[0] = script, arg[1...] = its arguments, arg[-1] = the interpreter (as lua.c); the
    // arguments are also the chunk's `...`
    let scriptArgs = Array(rawArguments[(rawArguments.count - args.count)...])
    lua_createtable(L, Int32(args.count), 1)
    LuaStack(L).push(bytes: rawArguments[0])
    lua_rawseti(L, -2, -1)
    for (i, a) in scriptArgs.enumerated() {
        LuaStack(L).push(bytes: a)
        lua_rawseti(L, -2, lua_Integer(i))
    }
    lua_setglobal(L, "arg")
    guard var source = script == "-" ? readAllStdin() : readFileBytes(script) else { fail("tessera: cannot open \(script)") }
    if source.first == UInt8(ascii: "#") { source = Array("--".utf8) + source }  // a #! line, as lua.c skips it
    runScript(source, name: script == "-" ? "=stdin" : "@" + script, args: scriptArgs.dropFirst().map { .bytes($0) })
    if !interactive { fflush(stdout); exit(0) }
} else if !codes.isEmpty && !interactive {
    fflush(stdout)
    exit(0)
}

if isatty(0) == 0 && !interactive {
    runScript(readAllStdin(), name: "=stdin")
    fflush(stdout)
    exit(0)
}

let home = getenv("HOME").map { String(cString: $0) }
let repl = REPL(session: session, historyPath: home.map { $0 + "/.tessera_history" })
repl.run(banner: "Tessera \(version) (Lua 5.4, OpenBLAS) - %help for commands, ?name for help, Ctrl-D to quit")
exit(0)

func readAllStdin() -> [UInt8] {
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(0, &buf, buf.count)
        if n <= 0 { break }
        bytes += buf[0..<n]
    }
    return bytes
}
