// Safetensors reading and writing: a round trip for every dtype, metadata, the atomic save, and
// one malformed file per rule the reader enforces (each must throw an error naming the file).

import Foundation
import TesseraTensor
import XCTest

@testable import TesseraIO

/// a fresh path in the temporary directory, removed by the caller's teardown
func temporaryPath(_ name: String) -> String {
    let dir = NSTemporaryDirectory()
    return (dir as NSString).appendingPathComponent("tessera-io-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\(name)")
}

/// the bytes of a safetensors file with `header` (JSON text) and `data`, the length field
/// given explicitly when `length` is set
func safetensorsBytes(_ header: String, data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
    let h = Array(header.utf8)
    var out = withUnsafeBytes(of: (length ?? UInt64(h.count)).littleEndian) { Array($0) }
    out += h
    out += data
    return out
}

func write(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

final class SafetensorsTests: XCTestCase {
    var paths: [String] = []

    func path(_ name: String) -> String {
        let p = temporaryPath(name)
        paths.append(p)
        return p
    }

    override func tearDown() {
        for p in paths { unlink(p) }
    }

    func testRoundTripEveryDType() throws {
        let p = path("all.safetensors")
        let floats = try Tensor.from([Float](arrayLiteral: 0, 1.5, -2.25, 65504, 1e-3, -0.0), shape: [2, 3])
        let doubles = try Tensor.from([1e300, -1.0 / 3.0], shape: [2])
        let ints = try Tensor.from([Int64](arrayLiteral: -128, 0, 127, 5))
        let bigs = try Tensor.from([Int64](arrayLiteral: .min, .max, 0))
        let unsigned = try Tensor.from([Int64](arrayLiteral: 0, 255, 7))
        let bools = try Tensor.from([true, false, true])
        let tensors: [String: Tensor] = [
            "F64": doubles, "F32": floats, "F16": floats, "BF16": floats, "I64": bigs, "I32": ints, "I16": ints, "I8": ints,
            "U64": unsigned, "U32": unsigned, "U16": unsigned, "U8": unsigned, "BOOL": bools,
        ]
        let dtypes = Dictionary(uniqueKeysWithValues: tensors.keys.map { ($0, SafetensorsDType(rawValue: $0)!) })
        try Safetensors.save(tensors, metadata: ["format": "pt", "note": "ünïcode \"quoted\""], to: p, dtypes: dtypes)
        let f = try SafetensorsFile(path: p)
        XCTAssertEqual(f.metadata, ["format": "pt", "note": "ünïcode \"quoted\""])
        XCTAssertEqual(Set(f.names), Set(tensors.keys))
        for e in f.entries {
            XCTAssertEqual(e.dtype.rawValue, e.name)
            XCTAssertEqual(e.dataOffsets.lowerBound % e.dtype.size, 0, "\(e.name) is aligned to its element size")
        }
        XCTAssertEqual(f.dataStart % 8, 0, "header padded to 8 bytes")
        let back = try f.tensors()
        XCTAssertEqual(try back["F64"]!.toArray(Double.self), try doubles.toArray(Double.self))
        XCTAssertEqual(try back["F32"]!.toArray(Float.self), try floats.toArray(Float.self))
        // 1e-3 is not exact in 16 bits: f16 and bf16 round it
        XCTAssertEqual(try back["F16"]!.toArray(Float.self), [0, 1.5, -2.25, 65504, floatFromHalfBits(halfBits(1e-3)), -0.0])
        XCTAssertEqual(try back["BF16"]!.toArray(Float.self), [0, 1.5, -2.25, 65536, floatFromBFloat16Bits(bfloat16Bits(1e-3)), -0.0])
        XCTAssertEqual(back["F16"]!.shape, [2, 3])
        for name in ["I32", "I16", "I8"] {
            XCTAssertEqual(back[name]!.dtype, .i32)
            XCTAssertEqual(try back[name]!.toArray(Int32.self), [-128, 0, 127, 5], name)
        }
        XCTAssertEqual(try back["I64"]!.toArray(Int64.self), [.min, .max, 0])
        for name in ["U64", "U32"] { XCTAssertEqual(try back[name]!.toArray(Int64.self), [0, 255, 7], name) }
        for name in ["U16", "U8"] { XCTAssertEqual(try back[name]!.toArray(Int32.self), [0, 255, 7], name) }
        XCTAssertEqual(try back["BOOL"]!.toArray(Bool.self), [true, false, true])
    }

    func testNaturalTypesAndEmptyTensors() throws {
        let p = path("natural.safetensors")
        let t: [String: Tensor] = [
            "w": try Tensor.randn([3, 4]), "ids": try Tensor.from([Int32](arrayLiteral: 1, 2)), "empty": try Tensor.zeros([0, 5]),
        ]
        try Safetensors.save(t, to: p)
        let (back, metadata) = try Safetensors.load(path: p)
        XCTAssertEqual(metadata, [:])
        XCTAssertEqual(try back["w"]!.toArray(Float.self), try t["w"]!.toArray(Float.self))
        XCTAssertEqual(back["ids"]!.dtype, .i32)
        XCTAssertEqual(back["empty"]!.shape, [0, 5])
        // a transposed view is saved in its logical order
        try Safetensors.save(["t": try t["w"]!.t()], to: p)
        XCTAssertEqual(try Safetensors.load(path: p).tensors["t"]!.toArray(Float.self), try t["w"]!.t().contiguous().toArray(Float.self))
    }

    func testSaveIsAtomicAndChecksValues() throws {
        let p = path("atomic.safetensors")
        try Safetensors.save(["a": try Tensor.ones([2])], to: p)
        // a failed save leaves the old file and no temporary file behind
        XCTAssertThrowsError(try Safetensors.save(["a": try Tensor.from([Int64](arrayLiteral: 300))], to: p, dtypes: ["a": .U8])) { e in
            XCTAssertTrue("\(e)".contains("outside 0...255"), "\(e)")
        }
        XCTAssertThrowsError(try Safetensors.save(["a": try Tensor.ones([1])], to: p, dtypes: ["a": .I8])) { e in
            XCTAssertTrue("\(e)".contains("cannot be saved as I8"), "\(e)")
        }
        XCTAssertThrowsError(try Safetensors.save(["a": try Tensor.ones([1])], to: p, dtypes: ["b": .F16]))
        XCTAssertEqual(try Safetensors.load(path: p).tensors["a"]!.toArray(Float.self), [1, 1])
        let dir = (p as NSString).deletingLastPathComponent
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix((p as NSString).lastPathComponent + ".tmp") }
        XCTAssertEqual(leftovers, [])
        XCTAssertThrowsError(try Safetensors.save(["a": try Tensor.ones([1])], to: "/nonexistent-dir/x.safetensors")) { e in
            XCTAssertTrue("\(e)".contains("/nonexistent-dir/x.safetensors"), "\(e)")
        }
    }

    func testReadsF8AndSpacePaddedHeaders() throws {
        let p = path("f8.safetensors")
        // e4m3: 0x38 = 1.0, 0xC0 = -2.0, 0x01 = 2^-9, 0x7F = NaN; e5m2: 0x3C = 1.0, 0xC4 = -4.0
        let header = #"{"a":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"F8_E5M2","shape":[2],"data_offsets":[4,6]}}   "#
        try write(safetensorsBytes(header, data: [0x38, 0xC0, 0x01, 0x7F, 0x3C, 0xC4]), to: p)
        let f = try SafetensorsFile(path: p)
        let a = try f.tensor("a").toArray(Float.self)
        XCTAssertEqual(Array(a[0..<3]), [1, -2, 0x1p-9])
        XCTAssertTrue(a[3].isNaN)
        XCTAssertEqual(try f.tensor("b").toArray(Float.self), [1, -4])
    }

    /// the error thrown when reading `bytes` as a safetensors file
    func readError(_ bytes: [UInt8], _ name: String = "bad.safetensors", file: StaticString = #filePath, line: UInt = #line) -> String {
        let p = path(name)
        do {
            try write(bytes, to: p)
            let f = try SafetensorsFile(path: p)
            _ = try f.tensors()
            XCTFail("no error reading a malformed file", file: file, line: line)
            return ""
        } catch let e as WeightsFileError {
            XCTAssertEqual(e.path, p, file: file, line: line)
            return e.message
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
            return ""
        }
    }

    func assertMalformed(_ bytes: [UInt8], _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        let m = readError(bytes, file: file, line: line)
        XCTAssertTrue(m.contains(expected), "'\(m)' should contain '\(expected)'", file: file, line: line)
    }

    let one = #""a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#

    func testMalformedFiles() throws {
        assertMalformed([1, 2, 3], "too short")
        assertMalformed(safetensorsBytes("{}", length: 1 << 40), "header length 1099511627776 is larger than")
        assertMalformed(safetensorsBytes("{}", length: 1000), "header length 1000 is larger than the file allows")
        assertMalformed(safetensorsBytes("[1]"), "does not start with '{'")
        assertMalformed(safetensorsBytes("{\"a\": nope}"), "header is not valid JSON")
        assertMalformed(safetensorsBytes("{\"a\": 1} x"), "header is not valid JSON")
        assertMalformed(safetensorsBytes(String(repeating: "{\"a\":", count: 100)), "nested more than")
        assertMalformed(safetensorsBytes(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,2]}}"#, data: [0, 0]), "shape [1] of F32 needs 4 bytes")
        assertMalformed(
            safetensorsBytes(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0]), "lie outside the data area (2 bytes)")
        assertMalformed(
            safetensorsBytes(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "shape [2] of F32 needs 8 bytes")
        assertMalformed(safetensorsBytes(#"{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}"#, data: [0]), "unknown dtype 'Q4'")
        assertMalformed(safetensorsBytes("{\(one),\(one)}", data: [0, 0, 0, 0]), "'a' appears twice")
        assertMalformed(safetensorsBytes(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "non-negative integers")
        assertMalformed(safetensorsBytes(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, data: [0, 0, 0, 0]), "begin <= end")
        assertMalformed(safetensorsBytes(#"{"a":{"dtype":"F32","shape":[1]}}"#, data: [0, 0, 0, 0]), "needs dtype, shape and data_offsets")
        assertMalformed(
            safetensorsBytes(#"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "too large")
        // overlapping, holes and trailing bytes: the tensors must tile the data area exactly
        let b = #""b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}"#
        assertMalformed(safetensorsBytes("{\(one),\(b)}", data: [UInt8](repeating: 0, count: 6)), "'b' overlaps")
        let c = #""c":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}"#
        assertMalformed(safetensorsBytes("{\(one),\(c)}", data: [UInt8](repeating: 0, count: 12)), "has a hole: bytes 4..<8")
        assertMalformed(safetensorsBytes("{\(one)}", data: [UInt8](repeating: 0, count: 9)), "5 bytes after the last tensor")
        assertMalformed(safetensorsBytes(#"{"__metadata__":{"k":1}}"#), "__metadata__ value 'k' is a number")
        assertMalformed(safetensorsBytes(#"{"__metadata__":{},"__metadata__":{}}"#), "'__metadata__' appears twice")
        assertMalformed(
            safetensorsBytes(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}"#, data: [0, 0, 0, 0]), "unexpected field 'extra'")
        assertMalformed(safetensorsBytes(#"{"a":"\ud800"}"#), "surrogate")
    }

    func testMissingFileAndTensor() throws {
        XCTAssertThrowsError(try SafetensorsFile(path: "/nonexistent/model.safetensors")) { e in
            XCTAssertEqual("\(e)", "/nonexistent/model.safetensors: cannot open: No such file or directory")
        }
        let p = path("one.safetensors")
        try write(safetensorsBytes("{\(one)}", data: [0, 0, 0x80, 0x3F]), to: p)
        let f = try SafetensorsFile(path: p)
        XCTAssertEqual(try f.tensor("a").toArray(Float.self), [1])
        XCTAssertThrowsError(try f.tensor("zz")) { e in XCTAssertTrue("\(e)".hasSuffix("no tensor named 'zz'")) }
        XCTAssertThrowsError(try SafetensorsFile(path: NSTemporaryDirectory())) { e in XCTAssertTrue("\(e)".contains("not a regular file"), "\(e)") }
    }

    func testJSONParser() throws {
        func parse(_ s: String) throws -> JSONValue { try Array(s.utf8).withUnsafeBytes { try JSONValue.parse($0) } }
        XCTAssertEqual(
            try parse(#" {"a" : [1, -2.5e3, true, null, "x\n\u00e9\ud83d\ude00"]} "#),
            .object([("a", .array([.number("1"), .number("-2.5e3"), .bool(true), .null, .string("x\né😀")]))]))
        for bad in ["", "{", "[1,]", "01", "\"\u{01}\"", "{\"a\" 1}", "tru", "1.", "-", "\"\\x\""] {
            XCTAssertThrowsError(try parse(bad), bad)
        }
        XCTAssertEqual(JSONValue.quote("a\"b\\c\n\u{01}"), #""a\"b\\c\n\u0001""#)
    }
}
