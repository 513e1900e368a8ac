// HalfPrecision: f16 and bf16 exist only as storage formats in files (safetensors, GGUF); they
// convert to f32 on load and back on save.

public enum HalfFormat: String, Sendable {
    /// IEEE binary16
    case f16
    /// bfloat16: the upper half of an f32
    case bf16
}

extension Tensor {
    /// An f32 tensor from raw little-endian 16-bit values in `format`.
    public static func fromHalf(_ bits: UnsafeBufferPointer<UInt16>, format: HalfFormat, shape: [Int]) throws -> Tensor {
        let n = try Shape.numel(shape, op: "from_half")
        guard n == bits.count else {
            throw TensorError("from_half", "\(bits.count) values do not fill shape \(shapeString(shape)) (\(n) elements)")
        }
        let out = try empty(shape, dtype: .f32, op: "from_half")
        let o = out.mutablePointer(Float.self)
        let src = bits.baseAddress
        Parallel.forRanges(n, grain: 1 << 16) { r in
            guard let src else { return }
            switch format {
            case .f16: for i in r { o[i] = floatFromHalfBits(UInt16(littleEndian: src[i])) }
            case .bf16: for i in r { o[i] = floatFromBFloat16Bits(UInt16(littleEndian: src[i])) }
            }
        }
        return out
    }

    /// The elements as 16-bit values in `format` (rounded to nearest even), row-major.
    public func toHalf(_ format: HalfFormat) throws -> [UInt16] {
        let x = try to(.f32).contiguous()
        let p = x.pointer(Float.self)
        return (0..<x.numel).map { i in (format == .f16 ? halfBits(p[i]) : bfloat16Bits(p[i])).littleEndian }
    }
}
