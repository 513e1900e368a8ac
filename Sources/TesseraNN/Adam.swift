// Adam and AdamW in torch.optim's formulation, one fused pass over p, grad, m and v:
//   Adam:  g = grad + wd·p (L2);  AdamW: p *= 1 - lr·wd (decoupled decay), g = grad
//   m = β₁m + (1-β₁)g;  v = β₂v + (1-β₂)g²;  p -= lr/(1-β₁ᵗ) · m / (√v/√(1-β₂ᵗ) + ε)
// with t counted per parameter (a parameter without a gradient does not advance).

import TesseraTensor

#if canImport(Glibc)
    import Glibc
#endif

public class Adam: Optimizer {
    /// whether weight decay is decoupled (AdamW) rather than an L2 term in the gradient
    public let decoupled: Bool

    public convenience init(
        _ parameters: [(name: String, tensor: Tensor)], lr: Double = 1e-3, beta1: Double = 0.9,
        beta2: Double = 0.999, eps: Double = 1e-8, weightDecay: Double = 0
    ) throws {
        try self.init(groups: [
            ParameterGroup(
                parameters,
                OptimizerOptions(
                    lr: lr, weightDecay: weightDecay, beta1: beta1, beta2: beta2, eps: eps))
        ])
    }

    /// the designated initialiser; AdamW is the public way to ask for decoupled decay
    init(groups: [ParameterGroup], decoupled: Bool) throws {
        for g in groups where !(0..<1).contains(g.options.beta1) || !(0..<1).contains(g.options.beta2) || g.options.eps < 0 {
            throw TensorError(decoupled ? "AdamW" : "Adam", "betas must lie in [0, 1) and eps be non-negative")
        }
        self.decoupled = decoupled
        try super.init(groups: groups)
    }

    public required override convenience init(groups: [ParameterGroup]) throws {
        try self.init(groups: groups, decoupled: false)
    }

    public override var stateNames: [String] { ["step", "exp_avg", "exp_avg_sq"] }

    public override func update(_ p: Tensor, grad: Tensor, state: inout [String: Tensor], options o: OptimizerOptions, lr: Double) throws {
        let m = try state["exp_avg"] ?? Tensor.zeros(p.shape, dtype: p.dtype)
        let v = try state["exp_avg_sq"] ?? Tensor.zeros(p.shape, dtype: p.dtype)
        let t = (try state["step"]?.item()).map { Int($0) } ?? 0
        let step = t + 1
        state["exp_avg"] = m
        state["exp_avg_sq"] = v
        state["step"] = try Tensor.scalar(Double(step), dtype: .i64)
        let bc1 = 1 - Glibc.pow(o.beta1, Double(step)), bc2 = 1 - Glibc.pow(o.beta2, Double(step))
        let c = AdamConstants(
            stepSize: lr / bc1, invSqrtBC2: 1 / bc2.squareRoot(), beta1: o.beta1, beta2: o.beta2, eps: o.eps,
            l2: decoupled ? 0 : o.weightDecay, keep: decoupled ? 1 - lr * o.weightDecay : 1)
        if p.dtype == .f32 {
            adamUpdate(p, grad, m, v, c, Float.self)
        } else {
            adamUpdate(p, grad, m, v, c, Double.self)
        }
    }
}

/// Adam with decoupled weight decay (Loshchilov & Hutter): torch.optim.AdamW, default decay 0.01.
public final class AdamW: Adam {
    public convenience init(
        _ parameters: [(name: String, tensor: Tensor)], lr: Double = 1e-3, beta1: Double = 0.9,
        beta2: Double = 0.999, eps: Double = 1e-8, weightDecay: Double = 1e-2
    ) throws {
        try self.init(groups: [
            ParameterGroup(
                parameters,
                OptimizerOptions(
                    lr: lr, weightDecay: weightDecay, beta1: beta1, beta2: beta2, eps: eps))
        ])
    }

    public required convenience init(groups: [ParameterGroup]) throws {
        try self.init(groups: groups, decoupled: true)
    }
}

/// one step's scalars: step size lr/(1-β₁ᵗ), 1/√(1-β₂ᵗ), the L2 factor, and the decay multiplier
private struct AdamConstants {
    let stepSize, invSqrtBC2, beta1, beta2, eps, l2, keep: Double
}

@inline(__always)
private func adamUpdate<T: FloatMath>(_ p: Tensor, _ g: Tensor, _ m: Tensor, _ v: Tensor, _ c: AdamConstants, _: T.Type) {
    let pp = p.mutablePointer(T.self), gp = g.pointer(T.self)
    let mp = m.mutablePointer(T.self), vp = v.mutablePointer(T.self)
    forChunks(p.numel) { lo, n in
        var done = 0
        if T.self == Float.self {
            done = adamKernel16(
                UnsafeMutableRawPointer(pp + lo), UnsafeRawPointer(gp + lo), UnsafeMutableRawPointer(mp + lo), UnsafeMutableRawPointer(vp + lo), n,
                Float(c.stepSize), Float(c.invSqrtBC2), Float(c.beta1), Float(c.beta2), Float(c.eps), Float(c.l2), Float(c.keep))
        }
        adamKernel(
            pp + lo + done, gp + lo + done, mp + lo + done, vp + lo + done, n - done, T(c.stepSize), T(c.invSqrtBC2), T(c.beta1), T(c.beta2),
            T(c.eps), T(c.l2), T(c.keep))
    }
}

/// adamKernel's arithmetic on 16 floats at a time, the same operations in the same order (so the
/// same bits as the scalar loop: no reduction, no fused multiply-add); returns how many it did.
/// (The scalar loop does not vectorise: the four arrays may alias, and √ is checked for errno.)
@inline(__always)
private func adamKernel16(
    _ p: UnsafeMutableRawPointer, _ g: UnsafeRawPointer, _ m: UnsafeMutableRawPointer, _ v: UnsafeMutableRawPointer, _ n: Int,
    _ stepSize: Float, _ invSqrtBC2: Float, _ b1: Float, _ b2: Float, _ eps: Float, _ l2: Float, _ keep: Float
) -> Int {
    typealias V = SIMD16<Float>
    let (vb1, vb2, c1, c2) = (V(repeating: b1), V(repeating: b2), V(repeating: 1 - b1), V(repeating: 1 - b2))
    let (vl2, vkeep, vstep, vinv, veps) = (V(repeating: l2), V(repeating: keep), V(repeating: stepSize), V(repeating: invSqrtBC2), V(repeating: eps))
    var i = 0
    while i + 16 <= n {
        let o = i * 4
        let w = p.loadUnaligned(fromByteOffset: o, as: V.self)
        let d = g.loadUnaligned(fromByteOffset: o, as: V.self) + vl2 * w
        let mi = vb1 * m.loadUnaligned(fromByteOffset: o, as: V.self) + c1 * d
        let vi = vb2 * v.loadUnaligned(fromByteOffset: o, as: V.self) + c2 * d * d
        m.storeBytes(of: mi, toByteOffset: o, as: V.self)
        v.storeBytes(of: vi, toByteOffset: o, as: V.self)
        p.storeBytes(of: vkeep * w - vstep * mi / (vi.squareRoot() * vinv + veps), toByteOffset: o, as: V.self)
        i += 16
    }
    return i
}

/// p (n), g (n), m (n), v (n): every array read once and written once
@inline(__always)
private func adamKernel<T: FloatMath>(
    _ p: UnsafeMutablePointer<T>, _ g: UnsafePointer<T>, _ m: UnsafeMutablePointer<T>,
    _ v: UnsafeMutablePointer<T>, _ n: Int, _ stepSize: T, _ invSqrtBC2: T,
    _ b1: T, _ b2: T, _ eps: T, _ l2: T, _ keep: T
) {
    for i in 0..<n {
        let w = p[i]
        let d = g[i] + l2 * w
        let mi = b1 * m[i] + (1 - b1) * d
        let vi = b2 * v[i] + (1 - b2) * d * d
        m[i] = mi
        v[i] = vi
        p[i] = keep * w - stepSize * mi / (vi.squareRoot() * invSqrtBC2 + eps)
    }
}
