// SftAdamW: AdamW with a per-element age, so each entry's bias correction counts its own updates
// (AlanAnsell/peft optimizer.py). SpIEL-AG regrows a delta with seeded moments and age (spec
// §1.5); the age makes the seeded moments read, after bias correction, as the window's mean g and
// g². Per update and element, with t = age + 1 stored back:
//   m = β1 m + (1-β1) g;  v = β2 v + (1-β2) g²
//   p -= lr · m / ((√v + ε) · (1-β1ᵗ) / √(1-β2ᵗ));  p -= lr · wd · p   (decay pulls deltas to 0)
// The reference increments the age after the step in its listing; the age must count the
// current update for the first step's correction to be finite, so it is incremented first.

import Foundation
import TesseraNN
import TesseraTensor

public final class SftAdamW: Optimizer {
    /// the state tensors by parameter identity (the same objects as the optimizer's state)
    private var moments: [ObjectIdentifier: (age: Tensor, m: Tensor, v: Tensor)] = [:]

    public init(
        _ parameters: [(name: String, tensor: Tensor)], lr: Double, beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-6,
        weightDecay: Double = 0
    ) throws {
        guard (0..<1).contains(beta1), (0..<1).contains(beta2), eps >= 0, weightDecay >= 0 else {
            throw TensorError("SftAdamW", "betas must lie in [0, 1), eps and weight decay be non-negative")
        }
        for (name, p) in parameters where p.dtype != .f32 {
            throw TensorError("SftAdamW", "needs f32 parameters, '\(name)' is \(p.dtype)")
        }
        try super.init(groups: [ParameterGroup(parameters, OptimizerOptions(lr: lr, weightDecay: weightDecay, beta1: beta1, beta2: beta2, eps: eps))])
    }

    public required override init(groups: [ParameterGroup]) throws { try super.init(groups: groups) }

    public override var stateNames: [String] { ["age", "exp_avg", "exp_avg_sq"] }

    /// age, exp_avg and exp_avg_sq of `p` (created at zero if it was never updated); writing
    /// into them changes the optimizer's state
    public func moments(for p: Tensor) throws -> (age: Tensor, m: Tensor, v: Tensor) {
        if let s = moments[ObjectIdentifier(p)] { return s }
        let s = (try Tensor.zeros(p.shape), try Tensor.zeros(p.shape), try Tensor.zeros(p.shape))
        moments[ObjectIdentifier(p)] = s
        return s
    }

    public override func update(_ p: Tensor, grad: Tensor, state: inout [String: Tensor], options o: OptimizerOptions, lr: Double) throws {
        // the optimizer's state wins (loadStateDict replaces it), then ours, then fresh zeros
        let s: (age: Tensor, m: Tensor, v: Tensor)
        if let a = state["age"], let m = state["exp_avg"], let v = state["exp_avg_sq"] {
            s = (a, m, v)
            moments[ObjectIdentifier(p)] = s
        } else {
            s = try moments(for: p)
        }
        (state["age"], state["exp_avg"], state["exp_avg_sq"]) = (s.age, s.m, s.v)
        let pp = p.mutablePointer(Float.self), gp = grad.pointer(Float.self)
        let ap = s.age.mutablePointer(Float.self), mp = s.m.mutablePointer(Float.self), vp = s.v.mutablePointer(Float.self)
        let (b1, b2, eps) = (Float(o.beta1), Float(o.beta2), Float(o.eps))
        let (lb1, lb2) = (log(o.beta1), log(o.beta2))
        let (step, keep) = (Float(lr), Float(1 - lr * o.weightDecay))
        Parallel.forRanges(p.numel, grain: 1 << 14) { r in
            for i in r {
                let t = Double(ap[i]) + 1
                ap[i] = Float(t)
                let g = gp[i]
                let m = b1 * mp[i] + (1 - b1) * g
                let v = b2 * vp[i] + (1 - b2) * g * g
                (mp[i], vp[i]) = (m, v)
                let bc1 = Float(-expm1(t * lb1)), bc2 = Float(-expm1(t * lb2))
                let w = pp[i] - step * m / ((v.squareRoot() + eps) * bc1 / bc2.squareRoot())
                pp[i] = keep * w
            }
        }
    }
}
