// GGMLType: the tensor types of ggml/GGUF files, with the block geometry that sizes their data
// (ggml-common.h: QK4_0 = QK8_0 = 32 elements per block, QK_K = 256 for the k-quants).

public enum GGMLType: UInt32, CaseIterable, Sendable {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
    case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15
    case iq2_xxs = 16, iq2_xs = 17, iq3_xxs = 18, iq1_s = 19, iq4_nl = 20, iq3_s = 21, iq2_s = 22, iq4_xs = 23
    case i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_m = 29, bf16 = 30, tq1_0 = 34, tq2_0 = 35, mxfp4 = 39

    /// elements per block
    public var blockElements: Int {
        switch self {
        case .f32, .f16, .bf16, .f64, .i8, .i16, .i32, .i64: return 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1, .iq4_nl, .mxfp4: return 32
        default: return 256
        }
    }

    /// bytes per block
    public var blockBytes: Int {
        switch self {
        case .f32, .i32: return 4
        case .f16, .bf16, .i16: return 2
        case .f64, .i64: return 8
        case .i8: return 1
        case .q4_0: return 18  // f16 d; 16 bytes of nibbles
        case .q4_1: return 20  // f16 d, f16 m; 16 bytes of nibbles
        case .q5_0: return 22  // f16 d; u32 high bits; 16 bytes of nibbles
        case .q5_1: return 24  // f16 d, f16 m; u32 high bits; 16 bytes of nibbles
        case .q8_0: return 34  // f16 d; 32 int8
        case .q8_1: return 36
        case .q2_K: return 84
        case .q3_K: return 110
        case .q4_K: return 144  // f16 d, f16 dmin; 12 bytes of 6-bit scales and mins; 128 bytes of nibbles
        case .q5_K: return 176  // as q4_K plus 32 bytes of high bits
        case .q6_K: return 210  // 128 bytes low nibbles, 64 bytes high 2 bits, 16 int8 scales, f16 d
        case .q8_K: return 292
        case .iq2_xxs: return 66
        case .iq2_xs: return 74
        case .iq3_xxs: return 98
        case .iq1_s: return 50
        case .iq4_nl: return 18
        case .iq3_s: return 110
        case .iq2_s: return 82
        case .iq4_xs: return 136
        case .iq1_m: return 56
        case .tq1_0: return 54
        case .tq2_0: return 66
        case .mxfp4: return 17
        }
    }

    /// ggml's name for the type (`Q4_K`, `F16`)
    public var name: String { String(describing: self).uppercased() }

    /// whether Tessera can turn this type into f32
    public var canDequantize: Bool {
        switch self {
        case .f32, .f16, .bf16, .f64, .i8, .i16, .i32, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K: return true
        default: return false
        }
    }

    /// bytes of `count` elements, nil when `count` is not a whole number of blocks or overflows
    public func byteCount(elements count: Int) -> Int? {
        guard count >= 0, count % blockElements == 0 else { return nil }
        let (b, o) = (count / blockElements).multipliedReportingOverflow(by: blockBytes)
        return o ? nil : b
    }
}
