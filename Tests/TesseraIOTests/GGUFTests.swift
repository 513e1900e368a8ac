// GGUF: the header, metadata and tensor directory of files built here byte by byte, the
// dequantisation of every supported type against blocks quantised by a small reference quantiser
// written from the format description (not from the reader), the golden file written by gguf-py,
// and one malformed file per check the reader makes.

import Foundation
import TesseraTensor
import XCTest

@testable import TesseraIO

/// Builds GGUF files byte by byte.
struct GGUFBuilder {
    var version: UInt32 = 3
    var alignment = 32
    /// metadata: key, value type id, encoded value
    var metadata: [(String, UInt32, [UInt8])] = []
    /// tensors: name, ggml dimensions (innermost first), type id, data
    var tensors: [(String, [UInt64], UInt32, [UInt8])] = []
    /// replaces the computed data offset of tensor i
    var offsetOverride: [Int: UInt64] = [:]

    static func u32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    static func u64(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    static func string(_ s: String) -> [UInt8] { u64(UInt64(s.utf8.count)) + Array(s.utf8) }

    mutating func add(_ key: String, u32 v: UInt32) { metadata.append((key, 4, GGUFBuilder.u32(v))) }
    mutating func add(_ key: String, string v: String) { metadata.append((key, 8, GGUFBuilder.string(v))) }
    mutating func add(_ key: String, strings: [String]) {
        metadata.append((key, 9, GGUFBuilder.u32(8) + GGUFBuilder.u64(UInt64(strings.count)) + strings.flatMap(GGUFBuilder.string)))
    }

    var bytes: [UInt8] {
        var out = Array("GGUF".utf8) + GGUFBuilder.u32(version) + GGUFBuilder.u64(UInt64(tensors.count)) + GGUFBuilder.u64(UInt64(metadata.count))
        for (k, t, v) in metadata { out += GGUFBuilder.string(k) + GGUFBuilder.u32(t) + v }
        var offset = 0
        var data: [UInt8] = []
        for (i, (name, dims, type, bytes)) in tensors.enumerated() {
            out += GGUFBuilder.string(name) + GGUFBuilder.u32(UInt32(dims.count)) + dims.flatMap(GGUFBuilder.u64) + GGUFBuilder.u32(type)
            out += GGUFBuilder.u64(offsetOverride[i] ?? UInt64(offset))
            data += bytes + [UInt8](repeating: 0, count: (alignment - bytes.count % alignment) % alignment)
            offset = data.count
        }
        out += [UInt8](repeating: 0, count: (alignment - out.count % alignment) % alignment)
        return out + data
    }
}

// MARK: - reference quantisers (ggml's reference rounding, written from the block descriptions)

func halfBytes(_ f: Float) -> [UInt8] { withUnsafeBytes(of: halfBits(f)) { Array($0) } }
func half(_ f: Float) -> Float { floatFromHalfBits(halfBits(f)) }

/// Q4_0 / Q5_0 (`bits` 4 or 5): d = (value of largest magnitude) / -2^(bits-1); returns the block
/// and the values it decodes to
func quantizeSymmetric(_ x: [Float], bits: Int) -> ([UInt8], [Float]) {
    let top = Float(1 << (bits - 1))
    let amax = x.max { abs($0) < abs($1) }!
    let d = amax / -top
    let id: Float = d == 0 ? 0 : 1 / d
    let q = x.map { Swift.min(Int(2 * top - 1), Int(($0 * id + top + 0.5).rounded(.towardZero))) }
    var block = halfBytes(d)
    if bits == 5 {
        var qh: UInt32 = 0
        for j in 0..<32 where q[j] & 16 != 0 { qh |= 1 << UInt32(j) }
        block += GGUFBuilder.u32(qh)
    }
    block += (0..<16).map { UInt8(q[$0] & 0xF) | UInt8(q[$0 + 16] & 0xF) << 4 }
    return (block, q.map { Float($0 - Int(top)) * half(d) })
}

/// Q4_1 / Q5_1: d = (max - min) / (2^bits - 1), m = min
func quantizeAffine(_ x: [Float], bits: Int) -> ([UInt8], [Float]) {
    let levels = Float((1 << bits) - 1)
    let lo = x.min()!, hi = x.max()!
    let d = (hi - lo) / levels
    let id: Float = d == 0 ? 0 : 1 / d
    let q = x.map { Swift.min(Int(levels), Int((($0 - lo) * id + 0.5).rounded(.towardZero))) }
    var block = halfBytes(d) + halfBytes(lo)
    if bits == 5 {
        var qh: UInt32 = 0
        for j in 0..<32 where q[j] & 16 != 0 { qh |= 1 << UInt32(j) }
        block += GGUFBuilder.u32(qh)
    }
    block += (0..<16).map { UInt8(q[$0] & 0xF) | UInt8(q[$0 + 16] & 0xF) << 4 }
    return (block, q.map { Float($0) * half(d) + half(lo) })
}

/// Q8_0: d = amax / 127, q = round(x / d)
func quantizeQ8(_ x: [Float]) -> ([UInt8], [Float]) {
    let amax = x.map(abs).max()!
    let d = amax / 127
    let id: Float = d == 0 ? 0 : 1 / d
    let q = x.map { Int8(($0 * id).rounded()) }
    return (halfBytes(d) + q.map { UInt8(bitPattern: $0) }, q.map { Float($0) * half(d) })
}

/// packs 8 six-bit scales and mins into the 12 bytes of a Q4_K/Q5_K block
func packKScales(_ sc: [UInt8], _ m: [UInt8]) -> [UInt8] {
    var s = [UInt8](repeating: 0, count: 12)
    for j in 0..<4 {
        s[j] = sc[j] | (sc[j + 4] >> 4) << 6
        s[j + 4] = m[j] | (m[j + 4] >> 4) << 6
        s[j + 8] = (sc[j + 4] & 0xF) | (m[j + 4] & 0xF) << 4
    }
    return s
}

/// a Q4_K (bits 4) or Q5_K (bits 5) block from chosen quants, scales and mins; sub-block j holds
/// elements 32j..<32j+32
func buildK(bits: Int, q: [Int], sc: [UInt8], m: [UInt8], d: Float, dmin: Float) -> ([UInt8], [Float]) {
    var block = halfBytes(d) + halfBytes(dmin) + packKScales(sc, m)
    if bits == 5 {
        block += (0..<32).map { l in
            var h: UInt8 = 0
            for c in 0..<4 {
                if q[64 * c + l] & 16 != 0 { h |= 1 << UInt8(2 * c) }
                if q[64 * c + 32 + l] & 16 != 0 { h |= 2 << UInt8(2 * c) }
            }
            return h
        }
    }
    for c in 0..<4 { block += (0..<32).map { l in UInt8(q[64 * c + l] & 0xF) | UInt8(q[64 * c + 32 + l] & 0xF) << 4 } }
    let values = (0..<256).map { i in half(d) * Float(sc[i / 32]) * Float(q[i]) - half(dmin) * Float(m[i / 32]) }
    return (block, values)
}

/// a Q6_K block from 6-bit quants (0..<64, stored minus 32) and 16 int8 scales (one per 16 elements)
func buildQ6K(q: [Int], sc: [Int8], d: Float) -> ([UInt8], [Float]) {
    var ql = [UInt8](repeating: 0, count: 128), qh = [UInt8](repeating: 0, count: 64)
    for i in 0..<256 {
        let h = i / 128, e = i % 128, k = e / 32, l = e % 32
        ql[64 * h + l + 32 * (k & 1)] |= UInt8(q[i] & 0xF) << UInt8(4 * (k >> 1))
        qh[32 * h + l] |= UInt8(q[i] >> 4) << UInt8(2 * k)
    }
    let block = ql + qh + sc.map { UInt8(bitPattern: $0) } + halfBytes(d)
    return (block, (0..<256).map { i in half(d) * Float(sc[i / 16]) * Float(q[i] - 32) })
}

final class GGUFTests: XCTestCase {
    var paths: [String] = []
    override func tearDown() { for p in paths { unlink(p) } }

    func file(_ b: GGUFBuilder) throws -> String {
        let p = temporaryPath("t.gguf")
        paths.append(p)
        try write(b.bytes, to: p)
        return p
    }

    /// dequantises `block` of `type` (rows of `cols`) three ways: Dequantize.run, a GGUF file and
    /// a QuantizedMatrix, and checks each gives `expected` exactly
    func check(_ type: GGMLType, _ blocks: [UInt8], _ expected: [Float], cols: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        var out = [Float](repeating: .nan, count: expected.count)
        try blocks.withUnsafeBytes { b in try Dequantize.run(type, b.baseAddress!, count: expected.count, into: &out) }
        XCTAssertEqual(out, expected, "\(type.name) Dequantize.run", file: file, line: line)
        var g = GGUFBuilder()
        g.tensors = [("w", [UInt64(cols), UInt64(expected.count / cols)], type.rawValue, blocks)]
        let f = try GGUFFile(path: try self.file(g))
        XCTAssertEqual(try f.tensor("w").toArray(Float.self), expected, "\(type.name) from a file", file: file, line: line)
        XCTAssertEqual(try f.tensor("w").shape, [expected.count / cols, cols], file: file, line: line)
        let m = try f.quantizedMatrix("w")
        XCTAssertEqual(try m.dequantized().toArray(Float.self), expected, "\(type.name) QuantizedMatrix", file: file, line: line)
    }

    func testDequantize32ElementFormats() throws {
        var g = SplitMix(seed: 7)
        for trial in 0..<4 {
            // 4 blocks: random normal-ish values, one all-zero block, one with a single large value
            var x = (0..<128).map { _ in g.normal() * (trial == 3 ? 100 : 1) }
            for j in 32..<64 { x[j] = 0 }
            x[70] = 40
            let blocks = stride(from: 0, to: 128, by: 32).map { Array(x[$0..<$0 + 32]) }
            for (type, quantize) in [
                (GGMLType.q4_0, { quantizeSymmetric($0, bits: 4) }), (.q5_0, { quantizeSymmetric($0, bits: 5) }),
                (.q4_1, { quantizeAffine($0, bits: 4) }), (.q5_1, { quantizeAffine($0, bits: 5) }), (.q8_0, quantizeQ8),
            ] as [(GGMLType, ([Float]) -> ([UInt8], [Float]))] {
                let parts = blocks.map(quantize)
                try check(type, parts.flatMap(\.0), parts.flatMap(\.1), cols: 64)
                // each value is within half a quantisation step of its block (plus the f16 rounding of
                // d), or a whole step for the symmetric formats, whose largest value of one sign is
                // clipped to 7/8 (15/16) of the largest of the other sign
                for (k, block) in blocks.enumerated() {
                    let lo = block.min()!, hi = block.max()!, amax = block.map(abs).max()!
                    let step: Float
                    switch type {
                    case .q4_0: step = amax / 8
                    case .q5_0: step = amax / 16
                    case .q4_1: step = (hi - lo) / 15
                    case .q5_1: step = (hi - lo) / 31
                    default: step = amax / 127
                    }
                    let err = zip(parts[k].1, block).map { abs($0 - $1) }.max()!
                    let half = type == .q4_0 || type == .q5_0 ? 1.0 : 0.55
                    XCTAssertLessThanOrEqual(err, step * Float(half) + amax * 2e-3, "\(type.name) block \(k)")
                }
            }
        }
    }

    func testDequantizeKFormats() throws {
        var g = SplitMix(seed: 11)
        for bits in [4, 5] {
            var blocks: [UInt8] = [], values: [Float] = []
            for _ in 0..<3 {
                let q = (0..<256).map { _ in Int(g.next() % UInt64(1 << bits)) }
                let sc = (0..<8).map { _ in UInt8(g.next() % 64) }, m = (0..<8).map { _ in UInt8(g.next() % 64) }
                let (b, v) = buildK(bits: bits, q: q, sc: sc, m: m, d: 0.0123, dmin: 0.0456)
                blocks += b
                values += v
            }
            XCTAssertEqual(blocks.count, 3 * (bits == 4 ? 144 : 176))
            try check(bits == 4 ? .q4_K : .q5_K, blocks, values, cols: 256)
        }
        var blocks: [UInt8] = [], values: [Float] = []
        for _ in 0..<2 {
            let q = (0..<256).map { _ in Int(g.next() % 64) }
            let sc = (0..<16).map { _ in Int8(truncatingIfNeeded: g.next()) }
            let (b, v) = buildQ6K(q: q, sc: sc, d: 0.0071)
            blocks += b
            values += v
        }
        XCTAssertEqual(blocks.count, 2 * 210)
        try check(.q6_K, blocks, values, cols: 512)
    }

    func testBranchlessHalfConversionIsExact() {
        for h in 0...UInt16.max {
            let a = halfToFloat(h), b = floatFromHalfBits(h)
            XCTAssertTrue(a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN), "half bits \(h)")
        }
    }

    func testDequantizeElementTypes() throws {
        let x: [Float] = [0, 1.5, -2, 1e-3]
        try check(.f32, x.flatMap { withUnsafeBytes(of: $0) { Array($0) } }, x, cols: 4)
        try check(.f16, x.flatMap { halfBytes($0) }, x.map(half), cols: 2)
        try check(
            .bf16, x.flatMap { withUnsafeBytes(of: bfloat16Bits($0)) { Array($0) } }, x.map { floatFromBFloat16Bits(bfloat16Bits($0)) }, cols: 4)
        try check(.i8, [0, 1, 0xFF, 0x80], [0, 1, -1, -128], cols: 4)
        XCTAssertThrowsError(
            try Dequantize.run(.q2_K, [UInt8](repeating: 0, count: 84), count: 256, into: UnsafeMutablePointer<Float>.allocate(capacity: 256))
        ) { e in
            XCTAssertTrue("\(e)".contains("Q2_K cannot be dequantised"), "\(e)")
        }
    }

    func testLargeTensorsUseTheParallelPathIdentically() throws {
        var g = SplitMix(seed: 3)
        let x = (0..<(1 << 18)).map { _ in g.normal() }
        let parts = stride(from: 0, to: x.count, by: 32).map { quantizeAffine(Array(x[$0..<$0 + 32]), bits: 4) }
        let blocks = parts.flatMap(\.0), expected = parts.flatMap(\.1)
        var serial = [Float](repeating: 0, count: x.count), parallel = serial
        try blocks.withUnsafeBytes { b in
            try Dequantize.run(.q4_1, b.baseAddress!, count: x.count, into: &serial, parallel: false)
            try Dequantize.run(.q4_1, b.baseAddress!, count: x.count, into: &parallel)
        }
        XCTAssertEqual(serial, expected)
        XCTAssertEqual(parallel, expected)
    }

    func testMetadataAndDirectory() throws {
        var b = GGUFBuilder()
        b.add("general.architecture", string: "llama")
        b.add("general.alignment", u32: 64)
        b.add("tokenizer.ggml.tokens", strings: ["<s>", "</s>", "héllo"])
        b.metadata.append(
            (
                "nested", 9,
                GGUFBuilder.u32(9) + GGUFBuilder.u64(2) + (GGUFBuilder.u32(5) + GGUFBuilder.u64(1) + GGUFBuilder.u32(7))
                    + (GGUFBuilder.u32(7) + GGUFBuilder.u64(2) + [1, 0])
            ))
        b.alignment = 64
        b.tensors = [("a", [4], 0, [UInt8](repeating: 0, count: 16)), ("b", [2, 3], 0, [UInt8](repeating: 0, count: 24))]
        let f = try GGUFFile(path: try file(b))
        XCTAssertEqual(f.version, 3)
        XCTAssertEqual(f.alignment, 64)
        XCTAssertEqual(f.dataStart % 64, 0)
        XCTAssertEqual(f.metadataKeys, ["general.architecture", "general.alignment", "tokenizer.ggml.tokens", "nested"])
        XCTAssertEqual(f.metadata["general.architecture"]?.string, "llama")
        XCTAssertEqual(f.metadata["tokenizer.ggml.tokens"]?.strings, ["<s>", "</s>", "héllo"])
        XCTAssertEqual(
            f.metadata["nested"], .array(elementType: 9, [.array(elementType: 5, [.int32(7)]), .array(elementType: 7, [.bool(true), .bool(false)])]))
        XCTAssertEqual(f.tensors.map(\.name), ["a", "b"])
        XCTAssertEqual(try f.info("b").shape, [3, 2])
        XCTAssertEqual(try f.info("b").offset, 64)
        XCTAssertThrowsError(try f.info("c"))
    }

    func testGoldenFromGGUFPy() throws {
        guard let gguf = Bundle.module.path(forResource: "tiny", ofType: "gguf", inDirectory: "Golden"),
            let expectedPath = Bundle.module.path(forResource: "tiny_expected", ofType: "safetensors", inDirectory: "Golden")
        else { return XCTFail("golden files missing: run scripts/golden/make_gguf_golden.py") }
        let f = try GGUFFile(path: gguf)
        let expected = try SafetensorsFile(path: expectedPath)
        XCTAssertEqual(Set(f.tensors.map(\.name)), Set(expected.names))
        XCTAssertEqual(f.tensors.map(\.type.name), ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"])
        for t in f.tensors {
            let want = try expected.tensor(t.name)
            let got = try f.tensor(t.name)
            XCTAssertEqual(got.shape, want.shape, t.name)
            XCTAssertEqual(try got.toArray(Float.self), try want.toArray(Float.self), t.name)
        }
        let m = f.metadata
        XCTAssertEqual(m["general.architecture"]?.string, "tiny")
        XCTAssertEqual(m["test.u8"], .uint8(200))
        XCTAssertEqual(m["test.i8"], .int8(-100))
        XCTAssertEqual(m["test.u16"], .uint16(60000))
        XCTAssertEqual(m["test.i16"], .int16(-30000))
        XCTAssertEqual(m["test.u32"], .uint32(4_000_000_000))
        XCTAssertEqual(m["test.i32"], .int32(-2_000_000_000))
        XCTAssertEqual(m["test.u64"], .uint64(1 << 63 + 5))
        XCTAssertEqual(m["test.i64"], .int64(-(1 << 62)))
        XCTAssertEqual(m["test.f32"], .float32(0.25))
        XCTAssertEqual(m["test.f64"], .float64(-1.5e300))
        XCTAssertEqual(m["test.bool"], .bool(true))
        XCTAssertEqual(m["test.string"]?.string, "héllo wörld")
        XCTAssertEqual(m["test.strings"]?.strings, ["a", "", "ünï", "<s>"])
        XCTAssertEqual(m["test.ints"]?.array?.compactMap(\.int), [1, -2, 3])
    }

    func assertMalformed(_ bytes: [UInt8], _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let p = temporaryPath("bad.gguf")
        paths.append(p)
        try write(bytes, to: p)
        XCTAssertThrowsError(try GGUFFile(path: p), file: file, line: line) { e in
            guard let e = e as? WeightsFileError else { return XCTFail("unexpected error \(e)", file: file, line: line) }
            XCTAssertEqual(e.path, p, file: file, line: line)
            XCTAssertTrue(e.message.contains(expected), "'\(e.message)' should contain '\(expected)'", file: file, line: line)
        }
    }

    func testMalformedFiles() throws {
        var good = GGUFBuilder()
        good.add("general.architecture", string: "llama")
        good.add("tokenizer.ggml.tokens", strings: ["a", "b"])
        good.tensors = [("w", [32, 2], 2, [UInt8](repeating: 0, count: 36))]
        _ = try GGUFFile(path: try file(good))
        try assertMalformed(Array("GGUX".utf8) + [UInt8](repeating: 0, count: 40), "not a GGUF file")
        try assertMalformed([0x47], "not a GGUF file")
        var b = good
        b.version = 1
        try assertMalformed(b.bytes, "GGUF version 1 is not supported")
        b.version = 3 << 24
        try assertMalformed(b.bytes, "big-endian")
        b = good
        b.tensors[0].2 = 99
        try assertMalformed(b.bytes, "tensor 'w' has unknown type 99")
        b = good
        b.offsetOverride = [0: 64]
        try assertMalformed(b.bytes, "lies outside the file")
        b.offsetOverride = [0: UInt64.max - 31]
        try assertMalformed(b.bytes, "too large")
        b.offsetOverride = [0: 8]
        try assertMalformed(b.bytes, "not a multiple of the alignment 32")
        b = good
        b.tensors[0].1 = [30, 2]
        try assertMalformed(b.bytes, "not whole Q4_0 blocks of 32")
        b.tensors[0].1 = []
        try assertMalformed(b.bytes, "has 0 dimensions")
        b = good
        b.tensors.append(b.tensors[0])
        try assertMalformed(b.bytes, "tensor name 'w' appears twice")
        b = good
        b.add("general.architecture", string: "x")
        try assertMalformed(b.bytes, "metadata key 'general.architecture' appears twice")
        b = good
        b.add("general.alignment", u32: 48)
        try assertMalformed(b.bytes, "general.alignment must be a power of two")
        b = good
        b.metadata.append(("x", 9, GGUFBuilder.u32(8) + GGUFBuilder.u64(1 << 60)))
        try assertMalformed(b.bytes, "claims 1152921504606846976 elements")
        b = good
        b.metadata.append(("x", 13, []))
        try assertMalformed(b.bytes, "unknown value type 13")
        b = good
        b.metadata.append(("x", 7, [2]))
        try assertMalformed(b.bytes, "bool stored as 2")
        // every truncation of a good file throws (and none crashes)
        let bytes = good.bytes
        for n in 0..<(bytes.count - 36) {
            let p = temporaryPath("cut.gguf")
            try write(Array(bytes[0..<n]), to: p)
            XCTAssertThrowsError(try GGUFFile(path: p), "cut at \(n)")
            unlink(p)
        }
    }
}

/// a small deterministic generator for test data
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// roughly normal: the sum of 4 uniforms, centred and scaled
    mutating func normal() -> Float {
        var s: Float = 0
        for _ in 0..<4 { s += Float(next() >> 40) / Float(1 << 24) }
        return (s - 2) * 1.7
    }
}
