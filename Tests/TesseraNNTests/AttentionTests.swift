// AttentionTests: multi-head attention against a loop-by-loop reference (masks, grouped-query
// heads, rotary positions), the rotary embedding by hand, and Float64 gradient checks.

import Foundation
import Testing
@testable import TesseraTensor
@testable import TesseraNN

/// Attention computed element by element from the module's own projections: the reference.
/// x (B, T, D) -> output (B, T, D), probabilities (B, H, T, T)
private func referenceAttention(
    _ m: MultiHeadAttention, _ x: Tensor, mask: [[Double]]?, causal: Bool,
    rope: Bool
) throws -> ([Double], [Double]) {
    let (b, t, h, kv, hd) = (x.shape[0], x.shape[1], m.heads, m.kvHeads, m.headDim)
    let q = try m.module(at: "query")!(x).toDoubles(), k = try m.module(at: "key")!(x).toDoubles()
    let v = try m.module(at: "value")!(x).toDoubles()
    /// element i of head `head` at (batch, pos) of a (B, T, heads·hd) projection, rotated when asked
    func at(_ p: [Double], _ heads: Int, _ bi: Int, _ pos: Int, _ head: Int, _ i: Int, rotate: Bool) -> Double {
        let row = (bi * t + pos) * heads * hd + head * hd
        guard rotate else { return p[row + i] }
        let half = hd / 2, j = i % half
        let angle = Double(pos) * pow(10_000, -2 * Double(j) / Double(hd))
        // pairs (j, j + half) rotate together: HF's rotate_half convention
        return i < half
            ? p[row + i] * cos(angle) - p[row + i + half] * sin(angle)
            : p[row + i] * cos(angle) + p[row + i - half] * sin(angle)
    }
    var probs = [Double](repeating: 0, count: b * h * t * t)
    var context = [Double](repeating: 0, count: b * t * h * hd)
    for bi in 0..<b {
        for head in 0..<h {
            let g = head / (h / kv)
            for i in 0..<t {
                var s = [Double](repeating: -.infinity, count: t)
                for j in 0..<t where !(causal && j > i) && (mask?[bi][j] ?? 1) != 0 {
                    s[j] =
                        (0..<hd).reduce(0) { $0 + at(q, h, bi, i, head, $1, rotate: rope) * at(k, kv, bi, j, g, $1, rotate: rope) }
                        / Double(hd).squareRoot()
                }
                let mx = s.max()!
                let e = s.map { exp($0 - mx) }, z = e.reduce(0, +)
                for j in 0..<t {
                    let p = e[j] / z
                    probs[((bi * h + head) * t + i) * t + j] = p
                    for d in 0..<hd { context[(bi * t + i) * h * hd + head * hd + d] += p * at(v, kv, bi, j, g, d, rotate: false) }
                }
            }
        }
    }
    let out = try m.module(at: "output")!(Tensor.from(context, shape: [b, t, h * hd]))
    return (out.toDoubles(), probs)
}

@Suite struct AttentionTests {
    @Test func rotaryEmbeddingByHand() throws {
        let rope = try RotaryEmbedding(headDim: 2)
        // one pair per position, rotated by angle = position
        let x = try f64([1, 2, 1, 2, 1, 2], [3, 2])
        let y = try rope.apply(x).toDoubles()
        for p in 0..<3 {
            let a = Double(p)
            expectClose([y[2 * p], y[2 * p + 1]], [cos(a) - 2 * sin(a), 2 * cos(a) + sin(a)], rtol: 1e-12)
        }
        // an offset continues the positions
        expectClose(try rope.apply(x.narrow(0, 0, 1), offset: 2).toDoubles(), Array(y[4...]), rtol: 1e-12)
        try gradCheck({ try RotaryEmbedding(headDim: 4).apply($0[0], offset: 1) }, [leaf([2, 3, 4], seed: 30)])
        // a strided (transposed) input, as attention's heads are, and a longer table than the first
        try gradCheck({ try RotaryEmbedding(headDim: 4).apply($0[0].transpose(0, 1), offset: 70) }, [leaf([3, 2, 4], seed: 35)])
        expectTensorError("RotaryEmbedding") { try RotaryEmbedding(headDim: 3) }
    }

    @Test func matchesTheReference() throws {
        let x = try Tensor.randn([2, 3, 8], dtype: .f64, generator: Generator(seed: 31))
        let mask: [[Double]] = [[1, 1, 1], [1, 1, 0]]
        let maskT = try f64(mask.flatMap { $0 }, [2, 3])
        for (kv, causal, rope) in [(4, false, false), (2, true, false), (1, true, true), (2, false, true)] {
            let m = try MultiHeadAttention(
                dim: 8, heads: 4, kvHeads: kv, rope: rope ? RotaryEmbedding(headDim: 2) : nil,
                generator: Generator(seed: 32))
            try m.to(.f64)
            let r = try m(x, paddingMask: maskT, causal: causal, returnProbabilities: true)
            let (out, probs) = try referenceAttention(m, x, mask: mask, causal: causal, rope: rope)
            expectTensor(r.output, [2, 3, 8], out, rtol: 1e-10, atol: 1e-12)
            expectTensor(try #require(r.probabilities), [2, 4, 3, 3], probs, rtol: 1e-10, atol: 1e-12)
        }
    }

    @Test func masksAndProbabilities() throws {
        let m = try MultiHeadAttention(dim: 4, heads: 2, causal: true, generator: Generator(seed: 33))
        let x = try Tensor.randn([1, 3, 4], generator: Generator(seed: 34))
        let r = try m(x, paddingMask: bools([true, false, true], [1, 3]), returnProbabilities: true)
        let p = try #require(r.probabilities).toDoubles()
        // row i of each head: keys after i and the padded key 1 get nothing
        for head in 0..<2 {
            let rows = (0..<3).map { i in Array(p[(head * 3 + i) * 3..<(head * 3 + i) * 3 + 3]) }
            expectClose(rows[0], [1, 0, 0], atol: 1e-7)
            expectClose(rows[1], [1, 0, 0], atol: 1e-7)
            #expect(rows[2][1] == 0 && abs(rows[2].reduce(0, +) - 1) < 1e-6)
        }
        #expect(try m(x).probabilities == nil)
        expectTensorError("MultiHeadAttention") { try m(x, paddingMask: bools([true, true], [1, 2])) }
        expectTensorError("MultiHeadAttention") { try m(Tensor.zeros([1, 3, 5])) }
        expectTensorError("MultiHeadAttention") { try MultiHeadAttention(dim: 8, heads: 4, kvHeads: 3) }
        #expect(
            try MultiHeadAttention(dim: 8, heads: 4, kvHeads: 2, causal: true).layerDescription
                == "MultiHeadAttention(8, heads: 4, kv heads: 2, causal)")
    }

    @Test func gradients() throws {
        let m = try MultiHeadAttention(
            dim: 4, heads: 2, kvHeads: 1, causal: true, rope: RotaryEmbedding(headDim: 2),
            generator: Generator(seed: 35))
        let mask = try i64([1, 1, 1, 1, 1, 0], [2, 3])
        try moduleGradCheck(m, [leaf([2, 3, 4], seed: 36)]) { try m($0[0], paddingMask: mask).output }
    }

    @Test func hooksSeeTheOutputAndReplacementWorks() throws {
        let m = try MultiHeadAttention(dim: 4, heads: 2, generator: Generator(seed: 37))
        var shapes: [[Int]] = []
        try m.addForwardHook { _, y in shapes.append(y.shape) }
        _ = try m(Tensor.zeros([1, 2, 4]))
        #expect(shapes == [[1, 2, 4]])
        // a replaced projection is the one the forward pass uses
        let zero = try Linear(4, 4, generator: Generator(seed: 38))
        try noGrad {
            _ = try zero.weight.zero_(); _ = zero.bias!.zero_()
        }
        try m.replaceModule(at: "output", with: zero)
        #expect(try m(Tensor.randn([1, 2, 4])).output.toDoubles().allSatisfy { $0 == 0 })
    }
}
