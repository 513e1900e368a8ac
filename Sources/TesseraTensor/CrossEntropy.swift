// CrossEntropy: softmax cross-entropy over class logits, fused with log-softmax. The forward pass
// keeps one log-sum-exp per row (no (N, C) buffer); the backward pass writes softmax - target
// distribution straight into the one (N, C) gradient it returns.

/// How a loss combines its per-element values.
public enum LossReduction: String, Sendable {
    case mean, sum, none
}

extension Tensor {
    /// Cross-entropy of `targets` (integer class ids, shape (...)) under these logits (..., C).
    /// Rows whose target is `ignoreIndex` contribute nothing and are not counted by the mean;
    /// `labelSmoothing` ε mixes the one-hot target with the uniform distribution:
    /// loss = lse - (1-ε)·x[t] - ε/C·Σx.  Mean of zero counted rows is NaN, as in torch.
    /// logits (..., C), targets (...) -> () for mean/sum, (...) for none
    public func crossEntropy(
        _ targets: Tensor, ignoreIndex: Int? = -100, labelSmoothing: Double = 0,
        reduction: LossReduction = .mean
    ) throws -> Tensor {
        let op = "cross_entropy"
        guard rank >= 1, dtype.isFloatingPoint else {
            throw TensorError(op, "expects floating-point logits (..., C), got \(dtype) \(shapeString(shape))")
        }
        guard targets.shape == Array(shape.dropLast()) else {
            throw TensorError(
                op,
                "targets have shape \(shapeString(targets.shape)), expected \(shapeString(Array(shape.dropLast()))) for logits \(shapeString(shape))")
        }
        guard targets.dtype == .i64 || targets.dtype == .i32 else {
            throw TensorError(op, "targets must be integer class ids (i64 or i32), got \(targets.dtype)")
        }
        guard labelSmoothing >= 0 && labelSmoothing <= 1 else {
            throw TensorError(op, "label smoothing must lie in [0, 1], got \(labelSmoothing)")
        }
        let c = shape[rank - 1]
        let t = try targets.to(.i64).contiguous()
        let tp = t.pointer(Int64.self)
        var counted = 0
        for j in 0..<t.numel {
            if let ig = ignoreIndex, tp[j] == Int64(ig) { continue }
            guard tp[j] >= 0 && tp[j] < c else {
                throw TensorError(op, "target \(tp[j]) out of range for \(c) classes")
            }
            counted += 1
        }
        let x = try detach().contiguous()
        let rows = t.numel
        let losses = try Tensor.empty([rows], dtype: dtype, op: op)
        let lse = try Tensor.empty([rows], dtype: dtype, op: op)
        let ignored = Int64(ignoreIndex ?? Int(Int64.min))
        if dtype == .f32 {
            crossEntropyForward(x, tp, losses, lse, rows, c, ignored, Float(labelSmoothing))
        } else {
            crossEntropyForward(x, tp, losses, lse, rows, c, ignored, labelSmoothing)
        }
        let out: Tensor
        switch reduction {
        case .none: out = try losses.reshape(targets.shape)
        case .sum: out = try losses.sum()
        case .mean: out = try losses.sum().div(Double(counted))
        }
        return out.recordGrad(op, [self]) { g in
            // d(loss)/d(row loss): g itself (none), or one scale for every row (sum, mean)
            let scales =
                try reduction == .none
                ? g.to(x.dtype).contiguous().reshape([rows])
                : Tensor.full([rows], try g.item() / (reduction == .mean ? Double(counted) : 1), dtype: x.dtype)
            let dx = try Tensor.empty(x.shape, dtype: x.dtype, op: "cross_entropy_backward")
            if x.dtype == .f32 {
                crossEntropyGrad(x, tp, lse, scales, dx, rows, c, ignored, Float(labelSmoothing))
            } else {
                crossEntropyGrad(x, tp, lse, scales, dx, rows, c, ignored, labelSmoothing)
            }
            _ = t  // the targets' storage must outlive the graph: tp points into it
            return [dx]
        }
    }
}

/// x (rows, c), targets (rows) -> losses (rows), lse (rows); ignored rows get loss 0
@inline(__always)
private func crossEntropyForward<T: FloatMath>(
    _ x: Tensor, _ tp: UnsafePointer<Int64>, _ losses: Tensor, _ lse: Tensor,
    _ rows: Int, _ c: Int, _ ignored: Int64, _ eps: T
) {
    let xp = x.pointer(T.self), lp = losses.mutablePointer(T.self), sp = lse.mutablePointer(T.self)
    Parallel.forRanges(rows, grain: Swift.max(1, (1 << 13) / Swift.max(c, 1))) { range in
        for row in range {
            let src = xp + row * c
            let m = rowMax(src, c)
            let shift = m.isInfinite ? 0 : m
            let l = T.log(expSum(src, c, shift)) + shift
            sp[row] = l
            if tp[row] == ignored { lp[row] = 0; continue }
            var loss = l - (1 - eps) * src[Int(tp[row])]
            if eps != 0 { loss -= eps / T(c) * T(rowSum(src, c)) }
            lp[row] = loss
        }
    }
}

/// Σ exp(x - shift) over n contiguous values: exps of a chunk into a small buffer (a plain loop,
/// which the compiler vectorises; exp on SIMD lanes one by one did not), then summed 16 lanes at
/// a time
@inline(__always)
private func expSum<T: FloatMath>(_ x: UnsafePointer<T>, _ n: Int, _ shift: T) -> T {
    let chunk = 512
    return withUnsafeTemporaryAllocation(of: T.self, capacity: chunk) { buffer -> T in
        let b = buffer.baseAddress!
        var acc = SIMD16<T>()
        var tail = T(0)
        var start = 0
        while start < n {
            let len = Swift.min(chunk, n - start)
            let src = x + start
            for j in 0..<len { b[j] = T.exp(src[j] - shift) }
            var j = 0
            let raw = UnsafeRawPointer(b)
            while j + 16 <= len {
                acc += raw.loadUnaligned(fromByteOffset: j * MemoryLayout<T>.stride, as: SIMD16<T>.self)
                j += 16
            }
            while j < len { tail += b[j]; j += 1 }
            start += len
        }
        return acc.sum() + tail
    }
}

/// dx[row] = scale[row] · (softmax(x[row]) - ε/C - (1-ε)·onehot(t[row])); ignored rows are 0
@inline(__always)
private func crossEntropyGrad<T: FloatMath>(
    _ x: Tensor, _ tp: UnsafePointer<Int64>, _ lse: Tensor, _ scales: Tensor, _ dx: Tensor,
    _ rows: Int, _ c: Int, _ ignored: Int64, _ eps: T
) {
    let xp = x.pointer(T.self), sp = lse.pointer(T.self), gp = scales.pointer(T.self)
    let dp = dx.mutablePointer(T.self)
    Parallel.forRanges(rows, grain: Swift.max(1, (1 << 13) / Swift.max(c, 1))) { range in
        for row in range {
            let src = xp + row * c, dst = dp + row * c
            if tp[row] == ignored {
                for j in 0..<c { dst[j] = 0 }
                continue
            }
            let s = gp[row], l = sp[row], floor = eps / T(c)
            for j in 0..<c { dst[j] = s * (T.exp(src[j] - l) - floor) }
            dst[Int(tp[row])] -= s * (1 - eps)
        }
    }
}
