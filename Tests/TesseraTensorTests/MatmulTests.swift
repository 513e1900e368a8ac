// MatmulTests: every operand layout the BLAS path reads without copying (transposed, strided,
// permuted batches, expanded batches) or copies first (expanded rows), against a naive product.

import Testing
@testable import TesseraTensor
import TesseraTestSupport

@Suite struct MatmulTests {
    /// a (..., M, K) @ b (..., K, N) by loops over elements, batch dims broadcast as numpy does
    func naive(_ a: Tensor, _ b: Tensor) throws -> [Double] {
        let batch = try Shape.broadcast(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2)), op: "naive")
        let (m, k, n) = (a.shape[a.rank - 2], a.shape[a.rank - 1], b.shape[b.rank - 1])
        let ae = try a.expand(batch + [m, k]), be = try b.expand(batch + [k, n])
        var out: [Double] = []
        var idx = [Int](repeating: 0, count: batch.count)
        for _ in 0..<batch.reduce(1, *) {
            for i in 0..<m {
                for j in 0..<n {
                    var s = 0.0
                    for p in 0..<k { s += try ae.element(idx + [i, p]) * be.element(idx + [p, j]) }
                    out.append(s)
                }
            }
            var d = batch.count - 1
            while d >= 0 { idx[d] += 1; if idx[d] < batch[d] { break }; idx[d] = 0; d -= 1 }
        }
        return out
    }

    func normal(_ shape: [Int], _ seed: UInt64) throws -> Tensor {
        try Tensor.randn(shape, dtype: .f64, generator: Generator(seed: seed))
    }

    /// (name, a, b) for every layout worth a BLAS flag, a leading dimension or a copy
    func layouts() throws -> [(String, Tensor, Tensor)] {
        [
            ("plain", try normal([3, 4], 1), try normal([4, 5], 2)),
            ("a transposed", try normal([4, 3], 3).t(), try normal([4, 5], 4)),
            ("b transposed", try normal([3, 4], 5), try normal([5, 4], 6).t()),
            ("a every other column", try normal([3, 8], 7).view([3, 4, 2]).select(2, 0), try normal([4, 5], 8)),
            ("b every other row", try normal([3, 4], 9), try normal([8, 5], 10).view([4, 2, 5]).select(1, 0)),
            ("a narrowed columns", try normal([3, 7], 11).narrow(1, 2, 4), try normal([4, 5], 12)),
            ("a one row, strided", try normal([1, 8], 13).view([1, 4, 2]).select(2, 1), try normal([4, 5], 14)),
            ("b one column, strided", try normal([3, 4], 15), try normal([4, 3], 16).narrow(1, 1, 1)),
            ("k = 1", try normal([3, 1], 17), try normal([1, 5], 18)),
            ("a expanded rows", try normal([1, 4], 19).expand([3, 4]), try normal([4, 5], 20)),
            ("b expanded columns", try normal([3, 4], 21), try normal([4, 1], 22).expand([4, 5])),
            ("batched", try normal([2, 3, 4], 23), try normal([2, 4, 5], 24)),
            ("permuted batch", try normal([3, 2, 4], 25).permute([1, 0, 2]), try normal([2, 4, 5], 26)),
            ("batch of transposes", try normal([2, 4, 3], 27).transpose(1, 2), try normal([2, 5, 4], 28).transpose(1, 2)),
            ("shared b", try normal([2, 3, 4], 29), try normal([4, 5], 30)),
            ("shared b, a permuted", try normal([3, 2, 4], 31).permute([1, 0, 2]), try normal([4, 5], 32)),
            ("shared a", try normal([3, 4], 33), try normal([2, 4, 5], 34)),
            ("expanded batch", try normal([1, 3, 4], 35).expand([4, 3, 4]), try normal([4, 4, 5], 36)),
            ("broadcast batch dims", try normal([2, 1, 3, 4], 37), try normal([1, 3, 4, 2], 38)),
            ("many small products", try normal([16, 2, 3], 39), try normal([16, 3, 2], 40)),
            ("empty batch", try normal([0, 3, 4], 41), try normal([4, 5], 42)),
            ("k = 0", try normal([3, 0], 43), try normal([0, 2], 44)),
        ]
    }

    @Test func everyLayoutMatchesANaiveProduct() throws {
        for (name, a, b) in try layouts() {
            let expected = try naive(a, b)
            expectClose(try a.matmul(b).toDoubles(), expected, rtol: 1e-12, atol: 1e-12, "f64 \(name)")
            expectClose(try a.to(.f32).matmul(b.to(.f32)).toDoubles(), expected, rtol: 1e-5, atol: 1e-5, "f32 \(name)")
        }
    }

    @Test func mixedDtypesPromote() throws {
        let a = try normal([2, 3], 50), b = try normal([3, 2], 51)
        let c = try a.to(.f32).matmul(b)
        #expect(c.dtype == .f64)
        expectClose(c.toDoubles(), try naive(a.to(.f32).to(.f64), b), rtol: 1e-12, atol: 1e-12)
    }
}
