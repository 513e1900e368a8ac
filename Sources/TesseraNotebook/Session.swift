// Session: evaluates inputs the way the REPL (and later notebook cells) need: expressions print
// their values, top-level locals persist, `_` holds the last result, incomplete input is told
// apart from invalid input, and Ctrl-C interrupts Lua loops and Swift kernels alike.

import CLua
import LuaShim
import TesseraLua
import TesseraTensor

public final class Session {
    public let runtime: LuaRuntime
    /// number of the next input, as shown in the prompt `[n]>`
    public private(set) var counter = 1
    /// globals present before the user typed anything (kept by %reset, hidden by %who)
    private var builtinGlobals: Set<String> = []
    /// every input that ran, as notebook cells with their results and errors (and, once
    /// recordOutput() is installed, what they printed and displayed), for %save
    public internal(set) var transcript: [NotebookCell] = []
    /// outputs of the running input so far (filled by the recorder)
    var pendingOutputs: [CellOutput] = []
    /// while true the recorder ignores print (the REPL echoing a result it records as such)
    var echoing = false

    public init(stdlibPath: String?) throws {
        runtime = try LuaRuntime(stdlibPath: stdlibPath)
        try runtime.run(Session.prettyPrinter, name: "=(pretty)")
        Display.install(in: runtime)
        PlotLibrary.install(in: runtime)
        builtinGlobals = Set(globalNames())
    }

    public enum Completeness: Equatable {
        case complete, incomplete, invalid
    }

    /// lua.c's rule: input that fails to compile only because it ended early (`<eof>`) is incomplete.
    public func completeness(_ src: String) -> Completeness {
        let code = src.hasPrefix("=") ? "return " + src.dropFirst() : src
        if compiles("return " + code) == nil { return .complete }
        guard let err = compiles(code) else { return .complete }
        return err.hasSuffix("<eof>") ? .incomplete : .invalid
    }

    /// nil when `code` compiles, else the syntax error
    func compiles(_ code: String) -> String? {
        let L = runtime.L
        let status = code.withCString { luashim_loadbuffer(L, $0, code.utf8.count, "=stdin") }
        defer { lua_settop(L, -2) }
        return status == LUA_OK ? nil : LuaStack(L).string(at: -1) ?? "syntax error"
    }

    public enum Outcome {
        /// ran; `result` holds the representations of the values it produced (nil for
        /// statements, and for inputs ending with `;`)
        case ok(result: MimeBundle?)
        /// failed; message with traceback
        case error(String)
    }

    /// Runs one complete input. Expressions, statements that `return` values, and inputs whose
    /// last lines are an expression (`x = f()` then `x`, as a notebook cell ends) show their
    /// values through the display protocol, printing the text (as lua.c does; through the
    /// global `print`, so captured output sees it) unless `echo` is false. An input ending
    /// with `;` shows nothing.
    @discardableResult
    public func evaluate(_ input: String, echo: Bool = true, chunkName: String = "=stdin") -> Outcome {
        var src = input
        if src.hasPrefix("=") { src = "return " + src.dropFirst() }
        let silent = src.trimmingWhitespace().hasSuffix(";")
        let number = counter
        counter += 1
        let L = runtime.L
        let base = lua_gettop(L)
        pendingOutputs = []
        var outcome = Outcome.ok(result: nil)
        defer {
            lua_settop(L, base)
            var outputs = pendingOutputs
            switch outcome {
            case .ok(let result?): outputs.append(.executeResult(executionCount: number, result))
            case .ok(nil): break
            case .error(let m):
                outputs.append(.error(name: "LuaError", value: String(m.prefix { $0 != "\n" }), traceback: m.split(separator: "\n").map(String.init)))
            }
            transcript.append(NotebookCell(.code, input, executionCount: number, outputs: CellOutput.merged(outputs)))
            pendingOutputs = []
        }
        outcome = interruptible { () -> Outcome in
            do {
                let n = try runtime.run(chunk(for: src), name: chunkName)
                guard n > 0 else { return .ok(result: nil) }
                // _ = first result
                lua_pushvalue(L, base + 1)
                lua_setglobal(L, "_")
                if silent { return .ok(result: nil) }
                let result = try n == 1 ? Display.bundle(L, at: base + 1) : MimeBundle(text: prettyText(base + 1, n))
                if echo {
                    echoing = true
                    defer { echoing = false }
                    try printLine(result.text)
                }
                return .ok(result: result)
            } catch {
                return .error("\(error)")
            }
        }
        return outcome
    }

    /// The chunk that runs `src`: `return src` for an expression; otherwise the statements with
    /// top-level locals kept (TopLevelLocals), returning the value of trailing expression lines.
    func chunk(for src: String) -> String {
        if compiles("return " + src) == nil { return "return " + src }
        let lines = src.split(separator: "\n", omittingEmptySubsequences: false)
        // from the last code line up: the first split whose head is statements and whose tail
        // is an expression list (comment and blank lines never start the tail)
        for k in stride(from: lines.count - 1, to: max(0, lines.count - Session.longestTail), by: -1) {
            let start = String(lines[k]).trimmingWhitespace()
            if start.isEmpty || start.hasPrefix("--") { continue }
            let head = lines[..<k].joined(separator: "\n"), tail = lines[k...].joined(separator: "\n")
            if compiles("return " + tail) == nil && compiles(head) == nil {
                return TopLevelLocals.rewrite(head) + "\nreturn " + tail
            }
        }
        return TopLevelLocals.rewrite(src)
    }

    /// lines a trailing expression may span (each candidate costs a compile of the input)
    static let longestTail = 200

    /// the pretty printer's text of `n` values from stack index `first`, tab-separated
    private func prettyText(_ first: Int32, _ n: Int32) throws -> String {
        let L = runtime.L
        lua_getfield(L, luashim_registryindex(), "tessera.pretty")
        for i in 0..<n { lua_pushvalue(L, first + i) }
        let status = luashim_pcall(L, n, 1, 0)
        defer { lua_settop(L, -2) }
        let text = LuaStack(L).string(at: -1) ?? ""
        if status != LUA_OK { throw LuaError(text) }
        return text
    }

    /// Runs `body` with Ctrl-C armed: SIGINT stops the Lua code it calls (at the next
    /// instruction) and long Swift kernels (at their next check) with an error, instead of
    /// ending the process.
    func interruptible<T>(_ body: () -> T) -> T {
        Cancellation.reset()
        luashim_setsigint(runtime.L, Cancellation.flag)
        defer { luashim_clearsigint(); Cancellation.reset() }
        return body()
    }

    /// writes through the global print (captured by notebooks)
    func printLine(_ text: String) throws {
        let L = runtime.L
        _ = luashim_getglobal(L, "print")
        LuaStack(L).push(text)
        if luashim_pcall(L, 1, 0, 0) != LUA_OK {
            defer { lua_settop(L, -2) }
            throw LuaError(LuaStack(L).string(at: -1) ?? "print failed")
        }
    }

    /// names of the user's globals (those not present at start), sorted
    public func userGlobals() -> [String] { globalNames().filter { !builtinGlobals.contains($0) }.sorted() }

    /// Removes every user global.
    public func reset() {
        let L = runtime.L
        for name in userGlobals() {
            lua_pushnil(L)
            lua_setglobal(L, name)
        }
        _ = luashim_gc(L, LUA_GCCOLLECT, 0)
    }

    private func globalNames() -> [String] {
        let L = runtime.L
        var out: [String] = []
        lua_rawgeti(L, luashim_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        lua_pushnil(L)
        while lua_next(L, -2) != 0 {
            lua_settop(L, -2)
            if lua_type(L, -1) == LUA_TSTRING, let k = LuaStack(L).string(at: -1) { out.append(k) }
        }
        lua_settop(L, -2)
        return out
    }

    /// Value printer: tensors and strings via tostring, tables recursively to depth 3 with keys
    /// sorted, several results separated by tabs.
    static let prettyPrinter = #"""
        local reg = debug.getregistry()
        local function pretty(v, depth, seen)
          if type(v) ~= "table" or getmetatable(v) and getmetatable(v).__tostring then
            if type(v) == "string" then return string.format("%q", v) end
            return tostring(v)
          end
          if seen[v] then return "<cycle>" end
          if depth > 3 then return "{...}" end
          seen[v] = true
          local parts, n = {}, #v
          for i = 1, n do parts[#parts + 1] = pretty(v[i], depth + 1, seen) end
          local keys = {}
          for k in pairs(v) do
            if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
          end
          table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
          for _, k in ipairs(keys) do
            local key = type(k) == "string" and k:match("^[%a_][%w_]*$") and k or "[" .. pretty(k, depth + 1, seen) .. "]"
            parts[#parts + 1] = key .. " = " .. pretty(v[k], depth + 1, seen)
            if #parts > 100 then parts[#parts + 1] = "..."; break end
          end
          seen[v] = nil
          return "{" .. table.concat(parts, ", ") .. "}"
        end
        reg["tessera.pretty"] = function(...)
          local out = {}
          for i = 1, select("#", ...) do out[i] = pretty((select(i, ...)), 1, {}) end
          return table.concat(out, "\t")
        end
        """#
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
