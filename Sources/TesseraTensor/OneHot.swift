// OneHot: class indices -> indicator vectors.

extension Tensor {
    /// For an integer tensor of class indices (0-based), a tensor with one more dimension of size
    /// `numClasses` holding 1 at each index (i64, as torch.nn.functional.one_hot).
    public func oneHot(_ numClasses: Int) throws -> Tensor {
        guard numClasses > 0 else { throw TensorError("one_hot", "number of classes must be positive, got \(numClasses)") }
        let idx = try checkedIndex(self, size: numClasses, op: "one_hot", countsFromEnd: false)
        let out = try Tensor.zeros(shape + [numClasses], dtype: .i64)
        let ip = idx.pointer(Int64.self), op = out.mutablePointer(Int64.self)
        for j in 0..<idx.numel { op[j * numClasses + Int(ip[j])] = 1 }
        return out
    }
}
