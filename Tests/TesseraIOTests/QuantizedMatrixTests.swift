// QuantizedMatrix: tile-wise products equal the products with the dequantised matrix, for tiles
// that do and do not divide the rows; partial dequantisation of row and block-column ranges.

import TesseraTensor
import XCTest

@testable import TesseraIO

final class QuantizedMatrixTests: XCTestCase {
    /// a rows x cols Q4_1 matrix of random values
    func randomMatrix(_ rows: Int, _ cols: Int, seed: UInt64 = 5) throws -> QuantizedMatrix {
        var g = SplitMix(seed: seed)
        let x = (0..<(rows * cols)).map { _ in g.normal() }
        let bytes = stride(from: 0, to: x.count, by: 32).flatMap { quantizeAffine(Array(x[$0..<$0 + 32]), bits: 4).0 }
        return try QuantizedMatrix(type: .q4_1, rows: rows, columns: cols, bytes: bytes)
    }

    func assertClose(_ a: Tensor, _ b: Tensor, _ message: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(a.shape, b.shape, message, file: file, line: line)
        let x = try a.toArray(Float.self), y = try b.toArray(Float.self)
        let err = zip(x, y).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThan(err, 1e-3, message, file: file, line: line)
    }

    func testTiledProductsMatchDequantiseOnce() throws {
        let w = try randomMatrix(70, 96)
        let dense = try w.dequantized()
        let x = try Tensor.randn([2, 5, 96])
        let g = try Tensor.randn([7, 70])
        for tile in [nil, 1, 16, 64, 70, 1000] {
            try assertClose(try w.matmulTransposed(x, tileRows: tile), try x.matmul(dense.t()), "x W^T, tile \(String(describing: tile))")
            try assertClose(try w.matmul(g, tileRows: tile), try g.matmul(dense), "g W, tile \(String(describing: tile))")
        }
        XCTAssertThrowsError(try w.matmulTransposed(try Tensor.randn([3, 95]))) { e in XCTAssertTrue("\(e)".contains("96 input features"), "\(e)") }
        XCTAssertThrowsError(try w.matmul(try Tensor.randn([3, 96]))) { e in XCTAssertTrue("\(e)".contains("70 output features"), "\(e)") }
    }

    func testPartialDequantisation() throws {
        let w = try randomMatrix(6, 128)
        let dense = try w.dequantized().toArray(Float.self)
        var out = [Float](repeating: -1, count: 3 * 40)
        // rows 2..<5, the second and third blocks (columns 32..<96), into rows of stride 40... too short
        XCTAssertThrowsError(try w.dequantize(rows: 2..<5, columns: 32..<96, into: &out, leadingDimension: 40))
        out = [Float](repeating: -1, count: 3 * 70)
        try w.dequantize(rows: 2..<5, columns: 32..<96, into: &out, leadingDimension: 70)
        for r in 0..<3 {
            XCTAssertEqual(Array(out[(r * 70)..<(r * 70 + 64)]), Array(dense[((r + 2) * 128 + 32)..<((r + 2) * 128 + 96)]))
            XCTAssertEqual(Array(out[(r * 70 + 64)..<(r * 70 + 70)]), [Float](repeating: -1, count: 6), "padding untouched")
        }
        XCTAssertThrowsError(try w.dequantize(rows: 0..<1, columns: 16..<32, into: &out)) { e in
            XCTAssertTrue("\(e)".contains("block boundaries"), "\(e)")
        }
        XCTAssertThrowsError(try w.dequantize(rows: 5..<7, into: &out)) { e in XCTAssertTrue("\(e)".contains("outside the 6x128 matrix"), "\(e)") }
        XCTAssertThrowsError(try QuantizedMatrix(type: .q4_1, rows: 2, columns: 32, bytes: [0])) { e in
            XCTAssertTrue("\(e)".contains("do not hold"), "\(e)")
        }
        XCTAssertThrowsError(try QuantizedMatrix(type: .q4_1, rows: 1, columns: 33, bytes: [])) { e in
            XCTAssertTrue("\(e)".contains("do not hold"), "\(e)")
        }
    }
}
