// Creation: tensors from sizes and ranges (zeros, ones, full, arange, linspace, eye, *_like).

extension Tensor {
    public static func zeros(_ shape: [Int], dtype: DType = .f32) throws -> Tensor {
        try empty(shape, dtype: dtype, zeroed: true, op: "zeros")
    }

    public static func ones(_ shape: [Int], dtype: DType = .f32) throws -> Tensor {
        try full(shape, 1, dtype: dtype)
    }

    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .f32) throws -> Tensor {
        try empty(shape, dtype: dtype, op: "full").fill_(value)
    }

    /// start, start+step, ... up to but excluding `end` (numpy's arange).
    public static func arange(_ start: Double, _ end: Double, step: Double = 1, dtype: DType = .f32) throws -> Tensor {
        guard step != 0, step.isFinite, start.isFinite, end.isFinite else {
            throw TensorError("arange", "step must be a non-zero finite number and the bounds finite (got start \(start), end \(end), step \(step))")
        }
        // checked in Double first: Int(_:) traps on a count like 1e300
        let steps = ((end - start) / step).rounded(.up)
        guard steps < 0x1p62 else {
            throw TensorError("arange", "\(start) to \(end) in steps of \(step) is too many elements")
        }
        let count = Swift.max(0, Int(steps))
        let t = try empty([count], dtype: dtype, op: "arange")
        for i in 0..<count { t.setFlat(i, start + Double(i) * step) }
        return t
    }

    /// `count` evenly spaced values from `start` to `end`, both included.
    public static func linspace(_ start: Double, _ end: Double, count: Int, dtype: DType = .f32) throws -> Tensor {
        guard count >= 0 else { throw TensorError("linspace", "count must be non-negative, got \(count)") }
        let t = try empty([count], dtype: dtype, op: "linspace")
        let step = count > 1 ? (end - start) / Double(count - 1) : 0
        for i in 0..<count {
            // the last value is exactly `end`, as numpy gives it
            t.setFlat(i, i == count - 1 && count > 1 ? end : start + Double(i) * step)
        }
        return t
    }

    /// The n×m identity (m defaults to n).
    public static func eye(_ n: Int, _ m: Int? = nil, dtype: DType = .f32) throws -> Tensor {
        let cols = m ?? n
        let t = try zeros([n, cols], dtype: dtype)
        for i in 0..<Swift.min(n, cols) { t.setFlat(i * cols + i, 1) }
        return t
    }

    public func zerosLike() throws -> Tensor { try Tensor.zeros(shape, dtype: dtype) }
    public func onesLike() throws -> Tensor { try Tensor.ones(shape, dtype: dtype) }
    public func fullLike(_ value: Double) throws -> Tensor { try Tensor.full(shape, value, dtype: dtype) }
    public func emptyLike() throws -> Tensor { try Tensor.empty(shape, dtype: dtype) }
}
