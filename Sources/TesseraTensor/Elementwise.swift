// Elementwise: the broadcasting loop shared by every elementwise kernel, and binary arithmetic
// (add, sub, mul, div, pow, maximum, minimum) with gradients.

/// Applies `f` to `a` (any strides) writing contiguous `out` of the same shape.
/// x (shape) -> out (shape)
@inline(__always)
func map1<K: Map1Kernel>(_ a: Tensor, _ out: Tensor, grain: Int = 1 << 16, _: K.Type) {
    typealias T = K.In
    let o = out.mutablePointer(K.Out.self)
    if a.isContiguous {
        let pa = a.pointer(T.self)
        Parallel.forRanges(out.numel, grain: grain) { r in
            for i in r { o[i] = K.apply(pa[i]) }
        }
        return
    }
    let loop = StridedLoop(shape: out.shape, strides: [out.strides, a.strides], offsets: [out.offset, a.offset])
    let base = a.storage.base.assumingMemoryBound(to: T.self)
    let ob = out.storage.base.assumingMemoryBound(to: K.Out.self)
    let sa = loop.strides[1].last!
    loop.parallelRows(grain: grain) { offs, n in
        let po = ob + offs[0], pa = base + offs[1]
        for i in 0..<n { po[i] = K.apply(pa[i * sa]) }
    }
}

/// Applies `f` elementwise to `a` and `b` broadcast to `out`'s shape, writing contiguous `out`.
/// a (broadcastable) , b (broadcastable) -> out (broadcast shape)
@inline(__always)
func map2<K: Map2Kernel>(_ a: Tensor, _ b: Tensor, _ out: Tensor, grain: Int = 1 << 16, _: K.Type) {
    typealias T = K.In
    let o = out.mutablePointer(K.Out.self)
    let n = out.numel
    if a.shape == out.shape && b.shape == out.shape && a.isContiguous && b.isContiguous {
        let pa = a.pointer(T.self), pb = b.pointer(T.self)
        Parallel.forRanges(n, grain: grain) { r in
            for i in r { o[i] = K.apply(pa[i], pb[i]) }
        }
        return
    }
    if b.numel == 1 && a.shape == out.shape && a.isContiguous {
        let pa = a.pointer(T.self), s = b.pointer(T.self)[0]
        Parallel.forRanges(n, grain: grain) { r in
            for i in r { o[i] = K.apply(pa[i], s) }
        }
        return
    }
    if a.numel == 1 && b.shape == out.shape && b.isContiguous {
        let s = a.pointer(T.self)[0], pb = b.pointer(T.self)
        Parallel.forRanges(n, grain: grain) { r in
            for i in r { o[i] = K.apply(s, pb[i]) }
        }
        return
    }
    let loop = StridedLoop(
        shape: out.shape,
        strides: [
            out.strides,
            Shape.broadcastStrides(shape: a.shape, strides: a.strides, to: out.shape),
            Shape.broadcastStrides(shape: b.shape, strides: b.strides, to: out.shape),
        ],
        offsets: [out.offset, a.offset, b.offset])
    let ab = a.storage.base.assumingMemoryBound(to: T.self)
    let bb = b.storage.base.assumingMemoryBound(to: T.self)
    let ob = out.storage.base.assumingMemoryBound(to: K.Out.self)
    let sa = loop.strides[1].last!, sb = loop.strides[2].last!
    loop.parallelRows(grain: grain) { offs, n in
        let po = ob + offs[0], pa = ab + offs[1], pb = bb + offs[2]
        if sa == 1 && sb == 1 {
            for i in 0..<n { po[i] = K.apply(pa[i], pb[i]) }
        } else if sa == 1 && sb == 0 {
            let s = pb[0]
            for i in 0..<n { po[i] = K.apply(pa[i], s) }
        } else if sa == 0 && sb == 1 {
            let s = pa[0]
            for i in 0..<n { po[i] = K.apply(s, pb[i]) }
        } else {
            for i in 0..<n { po[i] = K.apply(pa[i * sa], pb[i * sb]) }
        }
    }
}

public enum BinaryOp: String, Sendable {
    case add, sub, mul, div, pow, maximum, minimum
}

extension Tensor {
    public func add(_ other: Tensor) throws -> Tensor { try binary(.add, other) }
    public func sub(_ other: Tensor) throws -> Tensor { try binary(.sub, other) }
    public func mul(_ other: Tensor) throws -> Tensor { try binary(.mul, other) }
    /// true division: integer operands give a float result
    public func div(_ other: Tensor) throws -> Tensor { try binary(.div, other) }
    public func pow(_ other: Tensor) throws -> Tensor { try binary(.pow, other) }
    public func maximum(_ other: Tensor) throws -> Tensor { try binary(.maximum, other) }
    public func minimum(_ other: Tensor) throws -> Tensor { try binary(.minimum, other) }

    public func add(_ s: Double) throws -> Tensor { try binary(.add, scalarOperand(s)) }
    public func sub(_ s: Double) throws -> Tensor { try binary(.sub, scalarOperand(s)) }
    public func mul(_ s: Double) throws -> Tensor { try binary(.mul, scalarOperand(s)) }
    public func div(_ s: Double) throws -> Tensor { try binary(.div, scalarOperand(s)) }
    public func pow(_ s: Double) throws -> Tensor { try binary(.pow, scalarOperand(s)) }
    /// s - self
    public func rsub(_ s: Double) throws -> Tensor { try scalarOperand(s).binary(.sub, self) }
    /// s / self
    public func rdiv(_ s: Double) throws -> Tensor { try scalarOperand(s).binary(.div, self) }

    /// A 0-d operand for `self op s`: it takes self's dtype unless that would lose `s`'s fraction.
    func scalarOperand(_ s: Double) throws -> Tensor {
        switch dtype {
        case .f32, .f64: return try Tensor.scalar(s, dtype: dtype)
        default:
            // an integer tensor keeps its dtype only for a scalar it holds exactly
            guard s.rounded() == s else { return try Tensor.scalar(s, dtype: .f32) }
            if dtype == .bool && (s == 0 || s == 1) { return try Tensor.scalar(s, dtype: .bool) }
            if dtype == .i32 && Swift.abs(s) <= 2_147_483_647 { return try Tensor.scalar(s, dtype: .i32) }
            return try Tensor.scalar(s, dtype: Swift.abs(s) < 9.2e18 ? .i64 : .f64)
        }
    }

    /// `self op other`, broadcasting, computed in the promoted dtype (bool computes as i64,
    /// integer division and powers as f32).
    public func binary(_ op: BinaryOp, _ other: Tensor) throws -> Tensor {
        var dt = DType.promote(dtype, other.dtype)
        if dt == .bool { dt = .i64 }
        if (op == .div || op == .pow) && !dt.isFloatingPoint { dt = .f32 }
        let a = try to(dt), b = try other.to(dt)
        let shape = try Shape.broadcast(a.shape, b.shape, op: op.rawValue)
        let strides = a.shape == shape ? a.canonicalStrides : b.shape == shape ? b.canonicalStrides : nil
        let out = try Tensor.empty(shape, strides: strides, dtype: dt, op: op.rawValue)
        switch dt {
        case .f32: binaryFloat(op, a, b, out, Float.self)
        case .f64: binaryFloat(op, a, b, out, Double.self)
        case .i32: try binaryInteger(op, a, b, out, Int32.self)
        case .i64, .bool: try binaryInteger(op, a, b, out, Int64.self)
        }
        // checked here first: building the inputs array costs more than a small op itself
        guard dt.isFloatingPoint, GradMode.isEnabled, a.requiresGrad || b.requiresGrad else { return out }
        return out.recordGrad(op.rawValue, [a, b], withOutput: { g, out in try binaryBackward(op, a, b, out, g) })
    }
}

@inline(__always)
private func binaryFloat<T: FloatMath>(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ out: Tensor, _: T.Type) {
    switch op {
    case .add: map2(a, b, out, AddK<T>.self)
    case .sub: map2(a, b, out, SubK<T>.self)
    case .mul: map2(a, b, out, MulK<T>.self)
    case .div: map2(a, b, out, DivK<T>.self)
    case .pow: map2(a, b, out, grain: 1 << 13, PowK<T>.self)
    case .maximum: map2(a, b, out, MaxK<T>.self)
    case .minimum: map2(a, b, out, MinK<T>.self)
    }
}

@inline(__always)
private func binaryInteger<T: FixedWidthInteger>(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ out: Tensor, _: T.Type) throws {
    switch op {
    case .add: map2(a, b, out, AddIK<T>.self)
    case .sub: map2(a, b, out, SubIK<T>.self)
    case .mul: map2(a, b, out, MulIK<T>.self)
    case .maximum: map2(a, b, out, MaxIK<T>.self)
    case .minimum: map2(a, b, out, MinIK<T>.self)
    case .div, .pow: throw TensorError(op.rawValue, "internal: integer \(op.rawValue) should have been promoted")
    }
}

/// d(a op b) for both operands, reduced to each operand's own shape.
private func binaryBackward(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ out: Tensor, _ g: Tensor) throws -> [Tensor?] {
    let needA = a.requiresGrad, needB = b.requiresGrad
    switch op {
    case .add:
        return [needA ? try g.sumTo(a.shape) : nil, needB ? try g.sumTo(b.shape) : nil]
    case .sub:
        return [needA ? try g.sumTo(a.shape) : nil, needB ? try g.neg().sumTo(b.shape) : nil]
    case .mul:
        return [needA ? try g.mul(b).sumTo(a.shape) : nil, needB ? try g.mul(a).sumTo(b.shape) : nil]
    case .div:
        let ga = needA ? try g.div(b).sumTo(a.shape) : nil
        // d/db (a/b) = -(a/b)/b
        let gb = needB ? try g.mul(out).div(b).neg().sumTo(b.shape) : nil
        return [ga, gb]
    case .pow:
        // d/da a^b = b a^(b-1);  d/db a^b = a^b log a (taken as 0 where a^b is 0, as torch does)
        let ga = needA ? try g.mul(b).mul(a.pow(b.sub(1))).sumTo(a.shape) : nil
        let gb = needB ? try g.mul(out).mul(a.log()).where_(out.ne(0), 0).sumTo(b.shape) : nil
        return [ga, gb]
    case .maximum, .minimum:
        // the larger (smaller) operand takes the gradient; ties split it evenly
        let aWins = op == .maximum ? try a.gt(b) : try a.lt(b)
        let tie = try a.eq(b)
        let half = try g.mul(0.5)
        let ga = needA ? try g.where_(aWins, 0).add(half.where_(tie, 0)).sumTo(a.shape) : nil
        let bWins = op == .maximum ? try b.gt(a) : try b.lt(a)
        let gb = needB ? try g.where_(bWins, 0).add(half.where_(tie, 0)).sumTo(b.shape) : nil
        return [ga, gb]
    }
}

// MARK: - operators (throwing, so `try a + b`)

extension Tensor {
    public static func + (a: Tensor, b: Tensor) throws -> Tensor { try a.add(b) }
    public static func - (a: Tensor, b: Tensor) throws -> Tensor { try a.sub(b) }
    public static func * (a: Tensor, b: Tensor) throws -> Tensor { try a.mul(b) }
    public static func / (a: Tensor, b: Tensor) throws -> Tensor { try a.div(b) }
    public static func + (a: Tensor, s: Double) throws -> Tensor { try a.add(s) }
    public static func - (a: Tensor, s: Double) throws -> Tensor { try a.sub(s) }
    public static func * (a: Tensor, s: Double) throws -> Tensor { try a.mul(s) }
    public static func / (a: Tensor, s: Double) throws -> Tensor { try a.div(s) }
    public static prefix func - (a: Tensor) throws -> Tensor { try a.neg() }
}
