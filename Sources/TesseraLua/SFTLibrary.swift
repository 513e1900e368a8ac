// SFTLibrary: the `sft` Lua library: sft.train (LT-SFT, Ansell et al. 2022, with both phases run
// by nn.fit, so progress, eval, callbacks and Ctrl-C behave as there), sft.extract and sft.load.
// The method itself lives in TesseraMethods (LotteryTicketTrainer, SparseDiff).

import CLua
import LuaShim
import TesseraMethods
import TesseraNN
import TesseraTensor

/// the options sft.train passes through to nn.fit for both phases
private let fitOptions = ["log_every", "eval_every", "clip_grad_norm", "accumulate"]
private let fitCallbacks = ["data", "loss", "eval", "on_step"]
/// registry key of the Lua factory behind sft.train's `sources` option
private let multiSourceKey = "tessera.sft.multisource"

/// Multi-source training (the reference's MultiSourcePlugin): a data function that takes the
/// previous batch's source-language SFT out, reads the next batch and applies the SFT its `key`
/// names (without head; no base check, since training moves the base), and `done` to take the
/// last one out before selection, rewinding or extraction.
private let multiSourceFactory = """
    return function(data, sources, key, model)
      local current
      local function done()
        if current then current:revert(model); current = nil end
      end
      local function batch(step)
        done()
        local b
        if type(data) == "function" then b = data(step) else b = data[(step - 1) % #data + 1] end
        if b == nil then return nil end
        local name = type(b) == "table" and b[key] or nil
        local d = name ~= nil and sources[name] or nil
        if d == nil then
          error(string.format("sft.train: batch %d has %s = %s, which is not a key of sources", step, key, tostring(name)), 0)
        end
        d:apply(model, {with_head = false, check_base = false})
        current = d
        return b
      end
      return batch, done
    end
    """

extension LuaStack {
    /// A string or a list of strings at i (name patterns).
    func stringList(_ i: Int32, _ fn: String, _ what: String) throws -> [String] {
        if let s = string(at: i), lua_type(L, i) == LUA_TSTRING { return [s] }
        guard lua_type(L, i) == LUA_TTABLE else { throw LuaError.argument(1, fn, "option '\(what)' must be a string or a list of strings") }
        var out: [String] = []
        let t = lua_absindex(L, i)
        for k in 0..<Int(lua_rawlen(L, t)) {
            lua_rawgeti(L, t, lua_Integer(k + 1))
            defer { lua_settop(L, -2) }
            guard lua_type(L, -1) == LUA_TSTRING, let s = string(at: -1) else {
                throw LuaError.argument(1, fn, "option '\(what)' must be a string or a list of strings, element \(k + 1) is \(typeName(-1))")
            }
            out.append(s)
        }
        return out
    }

    /// A module's parameters and buffers, or a table name -> tensor.
    func weights(_ i: Int32, _ fn: String) throws -> [String: Tensor] {
        if let m = module(at: i) { return m.stateDict() }
        return try tensorDictionary(i, fn, arg: i)
    }
}

extension LuaRuntime {
    func openSFTLibrary() {
        openSparseDiffMetatable()
        if (try? run(multiSourceFactory, name: "=sft.sources")) == 1 {
            lua_setfield(L, luashim_registryindex(), multiSourceKey)
        }
        lua_createtable(L, 0, 4)
        let lib = LibraryBuilder(self, prefix: "sft", qualifiedErrors: true)
        Help.addTopic(
            "sft",
            """
            sft: composable sparse fine-tuning (LT-SFT, Ansell et al. 2022). sft.train fine-tunes a model
            in full, keeps the K entries that moved most, rewinds and trains only those, and returns the
            change as a SparseDiff (help("SparseDiff")). Diffs compose by adding: apply a target-language
            SFT and a task SFT to the base model for zero-shot transfer. sft.extract makes a diff from two
            sets of weights; sft.load reads a saved one. examples/lt_sft.lua walks through it.
            """)
        lib.def(
            "train",
            "sft.train({model=, data=, loss=, k= | density=, full_steps=, sparse_steps= [, lr=, weight_decay=, l1=, l1_full=, l1_sparse=, selection=, maskable=, freeze=, kind=, iterations=, head=, seed=, base=, sources=, source_key=, eval=, eval_every=, log_every=, on_step=, clip_grad_norm=, accumulate=]})",
            "Lottery-ticket sparse fine-tuning: returns the SparseDiff (the model is left trained) and the two phases' nn.fit histories.",
            details: """
                θ0 is what the model holds when sft.train starts (apply the source-language SFT first for a
                task SFT). Phase 1 trains every trainable parameter for full_steps (nn.fit with data, loss,
                eval, ...); then exactly k entries (or density times the maskable entries, default 0.01) with
                the largest |θ1 - θ0|, jointly over all maskable parameters, are chosen; every parameter,
                head included, is rewound to θ0; phase 2 trains only the chosen entries (and the dense head)
                for sparse_steps with a fresh AdamW. Chosen-out entries never move, weight decay included.
                maskable: name patterns of the parameters to sparsify (default the base model: "bert" or
                "model"); other trainable parameters are the head, trained densely. freeze: patterns frozen
                while training (default LayerNorms, plus the MLM decoder for a language SFT, which is untied
                from the embeddings first). kind: "language" (default for an MLM model: no head in the diff),
                "task" (default otherwise) or "other". l1 (or l1_full / l1_sparse): pull toward θ0,
                λ·Σ|θ - θ0| / (number of model parameters). selection = "random" picks k uniform entries
                instead (the control). iterations splits k over several rounds. lr defaults to 5e-5.
                sources = {name = SparseDiff, ...}: multi-source training; each batch names its source
                language in batch.source (or batch[source_key]), whose language SFT is applied (without
                head) for that batch's step and reverted after it, so θ0 and the diff stay relative to the
                model without any of them.
                """,
            example: """
                tensor.manual_seed(0)
                local m = nn.Sequential{nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)}
                local batch = {x = tensor.randn(32, 4), y = tensor.randint(0, 1, {32})}
                local d = sft.train{model = m, data = {batch}, k = 8, full_steps = 10, sparse_steps = 10, lr = 0.05,
                  maskable = "0", log_every = 0, loss = function(model, b) return nn.cross_entropy(model(b.x), b.y) end}
                print(d:nnz(), d:info().kind, d:info().heads[1])
                """
        ) { s in
            try self.sftTrain(s)
        }
        lib.def(
            "extract", "sft.extract(base, tuned [, {k=, density=, maskable=, head=, kind=, base=}])",
            "The diff tuned - base (modules or tables name -> tensor): every changed entry, or exactly the k largest changes.",
            details: """
                Compares the float tensors both hold with the same shape (or those maskable patterns select);
                ties at the k-th change go to the lower position. head patterns name tensors stored densely
                from tuned. Tensors that did not change fingerprint the base.
                """,
            example: """
                tensor.manual_seed(0)
                local a = {w = tensor.zeros(2, 3)}
                local b = {w = tensor.from{{0, 1, 0}, {0, 0, -3}}}
                local d = sft.extract(a, b, {k = 1})
                print(d:nnz(), d:stats().params[1].norm)
                """
        ) { s in
            let fn = "sft.extract"
            let base = try s.weights(1, fn), tuned = try s.weights(2, fn)
            let opts = try s.options(3, fn, allowed: ["k", "density", "kind", "base"], raw: ["maskable", "head"])
            var maskable: [String]?, head: [String] = []
            if !s.isNoneOrNil(3) {
                lua_getfield(s.L, 3, "maskable")
                if !s.isNoneOrNil(-1) { maskable = try s.stringList(-1, fn, "maskable") }
                lua_getfield(s.L, 3, "head")
                if !s.isNoneOrNil(-1) { head = try s.stringList(-1, fn, "head") }
                lua_settop(s.L, 3)
            }
            let kind = try self.kind(opts, fn) ?? .other
            s.push(
                try SparseDiff.extract(
                    base: base, tuned: tuned, k: try opts.int("k"), density: try opts.number("density"), maskable: maskable,
                    head: head, kind: kind, baseName: try opts.string("base") ?? "extracted"))
            return 1
        }
        lib.def(
            "load", "sft.load(path)", "Reads a SparseDiff saved by d:save(path) (safetensors, docs/formats.md).",
            example: """
                local d = sft.extract({w = tensor.zeros(4)}, {w = tensor.from{0, 2, 0, 1}})
                local path = os.tmpname()
                d:save(path)
                print(sft.load(path):nnz())
                os.remove(path)
                """
        ) { s in
            s.push(try SparseDiff.load(from: try s.checkString(1, "sft.load")))
            return 1
        }
        lua_setglobal(L, "sft")
    }

    private func kind(_ opts: LuaOptions, _ fn: String) throws -> SparseDiffKind? {
        guard let name = try opts.string("kind") else { return nil }
        guard let kind = SparseDiffKind(rawValue: name) else {
            throw LuaError.argument(1, fn, "option 'kind' must be \"language\", \"task\" or \"other\", got \"\(name)\"")
        }
        return kind
    }

    private func sftTrain(_ s: LuaStack) throws -> Int32 {
        let fn = "sft.train", L = s.L
        guard lua_type(L, 1) == LUA_TTABLE else { throw LuaError.argument(1, fn, "options table expected, got \(s.typeName(1))") }
        let opts = try s.options(
            1, fn,
            allowed: [
                "k", "density", "full_steps", "sparse_steps", "lr", "weight_decay", "l1", "l1_full", "l1_sparse", "selection", "kind",
                "iterations", "head", "seed", "base", "source_key",
            ] + fitOptions, raw: ["model", "maskable", "freeze", "sources"] + fitCallbacks)
        lua_settop(L, 1)
        lua_getfield(L, 1, "model")
        guard let model = s.module(at: -1) else { throw LuaError.argument(1, fn, "option 'model' must be a module, got \(s.typeName(-1))") }
        lua_settop(L, 1)
        var o = LotteryTicketOptions()
        o.k = try opts.int("k")
        o.density = try opts.number("density")
        if o.k != nil && o.density != nil { throw LuaError.argument(1, fn, "give k or density, not both") }
        o.lr = try opts.number("lr") ?? o.lr
        o.weightDecay = try opts.number("weight_decay") ?? 0
        let l1 = try opts.number("l1") ?? 0
        o.l1Full = try opts.number("l1_full") ?? l1
        o.l1Sparse = try opts.number("l1_sparse") ?? l1
        o.iterations = try opts.int("iterations") ?? 1
        o.keepHead = try opts.bool("head")
        o.seed = UInt64(truncatingIfNeeded: try opts.int("seed") ?? 0)
        o.baseName = try opts.string("base")
        o.kind = try kind(opts, fn)
        if let name = try opts.string("selection") {
            guard let sel = LotteryTicketOptions.Selection(rawValue: name) else {
                throw LuaError.argument(1, fn, "option 'selection' must be \"lottery_ticket\" or \"random\", got \"\(name)\"")
            }
            o.selection = sel
        }
        for key in ["maskable", "freeze"] {
            lua_getfield(L, 1, key)
            if !s.isNoneOrNil(-1) {
                let list = try s.stringList(-1, fn, key)
                if key == "maskable" { o.maskable = list } else { o.freeze = list }
            }
            lua_settop(L, 1)
        }
        guard let fullSteps = try opts.int("full_steps"), fullSteps >= 1 else {
            throw LuaError.argument(1, fn, "option 'full_steps' (a positive integer: steps of full fine-tuning) is required")
        }
        guard let sparseSteps = try opts.int("sparse_steps"), sparseSteps >= 1 else {
            throw LuaError.argument(1, fn, "option 'sparse_steps' (a positive integer: steps of sparse fine-tuning) is required")
        }
        let logEvery = try opts.int("log_every")
        try checkSources(s, fn)
        let trainer = try LotteryTicketTrainer(model: model, options: o)
        defer { trainer.restoreTrainability() }
        lua_createtable(L, 0, 2)
        let histories = lua_gettop(L)
        let sources = try multiSource(s, sourceKey: try opts.string("source_key") ?? "source")
        lua_createtable(L, Int32(o.iterations), 0)
        lua_setfield(L, histories, "full")
        lua_createtable(L, Int32(o.iterations), 0)
        lua_setfield(L, histories, "sparse")
        let rounds = o.iterations > 1 ? " (iteration %d of \(o.iterations))" : ""
        for it in 0..<o.iterations {
            let saved = try trainer.snapshot()
            let round = rounds.isEmpty ? "" : rounds.replacingOccurrences("%d", "\(it + 1)")
            if logEvery != 0 {
                try say(
                    L,
                    "\(fn): phase 1, full fine-tuning of \(trainer.maskableCount + trainer.dense.reduce(0) { $0 + $1.tensor.numel }) entries for \(fullSteps) steps\(round)"
                )
            }
            try fitPhase(
                s, trainer.fullPhaseOptimizer(), steps: fullSteps, into: histories, "full", phase: "phase 1", sources: sources)
            let budget = trainer.budget(iteration: it)
            try trainer.select(budget)
            try trainer.rewind(to: saved)
            if logEvery != 0 {
                let how = o.selection == .random ? "random" : "most changed"
                try say(
                    L,
                    "\(fn): phase 2, sparse fine-tuning of \(trainer.selectedCount) \(how) entries (\(cFormat("%.2f", 100 * Double(trainer.selectedCount) / Double(trainer.maskableCount)))% of \(trainer.maskableCount)) after rewinding, for \(sparseSteps) steps\(round)"
                )
            }
            try fitPhase(
                s, trainer.sparsePhaseOptimizer(), steps: sparseSteps, into: histories, "sparse", phase: "phase 2",
                sources: sources)
        }
        let diff = try trainer.diff(notes: ["full_steps": "\(fullSteps)", "sparse_steps": "\(sparseSteps)"])
        s.push(diff)
        lua_pushvalue(L, histories)
        return 2
    }

    /// Checks option `sources` of the options table at 1: nil, or a table name -> SparseDiff.
    private func checkSources(_ s: LuaStack, _ fn: String) throws {
        let L = s.L
        defer { lua_settop(L, 1) }
        lua_getfield(L, 1, "sources")
        if s.isNoneOrNil(-1) { return }
        guard lua_type(L, -1) == LUA_TTABLE else {
            throw LuaError.argument(1, fn, "option 'sources' must be a table name -> SparseDiff, got \(s.typeName(-1))")
        }
        lua_pushnil(L)
        while lua_next(L, -2) != 0 {
            defer { lua_settop(L, -2) }
            guard s.sparseDiff(at: -1) != nil else {
                throw LuaError.argument(1, fn, "option 'sources' must hold SparseDiffs, one is a \(s.typeName(-1))")
            }
        }
    }

    /// With option `sources`: pushes the multi-source data function and its `done`, and returns
    /// their stack indices; nil (nothing pushed) without it.
    private func multiSource(_ s: LuaStack, sourceKey: String) throws -> (data: Int32, done: Int32)? {
        let L = s.L
        lua_getfield(L, 1, "sources")
        let given = !s.isNoneOrNil(-1)
        lua_settop(L, -2)
        guard given else { return nil }
        lua_getfield(L, luashim_registryindex(), multiSourceKey)
        lua_getfield(L, 1, "data")
        lua_getfield(L, 1, "sources")
        s.push(sourceKey)
        lua_getfield(L, 1, "model")
        if luashim_pcall(L, 4, 2, 0) != LUA_OK { throw LuaCalleeError() }
        let top = lua_gettop(L)
        return (top - 1, top)
    }

    /// Runs nn.fit with the user's options (model, data, loss, eval, ...), `optimizer` and
    /// `steps`, and appends its history to histories[key]. A Ctrl-C in it stops sft.train. With
    /// `sources`, the batches come through the multi-source data function, and the last source
    /// SFT is taken out afterwards (after a failure too).
    private func fitPhase(
        _ s: LuaStack, _ optimizer: Optimizer, steps: Int, into histories: Int32, _ key: String, phase: String,
        sources: (data: Int32, done: Int32)?
    ) throws {
        let L = s.L
        _ = luashim_getglobal(L, "nn")
        lua_getfield(L, -1, "fit")
        lua_rotate(L, -2, 1)
        lua_settop(L, -2)
        lua_createtable(L, 0, 12)
        for field in ["model"] + fitCallbacks + fitOptions {
            lua_getfield(L, 1, field)
            lua_setfield(L, -2, field)
        }
        if let sources {
            lua_pushvalue(L, sources.data)
            lua_setfield(L, -2, "data")
        }
        s.push(optimizer)
        lua_setfield(L, -2, "optimizer")
        s.push(steps)
        lua_setfield(L, -2, "steps")
        let status = luashim_pcall(L, 1, 1, 0)
        if let sources {
            lua_pushvalue(L, sources.done)
            if luashim_pcall(L, 0, 0, 0) != LUA_OK {
                if status != LUA_OK { lua_settop(L, -2) }
                throw LuaCalleeError()
            }
        }
        if status != LUA_OK { throw LuaCalleeError() }
        lua_getfield(L, -1, "interrupted")
        let interrupted = lua_toboolean(L, -1) != 0
        lua_settop(L, -2)
        lua_getfield(L, histories, key)
        lua_rotate(L, -2, 1)
        lua_rawseti(L, -2, lua_Integer(lua_rawlen(L, -2) + 1))
        lua_settop(L, -2)
        if interrupted { throw LuaError("sft.train: interrupted (Ctrl-C) in \(phase); the model holds the weights reached so far") }
    }

    /// one line through the global print (notebooks capture it)
    private func say(_ L: OpaquePointer, _ text: String) throws {
        _ = luashim_getglobal(L, "print")
        LuaStack(L).push(text)
        if luashim_pcall(L, 1, 0, 0) != LUA_OK { throw LuaCalleeError() }
    }
}

extension String {
    fileprivate func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
