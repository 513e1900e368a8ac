// SafetensorsDType: the element types a safetensors file can hold, the engine dtype each loads as
// (f16/bf16/f8 widen to f32; narrow integers to i32; u32/u64 to i64) and the conversions both ways.
// Files are little-endian, as are the machines Tessera runs on.

import TesseraTensor

public enum SafetensorsDType: String, CaseIterable, Sendable {
    case F64, F32, F16, BF16, F8_E4M3, F8_E5M2, I64, I32, I16, I8, U64, U32, U16, U8, BOOL

    /// bytes per element in the file
    public var size: Int {
        switch self {
        case .F64, .I64, .U64: return 8
        case .F32, .I32, .U32: return 4
        case .F16, .BF16, .I16, .U16: return 2
        case .F8_E4M3, .F8_E5M2, .I8, .U8, .BOOL: return 1
        }
    }

    /// the engine dtype a tensor of this type loads as
    public var engineDType: DType {
        switch self {
        case .F64: return .f64
        case .F32, .F16, .BF16, .F8_E4M3, .F8_E5M2: return .f32
        case .I64, .U32, .U64: return .i64
        case .I32, .I16, .I8, .U16, .U8: return .i32
        case .BOOL: return .bool
        }
    }

    var isFloatingPoint: Bool { engineDType.isFloatingPoint }

    /// what an engine tensor is saved as unless the caller asks for another type
    public static func natural(for dtype: DType) -> SafetensorsDType {
        switch dtype {
        case .f32: return .F32
        case .f64: return .F64
        case .i32: return .I32
        case .i64: return .I64
        case .bool: return .BOOL
        }
    }

    /// Decodes `count` elements at `src` (any alignment) into a new tensor of `shape`.
    func decode(_ src: UnsafeRawPointer, count: Int, shape: [Int]) throws -> Tensor {
        let out = try Tensor.empty(shape, dtype: engineDType, op: "safetensors")
        let dst = out.storage.base
        // plain copies need no per-element work; values of other types widen, in parallel
        switch self {
        case .F64, .F32, .I64, .I32:
            dst.copyMemory(from: src, byteCount: count * size)
            return out
        default: break
        }
        let (f, i32, i64, b) =
            (
                dst.assumingMemoryBound(to: Float.self), dst.assumingMemoryBound(to: Int32.self), dst.assumingMemoryBound(to: Int64.self),
                dst.assumingMemoryBound(to: Bool.self)
            )
        Parallel.forRanges(count, grain: 1 << 18) { r in
            switch self {
            case .F16: for i in r { f[i] = halfToFloat(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
            case .BF16: for i in r { f[i] = floatFromBFloat16Bits(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
            case .F8_E4M3: for i in r { f[i] = float8E4M3Table[Int(src.load(fromByteOffset: i, as: UInt8.self))] }
            case .F8_E5M2: for i in r { f[i] = halfToFloat(UInt16(src.load(fromByteOffset: i, as: UInt8.self)) << 8) }
            case .I16: for i in r { i32[i] = Int32(src.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)) }
            case .I8: for i in r { i32[i] = Int32(src.load(fromByteOffset: i, as: Int8.self)) }
            case .U16: for i in r { i32[i] = Int32(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
            case .U8: for i in r { i32[i] = Int32(src.load(fromByteOffset: i, as: UInt8.self)) }
            case .U32: for i in r { i64[i] = Int64(src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
            // values above Int64.max keep their bit pattern (the engine has no u64)
            case .U64: for i in r { i64[i] = Int64(bitPattern: src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)) }
            // any non-zero byte is true: a Bool holding another bit pattern is undefined behaviour
            case .BOOL: for i in r { b[i] = src.load(fromByteOffset: i, as: UInt8.self) != 0 }
            case .F64, .F32, .I64, .I32: break
            }
        }
        return out
    }

    /// The bytes of tensor `t` as this type (the tensor itself when it already holds them
    /// contiguously); throws when `t`'s dtype cannot be stored as it or an integer does not fit.
    func encode(_ t: Tensor, name: String) throws -> EncodedBytes {
        let bad = { (why: String) in TensorError("safetensors.save", "tensor '\(name)' (\(t.dtype)) cannot be saved as \(self.rawValue): \(why)") }
        guard t.dtype.isFloatingPoint == isFloatingPoint || (self == .BOOL && t.dtype != .f32 && t.dtype != .f64) else {
            throw bad(isFloatingPoint ? "integers are saved as integer types" : "floating-point values are saved as F64, F32, F16 or BF16")
        }
        if self == .F8_E4M3 || self == .F8_E5M2 { throw bad("8-bit floats are read, not written") }
        let n = t.numel
        if n == 0 { return .bytes([]) }
        if t.dtype.isFloatingPoint {
            let x = try t.to(self == .F64 ? .f64 : .f32).contiguous()
            if self == .F16 || self == .BF16 { return .bytes(try x.toHalf(self == .F16 ? .f16 : .bf16).withUnsafeBytes { Array($0) }) }
            return .tensor(x)
        }
        if self == SafetensorsDType.natural(for: t.dtype) { return .tensor(try t.contiguous()) }
        var out = [UInt8](repeating: 0, count: n * size)
        let x = try t.to(.i64).contiguous()
        let v = x.pointer(Int64.self)
        let range: ClosedRange<Int64>
        switch self {
        case .I64: range = .min ... .max
        case .I32: range = Int64(Int32.min)...Int64(Int32.max)
        case .I16: range = Int64(Int16.min)...Int64(Int16.max)
        case .I8: range = Int64(Int8.min)...Int64(Int8.max)
        case .U64: range = 0 ... .max
        case .U32: range = 0...Int64(UInt32.max)
        case .U16: range = 0...Int64(UInt16.max)
        case .U8: range = 0...Int64(UInt8.max)
        default: range = 0...1
        }
        for i in 0..<n where !range.contains(v[i]) {
            throw bad("element \(i) is \(v[i]), outside \(range.lowerBound)...\(range.upperBound)")
        }
        out.withUnsafeMutableBytes { dst in
            for i in 0..<n {
                switch size {
                case 8: dst.storeBytes(of: v[i], toByteOffset: 8 * i, as: Int64.self)
                case 4: dst.storeBytes(of: UInt32(truncatingIfNeeded: v[i]), toByteOffset: 4 * i, as: UInt32.self)
                case 2: dst.storeBytes(of: UInt16(truncatingIfNeeded: v[i]), toByteOffset: 2 * i, as: UInt16.self)
                default: dst.storeBytes(of: UInt8(truncatingIfNeeded: v[i]), toByteOffset: i, as: UInt8.self)
                }
            }
        }
        return .bytes(out)
    }
}

/// What a tensor is saved as: encoded bytes, or a contiguous tensor whose storage already holds
/// them (written straight from memory, so saving a model does not hold a second copy of it).
enum EncodedBytes {
    case bytes([UInt8])
    case tensor(Tensor)

    var count: Int {
        switch self {
        case .bytes(let b): return b.count
        case .tensor(let t): return t.numel * t.dtype.size
        }
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case .bytes(let b): return try b.withUnsafeBytes(body)
        case .tensor(let t): return try body(UnsafeRawBufferPointer(start: t.storage.base + t.offset * t.dtype.size, count: count))
        }
    }
}

/// float8 e4m3fn (bias 7, no infinities, S.1111.111 is NaN) for each of the 256 bit patterns
let float8E4M3Table: [Float] = (0..<256).map { b in
    let sign: Float = b & 0x80 != 0 ? -1 : 1
    let e = (b >> 3) & 0xF, m = b & 7
    if e == 15 && m == 7 { return .nan }
    if e == 0 { return sign * Float(m) * 0x1p-9 }
    return sign * (1 + Float(m) / 8) * Float(sign: .plus, exponent: e - 7, significand: 1)
}
