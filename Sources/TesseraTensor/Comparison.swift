// Comparison: elementwise comparisons (bool results), where, clamp and logical ops.

public enum CompareOp: String, Sendable {
    case eq, ne, lt, le, gt, ge
}

extension Tensor {
    public func eq(_ o: Tensor) throws -> Tensor { try compare(.eq, o) }
    public func ne(_ o: Tensor) throws -> Tensor { try compare(.ne, o) }
    public func lt(_ o: Tensor) throws -> Tensor { try compare(.lt, o) }
    public func le(_ o: Tensor) throws -> Tensor { try compare(.le, o) }
    public func gt(_ o: Tensor) throws -> Tensor { try compare(.gt, o) }
    public func ge(_ o: Tensor) throws -> Tensor { try compare(.ge, o) }
    public func eq(_ s: Double) throws -> Tensor { try compare(.eq, scalarOperand(s)) }
    public func ne(_ s: Double) throws -> Tensor { try compare(.ne, scalarOperand(s)) }
    public func lt(_ s: Double) throws -> Tensor { try compare(.lt, scalarOperand(s)) }
    public func le(_ s: Double) throws -> Tensor { try compare(.le, scalarOperand(s)) }
    public func gt(_ s: Double) throws -> Tensor { try compare(.gt, scalarOperand(s)) }
    public func ge(_ s: Double) throws -> Tensor { try compare(.ge, scalarOperand(s)) }

    /// `self op other` elementwise with broadcasting, as a bool tensor.
    public func compare(_ op: CompareOp, _ other: Tensor) throws -> Tensor {
        let dt = DType.promote(dtype, other.dtype)
        let a = try detach().to(dt), b = try other.detach().to(dt)
        let out = try Tensor.empty(try Shape.broadcast(a.shape, b.shape, op: op.rawValue), dtype: .bool, op: op.rawValue)
        switch dt {
        case .f32: compareKernel(op, a, b, out, Float.self)
        case .f64: compareKernel(op, a, b, out, Double.self)
        case .i32: compareKernel(op, a, b, out, Int32.self)
        case .i64: compareKernel(op, a, b, out, Int64.self)
        case .bool: compareKernel(op, try a.to(.i32), try b.to(.i32), out, Int32.self)
        }
        return out
    }

    /// Elementwise `cond ? a : b`, broadcasting all three; gradients flow to a and b.
    public static func `where`(_ cond: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        guard cond.dtype == .bool else {
            throw TensorError("where", "condition must be a bool tensor, got \(cond.dtype)")
        }
        let dt = DType.promote(a.dtype, b.dtype)
        let x = try a.to(dt), y = try b.to(dt)
        let shape = try Shape.broadcast(try Shape.broadcast(cond.shape, x.shape, op: "where"), y.shape, op: "where")
        let out = try Tensor.empty(shape, dtype: dt, op: "where")
        let loop = StridedLoop(
            shape: shape,
            strides: [out.strides] + [cond, x, y].map { Shape.broadcastStrides(shape: $0.shape, strides: $0.strides, to: shape) },
            offsets: [0, cond.offset, x.offset, y.offset])
        switch dt {
        case .f32, .i32: whereKernel(loop, cond, x, y, out, UInt32.self)
        case .f64, .i64: whereKernel(loop, cond, x, y, out, UInt64.self)
        case .bool: whereKernel(loop, cond, x, y, out, UInt8.self)
        }
        guard dt.isFloatingPoint else { return out }
        let c = cond.detach()
        return out.recordGrad("where", [x, y]) { g in
            [
                x.requiresGrad ? try g.where_(c, 0).sumTo(x.shape) : nil,
                y.requiresGrad ? try Tensor.where(c, Tensor.scalar(0, dtype: g.dtype), g).sumTo(y.shape) : nil,
            ]
        }
    }

    /// self where `cond` holds, `other` elsewhere.
    public func where_(_ cond: Tensor, _ other: Double) throws -> Tensor {
        try Tensor.where(cond, self, Tensor.scalar(other, dtype: dtype))
    }

    /// Values limited to [min, max] (either bound may be nil); the gradient passes inside the range.
    public func clamp(min lo: Double? = nil, max hi: Double? = nil) throws -> Tensor {
        var out = self
        if let lo { out = try Tensor.where(out.lt(lo), scalarOperand(lo), out) }
        if let hi { out = try Tensor.where(out.gt(hi), scalarOperand(hi), out) }
        return out
    }

    public func logicalNot() throws -> Tensor { try to(.bool).eq(Tensor.scalar(0, dtype: .bool)) }
    // through bool first: a float such as 0.5 is true, but to(.i32) would truncate it to 0
    public func logicalAnd(_ o: Tensor) throws -> Tensor { try to(.bool).to(.i32).mul(o.to(.bool).to(.i32)).ne(0) }
    public func logicalOr(_ o: Tensor) throws -> Tensor { try to(.bool).to(.i32).add(o.to(.bool).to(.i32)).ne(0) }
}

@inline(__always)
private func compareKernel<T: Comparable>(_ op: CompareOp, _ a: Tensor, _ b: Tensor, _ out: Tensor, _: T.Type) {
    switch op {
    case .eq: map2(a, b, out, EqK<T>.self)
    case .ne: map2(a, b, out, NeK<T>.self)
    case .lt: map2(a, b, out, LtK<T>.self)
    case .le: map2(a, b, out, LeK<T>.self)
    case .gt: map2(a, b, out, GtK<T>.self)
    case .ge: map2(a, b, out, GeK<T>.self)
    }
}

@inline(__always)
private func whereKernel<T>(_ loop: StridedLoop, _ c: Tensor, _ a: Tensor, _ b: Tensor, _ out: Tensor, _: T.Type) {
    let ob = out.storage.base.assumingMemoryBound(to: T.self)
    let cb = c.storage.base.assumingMemoryBound(to: Bool.self)
    let ab = a.storage.base.assumingMemoryBound(to: T.self)
    let bb = b.storage.base.assumingMemoryBound(to: T.self)
    let sc = loop.strides[1].last!, sa = loop.strides[2].last!, sb = loop.strides[3].last!
    loop.parallelRows { offs, n in
        let po = ob + offs[0], pc = cb + offs[1], pa = ab + offs[2], pb = bb + offs[3]
        for i in 0..<n { po[i] = pc[i * sc] ? pa[i * sa] : pb[i * sb] }
    }
}

extension Tensor {
    /// Whether any element is non-zero (true).
    public func any() throws -> Bool {
        let b = try to(.bool).contiguous()
        let p = b.pointer(Bool.self)
        for i in 0..<b.numel where p[i] { return true }
        return false
    }

    /// Whether every element is non-zero (true); true for an empty tensor.
    public func all() throws -> Bool {
        let b = try to(.bool).contiguous()
        let p = b.pointer(Bool.self)
        for i in 0..<b.numel where !p[i] { return false }
        return true
    }
}
