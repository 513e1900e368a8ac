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
        let out = try Tensor.empty(shape, strides: x.canonicalStrides, dtype: x.dtype, op: op.rawValue)
        switch x.dtype {
        case .f32: unaryForward(op, x, out, Float.self)
        case .f64: unaryForward(op, x, out, Double.self)
        case .i32: unaryInteger(op, x, out, Int32.self)
        default: unaryInteger(op, x, out, Int64.self)
        }
        guard out.dtype.isFloatingPoint, GradMode.isEnabled, x.requiresGrad else { return out }
        return out.recordGrad(op.rawValue, [x], withOutput: { g, out in [try unaryBackward(op, x, out, g)] })
    }
}

@inline(__always)
private func unaryForward<T: FloatMath>(_ op: UnaryOp, _ x: Tensor, _ out: Tensor, _: T.Type) {
    // transcendental kernels cost more per element: split them over cores sooner
    let heavy = 1 << 13
    switch op {
    case .neg: map1(x, out, NegK<T>.self)
    case .abs: map1(x, out, AbsK<T>.self)
    case .sqrt: map1(x, out, SqrtK<T>.self)
    case .rsqrt: map1(x, out, RsqrtK<T>.self)
    case .exp: map1(x, out, grain: heavy, ExpK<T>.self)
    case .log: map1(x, out, grain: heavy, LogK<T>.self)
    case .tanh: map1(x, out, grain: heavy, TanhK<T>.self)
    case .sigmoid: map1(x, out, grain: heavy, SigmoidK<T>.self)
    case .relu: map1(x, out, ReluK<T>.self)
    case .gelu: map1(x, out, grain: heavy, GeluK<T>.self)
    case .geluTanh: map1(x, out, grain: heavy, GeluTanhK<T>.self)
    case .silu: map1(x, out, grain: heavy, SiluK<T>.self)
    case .sin: map1(x, out, grain: heavy, SinK<T>.self)
    case .cos: map1(x, out, grain: heavy, CosK<T>.self)
    case .square: map1(x, out, SquareK<T>.self)
    }
}

@inline(__always)
private func unaryInteger<T: FixedWidthInteger>(_ op: UnaryOp, _ x: Tensor, _ out: Tensor, _: T.Type) {
    switch op {
    case .neg: map1(x, out, NegIK<T>.self)
    case .abs: map1(x, out, AbsIK<T>.self)
    case .relu: map1(x, out, ReluIK<T>.self)
    default: map1(x, out, SquareIK<T>.self)
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
    case .neg: map1(g, r, NegK<T>.self)
    case .abs: map2(x, g, r, AbsGradK<T>.self)
    case .sqrt: map2(out, g, r, SqrtGradK<T>.self)
    case .rsqrt: map2(out, g, r, RsqrtGradK<T>.self)
    case .exp: map2(out, g, r, grain: heavy, ExpGradK<T>.self)
    case .log: map2(x, g, r, grain: heavy, LogGradK<T>.self)
    case .tanh: map2(out, g, r, grain: heavy, TanhGradK<T>.self)
    case .sigmoid: map2(out, g, r, grain: heavy, SigmoidGradK<T>.self)
    case .relu: map2(x, g, r, ReluGradK<T>.self)
    case .gelu: map2(x, g, r, grain: heavy, GeluGradK<T>.self)
    case .geluTanh: map2(x, g, r, grain: heavy, GeluTanhGradK<T>.self)
    case .silu: map2(x, g, r, grain: heavy, SiluGradK<T>.self)
    case .sin: map2(x, g, r, grain: heavy, SinGradK<T>.self)
    case .cos: map2(x, g, r, grain: heavy, CosGradK<T>.self)
    case .square: map2(x, g, r, SquareGradK<T>.self)
    }
}
