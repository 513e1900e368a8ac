// MaskedAdamW: AdamW whose masked parameters update only at their active positions, the
// optimizer of LT-SFT's sparse phase. The reference multiplies gradients by the mask and runs a
// dense Adam, which leaves masked entries bitwise at θ0 only while weight decay is 0; here the
// update, its moments and the decoupled decay touch active entries only, so masked entries never
// move whatever the decay, and the step costs O(K) instead of O(n). An optional L1 pull toward
// θ0 adds l1 · sign(p - θ0) to the gradient (the gradient of l1 · Σ|p - θ0|).

import TesseraNN
import TesseraTensor

#if canImport(Glibc)
    import Glibc
#endif

public final class MaskedAdamW: Optimizer {
    /// parameter (by identity) -> the flat positions it may change, increasing; absent = dense
    let active: [ObjectIdentifier: [Int64]]
    /// θ0 by parameter identity, for the L1 pull
    let reference: [ObjectIdentifier: Tensor]
    /// coefficient of sign(p - θ0) added to the gradient (already normalised by the caller)
    public let l1: Double

    /// `parameters` all train; those in `active` only at the given positions.
    public init(
        _ parameters: [(name: String, tensor: Tensor)], lr: Double, beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8,
        weightDecay: Double = 0, active: [ObjectIdentifier: [Int64]] = [:], reference: [ObjectIdentifier: Tensor] = [:],
        l1: Double = 0
    ) throws {
        guard (0..<1).contains(beta1), (0..<1).contains(beta2), eps >= 0, weightDecay >= 0, l1 >= 0 else {
            throw TensorError("sft.train", "betas must lie in [0, 1), and eps, weight decay and l1 be non-negative")
        }
        for (name, p) in parameters where p.dtype != .f32 {
            throw TensorError("sft.train", "sparse fine-tuning needs f32 parameters, '\(name)' is \(p.dtype)")
        }
        (self.active, self.reference, self.l1) = (active, reference, l1)
        try super.init(groups: [
            ParameterGroup(parameters, OptimizerOptions(lr: lr, weightDecay: weightDecay, beta1: beta1, beta2: beta2, eps: eps))
        ])
    }

    public required override init(groups: [ParameterGroup]) throws {
        (active, reference, l1) = ([:], [:], 0)
        try super.init(groups: groups)
    }

    public override var stateNames: [String] { ["step", "exp_avg", "exp_avg_sq"] }

    public override func update(_ p: Tensor, grad: Tensor, state: inout [String: Tensor], options o: OptimizerOptions, lr: Double) throws {
        let positions = active[ObjectIdentifier(p)]
        // moments hold one entry per position that moves
        let size = positions.map { [$0.count] } ?? p.shape
        let m = try state["exp_avg"] ?? Tensor.zeros(size)
        let v = try state["exp_avg_sq"] ?? Tensor.zeros(size)
        let step = ((try state["step"]?.item()).map { Int($0) } ?? 0) + 1
        state["exp_avg"] = m
        state["exp_avg_sq"] = v
        state["step"] = try Tensor.scalar(Double(step), dtype: .i64)
        let bc1 = 1 - pow(o.beta1, Double(step)), bc2 = 1 - pow(o.beta2, Double(step))
        let c = MaskedAdamConstants(
            stepSize: Float(lr / bc1), invSqrtBC2: Float(1 / bc2.squareRoot()), beta1: Float(o.beta1), beta2: Float(o.beta2),
            eps: Float(o.eps), keep: Float(1 - lr * o.weightDecay), l1: Float(l1))
        let pp = p.mutablePointer(Float.self), gp = grad.pointer(Float.self)
        let mp = m.mutablePointer(Float.self), vp = v.mutablePointer(Float.self)
        let ref = l1 > 0 ? reference[ObjectIdentifier(p)]?.pointer(Float.self) : nil
        if let positions {
            positions.withUnsafeBufferPointer { ib in
                guard let idx = ib.baseAddress else { return }
                Parallel.forRanges(ib.count, grain: 1 << 15) { r in
                    for j in r { adamEntry(pp, gp, Int(idx[j]), mp + j, vp + j, ref, c) }
                }
            }
        } else {
            Parallel.forRanges(p.numel, grain: 1 << 15) { r in
                for i in r { adamEntry(pp, gp, i, mp + i, vp + i, ref, c) }
            }
        }
    }
}

/// one step's scalars: lr/(1-β₁ᵗ), 1/√(1-β₂ᵗ), the betas, ε, the decay multiplier 1 - lr·wd, l1
private struct MaskedAdamConstants {
    let stepSize, invSqrtBC2, beta1, beta2, eps, keep, l1: Float
}

/// AdamW on entry i of p (torch.optim.AdamW's arithmetic) with its moments at m and v
@inline(__always)
private func adamEntry(
    _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ i: Int, _ m: UnsafeMutablePointer<Float>,
    _ v: UnsafeMutablePointer<Float>, _ ref: UnsafePointer<Float>?, _ c: MaskedAdamConstants
) {
    let w = p[i]
    var d = g[i]
    if let ref {
        let delta = w - ref[i]
        d += delta > 0 ? c.l1 : delta < 0 ? -c.l1 : 0
    }
    let mi = c.beta1 * m.pointee + (1 - c.beta1) * d
    let vi = c.beta2 * v.pointee + (1 - c.beta2) * d * d
    m.pointee = mi
    v.pointee = vi
    p[i] = c.keep * w - c.stepSize * mi / (vi.squareRoot() * c.invSqrtBC2 + c.eps)
}
