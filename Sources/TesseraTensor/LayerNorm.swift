// LayerNorm: normalisation over the last dimension, fused into one kernel each way.

extension Tensor {
    /// (x - mean) / sqrt(var + eps) · weight + bias over the last dimension (population variance,
    /// as torch.nn.LayerNorm). `weight` and `bias` have shape (C) or are nil.
    /// x (..., C), weight (C), bias (C) -> y (..., C)
    public func layerNorm(weight: Tensor?, bias: Tensor?, eps: Double = 1e-5) throws -> Tensor {
        guard rank >= 1, dtype.isFloatingPoint else {
            throw TensorError("layer_norm", "expects a floating-point tensor with at least 1 dimension, got \(dtype) \(shapeString(shape))")
        }
        let c = shape[rank - 1]
        for (name, p) in [("weight", weight), ("bias", bias)] {
            if let p, p.shape != [c] {
                throw TensorError(
                    "layer_norm", "\(name) has shape \(shapeString(p.shape)), expected \(c) (the last dimension of \(shapeString(shape)))")
            }
        }
        let x = try detach().contiguous()
        let w = try weight.map { try $0.detach().to(dtype).contiguous() }
        let b = try bias.map { try $0.detach().to(dtype).contiguous() }
        let rows = c == 0 ? 0 : numel / c
        let out = try Tensor.empty(shape, dtype: dtype, op: "layer_norm")
        let mean = try Tensor.empty([rows], dtype: dtype, op: "layer_norm")
        let rstd = try Tensor.empty([rows], dtype: dtype, op: "layer_norm")
        if dtype == .f32 {
            layerNormForward(x, w, b, out, mean, rstd, rows, c, Float(eps))
        } else {
            layerNormForward(x, w, b, out, mean, rstd, rows, c, eps)
        }
        let inputs = [self] + [weight, bias].compactMap { $0 }
        return out.recordGrad("layer_norm", inputs) { g in
            let gc = try g.contiguous()
            let (dx, dw, db) = try layerNormBackward(x, w, gc, mean, rstd, rows, c)
            var grads: [Tensor?] = [dx]
            if weight != nil { grads.append(dw) }
            if bias != nil { grads.append(db) }
            return grads
        }
    }
}

@inline(__always)
private func layerNormForward<T: FloatMath>(
    _ x: Tensor, _ w: Tensor?, _ b: Tensor?, _ out: Tensor, _ mean: Tensor, _ rstd: Tensor,
    _ rows: Int, _ c: Int, _ eps: T
) {
    let xp = x.pointer(T.self), op = out.mutablePointer(T.self)
    let mp = mean.mutablePointer(T.self), rp = rstd.mutablePointer(T.self)
    let wp = w?.pointer(T.self), bp = b?.pointer(T.self)
    Parallel.forRanges(rows, grain: Swift.max(1, (1 << 14) / Swift.max(c, 1))) { range in
        for row in range {
            let src = xp + row * c, dst = op + row * c
            let mu = T(rowSum(src, c) / Double(c))
            // second pass over the (cached) row: variance of centred values, no cancellation
            for j in 0..<c { dst[j] = src[j] - mu }
            let s = T(rowSumOfSquares(UnsafePointer(dst), c))
            let r = 1 / (s / T(c) + eps).squareRoot()
            mp[row] = mu
            rp[row] = r
            if let wp, let bp {
                for j in 0..<c { dst[j] = dst[j] * r * wp[j] + bp[j] }
            } else if let wp {
                for j in 0..<c { dst[j] = dst[j] * r * wp[j] }
            } else if let bp {
                for j in 0..<c { dst[j] = dst[j] * r + bp[j] }
            } else {
                for j in 0..<c { dst[j] *= r }
            }
        }
    }
}

/// dx = rstd · (ĝ - mean(ĝ) - x̂ · mean(ĝ · x̂)) with ĝ = g · w;  dw = Σ g · x̂;  db = Σ g.
private func layerNormBackward(
    _ x: Tensor, _ w: Tensor?, _ g: Tensor, _ mean: Tensor, _ rstd: Tensor,
    _ rows: Int, _ c: Int
) throws -> (Tensor, Tensor, Tensor) {
    let dx = try Tensor.empty(x.shape, dtype: x.dtype, op: "layer_norm_backward")
    let dw = try Tensor.zeros([c], dtype: x.dtype)
    let db = try Tensor.zeros([c], dtype: x.dtype)
    if x.dtype == .f32 {
        layerNormGrad(x, w, g, mean, rstd, dx, dw, db, rows, c, Float.self)
    } else {
        layerNormGrad(x, w, g, mean, rstd, dx, dw, db, rows, c, Double.self)
    }
    return (dx, dw, db)
}

@inline(__always)
private func layerNormGrad<T: FloatMath>(
    _ x: Tensor, _ w: Tensor?, _ g: Tensor, _ mean: Tensor, _ rstd: Tensor,
    _ dx: Tensor, _ dw: Tensor, _ db: Tensor, _ rows: Int, _ c: Int, _: T.Type
) {
    let xp = x.pointer(T.self), gp = g.pointer(T.self), dxp = dx.mutablePointer(T.self)
    let mp = mean.pointer(T.self), rp = rstd.pointer(T.self), wp = w?.pointer(T.self)
    let dwp = dw.mutablePointer(T.self), dbp = db.mutablePointer(T.self)
    // dx rows are independent; dw/db accumulate per column (single pass, cache-friendly)
    Parallel.forRanges(rows, grain: Swift.max(1, (1 << 14) / Swift.max(c, 1))) { range in
        for row in range {
            let src = xp + row * c, gr = gp + row * c, dst = dxp + row * c
            let mu = mp[row], r = rp[row]
            var sumG: T = 0, sumGX: T = 0
            for j in 0..<c {
                let gh = gr[j] * (wp?[j] ?? 1)
                let xh = (src[j] - mu) * r
                sumG += gh
                sumGX += gh * xh
            }
            let mG = sumG / T(c), mGX = sumGX / T(c)
            for j in 0..<c {
                let gh = gr[j] * (wp?[j] ?? 1)
                let xh = (src[j] - mu) * r
                dst[j] = r * (gh - mG - xh * mGX)
            }
        }
    }
    for row in 0..<rows {
        let src = xp + row * c, gr = gp + row * c
        let mu = mp[row], r = rp[row]
        for j in 0..<c {
            dwp[j] += gr[j] * (src[j] - mu) * r
            dbp[j] += gr[j]
        }
    }
}
