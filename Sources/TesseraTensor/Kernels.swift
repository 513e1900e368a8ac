// Kernels: each elementwise function as a type. Kernel loops are generic over these types rather
// than taking closures, because a closure reaching a loop through DispatchQueue.concurrentPerform
// stays an indirect call per element, while a type parameter specialises into a vectorised loop.

/// f(x), one element
protocol Map1Kernel {
    associatedtype In
    associatedtype Out
    static func apply(_ x: In) -> Out
}

/// f(x, y), one element
protocol Map2Kernel {
    associatedtype In
    associatedtype Out
    static func apply(_ x: In, _ y: In) -> Out
}

/// the constants 1/sqrt(2), sqrt(2/pi) and 1/sqrt(2 pi) in T
@inline(__always) func invSqrt2<T: FloatMath>() -> T { T(0.70710678118654752440) }
@inline(__always) func sqrt2OverPi<T: FloatMath>() -> T { T(0.79788456080286535588) }
@inline(__always) func invSqrt2Pi<T: FloatMath>() -> T { T(0.39894228040143267794) }

// MARK: - binary arithmetic (floats)

enum AddK<T: FloatMath>: Map2Kernel { @inline(__always) static func apply(_ x: T, _ y: T) -> T { x + y } }
enum SubK<T: FloatMath>: Map2Kernel { @inline(__always) static func apply(_ x: T, _ y: T) -> T { x - y } }
enum MulK<T: FloatMath>: Map2Kernel { @inline(__always) static func apply(_ x: T, _ y: T) -> T { x * y } }
enum DivK<T: FloatMath>: Map2Kernel { @inline(__always) static func apply(_ x: T, _ y: T) -> T { x / y } }
enum PowK<T: FloatMath>: Map2Kernel { @inline(__always) static func apply(_ x: T, _ y: T) -> T { y == 2 ? x * x : T.pow(x, y) } }
/// NaN propagates, as in torch.maximum
enum MaxK<T: FloatMath>: Map2Kernel {
    @inline(__always) static func apply(_ x: T, _ y: T) -> T { x.isNaN || y.isNaN ? T.nan : (x > y ? x : y) }
}
enum MinK<T: FloatMath>: Map2Kernel {
    @inline(__always) static func apply(_ x: T, _ y: T) -> T { x.isNaN || y.isNaN ? T.nan : (x < y ? x : y) }
}

// MARK: - binary arithmetic (integers wrap: overflow in user data must not trap)

enum AddIK<T: FixedWidthInteger>: Map2Kernel { @inline(__always) static func apply(_ x: T, _ y: T) -> T { x &+ y } }
enum SubIK<T: FixedWidthInteger>: Map2Kernel { @inline(__always) static func apply(_ x: T, _ y: T) -> T { x &- y } }
enum MulIK<T: FixedWidthInteger>: Map2Kernel { @inline(__always) static func apply(_ x: T, _ y: T) -> T { x &* y } }
enum MaxIK<T: FixedWidthInteger>: Map2Kernel { @inline(__always) static func apply(_ x: T, _ y: T) -> T { x > y ? x : y } }
enum MinIK<T: FixedWidthInteger>: Map2Kernel { @inline(__always) static func apply(_ x: T, _ y: T) -> T { x < y ? x : y } }

// MARK: - comparisons

enum EqK<T: Comparable>: Map2Kernel { @inline(__always) static func apply(_ x: T, _ y: T) -> Bool { x == y } }
enum NeK<T: Comparable>: Map2Kernel { @inline(__always) static func apply(_ x: T, _ y: T) -> Bool { x != y } }
enum LtK<T: Comparable>: Map2Kernel { @inline(__always) static func apply(_ x: T, _ y: T) -> Bool { x < y } }
enum LeK<T: Comparable>: Map2Kernel { @inline(__always) static func apply(_ x: T, _ y: T) -> Bool { x <= y } }
enum GtK<T: Comparable>: Map2Kernel { @inline(__always) static func apply(_ x: T, _ y: T) -> Bool { x > y } }
enum GeK<T: Comparable>: Map2Kernel { @inline(__always) static func apply(_ x: T, _ y: T) -> Bool { x >= y } }

// MARK: - unary functions (floats)

enum NegK<T: FloatMath>: Map1Kernel { @inline(__always) static func apply(_ v: T) -> T { -v } }
enum AbsK<T: FloatMath>: Map1Kernel { @inline(__always) static func apply(_ v: T) -> T { Swift.abs(v) } }
enum SqrtK<T: FloatMath>: Map1Kernel { @inline(__always) static func apply(_ v: T) -> T { v.squareRoot() } }
enum RsqrtK<T: FloatMath>: Map1Kernel { @inline(__always) static func apply(_ v: T) -> T { 1 / v.squareRoot() } }
enum ExpK<T: FloatMath>: Map1Kernel { @inline(__always) static func apply(_ v: T) -> T { T.exp(v) } }
enum LogK<T: FloatMath>: Map1Kernel { @inline(__always) static func apply(_ v: T) -> T { T.log(v) } }
enum TanhK<T: FloatMath>: Map1Kernel { @inline(__always) static func apply(_ v: T) -> T { T.tanh(v) } }
enum SigmoidK<T: FloatMath>: Map1Kernel { @inline(__always) static func apply(_ v: T) -> T { 1 / (1 + T.exp(-v)) } }
enum ReluK<T: FloatMath>: Map1Kernel { @inline(__always) static func apply(_ v: T) -> T { v > 0 ? v : (v.isNaN ? v : 0) } }
/// x Φ(x) = x/2 erfc(-x/√2): erfc keeps relative accuracy in the negative tail
enum GeluK<T: FloatMath>: Map1Kernel { @inline(__always) static func apply(_ v: T) -> T { v * 0.5 * T.erfc(-v * invSqrt2()) } }
enum GeluTanhK<T: FloatMath>: Map1Kernel {
    @inline(__always) static func apply(_ v: T) -> T { 0.5 * v * (1 + T.tanh(sqrt2OverPi() * (v + 0.044715 * v * v * v))) }
}
enum SiluK<T: FloatMath>: Map1Kernel { @inline(__always) static func apply(_ v: T) -> T { v / (1 + T.exp(-v)) } }
enum SinK<T: FloatMath>: Map1Kernel { @inline(__always) static func apply(_ v: T) -> T { T.sin(v) } }
enum CosK<T: FloatMath>: Map1Kernel { @inline(__always) static func apply(_ v: T) -> T { T.cos(v) } }
enum SquareK<T: FloatMath>: Map1Kernel { @inline(__always) static func apply(_ v: T) -> T { v * v } }

// MARK: - unary functions (integers)

enum NegIK<T: FixedWidthInteger>: Map1Kernel { @inline(__always) static func apply(_ v: T) -> T { 0 &- v } }
enum AbsIK<T: FixedWidthInteger>: Map1Kernel { @inline(__always) static func apply(_ v: T) -> T { v < 0 ? 0 &- v : v } }
enum ReluIK<T: FixedWidthInteger>: Map1Kernel { @inline(__always) static func apply(_ v: T) -> T { v > 0 ? v : 0 } }
enum SquareIK<T: FixedWidthInteger>: Map1Kernel { @inline(__always) static func apply(_ v: T) -> T { v &* v } }

// MARK: - gradients of unary functions: apply(saved, g), saved being the input x or the output y

enum AbsGradK<T: FloatMath>: Map2Kernel { @inline(__always) static func apply(_ x: T, _ g: T) -> T { x > 0 ? g : (x < 0 ? -g : 0) } }
enum SqrtGradK<T: FloatMath>: Map2Kernel { @inline(__always) static func apply(_ y: T, _ g: T) -> T { g * 0.5 / y } }
enum RsqrtGradK<T: FloatMath>: Map2Kernel { @inline(__always) static func apply(_ y: T, _ g: T) -> T { g * -0.5 * y * y * y } }
enum ExpGradK<T: FloatMath>: Map2Kernel { @inline(__always) static func apply(_ y: T, _ g: T) -> T { g * y } }
enum LogGradK<T: FloatMath>: Map2Kernel { @inline(__always) static func apply(_ x: T, _ g: T) -> T { g / x } }
enum TanhGradK<T: FloatMath>: Map2Kernel { @inline(__always) static func apply(_ y: T, _ g: T) -> T { g * (1 - y * y) } }
enum SigmoidGradK<T: FloatMath>: Map2Kernel { @inline(__always) static func apply(_ y: T, _ g: T) -> T { g * y * (1 - y) } }
enum ReluGradK<T: FloatMath>: Map2Kernel { @inline(__always) static func apply(_ x: T, _ g: T) -> T { x > 0 ? g : 0 } }
/// Φ(x) + x φ(x)
enum GeluGradK<T: FloatMath>: Map2Kernel {
    @inline(__always) static func apply(_ x: T, _ g: T) -> T {
        g * (0.5 * T.erfc(-x * invSqrt2()) + x * invSqrt2Pi() * T.exp(-0.5 * x * x))
    }
}
enum GeluTanhGradK<T: FloatMath>: Map2Kernel {
    @inline(__always) static func apply(_ x: T, _ g: T) -> T {
        let th = T.tanh(sqrt2OverPi() * (x + 0.044715 * x * x * x))
        let du = sqrt2OverPi() * (1 + 3 * 0.044715 * x * x)
        return g * (0.5 * (1 + th) + 0.5 * x * (1 - th * th) * du)
    }
}
enum SiluGradK<T: FloatMath>: Map2Kernel {
    @inline(__always) static func apply(_ x: T, _ g: T) -> T {
        let s = 1 / (1 + T.exp(-x))
        return g * s * (1 + x * (1 - s))
    }
}
enum SinGradK<T: FloatMath>: Map2Kernel { @inline(__always) static func apply(_ x: T, _ g: T) -> T { g * T.cos(x) } }
enum CosGradK<T: FloatMath>: Map2Kernel { @inline(__always) static func apply(_ x: T, _ g: T) -> T { -g * T.sin(x) } }
enum SquareGradK<T: FloatMath>: Map2Kernel { @inline(__always) static func apply(_ x: T, _ g: T) -> T { 2 * x * g } }
