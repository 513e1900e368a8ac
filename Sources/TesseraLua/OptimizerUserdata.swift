// OptimizerUserdata: a TesseraNN Optimizer (SGD, Adam, AdamW) in Lua, with the methods
// `opt:step()`, `opt:zero_grad()`, `opt:lr()`, state dicts and gradient clipping.

import CLua
import LuaShim
import TesseraNN
import TesseraTensor

let optimizerMetatableName = "tessera.Optimizer"
let optimizerMethodsName = "tessera.Optimizer.methods"
nonisolated(unsafe) let optimizerMetatableKey = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
nonisolated(unsafe) let optimizerMethodsKey = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

extension LuaStack {
    /// The optimizer at index i, or nil if the value is not one.
    public func optimizer(at i: Int32) -> Optimizer? {
        retainedObject(at: i, metatable: optimizerMetatableKey, as: Optimizer.self)
    }

    public func checkOptimizer(_ i: Int32, _ fn: String) throws -> Optimizer {
        guard let o = optimizer(at: i) else { throw LuaError.argument(i, fn, "optimizer expected, got \(typeName(i))") }
        return o
    }

    public func push(_ o: Optimizer) { pushRetained(o, metatable: optimizerMetatableKey) }

    /// A 1-based group number at i (default 1) as a 0-based index into o.groups.
    func groupIndex(_ i: Int32, _ fn: String, _ o: Optimizer) throws -> Int {
        let g = try optInt(i, fn, 1)
        guard g >= 1, g <= o.groups.count else {
            throw LuaError.argument(i, fn, "group \(g) out of range (the optimizer has \(o.groups.count) group(s), counted from 1)")
        }
        return g - 1
    }
}

/// `AdamW(lr: 0.001, 2 groups, 10 parameters)`
func optimizerDescription(_ o: Optimizer) -> String {
    let kind = o is AdamW ? "AdamW" : o is Adam ? "Adam" : o is SGD ? "SGD" : String(describing: type(of: o))
    let count = o.groups.reduce(0) { $0 + $1.parameters.count }
    let lrs = o.groups.indices.map { "\(o.learningRate(group: $0))" }.joined(separator: ", ")
    return "\(kind)(lr: \(lrs), \(o.groups.count) group(s), \(count) parameter(s), \(o.stepCount) step(s))"
}

extension LuaRuntime {
    func openOptimizerMetatable() {
        newRetainedMetatable(optimizerMetatableName, key: optimizerMetatableKey, shownAs: "optimizer")
        setFunction("__tostring", qualifiedName: "tostring") { s in
            s.push(optimizerDescription(try s.checkOptimizer(1, "tostring")))
            return 1
        }
        setMethodIndex(methodsKey: optimizerMethodsKey, qualifiedName: "index") { s in s.pushNil() }
        lua_settop(L, -2)
        openMethodTable(key: optimizerMethodsKey, registryName: optimizerMethodsName) { openOptimizerMethods() }
    }

    private func openOptimizerMethods() {
        let m = LibraryBuilder(self, prefix: "Optimizer", methods: true)
        Help.addTopic(
            "Optimizer",
            """
            Optimizer methods (optim.SGD, optim.Adam, optim.AdamW), called as opt:name(...). A training
            step is: loss:backward(); opt:step(); opt:zero_grad(). Groups count from 1.
            """)
        let example =
            "tensor.manual_seed(0)\nlocal m = nn.Linear(3, 1)\nlocal opt = optim.AdamW(m, {lr = 0.01})\nnn.mse_loss(m(tensor.randn(4, 3)), tensor.zeros(4, 1)):backward()\n"
        m.def(
            "step", "opt:step()", "Updates every parameter that has a gradient (frozen or unused ones are left as they are).",
            example: example + "opt:step()\nprint(opt:steps())"
        ) { s in
            try s.checkOptimizer(1, "step").step()
            return 0
        }
        m.def(
            "zero_grad", "opt:zero_grad()", "Clears the gradients of every parameter the optimizer updates.",
            example: example + "opt:zero_grad()\nprint(m:parameters().weight.grad)"
        ) { s in
            try s.checkOptimizer(1, "zero_grad").zeroGrad()
            return 0
        }
        m.def(
            "lr", "opt:lr([group])", "The learning rate the next step uses: the group's lr times the schedule's factor.",
            example: "local opt = optim.SGD(nn.Linear(2, 2), {lr = 0.1, schedule = optim.schedule.linear{warmup = 10, total = 100}})\nprint(opt:lr())"
        ) { s in
            let o = try s.checkOptimizer(1, "lr")
            s.push(o.learningRate(group: try s.groupIndex(2, "lr", o)))
            return 1
        }
        m.def(
            "set_lr", "opt:set_lr(lr [, group])", "Sets the base learning rate of a group (all groups without one).",
            example: "local opt = optim.SGD(nn.Linear(2, 2), {lr = 0.1})\nopt:set_lr(0.05)\nprint(opt:lr())"
        ) { s in
            let o = try s.checkOptimizer(1, "set_lr")
            let lr = try s.checkNumber(2, "set_lr")
            guard lr >= 0 else { throw LuaError.argument(2, "set_lr", "learning rate must be non-negative, got \(lr)") }
            let groups = s.isNoneOrNil(3) ? Array(o.groups.indices) : [try s.groupIndex(3, "set_lr", o)]
            for g in groups { o.groups[g].options.lr = lr }
            return 0
        }
        m.def(
            "steps", "opt:steps()", "Number of steps taken (the schedule's clock).",
            example: example + "opt:step()\nprint(opt:steps())"
        ) { s in
            s.push(try s.checkOptimizer(1, "steps").stepCount)
            return 1
        }
        m.def(
            "state_dict", "opt:state_dict()", "The optimizer's state as a table name -> tensor (copies).",
            details:
                "Keys are <parameter name>.<state> (exp_avg, exp_avg_sq, step, momentum_buffer; SpIEL's: age, or SM3's row and col accumulators) and step.",
            example: example + "opt:step()\nlocal sd = opt:state_dict()\nprint(sd.step, sd['weight.exp_avg'])"
        ) { s in
            let o = try s.checkOptimizer(1, "state_dict")
            let sd = try o.stateDict()
            s.push(tensors: try sd.keys.sorted().map { ($0, try sd[$0]!.clone()) })
            return 1
        }
        m.def(
            "load_state_dict", "opt:load_state_dict(dict)", "Restores a state_dict() of an optimizer over the same parameters.",
            example: example
                + "opt:step()\nlocal sd = opt:state_dict()\nlocal opt2 = optim.AdamW(m, {lr = 0.01})\nopt2:load_state_dict(sd)\nprint(opt2:steps())"
        ) { s in
            let o = try s.checkOptimizer(1, "load_state_dict")
            let dict = try s.tensorDictionary(2, "load_state_dict")
            try o.loadStateDict(dict)
            return 0
        }
        m.def(
            "clip_grad_norm", "opt:clip_grad_norm(max_norm)",
            "optim.clip_grad_norm over the optimizer's parameters; returns the norm before clipping.",
            example: example + "print(opt:clip_grad_norm(0.1))"
        ) { s in
            let o = try s.checkOptimizer(1, "clip_grad_norm")
            s.push(try o.clipGradNorm(maxNorm: try s.checkNumber(2, "clip_grad_norm")))
            return 1
        }
    }
}
