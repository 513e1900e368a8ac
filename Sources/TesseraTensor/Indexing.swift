// Indexing: gather, scatter, scatter_add, index_select, index_add, masked_fill, masked_select.
// Index tensors hold 0-based positions (the Lua layer converts from 1-based); every index is
// checked before any kernel runs.

extension Tensor {
    /// index as contiguous i64 with every value in 0..<size (negative values count from the end)
    /// (`countsFromEnd: false` for ids that are data, such as token ids: a negative one is an error)
    func checkedIndex(_ index: Tensor, size: Int, op: String, countsFromEnd: Bool = true) throws -> Tensor {
        guard index.dtype == .i64 || index.dtype == .i32 else {
            throw TensorError(op, "index must be an integer tensor (i64 or i32), got \(index.dtype)")
        }
        let src = try index.to(.i64).contiguous()
        let out = try Tensor.empty(src.shape, dtype: .i64, op: op)
        let p = src.pointer(Int64.self), q = out.mutablePointer(Int64.self)
        for j in 0..<src.numel {
            if p[j] < 0 && !countsFromEnd {
                throw TensorError(op, "id \(p[j]) is negative; ids must lie in 0..<\(size)")
            }
            let v = p[j] < 0 ? p[j] + Int64(size) : p[j]
            guard v >= 0 && v < size else {
                throw TensorError(op, "index \(p[j]) out of range for dimension of size \(size)")
            }
            q[j] = v
        }
        return out
    }

    /// out[i][j][k] = self[index[i][j][k]][j][k] for dim 0 (and likewise for other dims).
    /// index has this tensor's rank and no larger size than it in the other dimensions.
    public func gather(_ dim: Int, _ index: Tensor) throws -> Tensor {
        let d = try Shape.dim(dim, rank: rank, op: "gather")
        try checkScatterShapes(index, nil, d, op: "gather")
        let idx = try checkedIndex(index, size: shape[d], op: "gather")
        let x = try contiguous()
        let out = try Tensor.empty(index.shape, dtype: dtype, op: "gather")
        forEachIndexed(idx, d, x.strides) { j, src in copyElement(x, x.offset + src, out, j) }
        let inShape = shape
        return out.recordGrad("gather", [self]) { g in
            [try Tensor.zeros(inShape, dtype: g.dtype).scatterAdd(d, idx, g)]
        }
    }

    /// A copy with self[index[i][j]][j] = src[i][j] (dim 0); where indices repeat, the last write wins.
    public func scatter(_ dim: Int, _ index: Tensor, _ src: Tensor) throws -> Tensor {
        try scatterImpl(dim, index, src, accumulate: false)
    }

    /// A copy with value written at every indexed position.
    public func scatter(_ dim: Int, _ index: Tensor, value: Double) throws -> Tensor {
        try scatterImpl(dim, index, Tensor.full(index.shape, value, dtype: dtype), accumulate: false)
    }

    /// A copy with self[index[i][j]][j] += src[i][j] (dim 0); repeated indices accumulate.
    public func scatterAdd(_ dim: Int, _ index: Tensor, _ src: Tensor) throws -> Tensor {
        try scatterImpl(dim, index, src, accumulate: true)
    }

    private func scatterImpl(_ dim: Int, _ index: Tensor, _ src0: Tensor, accumulate: Bool) throws -> Tensor {
        let op = accumulate ? "scatter_add" : "scatter"
        let d = try Shape.dim(dim, rank: rank, op: op)
        try checkScatterShapes(index, src0, d, op: op)
        let idx = try checkedIndex(index, size: shape[d], op: op)
        let src = try src0.to(dtype).contiguous()
        let out = try clone().detach()
        let srcStrides = src.strides
        if accumulate {
            switch dtype {
            case .f32: scatterAddKernel(out, src, idx, d, srcStrides, Float.self)
            case .f64: scatterAddKernel(out, src, idx, d, srcStrides, Double.self)
            case .i32: scatterAddKernel(out, src, idx, d, srcStrides, Int32.self)
            case .i64: scatterAddKernel(out, src, idx, d, srcStrides, Int64.self)
            case .bool: throw TensorError(op, "cannot accumulate into a bool tensor")
            }
        } else {
            out.forEachIndexed(idx, d, out.strides) { j, dst in
                copyElement(src, src.storageOffsetOf(j, idx.shape), out, dst)
            }
        }
        guard dtype.isFloatingPoint else { return out }
        let srcShape = src0.shape
        return out.recordGrad(op, [self, src0]) { g in
            let gSelf = accumulate ? g : try g.scatter(d, idx, value: 0)
            var gSrc = try g.gather(d, idx)
            if gSrc.shape != srcShape { gSrc = try gSrc.padded(to: srcShape) }
            return [gSelf, gSrc]
        }
    }

    /// zeros of `shape` with this tensor in the leading corner
    func padded(to shape: [Int]) throws -> Tensor {
        let out = try Tensor.zeros(shape, dtype: dtype)
        var view = out
        for d in 0..<rank { view = try view.narrow(d, 0, self.shape[d]) }
        try view.copy_(self)
        return out
    }

    /// storage offset of the element at row-major position j of a tensor with `shape` (contiguous self)
    func storageOffsetOf(_ j: Int, _ shape: [Int]) -> Int {
        var rem = j, off = offset
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            off += (rem % shape[d]) * strides[d]
            rem /= shape[d]
        }
        return off
    }

    private func checkScatterShapes(_ index: Tensor, _ src: Tensor?, _ d: Int, op: String) throws {
        guard rank > 0 else { throw TensorError(op, "cannot index a 0-d tensor") }
        guard index.rank == rank else {
            throw TensorError(op, "index has \(index.rank) dimensions, the tensor \(rank)")
        }
        for i in 0..<rank where i != d && index.shape[i] > shape[i] {
            throw TensorError(op, "index shape \(shapeString(index.shape)) is larger than tensor shape \(shapeString(shape)) in dimension \(i)")
        }
        if let src {
            guard src.rank == rank, (0..<rank).allSatisfy({ index.shape[$0] <= src.shape[$0] }) else {
                throw TensorError(op, "index shape \(shapeString(index.shape)) is larger than source shape \(shapeString(src.shape))")
            }
        }
    }

    /// For each element j (row-major) of contiguous `idx`, calls body(j, offset) where offset is the
    /// storage offset (with `strides` from self's offset) of j's position with dim `d` replaced by idx[j].
    func forEachIndexed(_ idx: Tensor, _ d: Int, _ strides: [Int], _ body: (Int, Int) -> Void) {
        let ip = idx.pointer(Int64.self)
        let shp = idx.shape
        var pos = [Int](repeating: 0, count: shp.count)
        for j in 0..<idx.numel {
            var off = offset
            for k in 0..<shp.count { off += (k == d ? Int(ip[j]) : pos[k]) * strides[k] }
            body(j, off - offset)
            var k = shp.count - 1
            while k >= 0 { pos[k] += 1; if pos[k] < shp[k] { break }; pos[k] = 0; k -= 1 }
        }
    }

    /// Slices of dimension `dim` picked by a 1-D index: out.shape[dim] = index.count.
    public func indexSelect(_ dim: Int, _ index: Tensor) throws -> Tensor {
        let d = try Shape.dim(dim, rank: rank, op: "index_select")
        guard index.rank <= 1 else { throw TensorError("index_select", "index must be 1-D, got shape \(shapeString(index.shape))") }
        let idx = try checkedIndex(index, size: rank == 0 ? 1 : shape[d], op: "index_select").reshape([-1])
        let x = try (rank == 0 ? reshape([1]) : self).contiguous()
        var sh = x.shape
        sh[d] = idx.numel
        let out = try Tensor.empty(sh, dtype: dtype, op: "index_select")
        let (o, r, i) = x.ori(d, d)
        let ip = idx.pointer(Int64.self)
        let es = dtype.size
        let xb = x.storage.base + x.offset * es, ob = out.storage.base
        let m = idx.numel
        for a in 0..<o {
            for j in 0..<m {
                (ob + ((a * m + j) * i) * es).copyMemory(from: xb + ((a * r + Int(ip[j])) * i) * es, byteCount: i * es)
            }
        }
        let inShape = x.shape
        return out.recordGrad("index_select", [x]) { g in
            [try Tensor.zeros(inShape, dtype: g.dtype).indexAdd(d, idx, g)]
        }
    }

    /// A copy with src's slices added at the positions of a 1-D index along `dim` (repeats accumulate).
    public func indexAdd(_ dim: Int, _ index: Tensor, _ src0: Tensor) throws -> Tensor {
        let d = try Shape.dim(dim, rank: rank, op: "index_add")
        guard rank > 0 else { throw TensorError("index_add", "cannot index a 0-d tensor") }
        let idx = try checkedIndex(index, size: shape[d], op: "index_add").reshape([-1])
        var expected = shape
        expected[d] = idx.numel
        guard src0.shape == expected else {
            throw TensorError("index_add", "source has shape \(shapeString(src0.shape)), expected \(shapeString(expected))")
        }
        let src = try src0.to(dtype).contiguous()
        let out = try clone().detach()
        let (o, r, i) = out.ori(d, d)
        switch dtype {
        case .f32: indexAddKernel(out, src, idx, o, r, i, Float.self)
        case .f64: indexAddKernel(out, src, idx, o, r, i, Double.self)
        case .i32: indexAddKernel(out, src, idx, o, r, i, Int32.self)
        case .i64: indexAddKernel(out, src, idx, o, r, i, Int64.self)
        case .bool: throw TensorError("index_add", "cannot accumulate into a bool tensor")
        }
        guard dtype.isFloatingPoint else { return out }
        return out.recordGrad("index_add", [self, src0]) { g in [g, try g.indexSelect(d, idx)] }
    }

    /// self with `value` where the (broadcast) bool mask is true.
    public func maskedFill(_ mask: Tensor, _ value: Double) throws -> Tensor {
        guard mask.dtype == .bool else { throw TensorError("masked_fill", "mask must be bool, got \(mask.dtype)") }
        guard try Shape.broadcast(shape, mask.shape, op: "masked_fill") == shape else {
            throw TensorError("masked_fill", "mask shape \(shapeString(mask.shape)) does not broadcast to \(shapeString(shape))")
        }
        return try Tensor.where(mask, Tensor.scalar(value, dtype: dtype), self)
    }

    /// The elements where the (broadcast) bool mask is true, as a 1-D tensor in row-major order.
    public func maskedSelect(_ mask: Tensor) throws -> Tensor {
        guard mask.dtype == .bool else { throw TensorError("masked_select", "mask must be bool, got \(mask.dtype)") }
        let shape = try Shape.broadcast(self.shape, mask.shape, op: "masked_select")
        let x = try expand(shape).contiguous(), m = try mask.expand(shape).contiguous()
        let mp = m.pointer(Bool.self)
        var positions: [Int] = []
        for j in 0..<m.numel where mp[j] { positions.append(j) }
        let out = try Tensor.empty([positions.count], dtype: dtype, op: "masked_select")
        for (k, j) in positions.enumerated() { copyElement(x, x.offset + j, out, k) }
        let inShape = self.shape
        return out.recordGrad("masked_select", [self]) { g in
            let full = try Tensor.zeros(shape, dtype: g.dtype)
            let gc = try g.contiguous()
            for (k, j) in positions.enumerated() { copyElement(gc, gc.offset + k, full, j) }
            return [try full.sumTo(inShape)]
        }
    }
}

/// dst's element at storage position `dp` (absolute) = src's at `sp` (absolute), same dtype
@inline(__always)
func copyElement(_ src: Tensor, _ sp: Int, _ dst: Tensor, _ dp: Int) {
    let es = src.dtype.size
    (dst.storage.base + dp * es).copyMemory(from: src.storage.base + sp * es, byteCount: es)
}

private func scatterAddKernel<T: AdditiveArithmetic>(_ out: Tensor, _ src: Tensor, _ idx: Tensor, _ d: Int, _ srcStrides: [Int], _: T.Type) {
    let ob = out.storage.base.assumingMemoryBound(to: T.self)
    let sb = src.storage.base.assumingMemoryBound(to: T.self)
    out.forEachIndexed(idx, d, out.strides) { j, dst in
        let v = sb[src.storageOffsetOf(j, idx.shape)]
        ob[dst] = ob[dst] + v
    }
}

/// out (O, R, I) [:, idx[j], :] += src (O, M, I) [:, j, :]
private func indexAddKernel<T: AdditiveArithmetic>(_ out: Tensor, _ src: Tensor, _ idx: Tensor, _ o: Int, _ r: Int, _ i: Int, _: T.Type) {
    let op = out.mutablePointer(T.self), sp = src.pointer(T.self), ip = idx.pointer(Int64.self)
    let m = idx.numel
    for a in 0..<o {
        for j in 0..<m {
            let dst = op + (a * r + Int(ip[j])) * i, s = sp + (a * m + j) * i
            for c in 0..<i { dst[c] = dst[c] + s[c] }
        }
    }
}
