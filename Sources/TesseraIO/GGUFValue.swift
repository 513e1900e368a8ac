// GGUFValue: one typed metadata value of a GGUF file (gguf.md: 13 value types, arrays of any of
// them, arrays of arrays included), with the conversions callers use.

public indirect enum GGUFValue: Equatable, Sendable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    /// elements all of one type (`elementType` is its GGUF type id)
    case array(elementType: UInt32, [GGUFValue])

    /// GGUF's value type ids
    enum TypeID: UInt32 {
        case uint8 = 0, int8, uint16, int16, uint32, int32, float32, bool, string, array, uint64, int64, float64

        /// smallest encoding of one value (bounds array lengths before anything is allocated)
        var minimumBytes: Int {
            switch self {
            case .uint8, .int8, .bool: return 1
            case .uint16, .int16: return 2
            case .uint32, .int32, .float32: return 4
            case .uint64, .int64, .float64, .string: return 8
            case .array: return 12
            }
        }
    }

    /// the value as an integer, when it is one (or an integral float) that fits
    public var int: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return v <= UInt64(Int.max) ? Int(v) : nil
        case .int64(let v): return Int(v)
        case .bool(let v): return v ? 1 : 0
        default: return nil
        }
    }

    public var double: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return int.map(Double.init)
        }
    }

    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var array: [GGUFValue]? {
        if case .array(_, let a) = self { return a }
        return nil
    }

    /// an array of strings (tokenizer.ggml.tokens) as [String]
    public var strings: [String]? { array?.compactMap(\.string) }

    /// GGUF's name of the value's type
    public var typeName: String {
        switch self {
        case .uint8: return "uint8"
        case .int8: return "int8"
        case .uint16: return "uint16"
        case .int16: return "int16"
        case .uint32: return "uint32"
        case .int32: return "int32"
        case .uint64: return "uint64"
        case .int64: return "int64"
        case .float32: return "float32"
        case .float64: return "float64"
        case .bool: return "bool"
        case .string: return "string"
        case .array: return "array"
        }
    }
}

extension ByteCursor {
    /// a GGUF string: u64 byte length, then UTF-8 bytes
    mutating func ggufString(_ what: String) throws -> String {
        let n = try count("length of \(what)")
        return try utf8(n, what)
    }

    /// one value of type `id` (arrays nest at most `depth` more levels)
    mutating func ggufValue(_ id: UInt32, _ what: String, depth: Int = 0) throws -> GGUFValue {
        guard let type = GGUFValue.TypeID(rawValue: id) else { throw WeightsFileError(file.path, "\(what) has unknown value type \(id)") }
        switch type {
        case .uint8: return .uint8(try u8(what))
        case .int8: return .int8(Int8(bitPattern: try u8(what)))
        case .uint16: return .uint16(try u16(what))
        case .int16: return .int16(Int16(bitPattern: try u16(what)))
        case .uint32: return .uint32(try u32(what))
        case .int32: return .int32(try i32(what))
        case .uint64: return .uint64(try u64(what))
        case .int64: return .int64(Int64(bitPattern: try u64(what)))
        case .float32: return .float32(try f32(what))
        case .float64: return .float64(Double(bitPattern: try u64(what)))
        case .bool:
            let b = try u8(what)
            guard b <= 1 else { throw WeightsFileError(file.path, "\(what) is a bool stored as \(b) (must be 0 or 1)") }
            return .bool(b == 1)
        case .string: return .string(try ggufString(what))
        case .array:
            guard depth < 8 else { throw WeightsFileError(file.path, "\(what): arrays nested too deep") }
            let elementID = try u32("element type of \(what)")
            let n = try count("length of \(what)")
            let minimum = GGUFValue.TypeID(rawValue: elementID)?.minimumBytes ?? 1
            guard n <= remaining / minimum else {
                throw WeightsFileError(file.path, "\(what) claims \(n) elements, more than the \(remaining) bytes left in the file can hold")
            }
            var items: [GGUFValue] = []
            items.reserveCapacity(n)
            let element = "an element of \(what)"
            for _ in 0..<n { items.append(try ggufValue(elementID, element, depth: depth + 1)) }
            return .array(elementType: elementID, items)
        }
    }
}
