// GGUFReader: a GGUF (v2/v3) file mapped into memory: header, typed metadata, tensor directory and
// the aligned data section (gguf.md in ggml). Every count, length and offset is checked against
// the file before use; tensors are dequantised to f32 on request, or kept as quantised blocks.

import TesseraTensor

/// One entry of a GGUF tensor directory.
public struct GGUFTensorInfo: Sendable {
    public let name: String
    /// ggml order: dimensions[0] is the innermost (contiguous) one, e.g. [in, out] for a weight
    public let dimensions: [Int]
    public let type: GGMLType
    /// byte offset inside the data section
    public let offset: Int
    /// bytes of data
    public let byteCount: Int

    /// row-major shape (dimensions reversed): a linear weight reads as (out, in), as in PyTorch
    public var shape: [Int] { dimensions.reversed() }
    public var elementCount: Int { dimensions.reduce(1, *) }
}

public final class GGUFFile {
    public var path: String { file.path }
    /// 2 or 3
    public let version: Int
    /// metadata by key
    public let metadata: [String: GGUFValue]
    /// metadata keys in file order
    public let metadataKeys: [String]
    /// the tensor directory, in file order
    public let tensors: [GGUFTensorInfo]
    /// alignment of the data section and of each tensor's offset (`general.alignment`, default 32)
    public let alignment: Int
    /// file offset of the data section
    public let dataStart: Int
    let file: MappedFile
    private let index: [String: Int]

    /// "GGUF" read as a little-endian u32
    static let magic: UInt32 = 0x4655_4747

    public convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws {
        self.file = file
        let fail = { (message: String) in WeightsFileError(file.path, message) }
        var c = ByteCursor(file)
        guard file.count >= 4, try c.u32("magic") == GGUFFile.magic else { throw fail("not a GGUF file (the first 4 bytes are not \"GGUF\")") }
        let v = try c.u32("version")
        guard v == 2 || v == 3 else {
            if v.byteSwapped == 2 || v.byteSwapped == 3 { throw fail("big-endian GGUF files are not supported") }
            throw fail("GGUF version \(v) is not supported (only 2 and 3)")
        }
        version = Int(v)
        let tensorCount = try c.count("tensor count"), kvCount = try c.count("metadata count")
        // each entry takes at least a few bytes: a huge count in a corrupt header fails here,
        // before anything is allocated for it
        guard kvCount <= c.remaining / 12 else { throw fail("metadata count \(kvCount) is more than the file can hold") }
        guard tensorCount <= c.remaining / 24 else { throw fail("tensor count \(tensorCount) is more than the file can hold") }

        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        for i in 0..<kvCount {
            let key = try c.ggufString("metadata key \(i)")
            let value = try c.ggufValue(try c.u32("type of metadata '\(key)'"), "metadata '\(key)'")
            guard metadata.updateValue(value, forKey: key) == nil else { throw fail("metadata key '\(key)' appears twice") }
            keys.append(key)
        }
        var alignment = 32
        if let a = metadata["general.alignment"] {
            guard let n = a.int, n > 0, n & (n - 1) == 0, n <= 1 << 20 else { throw fail("general.alignment must be a power of two, got \(a)") }
            alignment = n
        }

        var infos: [GGUFTensorInfo] = []
        var index: [String: Int] = [:]
        for i in 0..<tensorCount {
            let name = try c.ggufString("name of tensor \(i)")
            let nd = try c.u32("dimension count of '\(name)'")
            guard nd >= 1 && nd <= 4 else { throw fail("tensor '\(name)' has \(nd) dimensions (ggml allows 1 to 4)") }
            var dims: [Int] = []
            var elements = 1
            for _ in 0..<nd {
                let d = try c.u64("dimensions of '\(name)'")
                let (p, o) = elements.multipliedReportingOverflow(by: Int(clamping: d))
                guard d <= UInt64(Int32.max) * 1024, !o else { throw fail("tensor '\(name)' is too large (dimension \(d))") }
                dims.append(Int(d))
                elements = p
            }
            let rawType = try c.u32("type of '\(name)'")
            guard let type = GGMLType(rawValue: rawType) else { throw fail("tensor '\(name)' has unknown type \(rawType)") }
            guard dims[0] % type.blockElements == 0, let bytes = type.byteCount(elements: elements) else {
                throw fail("tensor '\(name)': its rows of \(dims[0]) elements are not whole \(type.name) blocks of \(type.blockElements)")
            }
            let offset = try c.count("offset of '\(name)'")
            guard offset % alignment == 0 else {
                throw fail("tensor '\(name)' starts at offset \(offset), not a multiple of the alignment \(alignment)")
            }
            guard index.updateValue(infos.count, forKey: name) == nil else { throw fail("tensor name '\(name)' appears twice") }
            infos.append(GGUFTensorInfo(name: name, dimensions: dims, type: type, offset: offset, byteCount: bytes))
        }
        let start = (c.offset + alignment - 1) / alignment * alignment
        guard infos.isEmpty || start <= file.count else {
            throw fail("truncated: the data section would start at \(start), past the end of the file (\(file.count) bytes)")
        }
        for t in infos where t.offset > file.count - start || t.byteCount > file.count - start - t.offset {
            throw fail(
                "tensor '\(t.name)' (\(t.type.name), \(t.byteCount) bytes at data offset \(t.offset)) lies outside the file (data section of \(max(0, file.count - start)) bytes)"
            )
        }
        self.metadata = metadata
        self.metadataKeys = keys
        self.tensors = infos
        self.alignment = alignment
        self.dataStart = start
        self.index = index
    }

    public func info(_ name: String) throws -> GGUFTensorInfo {
        guard let i = index[name] else { throw WeightsFileError(path, "no tensor named '\(name)'") }
        return tensors[i]
    }

    /// the raw bytes of a tensor's data (inside the mapping; valid while this file lives)
    public func data(_ t: GGUFTensorInfo) throws -> UnsafeRawPointer {
        try file.bytes(at: dataStart + t.offset, count: t.byteCount, "tensor '\(t.name)'")
    }

    /// A tensor dequantised to f32, in row-major shape (`info.shape`).
    public func tensor(_ name: String) throws -> Tensor {
        let t = try info(name)
        guard t.type.canDequantize else { throw WeightsFileError(path, "tensor '\(name)' is \(t.type.name), which Tessera cannot dequantise") }
        let out = try Tensor.empty(t.shape, dtype: .f32, op: "gguf")
        try Dequantize.run(t.type, try data(t), count: t.elementCount, into: out.mutablePointer(Float.self))
        return out
    }

    /// A 2-D tensor kept in its quantised blocks (rows = shape[0], columns = shape[1]); a 1-D
    /// tensor is one row. The matrix keeps this file mapped.
    public func quantizedMatrix(_ name: String) throws -> QuantizedMatrix {
        let t = try info(name)
        guard t.dimensions.count <= 2 else { throw WeightsFileError(path, "tensor '\(name)' has \(t.dimensions.count) dimensions, a matrix 2") }
        let rows = t.dimensions.count == 2 ? t.dimensions[1] : 1
        return try QuantizedMatrix(type: t.type, rows: rows, columns: t.dimensions[0], data: try data(t), owner: file)
    }
}
