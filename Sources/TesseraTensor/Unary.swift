// Unary: elementwise math and activations (exp, log, sqrt, tanh, sigmoid, relu, gelu, silu, ...),
// each forward beside the fused kernel of its gradient.

public enum UnaryOp: String, Sendable, CaseIterable {
    case neg, abs, sqrt, rsqrt, exp, log, tanh, sigmoid, relu, gelu, geluTanh = "gelu_tanh", silu, sin, cos, square
}

extension Tensor {
    public func neg() throws -> Tensor { try unary(.neg) }
    public func abs() throws -> Tensor { try unary(.abs) }
    public func sqrt() throws -> Tensor { try unary(.sqrt) }
    public func rsqrt() throws -> Tensor { try unary(.rsqrt) }
    public func exp() throws -> Tensor { try unary(.exp) }
    public func log() throws -> Tensor { try unary(.log) }
    public func tanh() throws -> Tensor { try unary(.tanh) }
    public func sigmoid() throws -> Tensor { try unary(.sigmoid) }
    public func relu() throws -> Tensor { try unary(.relu) }
    /// GELU, exact (erf) form: x Φ(x)
    public func gelu() throws -> Tensor { try unary(.gelu) }
    /// GELU, tanh approximation (GPT-2, BERT's `gelu_new`)
    public func geluTanh() throws -> Tensor { try unary(.geluTanh) }
    public func silu() throws -> Tensor { try unary(.silu) }
    public func sin() throws -> Tensor { try unary(.sin) }
    public func cos() throws -> Tensor { try unary(.cos) }
    public func square() throws -> Tensor { try unary(.square) }

    /// Applies `op`. Integer tensors keep their dtype for neg/abs/relu/square and compute the
    /// other functions in f32.
    public func unary(_ op: UnaryOp) throws -> Tensor {
        let intOK: Set<UnaryOp> = [.neg, .abs, .relu, .square]
        var x = self
        if !dtype.isFloatingPoint && !(intOK.contains(op) && dtype != .bool) { x = try to(.f32) }
        let out = try Tensor.empty(shape, dtype: x.dtype, op: op.rawValue)
        switch x.dtype {
        case .f32: unaryForward(op, x, out, Float.self)
        case .f64: unaryForward(op, x, out, Double.self)
        case .i32: unaryInteger(op, x, out, Int32.self)
        default: unaryInteger(op, x, out, Int64.self)
        }
        guard out.dtype.isFloatingPoint else { return out }
        return out.recordGrad(op.rawValue, [x]) { g in [try unaryBackward(op, x, out, g)] }
    }
}

/// the constant 1/sqrt(2), sqrt(2/pi) and 1/sqrt(2 pi) in T
@inline(__always) private func invSqrt2<T: FloatMath>() -> T { T(0.70710678118654752440) }
@inline(__always) private func sqrt2OverPi<T: FloatMath>() -> T { T(0.79788456080286535588) }
@inline(__always) private func invSqrt2Pi<T: FloatMath>() -> T { T(0.39894228040143267794) }

@inline(__always)
private func unaryForward<T: FloatMath>(_ op: UnaryOp, _ x: Tensor, _ out: Tensor, _: T.Type) {
    // transcendental kernels cost more per element: split them over cores sooner
    let heavy = 1 << 13
    switch op {
    case .neg: map1(x, out) { (v: T) in -v }
    case .abs: map1(x, out) { (v: T) in Swift.abs(v) }
    case .sqrt: map1(x, out) { (v: T) in v.squareRoot() }
    case .rsqrt: map1(x, out) { (v: T) in 1 / v.squareRoot() }
    case .exp: map1(x, out, grain: heavy) { (v: T) in T.exp(v) }
    case .log: map1(x, out, grain: heavy) { (v: T) in T.log(v) }
    case .tanh: map1(x, out, grain: heavy) { (v: T) in T.tanh(v) }
    case .sigmoid: map1(x, out, grain: heavy) { (v: T) in 1 / (1 + T.exp(-v)) }
    case .relu: map1(x, out) { (v: T) in v > 0 ? v : (v.isNaN ? v : 0) }
    // x Φ(x) = x/2 erfc(-x/√2): erfc keeps relative accuracy in the negative tail
    case .gelu: map1(x, out, grain: heavy) { (v: T) in v * 0.5 * T.erfc(-v * invSqrt2()) }
    case .geluTanh:
        map1(x, out, grain: heavy) { (v: T) in 0.5 * v * (1 + T.tanh(sqrt2OverPi() * (v + 0.044715 * v * v * v))) }
    case .silu: map1(x, out, grain: heavy) { (v: T) in v / (1 + T.exp(-v)) }
    case .sin: map1(x, out, grain: heavy) { (v: T) in T.sin(v) }
    case .cos: map1(x, out, grain: heavy) { (v: T) in T.cos(v) }
    case .square: map1(x, out) { (v: T) in v * v }
    }
}

@inline(__always)
private func unaryInteger<T: FixedWidthInteger & SignedInteger>(_ op: UnaryOp, _ x: Tensor, _ out: Tensor, _: T.Type) {
    switch op {
    case .neg: map1(x, out) { (v: T) in 0 &- v }
    case .abs: map1(x, out) { (v: T) in v < 0 ? 0 &- v : v }
    case .relu: map1(x, out) { (v: T) in v > 0 ? v : 0 }
    default: map1(x, out) { (v: T) in v &* v }
    }
}

/// d(op(x)) given g = dL/d(out), one fused pass over (x or out, g).
private func unaryBackward(_ op: UnaryOp, _ x: Tensor, _ out: Tensor, _ g: Tensor) throws -> Tensor {
    let result = try Tensor.empty(x.shape, dtype: x.dtype, op: op.rawValue + "_backward")
    let gc = try g.to(x.dtype)
    if x.dtype == .f32 { unaryGrad(op, x, out, gc, result, Float.self) } else { unaryGrad(op, x, out, gc, result, Double.self) }
    return result
}

@inline(__always)
private func unaryGrad<T: FloatMath>(_ op: UnaryOp, _ x: Tensor, _ out: Tensor, _ g: Tensor, _ r: Tensor, _: T.Type) {
    let heavy = 1 << 13
    switch op {
    case .neg: map1(g, r) { (g: T) in -g }
    case .abs: map2(x, g, r) { (v: T, g: T) in v > 0 ? g : (v < 0 ? -g : 0) }
    case .sqrt: map2(out, g, r) { (y: T, g: T) in g * 0.5 / y }
    case .rsqrt: map2(out, g, r) { (y: T, g: T) in g * -0.5 * y * y * y }
    case .exp: map2(out, g, r) { (y: T, g: T) in g * y }
    case .log: map2(x, g, r) { (v: T, g: T) in g / v }
    case .tanh: map2(out, g, r) { (y: T, g: T) in g * (1 - y * y) }
    case .sigmoid: map2(out, g, r) { (y: T, g: T) in g * y * (1 - y) }
    case .relu: map2(x, g, r) { (v: T, g: T) in v > 0 ? g : 0 }
    case .gelu:
        // Φ(x) + x φ(x)
        map2(x, g, r, grain: heavy) { (v: T, g: T) in
            g * (0.5 * T.erfc(-v * invSqrt2()) + v * invSqrt2Pi() * T.exp(-0.5 * v * v))
        }
    case .geluTanh:
        map2(x, g, r, grain: heavy) { (v: T, g: T) in
            let u = sqrt2OverPi() * (v + 0.044715 * v * v * v)
            let th = T.tanh(u)
            let du = sqrt2OverPi() * (1 + 3 * 0.044715 * v * v)
            return g * (0.5 * (1 + th) + 0.5 * v * (1 - th * th) * du)
        }
    case .silu:
        map2(x, g, r, grain: heavy) { (v: T, g: T) in
            let s = 1 / (1 + T.exp(-v))
            return g * s * (1 + v * (1 - s))
        }
    case .sin: map2(x, g, r, grain: heavy) { (v: T, g: T) in g * T.cos(v) }
    case .cos: map2(x, g, r, grain: heavy) { (v: T, g: T) in -g * T.sin(v) }
    case .square: map2(x, g, r) { (v: T, g: T) in 2 * v * g }
    }
}
