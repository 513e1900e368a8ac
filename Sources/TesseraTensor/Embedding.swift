// Embedding: rows of a table picked by integer ids. The backward pass adds each output row's
// gradient into its id's row (index_add); a padding id's row gets no gradient, as in torch.

extension Tensor {
    /// Rows of this table (V, D) at `indices` (any shape, integers in 0..<V).
    /// table (V, D), indices (...) -> (..., D)
    public func embedding(_ indices: Tensor, paddingIndex: Int? = nil) throws -> Tensor {
        guard rank == 2 else {
            throw TensorError("embedding", "expects a (num_embeddings, dim) table, got shape \(shapeString(shape))")
        }
        let (v, d) = (shape[0], shape[1])
        // ids are data, not positions: a negative id is a bug upstream, never "count from the end"
        let idx = try checkedIndex(indices, size: v, op: "embedding", countsFromEnd: false).reshape([-1])
        if let p = paddingIndex, p < 0 || p >= v {
            throw TensorError("embedding", "padding index \(p) out of range for \(v) embeddings")
        }
        let rows = try detach().indexSelect(0, idx)
        let out = try rows.reshape(indices.shape + [d])
        return out.recordGrad("embedding", [self]) { g in
            var gr = try g.reshape([idx.numel, d])
            if let p = paddingIndex { gr = try gr.where_(idx.ne(Double(p)).unsqueeze(1), 0) }
            return [try Tensor.zeros([v, d], dtype: gr.dtype).indexAdd(0, idx, gr)]
        }
    }
}
