// Joining and splitting: cat, stack, split, chunk (pieces are views).

extension Tensor {
    /// Tensors joined along `dim`; all other sizes must match.
    public static func cat(_ tensors: [Tensor], dim: Int = 0) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError("cat", "expects at least one tensor") }
        guard first.rank > 0 else { throw TensorError("cat", "cannot concatenate 0-d tensors; use stack") }
        let d = try Shape.dim(dim, rank: first.rank, op: "cat")
        var dt = first.dtype
        for (n, t) in tensors.enumerated() {
            guard t.rank == first.rank,
                (0..<t.rank).allSatisfy({ $0 == d || t.shape[$0] == first.shape[$0] })
            else {
                throw TensorError(
                    "cat",
                    "tensor \(n + 1) has shape \(shapeString(t.shape)), incompatible with \(shapeString(first.shape)) (sizes must match in every dimension but the joined one)"
                )
            }
            dt = DType.promote(dt, t.dtype)
        }
        var shape = first.shape
        shape[d] = tensors.reduce(0) { $0 + $1.shape[d] }
        let out = try Tensor.empty(shape, dtype: dt, op: "cat")
        var start = 0
        var sizes: [Int] = []
        for t in tensors {
            try out.narrow(d, start, t.shape[d]).copy_(t.detach())
            start += t.shape[d]
            sizes.append(t.shape[d])
        }
        guard dt.isFloatingPoint else { return out }
        return out.recordGrad("cat", tensors) { g in
            var s = 0
            return try sizes.map { len in
                defer { s += len }
                return try g.narrow(d, s, len)
            }
        }
    }

    /// Tensors of equal shape stacked along a new dimension `dim`.
    public static func stack(_ tensors: [Tensor], dim: Int = 0) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError("stack", "expects at least one tensor") }
        for (n, t) in tensors.enumerated() where t.shape != first.shape {
            throw TensorError("stack", "tensor \(n + 1) has shape \(shapeString(t.shape)), expected \(shapeString(first.shape))")
        }
        let d = try Shape.dim(dim, rank: first.rank + 1, op: "stack")
        return try cat(tensors.map { try $0.unsqueeze(d) }, dim: d)
    }

    /// Views of consecutive pieces of `size` along `dim` (the last may be smaller).
    public func split(_ size: Int, dim: Int = 0) throws -> [Tensor] {
        guard size > 0 else { throw TensorError("split", "split size must be positive, got \(size)") }
        let d = try Shape.dim(dim, rank: rank, op: "split")
        guard rank > 0 else { throw TensorError("split", "cannot split a 0-d tensor") }
        return try stride(from: 0, to: Swift.max(shape[d], 1), by: size).map { s in
            try narrow(d, s, Swift.min(size, shape[d] - s))
        }
    }

    /// Views of pieces with the given sizes along `dim` (they must add up to its size).
    public func split(sizes: [Int], dim: Int = 0) throws -> [Tensor] {
        let d = try Shape.dim(dim, rank: rank, op: "split")
        guard rank > 0 else { throw TensorError("split", "cannot split a 0-d tensor") }
        guard sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == shape[d] else {
            throw TensorError("split", "sizes \(sizes) do not add up to \(shape[d]), the size of dimension \(d)")
        }
        var s = 0
        return try sizes.map { len in
            defer { s += len }
            return try narrow(d, s, len)
        }
    }

    /// `chunks` views of (nearly) equal size along `dim`, as torch.chunk.
    public func chunk(_ chunks: Int, dim: Int = 0) throws -> [Tensor] {
        guard chunks > 0 else { throw TensorError("chunk", "number of chunks must be positive, got \(chunks)") }
        let d = try Shape.dim(dim, rank: rank, op: "chunk")
        guard rank > 0 else { throw TensorError("chunk", "cannot chunk a 0-d tensor") }
        // ceil(size / chunks) without forming size + chunks - 1, which overflows for huge chunks
        let size = Swift.max(1, shape[d] / chunks + (shape[d] % chunks == 0 ? 0 : 1))
        return try split(size, dim: d)
    }
}
