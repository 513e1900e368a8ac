// SpielLibrary: the `spiel` Lua library: SpIEL sparse fine-tuning (Ansell et al. 2024) of a model
// whose base may stay 4-bit. spiel.wrap puts sparse deltas on the target layers and returns a
// Spiel handle; spiel.train runs nn.fit with SftAdamW (AG) or SftSM3 (MA) and the selector
// stepping after every update; the handle exports a SparseDiff, merges, saves and shows stats.

import CLua
import LuaShim
import TesseraMethods
import TesseraNN
import TesseraTensor

let spielMetatableName = "tessera.Spiel"
let spielMethodsName = "tessera.Spiel.methods"
nonisolated(unsafe) let spielMetatableKey = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
nonisolated(unsafe) let spielMethodsKey = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

/// A SpielModel with its regrowth rule, and the optimizer and selector of its training.
final class SpielHandle {
    let spiel: SpielModel
    var regrowth: SpielSelector.Regrowth
    var optimizer: Optimizer?
    var selector: SpielSelector?
    /// each selection's event, over every spiel.train call
    var events: [SpielSelector.Event] = []

    init(_ spiel: SpielModel, _ regrowth: SpielSelector.Regrowth) { (self.spiel, self.regrowth) = (spiel, regrowth) }

    /// bytes of trainable state: values + indices + optimizer state (SftAdamW: age, m, v per
    /// entry; SftSM3: row and column accumulators)
    var trainableStateBytes: Int {
        let k = spiel.k
        switch regrowth {
        case .gradient: return 4 * k + 4 * k + 12 * k
        case .momentum: return 4 * k + 4 * k + 4 * spiel.layers.reduce(0) { $0 + $1.layer.inFeatures + $1.layer.outFeatures }
        }
    }

    var description: String {
        let kind = regrowth == .gradient ? "AG" : "MA"
        return "Spiel(\(kind), \(spiel.layers.count) layers, k: \(spiel.k) of \(spiel.targetNumel), \(events.count) selection(s))"
    }
}

/// the training spiel.train is running: its selector, and the user's on_step (a registry ref)
private struct ActiveSpielTraining {
    let handle: SpielHandle
    let userOnStep: Int32?
    let log: Bool
}
nonisolated(unsafe) private var activeTrainings: [ActiveSpielTraining] = []

extension LuaStack {
    func spielHandle(at i: Int32) -> SpielHandle? { retainedObject(at: i, metatable: spielMetatableKey, as: SpielHandle.self) }

    func checkSpiel(_ i: Int32, _ fn: String) throws -> SpielHandle {
        guard let h = spielHandle(at: i) else { throw LuaError.argument(i, fn, "Spiel handle (from spiel.wrap) expected, got \(typeName(i))") }
        return h
    }

    func push(_ h: SpielHandle) { pushRetained(h, metatable: spielMetatableKey) }

    /// the optional `targets` field of the options table at i (a string or a list of strings)
    func targetModules(_ i: Int32, _ fn: String, default d: TargetModules = .llama) throws -> TargetModules {
        guard !isNoneOrNil(i) else { return d }
        lua_getfield(L, i, "targets")
        defer { lua_settop(L, -2) }
        if isNoneOrNil(-1) { return d }
        return TargetModules(try stringList(-1, fn, "targets"))
    }

    func push(_ e: SpielSelector.Event) {
        pushRecord([("step", e.step), ("rate", e.rate), ("planned", e.planned), ("replaced", e.replaced), ("collisions", e.collisions)])
        lua_createtable(L, Int32(e.turnover.count), 0)
        for (j, t) in e.turnover.enumerated() {
            push(t)
            lua_rawseti(L, -2, lua_Integer(j + 1))
        }
        lua_setfield(L, -2, "turnover")
    }
}

private let spielExampleSetup = """
    tensor.manual_seed(0)
    local config = {vocab_size = 16, hidden_size = 8, num_hidden_layers = 1, num_attention_heads = 2,
      intermediate_size = 16, max_position_embeddings = 16}
    local m = nn.DecoderForCausalLM(config)
    local d = spiel.wrap(m, {match_lora_rank = 1})

    """

extension LuaRuntime {
    /// the spiel library, its LoRA baselines (lora) and instruction data (instruct)
    func openSpielLibrary() {
        openLoRALibrary()
        openInstructLibrary()
        openSpielMetatable()
        lua_createtable(L, 0, 4)
        let lib = LibraryBuilder(self, prefix: "spiel", qualifiedErrors: true)
        Help.addTopic(
            "spiel",
            """
            spiel: SpIEL sparse fine-tuning (Ansell et al. 2024). Each target linear layer keeps its frozen
            base (f32, GGUF 4-bit as models.load({quantized=true}) gives it, or NF4 from lora.quantize) and
            gains a sparse delta: k trainable values at k positions. Training updates the values, and every
            20 updates drops the smallest |δ| and regrows positions by accumulated gradients (SpIEL-AG,
            regrow="gradient") or by SM3's row/column statistics (SpIEL-MA, regrow="momentum").
            spiel.wrap puts the deltas on; spiel.train trains; the handle (help("Spiel")) exports, merges
            and saves them. examples/spiel.lua compares AG, MA, LoRA and a fixed random mask.
            """)
        lib.def(
            "wrap", "spiel.wrap(model, {density= | count= | match_lora_rank= [, targets=, regrow=, seed=]})",
            "Puts sparse deltas on the model's target linear layers (everything else frozen); returns a Spiel handle.",
            details: """
                Budget: density (of all model parameters, embeddings included, as the reference counts),
                count (total trainable values) or match_lora_rank = r (r · Σ(in + out) over the targets, LoRA's
                count at rank r). Each layer gets a share proportional to its size, at positions drawn uniformly.
                targets: module names (default the LLaMA projections q/k/v/o_proj, gate/up/down_proj) or globs.
                regrow: "gradient" (SpIEL-AG, default) or "momentum" (SpIEL-MA). The wrapped model starts
                equal to the base.
                """,
            example: spielExampleSetup + "print(d:k(), #d:stats())"
        ) { s in
            let fn = "spiel.wrap"
            let model = try s.checkModule(1, fn)
            let opts = try s.options(2, fn, allowed: ["density", "count", "match_lora_rank", "regrow", "seed"], raw: ["targets"])
            let given = ["density", "count", "match_lora_rank"].filter { opts.values[$0] != nil }
            guard given.count == 1 else { throw LuaError.argument(2, fn, "give exactly one of density, count or match_lora_rank") }
            let budget: SpielBudget
            if let d = try opts.number("density") {
                budget = .density(d)
            } else if let n = try opts.int("count") {
                budget = .count(n)
            } else {
                budget = .matchLoRARank(try opts.int("match_lora_rank") ?? 0)
            }
            let regrowth = try self.regrowthOption(opts, fn)
            let generator = try opts.int("seed").map { Generator(seed: UInt64(truncatingIfNeeded: $0)) } ?? .shared
            let spiel = try SpielModel(wrapping: model, budget: budget, targets: try s.targetModules(2, fn), generator: generator)
            s.push(SpielHandle(spiel, regrowth))
            return 1
        }
        lib.def(
            "train",
            "spiel.train({model=, delta=, data=, loss=, steps= [, lr=, weight_decay=, warmup=, reselect=, reselection_steps=, accumulation_steps=, rate=, policy=, accumulate=, eval=, eval_every=, log_every=, on_step=, clip_grad_norm=]})",
            "Trains the deltas with nn.fit and SpIEL's selection schedule; returns nn.fit's history with a selections list.",
            details: """
                The optimizer is SftAdamW (AG: lr default 1e-4, betas 0.9/0.999, eps 1e-6) or SftSM3 (MA: lr
                default 1e-3, eps 1e-8); weight_decay pulls deltas toward 0 (toward the base). warmup: fraction
                of steps of linear warm-up, then linear decay (the paper's schedule; default 0 = constant).
                Selections happen after updates 5, 25, 45, ... (accumulation_steps, reselection_steps); the first
                replaces every delta, later ones a fraction rate·(1 - t/steps) (policy "linear", rate 0.2) or
                rate·(1 + cos(πt/steps))/2 ("cosine"). reselect = false keeps the initial random positions
                (the fixed-mask control). Every selection is checked (k distinct in-range indices per layer) and
                logged unless log_every = 0. The other options are nn.fit's. Calling it again continues the run
                with the same optimizer and selector.
                """,
            example: spielExampleSetup + """
                local ids = tensor.randint(0, 15, {2, 8})
                local function loss(model, b) return nn.cross_entropy(model(b):narrow(2, 1, 7), b:narrow(2, 2, 7)) end
                local h = spiel.train{model = m, delta = d, data = {ids}, loss = loss, steps = 6, lr = 1e-2, log_every = 0}
                print(#h.loss, #h.selections, h.selections[1].rate)
                """
        ) { s in
            try self.spielTrain(s)
        }
        lib.def(
            "load", "spiel.load(path, model [, {regrow=}])",
            "Puts the deltas saved by d:save(path) on the model (same layer paths); returns a Spiel handle.",
            example: spielExampleSetup + """
                local path = os.tmpname()
                d:save(path)
                local d2 = spiel.load(path, nn.DecoderForCausalLM(config))
                print(d2:k() == d:k())
                os.remove(path)
                """
        ) { s in
            let fn = "spiel.load"
            let path = try s.checkString(1, fn)
            let model = try s.checkModule(2, fn)
            let opts = try s.options(3, fn, allowed: ["regrow"])
            s.push(SpielHandle(try SpielModel(loading: path, into: model), try self.regrowthOption(opts, fn)))
            return 1
        }
        pushFunction("spiel.train") { s in try self.spielOnStep(s) }
        lua_setfield(L, luashim_registryindex(), "tessera.spiel.on_step")
        lua_setglobal(L, "spiel")
    }

    private func regrowthOption(_ opts: LuaOptions, _ fn: String) throws -> SpielSelector.Regrowth {
        let name = try opts.string("regrow") ?? "gradient"
        guard let r = SpielSelector.Regrowth(rawValue: name) else {
            throw LuaError.argument(opts.arg, fn, "option 'regrow' must be \"gradient\" (SpIEL-AG) or \"momentum\" (SpIEL-MA), got \"\(name)\"")
        }
        return r
    }

    private func spielTrain(_ s: LuaStack) throws -> Int32 {
        let fn = "spiel.train", L = s.L
        guard lua_type(L, 1) == LUA_TTABLE else { throw LuaError.argument(1, fn, "options table expected, got \(s.typeName(1))") }
        let fitNumbers = ["steps", "accumulate", "eval_every", "clip_grad_norm", "log_every"]
        let opts = try s.options(
            1, fn,
            allowed: ["lr", "weight_decay", "warmup", "reselect", "reselection_steps", "accumulation_steps", "rate", "policy"] + fitNumbers,
            raw: ["model", "delta", "data", "loss", "eval", "on_step"])
        lua_getfield(L, 1, "delta")
        guard let handle = s.spielHandle(at: -1) else { throw LuaError.argument(1, fn, "option 'delta' must be a Spiel handle (spiel.wrap)") }
        lua_settop(L, 1)
        guard let steps = try opts.int("steps"), steps >= 1 else { throw LuaError.argument(1, fn, "option 'steps' (a positive integer) is required") }
        let ag = handle.regrowth == .gradient
        if handle.optimizer == nil {
            let lr = try opts.number("lr") ?? (ag ? 1e-4 : 1e-3)
            let wd = try opts.number("weight_decay") ?? 0
            let layers = handle.spiel.layers
            let opt: Optimizer =
                ag
                ? try SftAdamW(layers.map { ($0.path + ".values", $0.layer.values) }, lr: lr, weightDecay: wd)
                : try SftSM3(layers.map(\.layer), names: layers.map { $0.path + ".values" }, lr: lr, weightDecay: wd)
            if let w = try opts.number("warmup") {
                guard (0..<1).contains(w) else { throw LuaError.argument(1, fn, "option 'warmup' must be a fraction in [0, 1), got \(w)") }
                opt.schedule = .linear(warmup: Int(w * Double(steps)), total: steps)
            }
            handle.optimizer = opt
        }
        let reselect = try opts.bool("reselect") ?? true
        if handle.selector == nil && reselect {
            let policy = try SpielSelector.RatePolicy(rawValue: opts.string("policy") ?? "linear")
            guard let policy else { throw LuaError.argument(1, fn, "option 'policy' must be \"linear\" or \"cosine\"") }
            handle.selector = try SpielSelector(
                handle.spiel, regrowth: handle.regrowth, optimizer: handle.optimizer!, totalUpdateSteps: steps,
                reselectionSteps: try opts.int("reselection_steps") ?? 20, accumulationSteps: try opts.int("accumulation_steps") ?? 5,
                initialRate: try opts.number("rate") ?? 0.2, policy: policy, gradientAccumulationSteps: try opts.int("accumulate") ?? 1)
        }
        // nn.fit({...}) with our optimizer and on_step
        _ = luashim_getglobal(L, "nn")
        lua_getfield(L, -1, "fit")
        lua_rotate(L, -2, 1)
        lua_settop(L, -2)
        lua_createtable(L, 0, 12)
        for field in ["model", "data", "loss", "eval"] + fitNumbers {
            lua_getfield(L, 1, field)
            lua_setfield(L, -2, field)
        }
        s.push(handle.optimizer!)
        lua_setfield(L, -2, "optimizer")
        lua_getfield(L, luashim_registryindex(), "tessera.spiel.on_step")
        lua_setfield(L, -2, "on_step")
        lua_getfield(L, 1, "on_step")
        let userRef: Int32? = lua_type(L, -1) == LUA_TFUNCTION ? luaL_ref(L, luashim_registryindex()) : nil
        if userRef == nil { lua_settop(L, -2) }
        activeTrainings.append(ActiveSpielTraining(handle: handle, userOnStep: userRef, log: try opts.int("log_every") != 0))
        let before = handle.events.count
        let status = luashim_pcall(L, 1, 1, 0)
        activeTrainings.removeLast()
        if let userRef { luaL_unref(L, luashim_registryindex(), userRef) }
        if status != LUA_OK { throw LuaCalleeError() }
        lua_createtable(L, Int32(handle.events.count - before), 0)
        for (j, e) in handle.events[before...].enumerated() {
            s.push(e)
            lua_rawseti(L, -2, lua_Integer(j + 1))
        }
        lua_setfield(L, -2, "selections")
        return 1
    }

    /// nn.fit's on_step inside spiel.train: the selector's step, then the user's on_step
    private func spielOnStep(_ s: LuaStack) throws -> Int32 {
        guard let active = activeTrainings.last else { return 0 }
        if let selector = active.handle.selector, let event = try selector.step() {
            active.handle.events.append(event)
            if active.log {
                _ = luashim_getglobal(s.L, "print")
                s.push("spiel: " + event.summary)
                if luashim_pcall(s.L, 1, 0, 0) != LUA_OK { throw LuaCalleeError() }
            }
        }
        guard let ref = active.userOnStep else { return 0 }
        lua_rawgeti(s.L, luashim_registryindex(), lua_Integer(ref))
        lua_pushvalue(s.L, 1)
        if luashim_pcall(s.L, 1, 1, 0) != LUA_OK { throw LuaCalleeError() }
        return 1
    }

    private func openSpielMetatable() {
        newRetainedMetatable(spielMetatableName, key: spielMetatableKey, shownAs: "Spiel")
        setFunction("__tostring", qualifiedName: "tostring") { s in
            s.push(try s.checkSpiel(1, "tostring").description)
            return 1
        }
        setMethodIndex(methodsKey: spielMethodsKey, qualifiedName: "index") { s in s.pushNil() }
        lua_settop(L, -2)
        openMethodTable(key: spielMethodsKey, registryName: spielMethodsName) { openSpielMethods() }
    }

    private func openSpielMethods() {
        let m = LibraryBuilder(self, prefix: "Spiel", methods: true)
        Help.addTopic(
            "Spiel",
            """
            Spiel methods (the handle spiel.wrap returns), called as d:name(...): sizes and stats, the
            selections so far, the deltas as a SparseDiff, merging into the base, saving.
            """)
        m.def("k", "d:k()", "Total number of trainable delta values.", example: spielExampleSetup + "print(d:k())") { s in
            s.push(try s.checkSpiel(1, "k").spiel.k)
            return 1
        }
        m.def(
            "state_bytes", "d:state_bytes()",
            "Bytes of trainable state: values and indices plus the optimizer's (AG: 20 per value: f32 value, i32 index, age and two moments; MA: values, indices and SM3's accumulators).",
            example: spielExampleSetup + "print(d:state_bytes() / d:k())"
        ) { s in
            s.push(try s.checkSpiel(1, "state_bytes").trainableStateBytes)
            return 1
        }
        m.def(
            "optimizer", "d:optimizer()",
            "The optimizer spiel.train made (SftAdamW for AG, SftSM3 for MA), or nil before training: its state_dict() saves the moments or accumulators.",
            example: spielExampleSetup + """
                local ids = tensor.randint(0, 15, {2, 8})
                local function loss(model, b) return nn.cross_entropy(model(b):narrow(2, 1, 7), b:narrow(2, 2, 7)) end
                spiel.train{model = m, delta = d, data = {ids}, loss = loss, steps = 1, log_every = 0}
                local opt = d:optimizer()
                opt:load_state_dict(opt:state_dict())
                print(opt)
                """
        ) { s in
            if let o = try s.checkSpiel(1, "optimizer").optimizer { s.push(o) } else { s.pushNil() }
            return 1
        }
        m.def(
            "stats", "d:stats()",
            "Per-layer rows {path=, k=, numel=, density=, mean_abs=, turnover=} (turnover: fraction replaced at the last selection).",
            example: spielExampleSetup + "local st = d:stats()\nprint(st[1].path, st[1].k, st[1].density)"
        ) { s in
            let h = try s.checkSpiel(1, "stats")
            let rows = try h.spiel.stats()
            let last = h.events.last?.turnover
            lua_createtable(s.L, Int32(rows.count), 0)
            for (j, r) in rows.enumerated() {
                s.pushRecord([
                    ("path", r.path), ("k", r.k), ("numel", r.numel), ("density", r.density), ("mean_abs", r.meanAbs),
                    ("turnover", last?[j] ?? 0.0),
                ])
                lua_rawseti(s.L, -2, lua_Integer(j + 1))
            }
            return 1
        }
        m.def(
            "selections", "d:selections()", "Every selection so far: {step=, rate=, planned=, replaced=, collisions=, turnover={...}}.",
            example: spielExampleSetup + "print(#d:selections())"
        ) { s in
            let h = try s.checkSpiel(1, "selections")
            lua_createtable(s.L, Int32(h.events.count), 0)
            for (j, e) in h.events.enumerated() {
                s.push(e)
                lua_rawseti(s.L, -2, lua_Integer(j + 1))
            }
            return 1
        }
        m.def(
            "diff", "d:diff()", "The deltas as a SparseDiff on the base weights (<layer>.weight), composable with sft diffs.",
            example: spielExampleSetup + "print(d:diff():nnz() == d:k())"
        ) { s in
            s.push(try s.checkSpiel(1, "diff").spiel.diff())
            return 1
        }
        m.def(
            "merge", "d:merge()",
            "Replaces every delta layer by a plain Linear holding W0 + Δ (a 4-bit base is dequantised); returns the model.",
            example: spielExampleSetup + "local merged = d:merge()\nprint(merged == m)"
        ) { s in
            s.push(try s.checkSpiel(1, "merge").spiel.mergeAndUnload())
            return 1
        }
        m.def(
            "save", "d:save(path)", "Writes the deltas (values f32, indices i64 per layer) to a safetensors file; spiel.load reads it.",
            example: spielExampleSetup + "local path = os.tmpname()\nd:save(path)\nos.remove(path)"
        ) { s in
            let h = try s.checkSpiel(1, "save")
            try h.spiel.save(to: try s.checkString(2, "save"), notes: ["regrow": h.regrowth.rawValue])
            return 0
        }
    }
}
