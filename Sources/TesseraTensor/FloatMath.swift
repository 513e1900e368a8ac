// FloatMath: the scalar functions kernels apply, written once per float type. Float versions are
// branch-free polynomials (Cephes-style) so loops over them vectorise; Double versions call libm,
// since f64 exists for gradient checks where accuracy, not speed, matters.

#if canImport(Glibc)
    import Glibc
#endif

public protocol FloatMath: FloatElement {
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
    /// complementary error function, accurate in relative terms (GELU's tail needs that)
    static func erfc(_ x: Self) -> Self
    static func pow(_ x: Self, _ y: Self) -> Self
    static func sin(_ x: Self) -> Self
    static func cos(_ x: Self) -> Self
}

extension Float: FloatMath {
    /// exp with max relative error ~2 ulp; exact 0 below the float range, inf above, NaN kept.
    @inline(__always)
    public static func exp(_ x: Float) -> Float {
        let xc = Swift.min(Swift.max(x, -87.33654), 88.72283)
        // k = round(x / ln 2) via the 1.5·2^23 trick; its low bits are k as an integer.
        // addingProduct is a fused multiply-add: Swift does not contract a * b + c by itself
        let t = Float(12_582_912).addingProduct(xc, 1.44269504088896341)
        let k = t - 12_582_912
        let r = xc.addingProduct(k, -0.693359375).addingProduct(k, 2.12194440e-4)
        var p: Float = 1.9875691500e-4
        p = Float(1.3981999507e-3).addingProduct(p, r)
        p = Float(8.3334519073e-3).addingProduct(p, r)
        p = Float(4.1665795894e-2).addingProduct(p, r)
        p = Float(1.6666665459e-1).addingProduct(p, r)
        p = Float(5.0000001201e-1).addingProduct(p, r)
        let e = (r + 1).addingProduct(p, r * r)
        let ki = Int32(bitPattern: t.bitPattern) &- 0x4B40_0000
        let scale = Float(bitPattern: UInt32(bitPattern: (ki &+ 127) &<< 23))
        var y = e * scale
        y = x < -87.33654 ? 0 : y
        y = x > 88.72283 ? Float.infinity : y
        return y
    }

    @inline(__always) public static func log(_ x: Float) -> Float { logf(x) }

    /// tanh: odd polynomial near 0 (no cancellation), 1 - 2/(e^{2|x|}+1) elsewhere.
    @inline(__always)
    public static func tanh(_ x: Float) -> Float {
        let ax = Swift.abs(x)
        let z = x * x
        var p: Float = -5.70498872745e-3
        p = p * z + 2.06390887954e-2
        p = p * z - 5.37397155531e-2
        p = p * z + 1.33314422036e-1
        p = p * z - 3.33332819422e-1
        let small = p * z * x + x
        let e = Float.exp(2 * Swift.min(ax, 20))
        var large = 1 - 2 / (e + 1)
        large = x < 0 ? -large : large
        return ax < 0.625 ? small : large
    }

    /// erfc with fractional error < 1.2e-7 everywhere (Chebyshev fit, Numerical Recipes §6.2).
    @inline(__always)
    public static func erfc(_ x: Float) -> Float {
        let z = Swift.abs(x)
        let t = 1 / (1 + 0.5 * z)
        var p: Float = 0.17087277
        p = Float(-0.82215223).addingProduct(p, t)
        p = Float(1.48851587).addingProduct(p, t)
        p = Float(-1.13520398).addingProduct(p, t)
        p = Float(0.27886807).addingProduct(p, t)
        p = Float(-0.18628806).addingProduct(p, t)
        p = Float(0.09678418).addingProduct(p, t)
        p = Float(0.37409196).addingProduct(p, t)
        p = Float(1.00002368).addingProduct(p, t)
        p = Float(-1.26551223).addingProduct(p, t)
        let ans = t * Float.exp(-z * z + p)
        return x >= 0 ? ans : 2 - ans
    }

    @inline(__always) public static func pow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
    @inline(__always) public static func sin(_ x: Float) -> Float { sinf(x) }
    @inline(__always) public static func cos(_ x: Float) -> Float { cosf(x) }
}

extension Double: FloatMath {
    @inline(__always) public static func exp(_ x: Double) -> Double { Glibc.exp(x) }
    @inline(__always) public static func log(_ x: Double) -> Double { Glibc.log(x) }
    @inline(__always) public static func tanh(_ x: Double) -> Double { Glibc.tanh(x) }
    @inline(__always) public static func erfc(_ x: Double) -> Double { Glibc.erfc(x) }
    @inline(__always) public static func pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
    @inline(__always) public static func sin(_ x: Double) -> Double { Glibc.sin(x) }
    @inline(__always) public static func cos(_ x: Double) -> Double { Glibc.cos(x) }
}
