// OptimLibrary: the `optim` Lua library: SGD, Adam and AdamW over a module, a table of tensors or
// parameter groups; learning-rate schedules as plain tables; gradient clipping.

import CLua
import LuaShim
import TesseraNN
import TesseraTensor

/// the options every optimizer reads, and the ones each adds
private let commonOptions = ["lr", "weight_decay"]
private let sgdOptions = commonOptions + ["momentum", "dampening", "nesterov"]
private let adamOptions = commonOptions + ["eps"]

extension LuaStack {
    /// The parameters named by the value at i: a module (its trainable parameters, by dotted
    /// name), a tensor, a list of tensors (named by position over all groups: "1", "2", ...) or a
    /// table name -> tensor (as m:parameters() gives).
    func namedParameters(_ i: Int32, _ fn: String, arg: Int32, counter: inout Int) throws -> [(name: String, tensor: Tensor)] {
        if let m = module(at: i) { return m.trainableParameters() }
        if let t = tensor(at: i) {
            counter += 1
            return [(String(counter), t)]
        }
        guard lua_type(L, i) == LUA_TTABLE else {
            throw LuaError.argument(arg, fn, "module, tensor or table of tensors expected, got \(typeName(i))")
        }
        let t = lua_absindex(L, i)
        let n = Int(lua_rawlen(L, t))
        var out: [(name: String, tensor: Tensor)] = []
        if n > 0 {
            for k in 1...n {
                lua_rawgeti(L, t, lua_Integer(k))
                defer { lua_settop(L, -2) }
                guard let p = tensor(at: -1) else {
                    throw LuaError.argument(arg, fn, "element \(k) of the parameter list is a \(typeName(-1)), not a tensor")
                }
                counter += 1
                out.append((String(counter), p))
            }
            return out
        }
        return try tensorDictionary(t, fn, arg: arg).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

extension LuaRuntime {
    func openOptimLibrary() {
        lua_createtable(L, 0, 8)
        let lib = LibraryBuilder(self, prefix: "optim", qualifiedErrors: true)
        Help.addTopic(
            "optim",
            """
            optim: optimizers and learning-rate schedules. params is a module (its trainable
            parameters), a tensor, a list of tensors, a table name -> tensor, or a list of groups
            {{params = ..., lr = ...}, ...} whose options override the shared ones. A training step:
            loss:backward(); opt:step(); opt:zero_grad(). Methods: help("Optimizer").
            """)
        let sgdExample = "tensor.manual_seed(0)\nlocal m = nn.Linear(1, 1)\nlocal x = tensor.randn(16, 1)\nlocal y = x * 3 + 1\n"
        let fitLoop =
            "for step = 1, 200 do\n  local loss = nn.mse_loss(m(x), y)\n  loss:backward(); opt:step(); opt:zero_grad()\nend\nprint(m:parameters().weight, m:parameters().bias)"
        let groupsNote = """
            params: see help("optim"). Groups: {{params = m:module('encoder'), lr = 1e-5},
            {params = m:module('classifier')}}; with groups, state dict names start with the group
            number ("2.weight.exp_avg"). schedule (optim.schedule.*) scales every group's lr.
            """

        lib.def(
            "SGD", "optim.SGD(params [, {lr=, momentum=, dampening=, nesterov=, weight_decay=, schedule=}])",
            "Stochastic gradient descent with momentum (torch.optim.SGD); lr defaults to 1e-3.",
            details: groupsNote, example: sgdExample + "local opt = optim.SGD(m, {lr = 0.1, momentum = 0.9})\n" + fitLoop
        ) { s in
            let o = try self.makeOptimizer(s, "optim.SGD", allowed: sgdOptions, betas: false) { try SGD(groups: $0) }
            s.push(o)
            return 1
        }
        for (name, decoupled) in [("Adam", false), ("AdamW", true)] {
            lib.def(
                name, "optim.\(name)(params [, {lr=, betas={b1, b2}, eps=, weight_decay=, schedule=}])",
                decoupled
                    ? "Adam with decoupled weight decay (torch.optim.AdamW): lr 1e-3, betas {0.9, 0.999}, eps 1e-8, weight_decay 0.01 by default."
                    : "Adam (torch.optim.Adam), weight_decay as an L2 term: lr 1e-3, betas {0.9, 0.999}, eps 1e-8 by default.",
                details: groupsNote, example: sgdExample + "local opt = optim.\(name)(m, {lr = 0.1, betas = {0.9, 0.99}})\n" + fitLoop
            ) { s in
                let o = try self.makeOptimizer(
                    s, "optim." + name, allowed: adamOptions, betas: true,
                    weightDecay: decoupled ? 0.01 : 0
                ) { groups in
                    decoupled ? try AdamW(groups: groups) : try Adam(groups: groups)
                }
                s.push(o)
                return 1
            }
        }
        lib.def(
            "clip_grad_norm", "optim.clip_grad_norm(params, max_norm)",
            "Scales all gradients together so their global L2 norm is at most max_norm; returns the norm before.",
            details: "params is a module (all its parameters), an optimizer, a tensor or a table of tensors.",
            example: "local w = tensor.from{3.0, 4.0}:requires_grad(true)\n;(w * w):sum():backward()\nprint(optim.clip_grad_norm({w}, 1), w.grad)"
        ) { s in
            let fn = "optim.clip_grad_norm"
            let params: [Tensor]
            if let o = s.optimizer(at: 1) {
                params = o.parameters
            } else if let m = s.module(at: 1) {
                params = m.namedParameters().map(\.tensor)
            } else {
                var counter = 0
                params = try s.namedParameters(1, fn, arg: 1, counter: &counter).map(\.tensor)
            }
            s.push(try clipGradNorm(params, maxNorm: try s.checkNumber(2, fn)))
            return 1
        }
        lua_createtable(L, 0, 4)
        openSchedules()
        lua_setfield(L, -2, "schedule")
        lua_setglobal(L, "optim")
    }

    /// Reads params (argument 1) and options (argument 2) and builds the optimizer.
    private func makeOptimizer(
        _ s: LuaStack, _ fn: String, allowed: [String], betas: Bool, weightDecay: Double = 0,
        _ make: ([ParameterGroup]) throws -> Optimizer
    ) throws -> Optimizer {
        let raw = (betas ? ["betas"] : []) + ["schedule"]
        let opts = try s.options(2, fn, allowed: allowed, raw: raw)
        let shared = try optimizerOptions(s, opts, table: 2, fn, base: OptimizerOptions(lr: 1e-3, weightDecay: weightDecay))
        var groups: [ParameterGroup] = []
        var counter = 0
        if isGroupList(s, 1) {
            for k in 1...Int(lua_rawlen(s.L, 1)) {
                lua_rawgeti(s.L, 1, lua_Integer(k))
                defer { lua_settop(s.L, -2) }
                let g = lua_absindex(s.L, -1)
                guard lua_type(s.L, g) == LUA_TTABLE, s.tensor(at: g) == nil else {
                    throw LuaError.argument(1, fn, "group \(k) is a \(s.typeName(g)), not a table {params = ..., ...}")
                }
                let gopts = try s.options(g, fn, allowed: allowed, raw: (betas ? ["betas"] : []) + ["params"])
                lua_getfield(s.L, g, "params")
                defer { lua_settop(s.L, -2) }
                guard !s.isNoneOrNil(-1) else { throw LuaError.argument(1, fn, "group \(k) has no params") }
                let params = try s.namedParameters(-1, fn, arg: 1, counter: &counter)
                groups.append(ParameterGroup(params, try optimizerOptions(s, gopts, table: g, fn, base: shared)))
            }
            // names are unique within a group (two submodules both have `weight`): qualify them by
            // the group number, and catch a tensor given twice by its identity
            var seen: [ObjectIdentifier: String] = [:]
            for k in groups.indices {
                groups[k].parameters = groups[k].parameters.map { ("\(k + 1).\($0.name)", $0.tensor) }
                for (name, t) in groups[k].parameters {
                    if let first = seen.updateValue(name, forKey: ObjectIdentifier(t)) {
                        throw LuaError.argument(1, fn, "one tensor is in two groups ('\(first)' and '\(name)')")
                    }
                }
            }
        } else {
            groups = [ParameterGroup(try s.namedParameters(1, fn, arg: 1, counter: &counter), shared)]
        }
        guard groups.contains(where: { !$0.parameters.isEmpty }) else {
            throw LuaError.argument(1, fn, "no parameters to optimize (all frozen, or an empty table)")
        }
        let o = try make(groups)
        if lua_type(s.L, 2) == LUA_TTABLE {
            lua_getfield(s.L, 2, "schedule")
            defer { lua_settop(s.L, -2) }
            if !s.isNoneOrNil(-1) { o.schedule = try schedule(s, -1, fn, arg: 2, label: "option 'schedule'") }
        }
        return o
    }

    /// whether the table at i is a list of groups: its first element is a table with `params`
    private func isGroupList(_ s: LuaStack, _ i: Int32) -> Bool {
        guard lua_type(s.L, i) == LUA_TTABLE, s.tensor(at: i) == nil, s.module(at: i) == nil else { return false }
        guard lua_rawgeti(s.L, i, 1) == LUA_TTABLE, s.tensor(at: -1) == nil else {
            lua_settop(s.L, -2)
            return false
        }
        lua_getfield(s.L, -1, "params")
        let has = !s.isNoneOrNil(-1)
        lua_settop(s.L, -3)
        return has
    }

    /// `base` with the options of the table at `table` applied
    private func optimizerOptions(
        _ s: LuaStack, _ opts: LuaOptions, table: Int32, _ fn: String,
        base: OptimizerOptions
    ) throws -> OptimizerOptions {
        var o = base
        o.lr = try opts.number("lr") ?? o.lr
        o.weightDecay = try opts.number("weight_decay") ?? o.weightDecay
        o.momentum = try opts.number("momentum") ?? o.momentum
        o.dampening = try opts.number("dampening") ?? o.dampening
        o.nesterov = try opts.bool("nesterov") ?? o.nesterov
        o.eps = try opts.number("eps") ?? o.eps
        guard lua_type(s.L, table) == LUA_TTABLE else { return o }
        lua_getfield(s.L, table, "betas")
        defer { lua_settop(s.L, -2) }
        if !s.isNoneOrNil(-1) {
            let bad = LuaError.argument(opts.arg, fn, "option 'betas' must be a table of two numbers {b1, b2}")
            guard lua_type(s.L, -1) == LUA_TTABLE, lua_rawlen(s.L, -1) == 2 else { throw bad }
            var b: [Double] = []
            for k in 1...2 {
                lua_rawgeti(s.L, -1, lua_Integer(k))
                defer { lua_settop(s.L, -2) }
                guard let d = s.number(at: -1) else { throw bad }
                b.append(d)
            }
            (o.beta1, o.beta2) = (b[0], b[1])
        }
        return o
    }

    /// an optim.schedule table as an LRSchedule
    private func schedule(_ s: LuaStack, _ i: Int32, _ fn: String, arg: Int32, label: String) throws -> LRSchedule {
        let bad = { (what: String) in LuaError.argument(arg, fn, "\(label) \(what)") }
        guard lua_type(s.L, i) == LUA_TTABLE else { throw bad("must be an optim.schedule table, got a \(s.typeName(i))") }
        let t = lua_absindex(s.L, i)
        func field(_ key: String) -> Double? {
            lua_getfield(s.L, t, key)
            defer { lua_settop(s.L, -2) }
            return s.number(at: -1)
        }
        lua_getfield(s.L, t, "kind")
        let kind = s.string(at: -1)
        lua_settop(s.L, -2)
        let warmup = Int(field("warmup") ?? 0), total = Int(field("total") ?? 0)
        switch kind {
        case "constant": return .constant(warmup: warmup)
        case "linear": return .linear(warmup: warmup, total: total)
        case "cosine": return .cosine(warmup: warmup, total: total, minFactor: field("min_factor") ?? 0)
        default: throw bad("must be made by optim.schedule.constant, linear or cosine")
        }
    }

    /// optim.schedule.constant / linear / cosine (on the table at the top of the stack)
    private func openSchedules() {
        let lib = LibraryBuilder(self, prefix: "optim.schedule", qualifiedErrors: true)
        let details = """
            Returns a table {kind=, warmup=, total=, min_factor=} to pass as the schedule option of an
            optimizer; the learning rate ramps linearly from 0 over warmup steps (as Hugging Face's
            get_*_schedule_with_warmup). optim.schedule.factor(s, n) gives the factor after n steps.
            """
        func make(_ s: LuaStack, _ kind: String, allowed: [String]) throws -> Int32 {
            let fn = "optim.schedule." + kind
            let opts = try s.options(1, fn, allowed: allowed)
            let warmup = try opts.int("warmup") ?? 0
            guard warmup >= 0 else { throw LuaError.argument(1, fn, "warmup must be non-negative, got \(warmup)") }
            lua_createtable(s.L, 0, 4)
            s.push(kind)
            lua_setfield(s.L, -2, "kind")
            s.push(warmup)
            lua_setfield(s.L, -2, "warmup")
            if allowed.contains("total") {
                guard let total = try opts.int("total") else { throw LuaError.argument(1, fn, "option 'total' (the number of steps) is required") }
                guard total >= warmup, total > 0 else {
                    throw LuaError.argument(1, fn, "total (\(total)) must be positive and at least warmup (\(warmup))")
                }
                s.push(total)
                lua_setfield(s.L, -2, "total")
            }
            if allowed.contains("min_factor") {
                let f = try opts.number("min_factor") ?? 0
                guard (0...1).contains(f) else { throw LuaError.argument(1, fn, "min_factor must lie in [0, 1], got \(f)") }
                s.push(f)
                lua_setfield(s.L, -2, "min_factor")
            }
            return 1
        }
        lib.def(
            "constant", "optim.schedule.constant([{warmup=}])", "Factor 1 after warm-up.", details: details,
            example: "local s = optim.schedule.constant{warmup = 4}\nprint(optim.schedule.factor(s, 2), optim.schedule.factor(s, 10))"
        ) { s in
            try make(s, "constant", allowed: ["warmup"])
        }
        lib.def(
            "linear", "optim.schedule.linear({warmup=, total=})", "Warm-up, then linear decay to 0 at step total.", details: details,
            example: "local s = optim.schedule.linear{warmup = 10, total = 110}\nprint(optim.schedule.factor(s, 5), optim.schedule.factor(s, 60))"
        ) { s in
            try make(s, "linear", allowed: ["warmup", "total"])
        }
        lib.def(
            "cosine", "optim.schedule.cosine({warmup=, total=, min_factor=})",
            "Warm-up, then half a cosine down to min_factor (default 0) at step total.",
            details: details,
            example:
                "local s = optim.schedule.cosine{warmup = 0, total = 100, min_factor = 0.1}\nprint(optim.schedule.factor(s, 50), optim.schedule.factor(s, 100))"
        ) { s in
            try make(s, "cosine", allowed: ["warmup", "total", "min_factor"])
        }
        lib.def(
            "factor", "optim.schedule.factor(schedule, steps)", "The factor the learning rate is multiplied by after steps optimizer steps.",
            example: "print(optim.schedule.factor(optim.schedule.linear{total = 10}, 5))"
        ) { s in
            let sched = try self.schedule(s, 1, "optim.schedule.factor", arg: 1, label: "schedule")
            let n = try s.checkInt(2, "optim.schedule.factor")
            guard n >= 0 else { throw LuaError.argument(2, "optim.schedule.factor", "steps must be non-negative, got \(n)") }
            s.push(sched.factor(at: n))
            return 1
        }
    }
}
