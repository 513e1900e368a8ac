// ProgressLibrary: the Lua `progress` library, the bar nn.fit uses for any loop:
//   for i, bar in progress(1, n, {label = "tokenising"}) do ... bar:set{loss = l} end
//   for i, v in progress.wrap(list) do ... end
// The iterator's fourth value closes the bar (Lua 5.4's to-be-closed variable), so a `break`,
// an error or Ctrl-C ends its line cleanly.

import CLua
import LuaShim

/// A ProgressBar held by a Lua value, with what it iterates over.
final class ProgressIteration {
    enum Source {
        /// first, last, step of a numeric range
        case range(Int, Int, Int)
        /// the table in the userdata's user value, by index
        case list(count: Int)
        /// the function in the userdata's user value, called until it returns nil
        case function
        /// counted by bar:update only
        case manual
    }
    var bar: ProgressBar
    let source: Source
    let printer = PrintTarget()
    /// iterations started (the current one is not done until the next starts)
    var started = 0
    var closed = false

    init(_ L: OpaquePointer, total: Int?, label: String, show: Bool, source: Source) {
        let printer = self.printer
        printer.L = L
        bar = ProgressBar(total: total, label: label, output: show ? .standard { try printer.print($0) } : nil)
        // a loop that ends within a second shows one line, not ten
        bar.minSecondsBetweenLines = 1
        self.source = source
    }

    /// Ends the bar: the final line, and a newline after a redrawn one.
    func close() throws {
        guard !closed else { return }
        closed = true
        try bar.finish()
    }
}

let progressMetatableName = "tessera.Progress"
nonisolated(unsafe) let progressMetatableKey = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
nonisolated(unsafe) let progressMethodsKey = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
/// registry field holding the iterator function that every progress loop uses
let progressNextName = "tessera.progress.next"

extension LuaStack {
    func checkProgress(_ i: Int32, _ fn: String) throws -> ProgressIteration {
        guard let p = retainedObject(at: i, metatable: progressMetatableKey, as: ProgressIteration.self) else {
            throw LuaError.argument(i, fn, "progress bar expected, got \(typeName(i))")
        }
        return p
    }
}

extension LuaRuntime {
    func openProgressLibrary() {
        newRetainedMetatable(progressMetatableName, key: progressMetatableKey, shownAs: "progress")
        setFunction("__close", qualifiedName: "progress") { s in
            try s.checkProgress(1, "progress").close()
            return 0
        }
        setFunction("__tostring", qualifiedName: "tostring") { s in
            let p = try s.checkProgress(1, "tostring")
            s.push("progress(" + p.bar.status(p.bar.count) + ")")
            return 1
        }
        setMethodIndex(methodsKey: progressMethodsKey, qualifiedName: "index") { s in s.pushNil() }
        lua_settop(L, -2)
        openMethodTable(key: progressMethodsKey, registryName: progressMetatableName + ".methods") { openProgressMethods() }
        pushFunction("progress") { s in try LuaRuntime.progressNext(s) }
        lua_setfield(L, luashim_registryindex(), progressNextName)

        lua_createtable(L, 0, 4)
        let lib = LibraryBuilder(self, prefix: "progress", qualifiedErrors: true)
        Help.addTopic(
            "progress",
            """
            progress: the progress bar nn.fit shows, for any loop. On a terminal one line is redrawn in
            place (count, rate, ETA, metrics); in a notebook or a pipe about ten lines are printed.
            progress(...) is progress.range(...). Options: label (text before the bar), progress = false
            (shows nothing: pass a flag through).
            """)
        let options = ["label", "progress", "total"]
        let range: LuaFunctionBody = { s in
            let fn = "progress.range"
            let first = try s.checkInt(1, fn), last = try s.checkInt(2, fn)
            let stepGiven = s.number(at: 3) != nil
            let step = stepGiven ? try s.checkInt(3, fn) : 1
            guard step != 0 else { throw LuaError.argument(3, fn, "step must not be 0") }
            let opts = try s.options(stepGiven ? 4 : 3, fn, allowed: options)
            let count = step > 0 ? (last >= first ? (last - first) / step + 1 : 0) : (first >= last ? (first - last) / -step + 1 : 0)
            let p = ProgressIteration(
                s.L, total: count, label: try opts.string("label") ?? "", show: try opts.bool("progress") ?? true,
                source: .range(first, last, step))
            return try LuaRuntime.pushLoop(s, p, over: nil)
        }
        lib.def(
            "range", "progress.range(first, last [, step] [, {label=, progress=}])  -- also progress(...)",
            "Iterates i = first, last, step (as a numeric for) showing a bar; each i comes with the bar.",
            details:
                "for i, bar in progress(1, n) do ... bar:set{loss = l} end shows the latest loss. A break, an\nerror or Ctrl-C ends the bar's line (the bar is the loop's to-be-closed value).",
            example: "local sum = 0\nfor i, bar in progress(1, 1000, {label = \"sum\"}) do\n  sum = sum + i\n  bar:set{sum = sum}\nend\nprint(sum)",
            range)
        lib.def(
            "wrap", "progress.wrap(list | f [, {label=, total=, progress=}])",
            "Iterates a list (giving i, v as ipairs) or calls f until it returns nil, showing a bar.",
            details: "A list's length is the total; for a function give total if known (else the bar shows a\ncount and the rate).",
            example:
                "local words = {\"a\", \"sparse\", \"fine\", \"tuning\"}\nlocal n = 0\nfor i, w in progress.wrap(words, {label = \"words\"}) do n = n + #w end\nprint(n)\nlocal k = 0\nfor x in progress.wrap(function() k = k + 1; if k <= 3 then return k end end) do print(x) end"
        ) { s in
            let fn = "progress.wrap", L = s.L
            let opts = try s.options(2, fn, allowed: options)
            let label = try opts.string("label") ?? "", show = try opts.bool("progress") ?? true
            switch lua_type(L, 1) {
            case LUA_TTABLE:
                let n = Int(lua_rawlen(L, 1))
                return try LuaRuntime.pushLoop(s, ProgressIteration(L, total: n, label: label, show: show, source: .list(count: n)), over: 1)
            case LUA_TFUNCTION:
                let total = try opts.int("total")
                return try LuaRuntime.pushLoop(s, ProgressIteration(L, total: total, label: label, show: show, source: .function), over: 1)
            default:
                throw LuaError.argument(1, fn, "table or function expected, got \(s.typeName(1))")
            }
        }
        lib.def(
            "bar", "progress.bar(total [, {label=, progress=}])",
            "A bar advanced by hand: bar:update(count), bar:set{metric = value}, bar:close().",
            example: "local bar = progress.bar(3, {label = \"epochs\"})\nfor epoch = 1, 3 do bar:update(epoch) end\nbar:close()"
        ) { s in
            let total = s.isNoneOrNil(1) ? nil : try s.checkInt(1, "progress.bar")
            let opts = try s.options(2, "progress.bar", allowed: options)
            let p = ProgressIteration(
                s.L, total: total, label: try opts.string("label") ?? "", show: try opts.bool("progress") ?? true, source: .manual)
            s.pushRetained(p, metatable: progressMetatableKey)
            return 1
        }
        // progress(...) is progress.range(...): __call drops the library table (argument 1)
        lua_createtable(L, 0, 1)
        setFunction("__call", qualifiedName: "progress") { s in
            lua_rotate(s.L, 1, -1)
            lua_settop(s.L, -2)
            return try range(s)
        }
        lua_setmetatable(L, -2)
        lua_setglobal(L, "progress")
    }

    /// Pushes the generic-for values: the iterator, the bar (state), nil, the bar (to be closed).
    /// `over` is the stack index of the table or function iterated, kept in the bar's user value.
    static func pushLoop(_ s: LuaStack, _ p: ProgressIteration, over: Int32?) throws -> Int32 {
        let L = s.L
        lua_getfield(L, luashim_registryindex(), progressNextName)
        s.pushRetained(p, metatable: progressMetatableKey)
        if let over {
            lua_pushvalue(L, over)
            lua_setiuservalue(L, -2, 1)
        }
        lua_pushnil(L)
        lua_pushvalue(L, -2)
        return 4
    }

    /// The iterator: counts the iteration just finished, then yields the next values or ends.
    static func progressNext(_ s: LuaStack) throws -> Int32 {
        let p = try s.checkProgress(1, "progress"), L = s.L
        p.printer.L = L
        if p.started > 0 { try p.bar.update(p.started) }
        let k = p.started
        p.started += 1
        switch p.source {
        case .range(let first, let last, let step):
            let (i, overflow) = step.multipliedReportingOverflow(by: k)
            let (value, overflow2) = first.addingReportingOverflow(i)
            guard !overflow, !overflow2, step > 0 ? value <= last : value >= last else { break }
            s.push(value)
            lua_pushvalue(L, 1)
            return 2
        case .list(let count):
            guard k < count else { break }
            s.push(k + 1)
            _ = lua_getiuservalue(L, 1, 1)
            lua_rawgeti(L, -1, lua_Integer(k + 1))
            luashim_remove(L, -2)
            return 2
        case .function:
            lua_settop(L, 1)
            _ = lua_getiuservalue(L, 1, 1)
            if luashim_pcall(L, 0, LUA_MULTRET, 0) != LUA_OK { throw LuaCalleeError() }
            if !s.isNoneOrNil(2) { return s.count - 1 }
            p.started -= 1
        case .manual:
            throw LuaError("progress: a progress.bar is advanced with bar:update(count), not iterated")
        }
        try p.close()
        s.pushNil()
        return 1
    }

    private func openProgressMethods() {
        let m = LibraryBuilder(self, prefix: "Progress", methods: true)
        Help.addTopic("Progress", "Methods of a progress bar (from progress(...), progress.wrap or progress.bar).")
        m.def(
            "set", "bar:set({name = value, ...})", "Shows the latest value of metrics (loss, accuracy) after the rate.",
            example: "for i, bar in progress(1, 5) do bar:set{loss = 1 / i} end"
        ) { s in
            let p = try s.checkProgress(1, "set")
            guard lua_type(s.L, 2) == LUA_TTABLE else { throw LuaError.argument(2, "set", "table {name = value} expected, got \(s.typeName(2))") }
            lua_pushnil(s.L)
            while lua_next(s.L, 2) != 0 {
                defer { lua_settop(s.L, -2) }
                let value = s.number(at: -1) ?? s.tensor(at: -1).flatMap { $0.numel == 1 ? try? $0.item() : nil }
                guard lua_type(s.L, -2) == LUA_TSTRING, let name = s.string(at: -2), let value else {
                    throw LuaError.argument(2, "set", "metrics must be name = number (or a one-element tensor)")
                }
                if let k = p.bar.metrics.firstIndex(where: { $0.name == name }) {
                    p.bar.metrics[k].value = value
                } else {
                    p.bar.metrics.append((name, value))
                }
            }
            return 0
        }
        m.def(
            "update", "bar:update(count)", "Records count items done (redraws or prints when due).",
            example: "local bar = progress.bar(10)\nbar:update(5)\nbar:update(10)\nbar:close()"
        ) { s in
            let p = try s.checkProgress(1, "update")
            p.printer.L = s.L
            try p.bar.update(try s.checkInt(2, "update"))
            return 0
        }
        m.def(
            "close", "bar:close()", "Ends the bar (a loop's bar closes itself).", example: "local bar = progress.bar(2)\nbar:update(2)\nbar:close()"
        ) { s in
            let p = try s.checkProgress(1, "close")
            p.printer.L = s.L
            try p.close()
            return 0
        }
    }
}
