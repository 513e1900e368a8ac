// Views: reshape, transpose, permute, narrow, select, expand, squeeze, unsqueeze: new shapes and
// strides over the same storage, never a copy (reshape copies only when no view is possible).

extension Tensor {
    /// a view with the given geometry sharing this tensor's storage
    func makeView(_ shape: [Int], _ strides: [Int], _ offset: Int) -> Tensor {
        Tensor(storage: storage, dtype: dtype, shape: shape, strides: strides, offset: offset)
    }

    /// `shape` with one -1 replaced by the size that keeps the element count
    func inferShape(_ shape: [Int], op: String) throws -> [Int] {
        var out = shape
        let unknown = shape.indices.filter { shape[$0] == -1 }
        guard unknown.count <= 1 else { throw TensorError(op, "only one dimension can be -1, got \(shape)") }
        if let u = unknown.first {
            var known = shape
            known[u] = 1
            let rest = try Shape.numel(known, op: op)
            guard rest != 0, numel % rest == 0 else {
                throw TensorError(op, "shape \(shape) is invalid for a tensor of \(numel) elements")
            }
            out[u] = numel / rest
        }
        guard try Shape.numel(out, op: op) == numel else {
            throw TensorError(op, "shape \(shapeString(out)) is invalid for a tensor of shape \(shapeString(self.shape)) (\(numel) elements)")
        }
        return out
    }

    /// Strides that let this tensor's memory be read as `newShape`, or nil when no view can
    /// (torch's rule: each run of merged dimensions must be contiguous within itself).
    func viewStrides(_ newShape: [Int]) -> [Int]? {
        if numel == 0 || isContiguous { return Shape.contiguousStrides(newShape) }
        var newStrides = [Int](repeating: 0, count: newShape.count)
        var viewD = newShape.count - 1
        var chunkBase = strides.last ?? 1
        var tensorNumel = 1
        var viewNumel = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            tensorNumel *= shape[d]
            if d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensorNumel * chunkBase) {
                while viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] == 1) {
                    newStrides[viewD] = viewNumel * chunkBase
                    viewNumel *= newShape[viewD]
                    viewD -= 1
                }
                if viewNumel != tensorNumel { return nil }
                if d > 0 {
                    chunkBase = strides[d - 1]
                    tensorNumel = 1
                    viewNumel = 1
                }
            }
        }
        return viewD == -1 ? newStrides : nil
    }

    /// A view with a new shape (one size may be -1); throws when the strides do not allow one.
    public func view(_ shape: [Int]) throws -> Tensor {
        let newShape = try inferShape(shape, op: "view")
        guard let st = viewStrides(newShape) else {
            throw TensorError(
                "view",
                "a tensor of shape \(shapeString(self.shape)) with strides \(strides) cannot be viewed as \(shapeString(newShape)); use reshape")
        }
        let inShape = self.shape
        return makeView(newShape, st, offset).recordGrad("view", [self]) { g in [try g.reshape(inShape)] }
    }

    /// Like view, but copies when the memory layout does not allow a view.
    public func reshape(_ shape: [Int]) throws -> Tensor {
        let newShape = try inferShape(shape, op: "reshape")
        if viewStrides(newShape) != nil { return try view(newShape) }
        return try contiguous().view(newShape)
    }

    /// All dimensions from `start` through `end` merged into one.
    public func flatten(_ start: Int = 0, _ end: Int = -1) throws -> Tensor {
        if rank == 0 { return try reshape([1]) }
        let s = try Shape.dim(start, rank: rank, op: "flatten")
        let e = try Shape.dim(end, rank: rank, op: "flatten")
        guard s <= e else { throw TensorError("flatten", "start dimension \(start) comes after end dimension \(end)") }
        let merged = shape[s...e].reduce(1, *)
        return try reshape(Array(shape[..<s]) + [merged] + Array(shape[(e + 1)...]))
    }

    /// Dimensions `a` and `b` swapped.
    public func transpose(_ a: Int, _ b: Int) throws -> Tensor {
        let da = try Shape.dim(a, rank: rank, op: "transpose")
        let db = try Shape.dim(b, rank: rank, op: "transpose")
        if rank == 0 { return self }
        var sh = shape, st = strides
        sh.swapAt(da, db)
        st.swapAt(da, db)
        return makeView(sh, st, offset).recordGrad("transpose", [self]) { g in [try g.transpose(da, db)] }
    }

    /// The transpose of a matrix (a 1-D or 0-D tensor is returned as is).
    public func t() throws -> Tensor {
        guard rank <= 2 else { throw TensorError("t", "expects a tensor with at most 2 dimensions, got shape \(shapeString(shape)); use transpose") }
        return rank < 2 ? self : try transpose(0, 1)
    }

    /// Dimensions reordered: result dimension i is this tensor's dimension dims[i].
    public func permute(_ dims: [Int]) throws -> Tensor {
        guard dims.count == rank else {
            throw TensorError("permute", "got \(dims.count) dimensions for a tensor with \(rank)")
        }
        let ds = try dims.map { try Shape.dim($0, rank: rank, op: "permute") }
        guard Set(ds).count == rank else { throw TensorError("permute", "dimensions \(dims) repeat") }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, d) in ds.enumerated() { inverse[d] = i }
        return makeView(ds.map { shape[$0] }, ds.map { strides[$0] }, offset)
            .recordGrad("permute", [self]) { g in [try g.permute(inverse)] }
    }

    /// `length` entries of dimension `dim` starting at `start` (0-based; negative counts from the end).
    public func narrow(_ dim: Int, _ start: Int, _ length: Int) throws -> Tensor {
        let d = try Shape.dim(dim, rank: rank, op: "narrow")
        guard rank > 0 else { throw TensorError("narrow", "cannot narrow a 0-d tensor") }
        let s = start < 0 ? start + shape[d] : start
        // compared as length <= size - start: s + length could overflow for an absurd length
        guard s >= 0, s <= shape[d], length >= 0, length <= shape[d] - s else {
            throw TensorError("narrow", "start \(start) and length \(length) out of range for dimension \(d) of size \(shape[d])")
        }
        var sh = shape
        sh[d] = length
        let inShape = shape
        return makeView(sh, strides, offset + s * strides[d]).recordGrad("narrow", [self]) { g in
            let full = try Tensor.zeros(inShape, dtype: g.dtype)
            try full.narrow(d, s, length).copy_(g)
            return [full]
        }
    }

    /// The slice at `index` of dimension `dim`, which is removed.
    public func select(_ dim: Int, _ index: Int) throws -> Tensor {
        guard rank > 0 else { throw TensorError("select", "cannot index a 0-d tensor") }
        let d = try Shape.dim(dim, rank: rank, op: "select")
        let i = index < 0 ? index + shape[d] : index
        guard i >= 0 && i < shape[d] else {
            throw TensorError("select", "index \(index) out of range for dimension \(d) of size \(shape[d])")
        }
        var sh = shape, st = strides
        sh.remove(at: d)
        st.remove(at: d)
        let inShape = shape
        return makeView(sh, st, offset + i * strides[d]).recordGrad("select", [self]) { g in
            let full = try Tensor.zeros(inShape, dtype: g.dtype)
            try full.select(d, i).copy_(g)
            return [full]
        }
    }

    /// Size-1 dimensions repeated to `shape` without copying (-1 keeps a size); new leading
    /// dimensions may be added.
    public func expand(_ shape: [Int]) throws -> Tensor {
        guard shape.count >= rank else {
            throw TensorError("expand", "cannot expand shape \(shapeString(self.shape)) to fewer dimensions \(shapeString(shape))")
        }
        let lead = shape.count - rank
        var target = shape
        for i in 0..<rank where shape[lead + i] == -1 { target[lead + i] = self.shape[i] }
        for i in 0..<rank where self.shape[i] != 1 && self.shape[i] != target[lead + i] {
            throw TensorError("expand", "cannot expand shape \(shapeString(self.shape)) to \(shapeString(target))")
        }
        _ = try Shape.numel(target, op: "expand")
        let st = Shape.broadcastStrides(shape: self.shape, strides: strides, to: target)
        let inShape = self.shape
        return makeView(target, st, offset).recordGrad("expand", [self]) { g in [try g.sumTo(inShape)] }
    }

    /// Size-1 dimensions removed: all of them, or only `dim`.
    public func squeeze(_ dim: Int? = nil) throws -> Tensor {
        var keep = Array(0..<rank).filter { shape[$0] != 1 }
        if let dim {
            let d = try Shape.dim(dim, rank: rank, op: "squeeze")
            keep = Array(0..<rank).filter { $0 != d || shape[$0] != 1 }
        }
        let inShape = shape
        return makeView(keep.map { shape[$0] }, keep.map { strides[$0] }, offset)
            .recordGrad("squeeze", [self]) { g in [try g.reshape(inShape)] }
    }

    /// A size-1 dimension inserted at position `dim` (0...rank; negative counts from the end).
    public func unsqueeze(_ dim: Int) throws -> Tensor {
        let d = try Shape.dim(dim, rank: rank + 1, op: "unsqueeze")
        var sh = shape, st = strides
        let inner = d < rank ? strides[d] * shape[d] : 1
        sh.insert(1, at: d)
        st.insert(inner, at: d)
        let inShape = shape
        return makeView(sh, st, offset).recordGrad("unsqueeze", [self]) { g in [try g.reshape(inShape)] }
    }
}
