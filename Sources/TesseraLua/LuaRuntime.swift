// LuaRuntime: one Lua state with Tessera's libraries; the only way into Lua is `lua_pcall` with
// a traceback handler, and Swift functions reach Lua through a C trampoline that raises their
// errors after every Swift frame has returned.

import CLua
import LuaShim
import TesseraTensor
#if canImport(Glibc)
    import Glibc
#endif

/// A Swift function callable from Lua: reads its arguments from the stack, pushes its results
/// and returns how many; throws to raise a Lua error.
public typealias LuaFunctionBody = (LuaStack) throws -> Int32

/// An error for Lua: the message becomes the Lua error value (position info is added in C).
public struct LuaError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    /// `bad argument #n to 'name' (what)`, the wording of Lua's own library
    public static func argument(_ n: Int32, _ function: String, _ what: String) -> LuaError {
        LuaError("bad argument #\(n) to '\(function)' (\(what))")
    }
}

/// Thrown by a Swift function after a `lua_pcall` it made failed: the callee's error value is on
/// top of the stack and is raised as it is (a table stays a table; a message is not prefixed with
/// a second position).
public struct LuaCalleeError: Error {
    public init() {}
}

/// A Swift function registered with Lua: its name for error messages and its body.
final class LuaFunctionBox {
    let name: String
    let body: LuaFunctionBody

    init(name: String, body: @escaping LuaFunctionBody) {
        self.name = name
        self.body = body
    }
}

/// Every registered function. Bindings live as long as the process; Lua holds unretained
/// pointers to these boxes, so this array keeps them alive.
nonisolated(unsafe) var registeredFunctions: [LuaFunctionBox] = []

/// The single C-callable entry for all Swift functions: finds the box in upvalue 2 (a light
/// userdata, read without retaining: a call costs tens of nanoseconds, not an array lookup and a
/// tuple copy), runs it, and turns a thrown error into a message plus LUASHIM_ERROR.
let swiftDispatch: luashim_SwiftFunction = { L in
    guard let L, let raw = lua_touserdata(L, luashim_upvalueindex(2)) else { return LUASHIM_ERROR }
    let stack = LuaStack(L)
    let outcome: Result<Int32, Error> = Unmanaged<LuaFunctionBox>.fromOpaque(raw)._withUnsafeGuaranteedRef { box in
        Result { try box.body(stack) }
    }
    switch outcome {
    case .success(let n):
        return n
    case .failure(is LuaCalleeError):
        return LUASHIM_RETHROW
    case .failure(let error):
        let name = Unmanaged<LuaFunctionBox>.fromOpaque(raw).takeUnretainedValue().name
        stack.push(errorMessage(error, in: name))
        return LUASHIM_ERROR
    }
}

/// The Lua error text for a Swift error thrown by function `name`.
func errorMessage(_ error: Error, in name: String) -> String {
    switch error {
    case let e as LuaError:
        return e.message
    case let e as TensorError:
        // tensor errors name their op; say which Lua function met them
        return e.op == name || name.hasSuffix(e.op) ? "\(name): \(e.message)" : "\(name): \(e.op): \(e.message)"
    default:
        return "\(name): \(error)"
    }
}

public final class LuaRuntime {
    /// the state; confined to the thread that created the runtime
    public let L: OpaquePointer
    /// bytes of tensor storage allocated since the last full collection we triggered
    var allocatedSinceCollect = 0

    /// The shared runtime of the process (the REPL, scripts and notebooks each use one state).
    nonisolated(unsafe) public static var current: LuaRuntime?

    public init(stdlibPath: String? = nil) throws {
        LuaRuntime.tuneMalloc()
        guard let L = luaL_newstate() else { throw LuaError("cannot create a Lua state (out of memory)") }
        self.L = L
        luaL_openlibs(L)
        LuaRuntime.current = self
        try openTesseraLibraries()
        if let stdlibPath { try addToPackagePath(stdlibPath) }
    }

    deinit { lua_close(L) }

    /// glibc trims the heap top whenever 128 KB are free, so every Lua collection that frees a
    /// batch of small tensors makes the next allocations fault fresh zeroed pages (measured: a
    /// third of the time of `c = a + b` on small tensors): keep 64 MB before trimming. Blocks
    /// from 1 MB up are mapped (and reused through TesseraTensor's BlockCache), so large
    /// tensors never fragment the heap.
    static func tuneMalloc() {
        luashim_tunemalloc(64 << 20, 1 << 20)
    }

    /// Registers `body` as a Lua function and pushes it.
    public func pushFunction(_ name: String, _ body: @escaping LuaFunctionBody) {
        let box = LuaFunctionBox(name: name, body: body)
        registeredFunctions.append(box)
        lua_pushlightuserdata(L, Unmanaged.passUnretained(box).toOpaque())
        luashim_pushswiftclosure(L, swiftDispatch, 1)
    }

    /// Sets field `key` of the table at the top of the stack to a Swift function.
    public func setFunction(_ key: String, qualifiedName: String? = nil, _ body: @escaping LuaFunctionBody) {
        pushFunction(qualifiedName ?? key, body)
        lua_setfield(L, -2, key)
    }

    /// Prepends `dir/?.lua;dir/?/init.lua` to package.path so `require "tessera.x"` finds stdlib.
    func addToPackagePath(_ dir: String) throws {
        _ = try run("package.path = ... .. '/?.lua;' .. ... .. '/?/init.lua;' .. package.path", name: "=(setup)", args: [.string(dir)])
    }

    /// Tells Lua's collector about memory it cannot see. A tensor is an 8-byte userdata to Lua,
    /// but holds its storage plus ~400 bytes of Swift objects; unreported, Lua would collect far
    /// too rarely and memory would grow. Every 64 KB of such memory runs a collector step sized
    /// as if Lua had allocated it itself, so collection keeps pace with tensor allocation.
    func noteAllocation(_ bytes: Int) {
        allocatedSinceCollect += bytes + LuaRuntime.tensorOverhead
        if allocatedSinceCollect >= 64 << 10 {
            let kb = allocatedSinceCollect >> 10
            allocatedSinceCollect = 0
            _ = luashim_gc(L, LUA_GCSTEP, Int32(min(kb, Int(Int32.max))))
        }
    }

    /// bytes of Swift objects behind each tensor value (Tensor, Storage, shape and stride arrays)
    static let tensorOverhead = 400

    public enum Value {
        case string(String)
        /// a Lua string of arbitrary bytes (command-line arguments need not be UTF-8)
        case bytes([UInt8])
        case number(Double)
    }

    /// Compiles and runs `code` as a chunk named `name` (Lua's chunkname: `=stdin`, `@file.lua`),
    /// returning its results converted to strings for display; throws with message and traceback.
    @discardableResult
    public func run(_ code: String, name: String, args: [Value] = []) throws -> Int32 {
        try run(bytes: Array(code.utf8), name: name, args: args)
    }

    /// `run` for source as bytes: a file or stdin may hold bytes that are not UTF-8 (a Latin-1
    /// comment, "\xff" typed raw in a string), which Lua keeps as they are and a Swift String
    /// would replace with U+FFFD.
    @discardableResult
    public func run(bytes code: [UInt8], name: String, args: [Value] = []) throws -> Int32 {
        let base = lua_gettop(L)
        lua_pushcclosure(L, luashim_traceback, 0)
        var status = code.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { luashim_loadbuffer(L, $0.baseAddress, $0.count, name) }
        }
        if status == LUA_OK {
            for a in args {
                switch a {
                case .string(let s): LuaStack(L).push(s)
                case .bytes(let b): LuaStack(L).push(bytes: b)
                case .number(let d): lua_pushnumber(L, d)
                }
            }
            status = luashim_pcall(L, Int32(args.count), LUA_MULTRET, base + 1)
        }
        if status != LUA_OK {
            let msg = LuaStack(L).string(at: -1) ?? "(error object is not a string)"
            lua_settop(L, base)
            throw LuaError(msg)
        }
        luashim_remove(L, base + 1)
        return lua_gettop(L) - base
    }
}
