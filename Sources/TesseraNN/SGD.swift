// SGD: stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight
// decay, in torch.optim.SGD's formulation:
//   g = grad + wd·p;  buf = g (first step) or μ·buf + (1-τ)·g;  g = g + μ·buf (Nesterov) or buf;  p -= lr·g

import TesseraTensor

public final class SGD: Optimizer {
    public convenience init(
        _ parameters: [(name: String, tensor: Tensor)], lr: Double, momentum: Double = 0,
        dampening: Double = 0, nesterov: Bool = false, weightDecay: Double = 0
    ) throws {
        try self.init(groups: [
            ParameterGroup(
                parameters,
                OptimizerOptions(
                    lr: lr, weightDecay: weightDecay, momentum: momentum, dampening: dampening, nesterov: nesterov))
        ])
    }

    public override init(groups: [ParameterGroup]) throws {
        for g in groups where g.options.nesterov && (g.options.momentum <= 0 || g.options.dampening != 0) {
            throw TensorError("SGD", "Nesterov momentum needs momentum > 0 and zero dampening")
        }
        try super.init(groups: groups)
    }

    public override var stateNames: [String] { ["momentum_buffer"] }

    public override func update(_ p: Tensor, grad: Tensor, state: inout [String: Tensor], options o: OptimizerOptions, lr: Double) throws {
        // the first step sets the buffer to the gradient (torch), later ones blend into it
        let first = o.momentum != 0 && state["momentum_buffer"] == nil
        var buffer: Tensor?
        if o.momentum != 0 {
            buffer = try state["momentum_buffer"] ?? Tensor.zeros(p.shape, dtype: p.dtype)
            state["momentum_buffer"] = buffer
        }
        if p.dtype == .f32 {
            sgdUpdate(p, grad, buffer, o, lr, first, Float.self)
        } else {
            sgdUpdate(p, grad, buffer, o, lr, first, Double.self)
        }
    }
}

@inline(__always)
private func sgdUpdate<T: FloatMath>(_ p: Tensor, _ g: Tensor, _ buf: Tensor?, _ o: OptimizerOptions, _ lr: Double, _ first: Bool, _: T.Type) {
    let pp = p.mutablePointer(T.self), gp = g.pointer(T.self)
    let (lrT, wd, mu, damp) = (T(lr), T(o.weightDecay), T(o.momentum), T(o.dampening))
    guard let buf else {
        forChunks(p.numel) { lo, n in sgdPlain(pp + lo, gp + lo, n, lrT, wd) }
        return
    }
    let bp = buf.mutablePointer(T.self)
    forChunks(p.numel) { lo, n in
        sgdMomentum(pp + lo, gp + lo, bp + lo, n, lrT, wd, mu, first ? 0 : mu, first ? 0 : damp, o.nesterov)
    }
}

/// p -= lr · (g + wd·p)
@inline(__always)
private func sgdPlain<T: FloatMath>(_ p: UnsafeMutablePointer<T>, _ g: UnsafePointer<T>, _ n: Int, _ lr: T, _ wd: T) {
    for i in 0..<n { p[i] -= lr * (g[i] + wd * p[i]) }
}

/// buf = keep·buf + (1-damp)·d with d = g + wd·p (keep = 0 on the first step: buf = d);
/// p -= lr · (nesterov ? d + μ·buf : buf)
@inline(__always)
private func sgdMomentum<T: FloatMath>(
    _ p: UnsafeMutablePointer<T>, _ g: UnsafePointer<T>, _ b: UnsafeMutablePointer<T>, _ n: Int,
    _ lr: T, _ wd: T, _ mu: T, _ keep: T, _ damp: T, _ nesterov: Bool
) {
    if nesterov {
        for i in 0..<n {
            let d = g[i] + wd * p[i]
            let nb = keep * b[i] + (1 - damp) * d
            b[i] = nb
            p[i] -= lr * (d + mu * nb)
        }
    } else {
        for i in 0..<n {
            let d = g[i] + wd * p[i]
            let nb = keep * b[i] + (1 - damp) * d
            b[i] = nb
            p[i] -= lr * nb
        }
    }
}
