// RMSNorm: x / sqrt(mean(x²) + eps) · weight over the last dimension (LLaMA, T5), fused into one
// kernel each way, with the per-row reciprocal RMS saved for the backward pass.

extension Tensor {
    /// Root-mean-square normalisation over the last dimension; `weight` has shape (C) or is nil.
    /// x (..., C), weight (C) -> y (..., C)
    public func rmsNorm(weight: Tensor?, eps: Double = 1e-6) throws -> Tensor {
        guard rank >= 1, dtype.isFloatingPoint else {
            throw TensorError("rms_norm", "expects a floating-point tensor with at least 1 dimension, got \(dtype) \(shapeString(shape))")
        }
        let c = shape[rank - 1]
        if let weight, weight.shape != [c] {
            throw TensorError(
                "rms_norm", "weight has shape \(shapeString(weight.shape)), expected \(c) (the last dimension of \(shapeString(shape)))")
        }
        let x = try detach().contiguous()
        let w = try weight.map { try $0.detach().to(dtype).contiguous() }
        let rows = c == 0 ? 0 : numel / c
        let out = try Tensor.empty(shape, dtype: dtype, op: "rms_norm")
        let rstd = try Tensor.empty([rows], dtype: dtype, op: "rms_norm")
        if dtype == .f32 {
            rmsNormForward(x, w, out, rstd, rows, c, Float(eps))
        } else {
            rmsNormForward(x, w, out, rstd, rows, c, eps)
        }
        let inputs = [self] + (weight.map { [$0] } ?? [])
        return out.recordGrad("rms_norm", inputs) { g in
            let gc = try g.contiguous()
            let dx = try Tensor.empty(x.shape, dtype: x.dtype, op: "rms_norm_backward")
            let dw = try Tensor.zeros([c], dtype: x.dtype)
            if x.dtype == .f32 {
                rmsNormGrad(x, w, gc, rstd, dx, dw, rows, c, Float.self)
            } else {
                rmsNormGrad(x, w, gc, rstd, dx, dw, rows, c, Double.self)
            }
            return weight == nil ? [dx] : [dx, dw]
        }
    }
}

/// x (rows, c) -> out (rows, c), rstd (rows)
@inline(__always)
private func rmsNormForward<T: FloatMath>(_ x: Tensor, _ w: Tensor?, _ out: Tensor, _ rstd: Tensor, _ rows: Int, _ c: Int, _ eps: T) {
    let xp = x.pointer(T.self), op = out.mutablePointer(T.self), rp = rstd.mutablePointer(T.self)
    let wp = w?.pointer(T.self)
    Parallel.forRanges(rows, grain: Swift.max(1, (1 << 14) / Swift.max(c, 1))) { range in
        for row in range {
            let src = xp + row * c, dst = op + row * c
            let s = T(rowSumOfSquares(src, c))
            let r = 1 / (s / T(c) + eps).squareRoot()
            rp[row] = r
            if let wp {
                for j in 0..<c { dst[j] = src[j] * r * wp[j] }
            } else {
                for j in 0..<c { dst[j] = src[j] * r }
            }
        }
    }
}

/// dx = r · (ĝ - x̂ · mean(ĝ · x̂)) with x̂ = x · r, ĝ = g · w;  dw = Σ_rows g · x̂
@inline(__always)
private func rmsNormGrad<T: FloatMath>(
    _ x: Tensor, _ w: Tensor?, _ g: Tensor, _ rstd: Tensor, _ dx: Tensor, _ dw: Tensor,
    _ rows: Int, _ c: Int, _: T.Type
) {
    let xp = x.pointer(T.self), gp = g.pointer(T.self), rp = rstd.pointer(T.self)
    let dxp = dx.mutablePointer(T.self), dwp = dw.mutablePointer(T.self), wp = w?.pointer(T.self)
    Parallel.forRanges(rows, grain: Swift.max(1, (1 << 14) / Swift.max(c, 1))) { range in
        for row in range {
            let src = xp + row * c, gr = gp + row * c, dst = dxp + row * c
            let r = rp[row]
            var dot: T = 0
            for j in 0..<c { dot += gr[j] * (wp?[j] ?? 1) * src[j] * r }
            let m = dot / T(c)
            for j in 0..<c { dst[j] = r * (gr[j] * (wp?[j] ?? 1) - src[j] * r * m) }
        }
    }
    // dw accumulates over rows: one thread, row by row (cache-friendly, deterministic)
    for row in 0..<rows {
        let src = xp + row * c, gr = gp + row * c, r = rp[row]
        for j in 0..<c { dwp[j] += gr[j] * src[j] * r }
    }
}
