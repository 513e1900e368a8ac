// tessera: the command line. The Lua front end (REPL, scripts, notebooks) arrives with the Lua
// runtime; until then the binary reports its version and the tensor engine it is built on.

import TesseraTensor
#if canImport(Glibc)
import Glibc
#endif

let version = "0.1.0"
let args = CommandLine.arguments.dropFirst()

if args.first == "--version" {
    print("tessera \(version)")
} else {
    print("""
    tessera \(version): modular, parameter-efficient fine-tuning from Lua.
    usage: tessera --version
    The Lua runtime and REPL are not built yet (issue 3); the tensor engine is, see README.md.
    """)
    if !args.isEmpty && args.first != "--help" && args.first != "-h" { exit(1) }
}
