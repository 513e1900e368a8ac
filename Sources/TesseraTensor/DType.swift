// DType: the element types a tensor can hold, and the Swift types behind them.

public enum DType: String, CaseIterable, Sendable {
    case f32, f64, i32, i64, bool

    /// bytes per element
    public var size: Int {
        switch self {
        case .f32, .i32: return 4
        case .f64, .i64: return 8
        case .bool: return 1
        }
    }

    public var isFloatingPoint: Bool { self == .f32 || self == .f64 }

    /// rank in type promotion: a binary op computes in the larger of its operands' dtypes
    var promotionRank: Int {
        switch self {
        case .bool: return 0
        case .i32: return 1
        case .i64: return 2
        case .f32: return 3
        case .f64: return 4
        }
    }

    /// the dtype two operands are computed in (torch's rule for tensor-tensor ops)
    public static func promote(_ a: DType, _ b: DType) -> DType {
        a.promotionRank >= b.promotionRank ? a : b
    }
}

/// A Swift type that can be a tensor element.
public protocol TensorElement {
    static var dtype: DType { get }
    /// the element as a Double (for printing, item(), conversions)
    var doubleValue: Double { get }
    init(fromDouble v: Double)
}

extension Float: TensorElement {
    public static var dtype: DType { .f32 }
    public var doubleValue: Double { Double(self) }
    public init(fromDouble v: Double) { self = Float(v) }
}

extension Double: TensorElement {
    public static var dtype: DType { .f64 }
    public var doubleValue: Double { self }
    public init(fromDouble v: Double) { self = v }
}

extension Int32: TensorElement {
    public static var dtype: DType { .i32 }
    public var doubleValue: Double { Double(self) }
    /// saturating and NaN-safe: a conversion from user data must never trap
    public init(fromDouble v: Double) {
        self = v.isNaN ? 0 : Int32(Swift.max(-2_147_483_648, Swift.min(2_147_483_647, v.rounded(.towardZero))))
    }
}

extension Int64: TensorElement {
    public static var dtype: DType { .i64 }
    public var doubleValue: Double { Double(self) }
    public init(fromDouble v: Double) {
        if v.isNaN {
            self = 0
        } else if v >= 9.2233720368547758e18 {
            self = .max
        } else if v <= -9.2233720368547758e18 {
            self = .min
        } else {
            self = Int64(v.rounded(.towardZero))
        }
    }
}

extension Bool: TensorElement {
    public static var dtype: DType { .bool }
    public var doubleValue: Double { self ? 1 : 0 }
    public init(fromDouble v: Double) { self = v != 0 }
}

/// Floating-point elements: the dtypes that math functions and gradients are defined on.
public protocol FloatElement: TensorElement, BinaryFloatingPoint, SIMDScalar {}
extension Float: FloatElement {}
extension Double: FloatElement {}

// MARK: - half-precision storage formats (converted to f32 on load)

/// IEEE binary16 bits -> Float (exact: every half is a float).
@inline(__always)
public func floatFromHalfBits(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exp = UInt32(h >> 10) & 0x1F
    let mant = UInt32(h & 0x3FF)
    if exp == 0 {
        // zero or subnormal: mant * 2^-24
        let v = Float(mant) * 5.9604644775390625e-8
        return sign == 0 ? v : -v
    }
    if exp == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
    return Float(bitPattern: sign | ((exp + 112) << 23) | (mant << 13))
}

/// bfloat16 bits -> Float (the upper half of a float).
@inline(__always)
public func floatFromBFloat16Bits(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

/// Float -> bfloat16 bits, rounding to nearest even (NaN stays NaN).
@inline(__always)
public func bfloat16Bits(_ f: Float) -> UInt16 {
    let u = f.bitPattern
    if f.isNaN { return UInt16(u >> 16) | 0x40 }
    let rounded = u &+ 0x7FFF &+ ((u >> 16) & 1)
    return UInt16(rounded >> 16)
}

/// Float -> IEEE binary16 bits, rounding to nearest even, overflow to infinity.
public func halfBits(_ f: Float) -> UInt16 {
    let u = f.bitPattern
    let sign = UInt16((u >> 16) & 0x8000)
    let exp = Int((u >> 23) & 0xFF)
    var mant = u & 0x7F_FFFF
    if exp == 0xFF { return sign | 0x7C00 | (mant != 0 ? 0x200 : 0) }
    let e = exp - 127 + 15
    if e >= 0x1F { return sign | 0x7C00 }
    if e <= 0 {
        if e < -10 { return sign }
        mant |= 0x80_0000
        let shift = UInt32(14 - e)
        var half = mant >> shift
        let rem = mant & ((1 << shift) - 1)
        let halfway = UInt32(1) << (shift - 1)
        if rem > halfway || (rem == halfway && (half & 1) == 1) { half += 1 }
        return sign | UInt16(half)
    }
    var half = UInt32(e) << 10 | (mant >> 13)
    let rem = mant & 0x1FFF
    if rem > 0x1000 || (rem == 0x1000 && (half & 1) == 1) { half += 1 }
    return sign | UInt16(half)
}
