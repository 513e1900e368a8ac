// SafetensorsReader: a safetensors file mapped into memory, its header checked against the format's
// rules (huggingface/safetensors: 8-byte little-endian header length, a JSON header, tensors that
// index the whole data area without holes or overlaps) before any tensor is read.

import TesseraTensor

/// One tensor's entry in a safetensors header.
public struct SafetensorsEntry: Sendable {
    public let name: String
    public let dtype: SafetensorsDType
    /// row-major shape, outermost first
    public let shape: [Int]
    /// byte range inside the data area (offsets counted from the end of the header)
    public let dataOffsets: Range<Int>
}

public final class SafetensorsFile {
    public var path: String { file.path }
    /// the header's `__metadata__` (empty when absent)
    public let metadata: [String: String]
    /// every tensor, in the order of its data in the file
    public let entries: [SafetensorsEntry]
    /// file offset of the data area: 8 + header length
    public let dataStart: Int
    let file: MappedFile
    private let index: [String: Int]

    /// the largest header accepted (the reference implementation's limit): a corrupt length
    /// must not make us parse gigabytes
    static let maxHeaderLength = 100_000_000

    public convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws {
        self.file = file
        let fail = { (message: String) in WeightsFileError(file.path, message) }
        guard file.count >= 8 else { throw fail("not a safetensors file: \(file.count) bytes, too short for the 8-byte header length") }
        let raw = file.base.loadUnaligned(as: UInt64.self).littleEndian
        guard raw <= UInt64(SafetensorsFile.maxHeaderLength) else {
            throw fail("header length \(raw) is larger than the \(SafetensorsFile.maxHeaderLength)-byte limit (not a safetensors file?)")
        }
        let headerLength = Int(raw)
        guard headerLength <= file.count - 8 else {
            throw fail("header length \(headerLength) is larger than the file allows (\(file.count) bytes, so at most \(file.count - 8))")
        }
        guard headerLength >= 2, file.base.load(fromByteOffset: 8, as: UInt8.self) == UInt8(ascii: "{") else {
            throw fail("header does not start with '{' (not a safetensors file?)")
        }
        dataStart = 8 + headerLength
        let json: JSONValue
        do {
            json = try JSONValue.parse(UnsafeRawBufferPointer(start: file.base + 8, count: headerLength))
        } catch {
            throw fail("header is not valid JSON: \(error)")
        }
        guard case .object(let members) = json else { throw fail("header is \(json.kind), not a JSON object") }
        var metadata: [String: String] = [:]
        var entries: [SafetensorsEntry] = []
        var seen = Set<String>()
        for (name, value) in members {
            guard seen.insert(name).inserted else { throw fail("name '\(name)' appears twice in the header") }
            if name == "__metadata__" {
                metadata = try SafetensorsFile.readMetadata(value, fail)
                continue
            }
            entries.append(try SafetensorsFile.readEntry(name, value, fail))
        }
        try SafetensorsFile.checkCoverage(&entries, dataLength: file.count - dataStart, fail)
        self.index = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.name, $0) })
        self.metadata = metadata
        self.entries = entries
    }

    private static func readMetadata(_ value: JSONValue, _ fail: (String) -> WeightsFileError) throws -> [String: String] {
        guard case .object(let pairs) = value else { throw fail("__metadata__ is \(value.kind), not an object of strings") }
        var out: [String: String] = [:]
        for (k, v) in pairs {
            guard let s = v.string else { throw fail("__metadata__ value '\(k)' is \(v.kind), not a string") }
            guard out.updateValue(s, forKey: k) == nil else { throw fail("__metadata__ key '\(k)' appears twice") }
        }
        return out
    }

    private static func readEntry(_ name: String, _ value: JSONValue, _ fail: (String) -> WeightsFileError) throws -> SafetensorsEntry {
        guard case .object(let fields) = value else { throw fail("tensor '\(name)' is described by \(value.kind), not an object") }
        var dtype: SafetensorsDType?, shape: [Int]?, offsets: [Int]?
        for (k, v) in fields {
            switch k {
            case "dtype":
                guard let s = v.string else { throw fail("tensor '\(name)': dtype is \(v.kind), not a string") }
                guard let d = SafetensorsDType(rawValue: s) else {
                    throw fail("tensor '\(name)': unknown dtype '\(s)' (known: \(SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                dtype = d
            case "shape", "data_offsets":
                guard case .array(let items) = v else { throw fail("tensor '\(name)': \(k) is \(v.kind), not an array") }
                let ints = items.compactMap { $0.int }.filter { $0 >= 0 }
                guard ints.count == items.count else { throw fail("tensor '\(name)': \(k) must hold non-negative integers") }
                if k == "shape" { shape = ints } else { offsets = ints }
            default:
                throw fail("tensor '\(name)': unexpected field '\(k)'")
            }
        }
        guard let dtype, let shape, let offsets else { throw fail("tensor '\(name)': needs dtype, shape and data_offsets") }
        guard offsets.count == 2, offsets[0] <= offsets[1] else {
            throw fail("tensor '\(name)': data_offsets must be [begin, end] with begin <= end, got \(offsets)")
        }
        var bytes = dtype.size
        for d in shape {
            let (p, o) = bytes.multipliedReportingOverflow(by: d)
            guard !o else { throw fail("tensor '\(name)': shape \(shape) is too large") }
            bytes = p
        }
        guard bytes == offsets[1] - offsets[0] else {
            throw fail(
                "tensor '\(name)': shape \(shape) of \(dtype.rawValue) needs \(bytes) bytes but data_offsets \(offsets) hold \(offsets[1] - offsets[0])"
            )
        }
        return SafetensorsEntry(name: name, dtype: dtype, shape: shape, dataOffsets: offsets[0]..<offsets[1])
    }

    /// The format requires the tensors to cover the data area exactly, without holes or overlaps
    /// (a file cannot hide other content). Sorts `entries` by offset.
    private static func checkCoverage(_ entries: inout [SafetensorsEntry], dataLength: Int, _ fail: (String) -> WeightsFileError) throws {
        entries.sort { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound) }
        var end = 0
        for e in entries {
            guard e.dataOffsets.upperBound <= dataLength else {
                throw fail(
                    "tensor '\(e.name)': data_offsets [\(e.dataOffsets.lowerBound), \(e.dataOffsets.upperBound)] lie outside the data area (\(dataLength) bytes)"
                )
            }
            if e.dataOffsets.lowerBound < end {
                throw fail("tensor '\(e.name)' overlaps the tensor before it (starts at \(e.dataOffsets.lowerBound), previous ends at \(end))")
            }
            if e.dataOffsets.lowerBound > end {
                throw fail("the data area has a hole: bytes \(end)..<\(e.dataOffsets.lowerBound) belong to no tensor")
            }
            end = e.dataOffsets.upperBound
        }
        guard end == dataLength else { throw fail("the data area has \(dataLength - end) bytes after the last tensor that belong to no tensor") }
    }

    /// tensor names, in file order
    public var names: [String] { entries.map(\.name) }

    public func entry(_ name: String) throws -> SafetensorsEntry {
        guard let i = index[name] else { throw WeightsFileError(path, "no tensor named '\(name)'") }
        return entries[i]
    }

    /// One tensor, converted to its engine dtype (f16/bf16 to f32, narrow integers widened).
    public func tensor(_ name: String) throws -> Tensor {
        let e = try entry(name)
        let src = try file.bytes(at: dataStart + e.dataOffsets.lowerBound, count: e.dataOffsets.count, "tensor '\(name)'")
        return try e.dtype.decode(src, count: e.dataOffsets.count / e.dtype.size, shape: e.shape)
    }

    /// Every tensor, by name.
    public func tensors() throws -> [String: Tensor] {
        file.prefault(dataStart, file.count - dataStart)
        var out: [String: Tensor] = [:]
        for e in entries { out[e.name] = try tensor(e.name) }
        return out
    }
}
