// QuantizedLinear: the product with the blocks equals x Wᵀ + b with the dequantised weight, the
// gradient reaching the input is g W (checked against the dequantised layer and by a finite
// difference, exact for a linear map), the bias trains, and bad inputs throw.

import TesseraNN
import TesseraTensor
import XCTest

@testable import TesseraIO

final class QuantizedLinearTests: XCTestCase {
    func randomMatrix(_ rows: Int, _ cols: Int) throws -> QuantizedMatrix {
        var g = SplitMix(seed: 11)
        let x = (0..<(rows * cols)).map { _ in g.normal() }
        let bytes = stride(from: 0, to: x.count, by: 32).flatMap { quantizeAffine(Array(x[$0..<$0 + 32]), bits: 4).0 }
        return try QuantizedMatrix(type: .q4_1, rows: rows, columns: cols, bytes: bytes)
    }

    func maxDifference(_ a: Tensor, _ b: Tensor) throws -> Float {
        XCTAssertEqual(a.shape, b.shape)
        return zip(try a.toArray(Float.self), try b.toArray(Float.self)).map { abs($0 - $1) }.max() ?? 0
    }

    func testMatchesTheDequantisedLayerForwardAndBackward() throws {
        let w = try randomMatrix(48, 64)
        let bias = try Tensor.randn([48], generator: Generator(seed: 1)).requiresGrad(true)
        let q = try QuantizedLinear(w, bias: bias)
        let dense = try Linear(weight: q.dequantizedWeight(), bias: bias.detach())
        let x = try Tensor.randn([2, 3, 64], generator: Generator(seed: 2)).requiresGrad(true)
        let x2 = try x.detach().requiresGrad(true)
        let r = try Tensor.randn([2, 3, 48], generator: Generator(seed: 3))
        let y = try q(x), yd = try dense(x2)
        XCTAssertLessThan(try maxDifference(y, yd), 1e-4)
        try y.mul(r).sum().backward()
        try yd.mul(r).sum().backward()
        XCTAssertLessThan(try maxDifference(try XCTUnwrap(x.grad), try XCTUnwrap(x2.grad)), 1e-4)
        // the bias receives Σ r over the batch
        XCTAssertLessThan(try maxDifference(try XCTUnwrap(bias.grad), try r.sum(dims: [0, 1])), 1e-4)
        // finite difference along a direction d: f(x + d) - f(x) = <grad, d> exactly for a linear map
        let d = try Tensor.randn([2, 3, 64], generator: Generator(seed: 4))
        let f = { (input: Tensor) throws -> Double in try noGrad { try q(input).mul(r).sum().item() } }
        let numeric = try f(x.detach().add(d)) - f(x.detach())
        let analytic = try XCTUnwrap(x.grad).mul(d).sum().item()
        XCTAssertEqual(numeric, analytic, accuracy: 1e-3 * max(1, abs(analytic)))
    }

    func testFewRowsTakeTheFusedRowDotsAndAgree() throws {
        // decoding feeds 1..8 rows: each weight row is dequantised and dotted in place
        let w = try randomMatrix(40, 96)
        let dense = try w.dequantized()
        for m in [1, 3, 8, 9] {
            let x = try Tensor.randn([m, 96], generator: Generator(seed: UInt64(m)))
            XCTAssertLessThan(try maxDifference(try w.matmulTransposed(x), try x.matmul(dense.t())), 1e-4, "\(m) rows")
        }
    }

    func testNoGradientRecordedForConstantInputs() throws {
        let q = try QuantizedLinear(try randomMatrix(32, 32))
        let y = try q(try Tensor.randn([4, 32]))
        XCTAssertFalse(y.requiresGrad)
        XCTAssertTrue(q.namedParameters().isEmpty)
    }

    func testBadInputsThrow() throws {
        let w = try randomMatrix(32, 32)
        XCTAssertThrowsError(try QuantizedLinear(w, bias: try Tensor.zeros([3])))
        XCTAssertThrowsError(try QuantizedLinear(w)(try Tensor.zeros([2, 31])))
    }
}
