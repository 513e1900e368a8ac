// Softmax family: softmax, log_softmax and logsumexp along a dimension, numerically stable
// (the row maximum is subtracted before exp), with their gradients.

extension Tensor {
    /// exp(x - max) / Σ exp(x - max) along `dim`.
    public func softmax(_ dim: Int) throws -> Tensor { try softmaxFamily(dim, log: false) }

    /// x - max - log Σ exp(x - max) along `dim`.
    public func logSoftmax(_ dim: Int) throws -> Tensor { try softmaxFamily(dim, log: true) }

    /// log Σ exp(x) along `dims`, stable; rows of -inf give -inf.
    public func logsumexp(dims: [Int], keepDim: Bool = false) throws -> Tensor {
        let x = dtype.isFloatingPoint ? self : try to(.f32)
        let ds = try x.reductionDims(dims, op: "logsumexp")
        var m = x.detach()
        for d in ds.reversed() { m = try m.max(dim: d, keepDim: true).values }
        // an infinite max (all -inf, or +inf) would make x - m NaN: shift by 0 instead
        m = try m.where_(m.abs().lt(Double.infinity), 0)
        let lse = try x.sub(m).exp().sum(dims: ds, keepDim: true).log().add(m)
        return keepDim ? lse : try lse.squeezeDims(ds)
    }

    /// removes the given (size-1) dims
    func squeezeDims(_ ds: [Int]) throws -> Tensor {
        try reshape(shape.enumerated().filter { !ds.contains($0.offset) }.map(\.element))
    }

    private func softmaxFamily(_ dim: Int, log: Bool) throws -> Tensor {
        let op = log ? "log_softmax" : "softmax"
        let src = dtype.isFloatingPoint ? self : try to(.f32)
        if src.rank == 0 { return try log ? src.zerosLike() : src.onesLike() }
        let d = try Shape.dim(dim, rank: src.rank, op: op)
        let x = try src.detach().contiguous()
        let out = try Tensor.empty(x.shape, dtype: x.dtype, op: op)
        let (o, r, i) = x.ori(d, d)
        if x.dtype == .f32 {
            softmaxKernel(x.pointer(Float.self), out.mutablePointer(Float.self), o, r, i, log)
        } else {
            softmaxKernel(x.pointer(Double.self), out.mutablePointer(Double.self), o, r, i, log)
        }
        return out.recordGrad(
            op, [src],
            withOutput: { g, out in
                if log {
                    // g - softmax · Σ g
                    return [try g.sub(out.exp().mul(g.sum(dims: [d], keepDim: true)))]
                }
                // y · (g - Σ g·y)
                return [try out.mul(g.sub(g.mul(out).sum(dims: [d], keepDim: true)))]
            })
    }
}

/// x (O, R, I) -> out (O, R, I): softmax (or log-softmax) over R.
@inline(__always)
func softmaxKernel<T: FloatMath>(_ x: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>, _ o: Int, _ r: Int, _ i: Int, _ log: Bool) {
    if i == 1 {
        Parallel.forRanges(o, grain: Swift.max(1, (1 << 13) / Swift.max(r, 1))) { rows in
            for row in rows { softmaxRow(x + row * r, out + row * r, r, log) }
        }
        return
    }
    // an empty R leaves nothing to write and no first row to seed the maximum from
    if r == 0 { return }
    // softmax over a non-last dim: vectorise across the I columns
    Parallel.forRanges(o, grain: Swift.max(1, (1 << 13) / Swift.max(r * i, 1))) { rows in
        var m = [T](repeating: 0, count: i), s = [T](repeating: 0, count: i)
        for a in rows {
            let src = x + a * r * i, dst = out + a * r * i
            for j in 0..<i { m[j] = src[j] }
            for k in 1..<Swift.max(r, 1) {
                for j in 0..<i { let v = src[k * i + j]; m[j] = v > m[j] || v != v ? v : m[j] }
            }
            for j in 0..<i { m[j] = m[j].isInfinite ? 0 : m[j]; s[j] = 0 }
            for k in 0..<r {
                for j in 0..<i {
                    let e = T.exp(src[k * i + j] - m[j])
                    s[j] += e
                    if !log { dst[k * i + j] = e }
                }
            }
            if log {
                for j in 0..<i { s[j] = T.log(s[j]) + m[j] }
                for k in 0..<r { for j in 0..<i { dst[k * i + j] = src[k * i + j] - s[j] } }
            } else {
                for j in 0..<i { s[j] = 1 / s[j] }
                for k in 0..<r { for j in 0..<i { dst[k * i + j] *= s[j] } }
            }
        }
    }
}

/// One contiguous row of n: max, exp into y, SIMD sum, then scale (or subtract the log-sum).
/// A NaN anywhere in the row makes the sum NaN and so the whole row, as in torch.
@inline(__always)
func softmaxRow<T: FloatMath>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int, _ log: Bool) {
    let m = rowMax(x, n)
    // all -inf (fully masked) gives NaN, as torch does; a +inf max is shifted by 0
    let shift = m.isInfinite && m > 0 ? 0 : m
    for j in 0..<n { y[j] = T.exp(x[j] - shift) }
    let s = T(rowSum(UnsafePointer(y), n))
    if log {
        let lse = T.log(s) + shift
        for j in 0..<n { y[j] = x[j] - lse }
    } else {
        let inv = 1 / s
        for j in 0..<n { y[j] *= inv }
    }
}

/// Largest of n contiguous values (-inf for n = 0), 16 lanes at a time.
@inline(__always)
func rowMax<T: FloatMath>(_ x: UnsafePointer<T>, _ n: Int) -> T {
    var acc = SIMD16<T>(repeating: -T.infinity)
    var j = 0
    let raw = UnsafeRawPointer(x)
    while j + 16 <= n {
        let v = raw.loadUnaligned(fromByteOffset: j * MemoryLayout<T>.stride, as: SIMD16<T>.self)
        // lane by lane: this form compiles to vmaxps, SIMD masks and pointwiseMax do not
        for k in 0..<16 { acc[k] = v[k] > acc[k] ? v[k] : acc[k] }
        j += 16
    }
    var m = acc.max()
    while j < n { m = x[j] > m ? x[j] : m; j += 1 }
    return m
}
