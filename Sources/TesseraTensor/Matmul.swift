// Matmul: matrix products through cblas_sgemm / cblas_dgemm. Transposed and strided views are
// passed with BLAS transpose flags and leading dimensions instead of being copied; batches of
// small products run single-threaded BLAS calls spread over the cores.

import CBLAS
import Dispatch

extension Tensor {
    /// torch.matmul: 1-D·1-D is a dot product, 2-D·2-D a matrix product, and higher ranks are
    /// batches of matrices whose leading dimensions broadcast.
    /// a (..., M, K) @ b (..., K, N) -> (broadcast(...), M, N)
    public func matmul(_ other: Tensor) throws -> Tensor {
        guard rank >= 1, other.rank >= 1 else {
            throw TensorError("matmul", "both operands need at least 1 dimension, got shapes \(shapeString(shape)) and \(shapeString(other.shape))")
        }
        if rank == 1 && other.rank == 1 {
            return try unsqueeze(0).matmul(other.unsqueeze(1)).reshape([])
        }
        if rank == 1 { return try unsqueeze(0).matmul(other).squeeze(-2) }
        if other.rank == 1 { return try matmul(other.unsqueeze(1)).squeeze(-1) }
        return try batchedMatmul(other)
    }

    private func batchedMatmul(_ other: Tensor) throws -> Tensor {
        let (m, k) = (shape[rank - 2], shape[rank - 1])
        let (k2, n) = (other.shape[other.rank - 2], other.shape[other.rank - 1])
        guard k == k2 else {
            throw TensorError("matmul", "shapes \(shapeString(shape)) and \(shapeString(other.shape)) do not align (\(k) vs \(k2))")
        }
        let dt = DType.promote(dtype, other.dtype)
        guard dt.isFloatingPoint else {
            throw TensorError("matmul", "expects floating-point tensors (f32 or f64), got \(dtype) and \(other.dtype)")
        }
        let a = try to(dt), b = try other.to(dt)
        let batch = try Shape.broadcast(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2)), op: "matmul")
        let out = try Tensor.empty(batch + [m, n], dtype: dt, op: "matmul")
        let av = try a.detach().expand(batch + [m, k])
        let bv = try b.detach().expand(batch + [k, n])
        try gemmBatched(av, bv, out, batch: batch, m: m, n: n, k: k)
        return out.recordGrad("matmul", [a, b]) { g in
            let ga = a.requiresGrad ? try g.matmul(b.detach().transpose(-1, -2)).sumTo(a.shape) : nil
            var gb: Tensor? = nil
            if b.requiresGrad {
                if b.rank == 2 && a.rank > 2 {
                    // a weight shared by the whole batch (a Linear layer): one product with the
                    // batch folded into the inner dimension, (K, B·M) @ (B·M, N), instead of B
                    // small products and a sum over them
                    let a2 = try a.detach().reshape([-1, k]), g2 = try g.reshape([-1, n])
                    if b.strides == [1, k] {
                        // b is the transpose of a contiguous (N, K) weight (an LM head tied to
                        // the embedding): its gradient is computed as (N, K) and viewed, so the
                        // weight's own gradient arrives contiguous (a strided one made every
                        // accumulation into the tied weight walk 28M floats column-wise)
                        gb = try g2.transpose(0, 1).matmul(a2).transpose(0, 1)
                    } else {
                        gb = try a2.transpose(0, 1).matmul(g2)
                    }
                } else {
                    gb = try a.detach().transpose(-1, -2).matmul(g).sumTo(b.shape)
                }
            }
            return [ga, gb]
        }
    }
}

/// How BLAS reads one matrix view: its transpose flag and leading dimension.
private struct BlasOperand {
    let trans: CBLAS_TRANSPOSE
    let ld: Int32
}

/// The BLAS reading of a rows×cols view with strides (rs, cs), or nil if it needs a copy.
private func blasOperand(rows: Int, cols: Int, rs: Int, cs: Int) -> BlasOperand? {
    // BLAS takes 32-bit leading dimensions: a wider stride goes through a contiguous copy
    guard rs <= Int(Int32.max), cs <= Int(Int32.max) else { return nil }
    if (cs == 1 || cols == 1) && (rows == 1 || rs >= Swift.max(1, cols)) {
        return BlasOperand(trans: CblasNoTrans, ld: Int32(rows == 1 ? Swift.max(1, cols) : rs))
    }
    if (rs == 1 || rows == 1) && (cols == 1 || cs >= Swift.max(1, rows)) {
        return BlasOperand(trans: CblasTrans, ld: Int32(cols == 1 ? Swift.max(1, rows) : cs))
    }
    return nil
}

/// out (batch..., M, N) = a (batch..., M, K) @ b (batch..., K, N); a and b are views whose batch
/// dims are already broadcast (stride 0 where shared).
private func gemmBatched(_ a0: Tensor, _ b0: Tensor, _ out: Tensor, batch: [Int], m: Int, n: Int, k: Int) throws {
    guard out.numel > 0 else { return }
    if k == 0 { out.zero_(); return }
    guard m < Int(Int32.max), n < Int(Int32.max), k < Int(Int32.max) else {
        throw TensorError("matmul", "dimensions \(m)x\(k) @ \(k)x\(n) are too large for BLAS")
    }
    var a = a0, b = b0
    let r = a.rank
    // one matrix from a whole batch: when b is shared, (batch·M, K) @ (K, N) is a single call
    if !batch.isEmpty, b.strides.dropLast(2).allSatisfy({ $0 == 0 }),
        let st = a.viewStrides(batch.reduce(1, *) * m == 0 ? [0, k] : [batch.reduce(1, *) * m, k])
    {
        let rows = batch.reduce(1, *) * m
        let a2 = a.makeView([rows, k], st, a.offset)
        let b2 = b.makeView([k, n], Array(b.strides.suffix(2)), b.offset)
        try gemmBatched(a2, b2, out, batch: [], m: rows, n: n, k: k)
        return
    }
    var aOp = blasOperand(rows: m, cols: k, rs: a.strides[r - 2], cs: a.strides[r - 1])
    if aOp == nil {
        a = try a.contiguous()
        aOp = blasOperand(rows: m, cols: k, rs: k, cs: 1)
    }
    var bOp = blasOperand(rows: k, cols: n, rs: b.strides[r - 2], cs: b.strides[r - 1])
    if bOp == nil {
        b = try b.contiguous()
        bOp = blasOperand(rows: k, cols: n, rs: n, cs: 1)
    }
    // storage offsets of each batch's matrices
    let count = batch.reduce(1, *)
    var aOffs = [Int](repeating: a.offset, count: count), bOffs = [Int](repeating: b.offset, count: count)
    if !batch.isEmpty {
        var idx = [Int](repeating: 0, count: batch.count)
        for p in 0..<count {
            var ao = a.offset, bo = b.offset
            for d in 0..<batch.count { ao += idx[d] * a.strides[d]; bo += idx[d] * b.strides[d] }
            aOffs[p] = ao
            bOffs[p] = bo
            var d = batch.count - 1
            while d >= 0 { idx[d] += 1; if idx[d] < batch[d] { break }; idx[d] = 0; d -= 1 }
        }
    }
    let (ao, bo) = (aOp!, bOp!)
    let f32 = out.dtype == .f32
    let abase = a.storage.base, bbase = b.storage.base, obase = out.storage.base
    // one row times a matrix (decoding a token): a matrix-vector product. sgemm would pack the
    // whole of B first, which for an LM head (576 x 49152) costs more than the product
    let incx = Int32(ao.trans == CblasNoTrans ? 1 : ao.ld)
    let (bRows, bCols) = bo.trans == CblasNoTrans ? (k, n) : (n, k)
    let bTrans = bo.trans == CblasNoTrans ? CblasTrans : CblasNoTrans
    let call = { (p: Int) in
        if m == 1 && f32 {
            cblas_sgemv(
                CblasRowMajor, bTrans, Int32(bRows), Int32(bCols), 1, bbase.assumingMemoryBound(to: Float.self) + bOffs[p], bo.ld,
                abase.assumingMemoryBound(to: Float.self) + aOffs[p], incx, 0, obase.assumingMemoryBound(to: Float.self) + p * n, 1)
        } else if m == 1 {
            cblas_dgemv(
                CblasRowMajor, bTrans, Int32(bRows), Int32(bCols), 1, bbase.assumingMemoryBound(to: Double.self) + bOffs[p], bo.ld,
                abase.assumingMemoryBound(to: Double.self) + aOffs[p], incx, 0, obase.assumingMemoryBound(to: Double.self) + p * n, 1)
        } else if f32 {
            cblas_sgemm(
                CblasRowMajor, ao.trans, bo.trans, Int32(m), Int32(n), Int32(k), 1,
                abase.assumingMemoryBound(to: Float.self) + aOffs[p], ao.ld,
                bbase.assumingMemoryBound(to: Float.self) + bOffs[p], bo.ld, 0,
                obase.assumingMemoryBound(to: Float.self) + p * m * n, Int32(n))
        } else {
            cblas_dgemm(
                CblasRowMajor, ao.trans, bo.trans, Int32(m), Int32(n), Int32(k), 1,
                abase.assumingMemoryBound(to: Double.self) + aOffs[p], ao.ld,
                bbase.assumingMemoryBound(to: Double.self) + bOffs[p], bo.ld, 0,
                obase.assumingMemoryBound(to: Double.self) + p * m * n, Int32(n))
        }
    }
    // small per-matrix products gain nothing from OpenBLAS's threads: run them one thread each
    // and spread the batch over the cores (PERFORMANCE.md: ~2x for attention-sized heads)
    let flops = m * n * k
    if count >= Parallel.cores && flops < (1 << 22) && Parallel.cores > 1 {
        let threads = openblas_get_num_threads()
        openblas_set_num_threads(1)
        let per = (count + Parallel.cores - 1) / Parallel.cores
        DispatchQueue.concurrentPerform(iterations: Parallel.cores) { c in
            let lo = c * per, hi = Swift.min(count, lo + per)
            if lo < hi { for p in lo..<hi { call(p) } }
        }
        openblas_set_num_threads(threads)
    } else {
        for p in 0..<count {
            call(p)
            if count > 1 { try Cancellation.check("matmul") }
        }
    }
}
