// FitLoop: nn.fit, a training loop that runs in Swift and calls Lua only for what the user
// writes (the batch, the loss, the evaluation, a per-step callback), each through luashim_pcall
// with a traceback handler. Ctrl-C stops it between steps and it returns the history so far.

import CLua
import LuaShim
import TesseraNN
import TesseraTensor
#if canImport(Glibc)
    import Glibc
#endif

/// set by the SIGINT handler nn.fit installs while a step runs in Swift
nonisolated(unsafe) let deferredInterrupt: UnsafeMutablePointer<sig_atomic_t> = {
    let p = UnsafeMutablePointer<sig_atomic_t>.allocate(capacity: 1)
    p.initialize(to: 0)
    return p
}()

/// Notes a Ctrl-C for the end of the step; a second one terminates as usual.
private let deferInterrupt: @convention(c) (Int32) -> Void = { sig in
    deferredInterrupt.pointee = 1
    signal(sig, SIG_DFL)
}

/// Ctrl-C while nn.fit runs: armed as in the REPL (Lua code stops with "interrupted!", kernels
/// with "interrupted") while callbacks run, deferred to the end of the step while backward and
/// the optimizer update run, so an update is never half applied. Scripts run without a
/// handler; nn.fit arms one for its duration and restores whatever was there before.
final class FitInterrupts {
    let main: OpaquePointer
    let current: OpaquePointer
    let previous: __sighandler_t?
    let ignored: Bool

    init(_ L: OpaquePointer) {
        lua_rawgeti(L, luashim_registryindex(), lua_Integer(LUA_RIDX_MAINTHREAD))
        main = lua_tothread(L, -1) ?? L
        lua_settop(L, -2)
        current = L
        _ = deferredInterrupt.pointee  // initialised here, never first inside the signal handler
        previous = signal(SIGINT, SIG_IGN)
        // an ignored SIGINT (a background job) stays ignored
        ignored = unsafeBitCast(previous, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
        if !ignored { luashim_setsigint(main, Cancellation.flag) }
    }

    /// Runs `body` with Ctrl-C deferred; returns its result and whether Ctrl-C was pressed.
    func deferring<R>(_ body: () throws -> R) rethrows -> (R, interrupted: Bool) {
        if ignored { return (try body(), false) }
        deferredInterrupt.pointee = 0
        signal(SIGINT, deferInterrupt)
        defer { luashim_setsigint(main, Cancellation.flag) }
        let r = try body()
        return (r, deferredInterrupt.pointee != 0)
    }

    /// After an interruption was handled: clears the flag and the pending hook, re-arms.
    func acknowledge() {
        Cancellation.reset()
        lua_sethook(main, nil, 0, 0)
        lua_sethook(current, nil, 0, 0)
        if !ignored { luashim_setsigint(main, Cancellation.flag) }
    }

    func restore() {
        if ignored { return }
        if previous == nil {
            luashim_clearsigint()
        } else {
            signal(SIGINT, previous)
        }
    }
}

/// Whether a Lua error message is a Ctrl-C (the hook's "interrupted!" or a kernel's "interrupted").
func isInterruption(_ message: String) -> Bool {
    let first = message.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
    return first.hasSuffix("interrupted!") || first.hasSuffix(": interrupted")
}

/// The stack slots of nn.fit's arguments and results.
private struct FitSlots {
    var model: Int32 = 0, data: Int32 = 0, loss: Int32 = 0, optimizer: Int32 = 0, eval: Int32 = 0, onStep: Int32 = 0
    var history: Int32 = 0, handler: Int32 = 0
}

/// A user callback failed: its error (with traceback) is on top of the stack.
private struct CallbackFailed: Error {}

extension LuaRuntime {
    func openFitFunction() {
        _ = luashim_getglobal(L, "nn")
        let lib = LibraryBuilder(self, prefix: "nn", qualifiedErrors: true)
        lib.def(
            "fit",
            "nn.fit({model=, data=, loss=, optimizer=, steps= [, accumulate=, eval=, eval_every=, clip_grad_norm=, on_step=, log_every=, progress=]})",
            "Trains for steps optimizer steps and returns the history {step=, loss=, lr=, grad_norm=, eval=}.",
            details: """
                Each step: batch = data(step) (or data[(step-1) % #data + 1] for a table of batches);
                loss = loss(model, batch), a one-element tensor; loss:backward(); clip to clip_grad_norm
                if given; optimizer:step(); optimizer:zero_grad(). The same as the loop written in Lua,
                bit for bit. A data function returning nil ends training early.
                accumulate = k (gradient accumulation): each optimizer step takes k micro-batches
                (data is then called with the micro-batch number, 1, 2, ...), back-propagates each
                loss divided by k, so the gradient is that of the mean loss, and records the mean
                loss; an optimizer step then sees an effective batch k times larger.
                on_step(info) is called after each step with {step=, loss=, lr=, grad_norm=, elapsed=};
                returning false stops. eval(model) returns a table {metric = value}; it runs every
                eval_every steps (and after the last step) in eval mode without gradients, and each
                result, with its step, is appended to history.eval.
                Progress: on a terminal one line redrawn in place (step/N, steps/s, ETA, loss); otherwise
                a line every log_every steps (default steps/10) through print; log_every = 0 or
                progress = false is silent.
                Ctrl-C stops between steps: the history so far is returned with interrupted = true
                and a note. An error in a callback is raised with the callback's traceback.
                """,
            example:
                "tensor.manual_seed(0)\nlocal m = nn.Linear(1, 1)\nlocal x = tensor.randn(32, 1)\nlocal batches = {{x = x, y = x * 3 + 1}}\nlocal h = nn.fit{model = m, data = batches, optimizer = optim.SGD(m, {lr = 0.1}), steps = 100,\n  loss = function(model, b) return nn.mse_loss(model(b.x), b.y) end,\n  eval = function(model) return {weight = model:parameters().weight:item()} end, log_every = 50}\nprint(#h.loss, h.loss[#h.loss], h.eval[1].weight)"
        ) { s in
            try self.fit(s)
        }
        lua_settop(L, -2)
    }

    private func fit(_ s: LuaStack) throws -> Int32 {
        let fn = "nn.fit", L = s.L
        guard lua_type(L, 1) == LUA_TTABLE else { throw LuaError.argument(1, fn, "options table expected, got \(s.typeName(1))") }
        let opts = try s.options(
            1, fn, allowed: ["steps", "accumulate", "eval_every", "clip_grad_norm", "log_every", "progress"],
            raw: ["model", "data", "loss", "optimizer", "eval", "on_step"])
        guard let steps = try opts.int("steps"), steps > 0 else { throw LuaError.argument(1, fn, "option 'steps' (a positive integer) is required") }
        let evalEvery = try opts.int("eval_every") ?? 0
        let logEvery = try opts.bool("progress") == false ? 0 : try opts.int("log_every") ?? max(1, steps / 10)
        let clip = try opts.number("clip_grad_norm")
        let accumulate = try opts.int("accumulate") ?? 1
        guard accumulate >= 1 else { throw LuaError.argument(1, fn, "option 'accumulate' must be a positive integer, got \(accumulate)") }
        guard evalEvery >= 0, logEvery >= 0 else { throw LuaError.argument(1, fn, "eval_every and log_every must be non-negative") }
        lua_settop(L, 1)
        var slots = FitSlots()
        func field(_ key: String, _ types: [Int32], _ what: String, required: Bool = true) throws -> Int32 {
            lua_getfield(L, 1, key)
            let t = lua_type(L, -1)
            if !required && t == LUA_TNIL { return 0 }
            guard types.contains(t) else { throw LuaError.argument(1, fn, "option '\(key)' must be \(what), got \(s.typeName(-1))") }
            return lua_gettop(L)
        }
        slots.model = try field("model", [LUA_TUSERDATA], "a module")
        guard let model = s.module(at: slots.model) else {
            throw LuaError.argument(1, fn, "option 'model' must be a module, got \(s.typeName(slots.model))")
        }
        slots.data = try field("data", [LUA_TFUNCTION, LUA_TTABLE], "a function(step) or a table of batches")
        let dataCount = lua_type(L, slots.data) == LUA_TTABLE ? Int(lua_rawlen(L, slots.data)) : 0
        if lua_type(L, slots.data) == LUA_TTABLE && dataCount == 0 { throw LuaError.argument(1, fn, "option 'data' is an empty table of batches") }
        slots.loss = try field("loss", [LUA_TFUNCTION], "a function(model, batch)")
        slots.optimizer = try field("optimizer", [LUA_TUSERDATA], "an optimizer")
        guard let optimizer = s.optimizer(at: slots.optimizer) else {
            throw LuaError.argument(1, fn, "option 'optimizer' must be an optimizer, got \(s.typeName(slots.optimizer))")
        }
        slots.eval = try field("eval", [LUA_TFUNCTION], "a function(model)", required: false)
        slots.onStep = try field("on_step", [LUA_TFUNCTION], "a function(info)", required: false)
        if evalEvery > 0 && slots.eval == 0 { throw LuaError.argument(1, fn, "eval_every is set but there is no eval function") }
        lua_createtable(L, 0, 6)
        slots.history = lua_gettop(L)
        for key in ["step", "loss", "lr", "eval"] + (clip == nil ? [] : ["grad_norm"]) {
            lua_createtable(L, Int32(min(steps, 1 << 20)), 0)
            lua_setfield(L, slots.history, key)
        }
        lua_pushcclosure(L, luashim_traceback, 0)
        slots.handler = lua_gettop(L)

        let interrupts = FitInterrupts(L)
        var progress = TrainingProgress(total: steps, logEvery: logEvery)
        let wasTraining = model.training
        defer {
            interrupts.restore()
            progress.finish()
            model.train(wasTraining)
        }
        model.train()
        var note: String?
        var lastEvaluated = 0, completed = 0
        do {
            for step in 1...steps {
                if Cancellation.isRequested { throw FitStop.interrupted }
                var value = 0.0, interrupted = false, exhausted = false
                for micro in 1...accumulate {
                    let index = (step - 1) * accumulate + micro
                    // the batch
                    if dataCount > 0 {
                        lua_rawgeti(L, slots.data, lua_Integer((index - 1) % dataCount + 1))
                    } else {
                        try call(s, slots, slots.data, results: 1, "data", step) {
                            s.push(index); return 1
                        }
                        if s.isNoneOrNil(-1) { exhausted = true; break }
                    }
                    let batch = lua_gettop(L)
                    try call(s, slots, slots.loss, results: 1, "loss", step) {
                        lua_pushvalue(L, slots.model)
                        lua_pushvalue(L, batch)
                        return 2
                    }
                    guard let loss = s.tensor(at: -1), loss.numel == 1 else {
                        optimizer.zeroGrad()
                        throw LuaError("nn.fit: the loss function must return a one-element tensor, got \(s.typeName(-1)) at step \(step)")
                    }
                    lua_settop(L, batch - 1)
                    if Cancellation.isRequested { interrupted = true; break }
                    let (micro, stopped) = try interrupts.deferring { () throws -> Double in
                        do {
                            let v = try loss.item()
                            try (accumulate == 1 ? loss : loss.mul(1 / Double(accumulate))).backward()
                            return v
                        } catch {
                            optimizer.zeroGrad()
                            throw LuaError("nn.fit: step \(step): " + errorMessage(error, in: "nn.fit").dropFirst("nn.fit: ".count))
                        }
                    }
                    value += micro / Double(accumulate)
                    if stopped { interrupted = true; break }
                }
                if exhausted {
                    // a partial accumulation is dropped rather than stepped with a smaller batch
                    optimizer.zeroGrad()
                    note = "the data function returned nil at step \(step)"
                    break
                }
                if interrupted { throw FitStop.interrupted }
                let ((norm, lr), stepInterrupted) = try interrupts.deferring { () throws -> (Double?, Double) in
                    do {
                        let norm = try clip.map { try clipGradNorm(optimizer.parameters, maxNorm: $0) }
                        let lr = optimizer.learningRate()
                        try optimizer.step()
                        optimizer.zeroGrad()
                        return (norm, lr)
                    } catch {
                        optimizer.zeroGrad()
                        throw LuaError("nn.fit: step \(step): " + errorMessage(error, in: "nn.fit").dropFirst("nn.fit: ".count))
                    }
                }
                interrupted = stepInterrupted
                completed = step
                append(s, slots.history, "step", Double(step))
                append(s, slots.history, "loss", value)
                append(s, slots.history, "lr", lr)
                if let norm { append(s, slots.history, "grad_norm", norm) }
                try progress.update(L, step: step, loss: value, lr: lr)
                if slots.onStep != 0 {
                    try call(s, slots, slots.onStep, results: 1, "on_step", step) {
                        lua_createtable(L, 0, 5)
                        for (k, v) in [("loss", value), ("lr", lr), ("elapsed", progress.elapsed)] + (norm.map { [("grad_norm", $0)] } ?? []) {
                            s.push(v)
                            lua_setfield(L, -2, k)
                        }
                        s.push(step)
                        lua_setfield(L, -2, "step")
                        return 1
                    }
                    let stop = lua_type(L, -1) == LUA_TBOOLEAN && lua_toboolean(L, -1) == 0
                    lua_settop(L, -2)
                    if stop { note = "stopped by on_step after step \(step)"; break }
                }
                if interrupted { throw FitStop.interrupted }
                if evalEvery > 0 && step % evalEvery == 0 {
                    try evaluate(s, slots, model, step: step, &progress)
                    lastEvaluated = step
                }
            }
            if slots.eval != 0 && completed > 0 && lastEvaluated != completed {
                try evaluate(s, slots, model, step: completed, &progress)
            }
        } catch FitStop.interrupted {
            interrupts.acknowledge()
            optimizer.zeroGrad()
            note = "interrupted (Ctrl-C) after \(completed) of \(steps) steps; the history so far is returned"
            lua_pushboolean(L, 1)
            lua_setfield(L, slots.history, "interrupted")
        } catch is CallbackFailed {
            throw LuaCalleeError()
        }
        if let note {
            s.push(note)
            lua_setfield(L, slots.history, "note")
            try progress.note(L, "nn.fit: " + note)
        }
        lua_pushvalue(L, slots.history)
        return 1
    }

    /// Calls the function at `f` with the arguments `push` pushes, leaving `results` values.
    /// A Ctrl-C inside it throws FitStop.interrupted; any other error is left on the stack,
    /// prefixed with what failed and at which step, and CallbackFailed is thrown.
    private func call(
        _ s: LuaStack, _ slots: FitSlots, _ f: Int32, results: Int32, _ what: String, _ step: Int,
        noGradient: Bool = false, _ push: () -> Int32
    ) throws {
        let L = s.L
        lua_pushvalue(L, f)
        let n = push()
        let status = noGradient ? noGrad { luashim_pcall(L, n, results, slots.handler) } : luashim_pcall(L, n, results, slots.handler)
        if status == LUA_OK { return }
        guard let message = s.string(at: -1) else { throw CallbackFailed() }
        lua_settop(L, -2)
        if isInterruption(message) { throw FitStop.interrupted }
        // the traceback's last frames are nn.fit and its callers, which the outer handler
        // reports again: keep the callback's own (a long traceback elides its middle instead)
        var lines = message.split(separator: "\n", omittingEmptySubsequences: false)
        if !message.contains("\n\t...") && lines.count > callerDepth(L) + 1 { lines.removeLast(callerDepth(L)) }
        s.push("nn.fit: \(what) failed at step \(step): " + lines.joined(separator: "\n"))
        throw CallbackFailed()
    }

    /// the number of active frames: nn.fit's own and those of its callers
    private func callerDepth(_ L: OpaquePointer) -> Int {
        var ar = lua_Debug()
        var level: Int32 = 0
        while lua_getstack(L, level, &ar) != 0 { level += 1 }
        return Int(level)
    }

    /// Runs eval(model) in eval mode without gradients and appends its table, with `step`, to history.eval.
    private func evaluate(_ s: LuaStack, _ slots: FitSlots, _ model: Module, step: Int, _ progress: inout TrainingProgress) throws {
        let L = s.L
        model.eval()
        defer { model.train() }
        try call(s, slots, slots.eval, results: 1, "eval", step, noGradient: true) {
            lua_pushvalue(L, slots.model)
            return 1
        }
        guard lua_type(L, -1) == LUA_TTABLE, s.tensor(at: -1) == nil else {
            throw LuaError("nn.fit: the eval function must return a table {metric = value}, got \(s.typeName(-1)) at step \(step)")
        }
        var shown: [(String, String)] = []
        lua_pushnil(L)
        while lua_next(L, -2) != 0 {
            if let k = s.string(at: -2), lua_type(L, -2) == LUA_TSTRING {
                let v = s.tensor(at: -1).flatMap { $0.numel == 1 ? try? $0.item() : nil } ?? s.number(at: -1)
                shown.append((k, v.map { format($0, decimals: 4) } ?? s.typeName(-1)))
            }
            lua_settop(L, -2)
        }
        s.push(step)
        lua_setfield(L, -2, "step")
        lua_getfield(L, slots.history, "eval")
        lua_rotate(L, -2, 1)
        lua_rawseti(L, -2, lua_Integer(lua_rawlen(L, -2) + 1))
        lua_settop(L, -2)
        let text = shown.sorted { $0.0 < $1.0 }.map { "\($0.0) \($0.1)" }.joined(separator: "  ")
        try progress.note(L, "eval at step \(step): " + text)
    }

    /// history[key] gets `value` appended
    private func append(_ s: LuaStack, _ history: Int32, _ key: String, _ value: Double) {
        lua_getfield(s.L, history, key)
        if key == "step" { s.push(Int(value)) } else { s.push(value) }
        lua_rawseti(s.L, -2, lua_Integer(lua_rawlen(s.L, -2) + 1))
        lua_settop(s.L, -2)
    }
}

/// how nn.fit's loop ends early
private enum FitStop: Error { case interrupted }
