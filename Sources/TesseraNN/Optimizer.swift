// Optimizer: the shared machinery of SGD, Adam and AdamW: named parameter groups with their own
// options, the learning-rate schedule, zeroGrad, and state saved and loaded as named tensors.
// Subclasses supply one fused update per parameter (optimizer steps are bandwidth-bound:
// PERFORMANCE.md), reading each of p, grad and the state once.

import TesseraTensor

/// Hyper-parameters of a parameter group; each optimizer reads the ones it uses.
public struct OptimizerOptions: Sendable {
    public var lr: Double
    /// L2 penalty added to the gradient (SGD, Adam) or decoupled decay of the weights (AdamW)
    public var weightDecay: Double
    /// SGD: momentum factor, dampening of the new gradient, Nesterov's look-ahead
    public var momentum: Double
    public var dampening: Double
    public var nesterov: Bool
    /// Adam(W): decay rates of the first and second moment estimates, and the denominator's epsilon
    public var beta1: Double
    public var beta2: Double
    public var eps: Double

    public init(
        lr: Double, weightDecay: Double = 0, momentum: Double = 0, dampening: Double = 0, nesterov: Bool = false,
        beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8
    ) {
        (self.lr, self.weightDecay, self.momentum, self.dampening, self.nesterov) = (lr, weightDecay, momentum, dampening, nesterov)
        (self.beta1, self.beta2, self.eps) = (beta1, beta2, eps)
    }
}

/// Parameters (by their dotted names) that share options.
public struct ParameterGroup {
    public var parameters: [(name: String, tensor: Tensor)]
    public var options: OptimizerOptions

    public init(_ parameters: [(name: String, tensor: Tensor)], _ options: OptimizerOptions) {
        self.parameters = parameters
        self.options = options
    }
}

open class Optimizer {
    public var groups: [ParameterGroup]
    /// multiplies every group's lr by schedule.factor(step)
    public var schedule: LRSchedule = .constant()
    /// steps taken (the schedule's clock)
    public private(set) var stepCount = 0
    /// per-parameter state by parameter name, then by state name (`exp_avg`, `momentum_buffer`, `step`)
    var state: [String: [String: Tensor]] = [:]

    public init(groups: [ParameterGroup]) throws {
        var seen = Set<String>()
        for g in groups {
            for (name, t) in g.parameters {
                guard seen.insert(name).inserted else { throw TensorError("optimizer", "parameter '\(name)' is in two groups") }
                guard t.dtype.isFloatingPoint, t.isContiguous, t.isLeaf else {
                    throw TensorError("optimizer", "parameter '\(name)' must be a contiguous floating-point leaf")
                }
            }
            guard g.options.lr >= 0 else { throw TensorError("optimizer", "learning rate must be non-negative, got \(g.options.lr)") }
        }
        self.groups = groups
    }

    /// the state tensors one parameter keeps (saved and loaded by these names)
    open var stateNames: [String] { [] }

    /// Updates one parameter in place from its gradient. `lr` is the scheduled rate.
    /// p (shape), grad (shape, contiguous, p's dtype)
    open func update(_ p: Tensor, grad: Tensor, state: inout [String: Tensor], options: OptimizerOptions, lr: Double) throws {
        throw TensorError("optimizer", "\(type(of: self)) does not implement update")
    }

    /// The learning rate group `group` uses at the next step.
    public func learningRate(group: Int = 0) -> Double {
        groups[group].options.lr * schedule.factor(at: stepCount)
    }

    /// One update of every parameter that has a gradient (others, frozen or unused, are skipped).
    public func step() throws {
        let factor = schedule.factor(at: stepCount)
        try noGrad {
            for g in groups {
                for (name, p) in g.parameters {
                    guard let grad = p.grad else { continue }
                    guard grad.shape == p.shape else {
                        throw TensorError("optimizer", "gradient of '\(name)' has shape \(dimsString(grad.shape)), parameter \(dimsString(p.shape))")
                    }
                    var s = state[name] ?? [:]
                    try update(p, grad: grad.to(p.dtype).contiguous(), state: &s, options: g.options, lr: g.options.lr * factor)
                    state[name] = s
                }
            }
        }
        stepCount += 1
    }

    /// Clears the gradients of every parameter (set to nil, as torch's set_to_none).
    public func zeroGrad() {
        for g in groups { for (_, p) in g.parameters { p.grad = nil } }
    }

    /// Every parameter of every group.
    public var parameters: [Tensor] { groups.flatMap { $0.parameters.map(\.tensor) } }

    // MARK: - state as named tensors

    /// `<parameter>.<state name>` for each parameter's state, and `step` (the schedule's clock).
    open func stateDict() throws -> [String: Tensor] {
        var out: [String: Tensor] = ["step": try Tensor.scalar(Double(stepCount), dtype: .i64)]
        for (name, s) in state { for (key, t) in s { out["\(name).\(key)"] = t } }
        return out
    }

    /// Restores a stateDict(): every parameter's state must be complete and of the right shape;
    /// the tensors are copied so the caller's dict stays independent.
    open func loadStateDict(_ dict: [String: Tensor]) throws {
        guard let step = dict["step"] else { throw TensorError("optimizer_load", "state has no 'step'") }
        var loaded: [String: [String: Tensor]] = [:]
        var used = Set(["step"])
        for g in groups {
            for (name, p) in g.parameters {
                let present = stateNames.filter { dict["\(name).\($0)"] != nil }
                if present.isEmpty { continue }  // never updated
                var s: [String: Tensor] = [:]
                for key in stateNames {
                    guard let t = dict["\(name).\(key)"] else {
                        throw TensorError("optimizer_load", "state of '\(name)' lacks '\(key)'")
                    }
                    let expected = key == "step" ? [] : p.shape
                    guard t.shape == expected else {
                        throw TensorError("optimizer_load", "'\(name).\(key)' has shape \(dimsString(t.shape)), expected \(dimsString(expected))")
                    }
                    s[key] = try key == "step" ? t.to(.i64).clone() : t.to(p.dtype).clone()
                    used.insert("\(name).\(key)")
                }
                loaded[name] = s
            }
        }
        if let extra = dict.keys.first(where: { !used.contains($0) }) {
            throw TensorError("optimizer_load", "state '\(extra)' belongs to no parameter of this optimizer")
        }
        stepCount = Int(try step.item())
        state = loaded
    }
}

/// Runs `body(start, count)` over consecutive pieces of 0..<n on the cores when n is large
/// (per-piece loops are plain functions, so they vectorise; only the split goes through a closure).
func forChunks(_ n: Int, _ body: (Int, Int) -> Void) {
    Parallel.forRanges(n, grain: 1 << 16) { r in body(r.lowerBound, r.count) }
}
