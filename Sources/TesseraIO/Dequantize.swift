// Dequantize: ggml block formats to f32. Each format is a type whose `block` function turns one
// block into 32 or 256 floats with short fixed-length loops over its bytes, which the compiler
// vectorises; `Dequantize.run` specialises a loop over blocks per format (no closure per element)
// and splits large tensors over the cores. Bit layouts follow ggml-common.h / ggml-quants.c.

import TesseraTensor

/// One ggml block format.
protocol BlockFormat {
    static var elements: Int { get }
    static var bytes: Int { get }
    /// block at b (any alignment) -> `elements` floats at y
    static func block(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>)
}

/// IEEE binary16 bits -> Float without branches, so loops over f16 data vectorise (the engine's
/// floatFromHalfBits branches on the exponent). Normal halves move into a float's bits with the
/// exponent rebiased (+112); subnormals are their mantissa times 2^-24, converted from an integer
/// (no subnormal float arithmetic, which costs a microcode assist per element); infinities and
/// NaNs keep their payload. Equal to floatFromHalfBits for all 65536 inputs (tested).
@inline(__always) func halfToFloat(_ h: UInt16) -> Float {
    let em = UInt32(h & 0x7FFF) << 13
    let sign = UInt32(h & 0x8000) << 16
    let normal = em &+ (112 << 23)
    let subnormal = (Float(em >> 13) * 0x1p-24).bitPattern
    let bits = em >= 0x0F80_0000 ? em | 0x7F80_0000 : (em < 0x0080_0000 ? subnormal : normal)
    return Float(bitPattern: bits | sign)
}

/// the f16 at byte `offset` of `p`, as a Float
@inline(__always) func halfAt(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    halfToFloat(p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
}

@inline(__always) func byteAt(_ p: UnsafeRawPointer, _ offset: Int) -> UInt8 { p.load(fromByteOffset: offset, as: UInt8.self) }

/// Q4_0: d (f16), qs[16]; y[j] = (low nibble of qs[j] - 8) d, y[j + 16] = (high nibble - 8) d
enum Q4_0Format: BlockFormat {
    static let elements = 32, bytes = 18
    @inline(__always) static func block(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = halfAt(b, 0)
        for j in 0..<16 {
            let q = byteAt(b, 2 + j)
            y[j] = Float(Int32(q & 0xF) - 8) * d
            y[j + 16] = Float(Int32(q >> 4) - 8) * d
        }
    }
}

/// Q4_1: d, m (f16), qs[16]; y = nibble d + m
enum Q4_1Format: BlockFormat {
    static let elements = 32, bytes = 20
    @inline(__always) static func block(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = halfAt(b, 0), m = halfAt(b, 2)
        for j in 0..<16 {
            let q = byteAt(b, 4 + j)
            y[j] = Float(q & 0xF) * d + m
            y[j + 16] = Float(q >> 4) * d + m
        }
    }
}

/// Q5_0: d (f16), qh (u32: bit j is the 5th bit of element j), qs[16]; y = (q - 16) d
enum Q5_0Format: BlockFormat {
    static let elements = 32, bytes = 22
    @inline(__always) static func block(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = halfAt(b, 0)
        let qh = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
        for j in 0..<16 {
            let q = UInt32(byteAt(b, 6 + j))
            let lo = (q & 0xF) | ((qh >> UInt32(j)) & 1) << 4
            let hi = (q >> 4) | ((qh >> UInt32(j + 16)) & 1) << 4
            y[j] = Float(Int32(lo) - 16) * d
            y[j + 16] = Float(Int32(hi) - 16) * d
        }
    }
}

/// Q5_1: d, m (f16), qh (u32), qs[16]; y = q d + m
enum Q5_1Format: BlockFormat {
    static let elements = 32, bytes = 24
    @inline(__always) static func block(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = halfAt(b, 0), m = halfAt(b, 2)
        let qh = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        for j in 0..<16 {
            let q = UInt32(byteAt(b, 8 + j))
            let lo = (q & 0xF) | ((qh >> UInt32(j)) & 1) << 4
            let hi = (q >> 4) | ((qh >> UInt32(j + 16)) & 1) << 4
            y[j] = Float(lo) * d + m
            y[j + 16] = Float(hi) * d + m
        }
    }
}

/// Q8_0: d (f16), qs[32] int8; y = q d
enum Q8_0Format: BlockFormat {
    static let elements = 32, bytes = 34
    @inline(__always) static func block(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = halfAt(b, 0)
        for j in 0..<32 { y[j] = Float(b.load(fromByteOffset: 2 + j, as: Int8.self)) * d }
    }
}

/// The 6-bit scale and min of sub-block j (0..<8) of a Q4_K/Q5_K block, from its 12 packed bytes
/// at s: bytes 0-3 hold scales 0-3 (low 6 bits) and the top 2 bits of scales 4-7; bytes 4-7 the
/// same for the mins; bytes 8-11 the low 4 bits of scales 4-7 (low nibble) and mins 4-7 (high).
@inline(__always) func kScaleMin(_ s: UnsafeRawPointer, _ j: Int) -> (scale: Float, min: Float) {
    if j < 4 { return (Float(byteAt(s, j) & 63), Float(byteAt(s, j + 4) & 63)) }
    let sc = (byteAt(s, j + 4) & 0xF) | ((byteAt(s, j - 4) >> 6) << 4)
    let m = (byteAt(s, j + 4) >> 4) | ((byteAt(s, j) >> 6) << 4)
    return (Float(sc), Float(m))
}

/// Q4_K: d, dmin (f16), 12 bytes of scales/mins, qs[128]. 8 sub-blocks of 32; chunk c of 64
/// elements reads qs[32c..<32c+32]: low nibbles are sub-block 2c, high nibbles 2c+1;
/// y = d scale q - dmin min
enum Q4_KFormat: BlockFormat {
    static let elements = 256, bytes = 144
    @inline(__always) static func block(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = halfAt(b, 0), dmin = halfAt(b, 2)
        for c in 0..<4 {
            let (s1, m1) = kScaleMin(b + 4, 2 * c), (s2, m2) = kScaleMin(b + 4, 2 * c + 1)
            let d1 = d * s1, dm1 = dmin * m1, d2 = d * s2, dm2 = dmin * m2
            let q = b + 16 + 32 * c, o = y + 64 * c
            for l in 0..<32 {
                let v = byteAt(q, l)
                o[l] = d1 * Float(v & 0xF) - dm1
                o[l + 32] = d2 * Float(v >> 4) - dm2
            }
        }
    }
}

/// Q5_K: Q4_K plus qh[32]: bit 2c of qh[l] is the 5th bit of y[64c + l], bit 2c+1 of y[64c + 32 + l]
enum Q5_KFormat: BlockFormat {
    static let elements = 256, bytes = 176
    @inline(__always) static func block(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = halfAt(b, 0), dmin = halfAt(b, 2)
        let qh = b + 16
        for c in 0..<4 {
            let (s1, m1) = kScaleMin(b + 4, 2 * c), (s2, m2) = kScaleMin(b + 4, 2 * c + 1)
            let d1 = d * s1, dm1 = dmin * m1, d2 = d * s2, dm2 = dmin * m2
            let q = b + 48 + 32 * c, o = y + 64 * c
            let u1 = UInt8(1) << UInt8(2 * c), u2 = UInt8(2) << UInt8(2 * c)
            for l in 0..<32 {
                let v = byteAt(q, l), h = byteAt(qh, l)
                o[l] = d1 * Float((v & 0xF) | (h & u1 != 0 ? 16 : 0)) - dm1
                o[l + 32] = d2 * Float((v >> 4) | (h & u2 != 0 ? 16 : 0)) - dm2
            }
        }
    }
}

/// Q6_K: ql[128], qh[64], scales[16] (int8), d (f16). Each half h of 128 elements reads
/// ql[64h..<64h+64] and qh[32h..<32h+32]; element 32k + l of the half (k 0..<4) takes the low
/// (k even) or high (k odd) nibble of ql[l + 32 (k & 1)] and bits 2k, 2k+1 of qh[l]; scale
/// index 8h + (32k + l) / 16; y = d scale (q - 32)
enum Q6_KFormat: BlockFormat {
    static let elements = 256, bytes = 210
    @inline(__always) static func block(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = halfAt(b, 208)
        for h in 0..<2 {
            let ql = b + 64 * h, qh = b + 128 + 32 * h, sc = b + 192 + 8 * h, o = y + 128 * h
            for k in 0..<4 {
                // scales of elements 32k..<32k+16 and 32k+16..<32k+32
                let da = d * Float(sc.load(fromByteOffset: 2 * k, as: Int8.self))
                let db = d * Float(sc.load(fromByteOffset: 2 * k + 1, as: Int8.self))
                let lowShift = UInt8(4 * (k >> 1)), highShift = UInt8(2 * k)
                let qlk = ql + 32 * (k & 1)
                for l in 0..<32 {
                    let lo = (byteAt(qlk, l) >> lowShift) & 0xF
                    let hi = (byteAt(qh, l) >> highShift) & 3
                    let q = Float(Int32(lo | hi << 4) - 32)
                    o[32 * k + l] = (l < 16 ? da : db) * q
                }
            }
        }
    }
}

/// blocks [range] of format B at src -> dst (block i lands at dst + i·elements)
@inline(__always)
func dequantizeBlocks<B: BlockFormat>(_: B.Type, _ src: UnsafeRawPointer, _ range: Range<Int>, _ dst: UnsafeMutablePointer<Float>) {
    for i in range { B.block(src + i * B.bytes, dst + i * B.elements) }
}

public enum Dequantize {
    /// work per core below which dequantisation stays on the calling thread (elements)
    static let grain = 1 << 16

    /// `count` elements of `type` at src (whole blocks, any alignment) -> f32 at dst, split over
    /// the cores when large. Throws for the types Tessera cannot dequantise.
    public static func run(_ type: GGMLType, _ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>, parallel: Bool = true)
        throws
    {
        guard type.canDequantize else {
            throw TensorError(
                "dequantize",
                "type \(type.name) cannot be dequantised (supported: F32, F16, BF16, F64, I8, I16, I32, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K)"
            )
        }
        guard count % type.blockElements == 0 else {
            throw TensorError("dequantize", "\(count) elements are not a whole number of \(type.name) blocks of \(type.blockElements)")
        }
        let blocks = count / type.blockElements
        if parallel {
            Parallel.forRanges(blocks, grain: Swift.max(1, grain / type.blockElements)) { r in blocksUnchecked(type, src, r, dst) }
        } else if blocks > 0 {
            blocksUnchecked(type, src, 0..<blocks, dst)
        }
    }

    /// blocks [range] of `type` at src -> dst (block i lands at dst + i·blockElements); `type`
    /// must be one that `canDequantize` (others leave dst untouched)
    static func blocksUnchecked(_ type: GGMLType, _ src: UnsafeRawPointer, _ r: Range<Int>, _ dst: UnsafeMutablePointer<Float>) {
        switch type {
        case .q4_0: dequantizeBlocks(Q4_0Format.self, src, r, dst)
        case .q4_1: dequantizeBlocks(Q4_1Format.self, src, r, dst)
        case .q5_0: dequantizeBlocks(Q5_0Format.self, src, r, dst)
        case .q5_1: dequantizeBlocks(Q5_1Format.self, src, r, dst)
        case .q8_0: dequantizeBlocks(Q8_0Format.self, src, r, dst)
        case .q4_K: dequantizeBlocks(Q4_KFormat.self, src, r, dst)
        case .q5_K: dequantizeBlocks(Q5_KFormat.self, src, r, dst)
        case .q6_K: dequantizeBlocks(Q6_KFormat.self, src, r, dst)
        case .f32: UnsafeMutableRawPointer(dst + r.lowerBound).copyMemory(from: src + 4 * r.lowerBound, byteCount: 4 * r.count)
        case .f16: for i in r { dst[i] = halfToFloat(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        case .bf16: for i in r { dst[i] = floatFromBFloat16Bits(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        case .f64: for i in r { dst[i] = Float(src.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
        case .i8: for i in r { dst[i] = Float(src.load(fromByteOffset: i, as: Int8.self)) }
        case .i16: for i in r { dst[i] = Float(src.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)) }
        case .i32: for i in r { dst[i] = Float(src.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) }
        default: break
        }
    }
}
