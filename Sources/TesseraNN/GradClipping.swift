// GradClipping: scales all gradients together so their global L2 norm is at most maxNorm
// (torch.nn.utils.clip_grad_norm_); returns the norm before clipping.

import TesseraTensor

/// Global L2 norm of the gradients of `parameters` (those without one count as zero); when it
/// exceeds `maxNorm`, every gradient is scaled in place by maxNorm / (norm + 1e-6).
@discardableResult
public func clipGradNorm(_ parameters: [Tensor], maxNorm: Double) throws -> Double {
    guard maxNorm >= 0 else { throw TensorError("clip_grad_norm", "max norm must be non-negative, got \(maxNorm)") }
    var total = 0.0
    for p in parameters {
        guard var g = p.grad else { continue }
        if !g.isContiguous { g = try g.contiguous(); p.grad = g }
        total += g.dtype == .f32 ? rowSumOfSquares(g.pointer(Float.self), g.numel) : rowSumOfSquares(g.pointer(Double.self), g.numel)
    }
    let norm = total.squareRoot()
    let scale = maxNorm / (norm + 1e-6)
    if scale < 1 {
        for p in parameters {
            guard let g = p.grad else { continue }
            if g.dtype == .f32 {
                scaleInPlace(g.mutablePointer(Float.self), g.numel, Float(scale))
            } else {
                scaleInPlace(g.mutablePointer(Double.self), g.numel, scale)
            }
        }
    }
    return norm
}

extension Optimizer {
    /// clipGradNorm over every parameter this optimizer updates.
    @discardableResult
    public func clipGradNorm(maxNorm: Double) throws -> Double {
        try TesseraNN.clipGradNorm(parameters, maxNorm: maxNorm)
    }
}

private func scaleInPlace<T: FloatMath>(_ x: UnsafeMutablePointer<T>, _ n: Int, _ s: T) {
    for i in 0..<n { x[i] *= s }
}
