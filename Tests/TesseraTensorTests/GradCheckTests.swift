// GradCheckTests: every differentiable op against finite differences, one line each (TestSupport's
// gradCheck). Inputs are small and seeded; kinks (relu, abs, max, clamp, sort) are met with
// probability zero by continuous random values.

import Testing
@testable import TesseraTensor
import TesseraTestSupport

@Suite struct GradCheckTests {
    @Test func views() throws {
        try gradCheck({ try $0[0].view([6, 4]) }, [leaf([2, 3, 4], seed: 1)])
        try gradCheck({ try $0[0].view([-1]) }, [leaf([3, 4], seed: 2)])
        try gradCheck({ try $0[0].t().reshape([12]) }, [leaf([3, 4], seed: 3)])
        try gradCheck({ try $0[0].reshape([4, 3, 2]) }, [leaf([2, 3, 4], seed: 4)])
        try gradCheck({ try $0[0].transpose(0, 2) }, [leaf([2, 3, 4], seed: 5)])
        try gradCheck({ try $0[0].t() }, [leaf([3, 4], seed: 6)])
        try gradCheck({ try $0[0].permute([2, 0, 1]) }, [leaf([2, 3, 4], seed: 7)])
        try gradCheck({ try $0[0].narrow(1, 1, 2) }, [leaf([3, 4], seed: 8)])
        try gradCheck({ try $0[0].narrow(-1, -3, 2).narrow(0, 1, 1) }, [leaf([2, 3, 4], seed: 9)])
        try gradCheck({ try $0[0].select(0, 1) }, [leaf([3, 4], seed: 10)])
        try gradCheck({ try $0[0].select(-1, -2) }, [leaf([2, 3, 4], seed: 11)])
        try gradCheck({ try $0[0].expand([2, 3, 4]) }, [leaf([3, 1], seed: 12)])
        try gradCheck({ try $0[0].expand([-1, 4]) }, [leaf([3, 1], seed: 13)])
        try gradCheck({ try $0[0].squeeze() }, [leaf([3, 1, 4, 1], seed: 14)])
        try gradCheck({ try $0[0].squeeze(1) }, [leaf([3, 1, 4], seed: 15)])
        try gradCheck({ try $0[0].unsqueeze(1) }, [leaf([3, 4], seed: 16)])
        try gradCheck({ try $0[0].unsqueeze(-1) }, [leaf([3, 4], seed: 17)])
        try gradCheck({ try $0[0].flatten(1) }, [leaf([2, 3, 4], seed: 18)])
        try gradCheck({ try $0[0].flatten() }, [leaf([2, 3, 4], seed: 19)])
        try gradCheck({ try $0[0].t().contiguous() }, [leaf([3, 4], seed: 20)])
        try gradCheck({ try $0[0].clone() }, [leaf([3, 4], seed: 21)])
        try gradCheck({ try $0[0].t().view([2, 3, 2]) }, [leaf([2, 6], seed: 22)])
    }

    @Test func broadcastingBinaryOps() throws {
        try gradCheck({ try $0[0].add($0[1]) }, [leaf([3, 1], seed: 30), leaf([4], seed: 31)])
        try gradCheck({ try $0[0].sub($0[1]) }, [leaf([2, 3], seed: 32), leaf([3], seed: 33)])
        try gradCheck({ try $0[0].mul($0[1]) }, [leaf([2, 1, 3], seed: 34), leaf([4, 1], seed: 35)])
        try gradCheck({ try $0[0].div($0[1]) }, [leaf([3, 4], seed: 36), leaf([4], seed: 37, low: 0.5, high: 2)])
        try gradCheck({ try $0[0].div($0[1]) }, [leaf([4], seed: 38), leaf([3, 1], seed: 39, low: -2, high: -0.5)])
        try gradCheck({ try $0[0].pow($0[1]) }, [leaf([3, 4], seed: 40, low: 0.5, high: 2), leaf([4], seed: 41)])
        try gradCheck({ try $0[0].maximum($0[1]) }, [leaf([3, 4], seed: 42), leaf([4], seed: 43)])
        try gradCheck({ try $0[0].minimum($0[1]) }, [leaf([3, 1], seed: 44), leaf([3, 4], seed: 45)])
        try gradCheck({ try $0[0].add($0[1]) }, [leaf([], seed: 46), leaf([2, 3], seed: 47)])
        try gradCheck({ try $0[0].mul($0[1]) }, [leaf([], seed: 48), leaf([], seed: 49)])
        try gradCheck({ try $0[0].mul($0[0]) }, [leaf([3], seed: 50)])
        try gradCheck({ try $0[0] + $0[1] * $0[0] - $0[1] / 3 }, [leaf([2, 2], seed: 51), leaf([2, 2], seed: 52)])
    }

    @Test func scalarBinaryOps() throws {
        try gradCheck({ try $0[0].add(2.5) }, [leaf([3, 4], seed: 60)])
        try gradCheck({ try $0[0].sub(1.5) }, [leaf([3, 4], seed: 61)])
        try gradCheck({ try $0[0].mul(-3) }, [leaf([3, 4], seed: 62)])
        try gradCheck({ try $0[0].div(0.7) }, [leaf([3, 4], seed: 63)])
        try gradCheck({ try $0[0].rsub(2) }, [leaf([3, 4], seed: 64)])
        try gradCheck({ try $0[0].rdiv(2) }, [leaf([3, 4], seed: 65, low: 0.5, high: 2)])
        try gradCheck({ try $0[0].pow(3) }, [leaf([3, 4], seed: 66)])
        try gradCheck({ try $0[0].pow(2) }, [leaf([3, 4], seed: 67)])
        try gradCheck({ try $0[0].pow(0.5) }, [leaf([3, 4], seed: 68, low: 0.5, high: 2)])
        try gradCheck({ try $0[0].pow(-1.5) }, [leaf([3, 4], seed: 69, low: 0.5, high: 2)])
    }

    @Test func unaryOps() throws {
        let positive: [UnaryOp] = [.sqrt, .rsqrt, .log]
        for (n, op) in UnaryOp.allCases.enumerated() {
            let x =
                positive.contains(op)
                ? try leaf([3, 4], seed: 70 + UInt64(n), low: 0.2, high: 3)
                : try leaf([3, 4], seed: 70 + UInt64(n))
            try gradCheck({ try $0[0].unary(op) }, [x])
        }
        // on a strided (transposed) input, and gelu's tails
        try gradCheck({ try $0[0].t().tanh() }, [leaf([3, 4], seed: 90)])
        try gradCheck({ try $0[0].mul(4).gelu() }, [leaf([3, 4], seed: 91)])
        try gradCheck({ try $0[0].mul(4).geluTanh() }, [leaf([3, 4], seed: 92)])
    }

    @Test func comparisonsWhereClamp() throws {
        let cond = try bools([true, false, false, true, true, true, false, false, true, false, true, false], [3, 4])
        try gradCheck({ try Tensor.where(cond, $0[0], $0[1]) }, [leaf([3, 4], seed: 100), leaf([4], seed: 101)])
        try gradCheck({ try Tensor.where(cond.select(0, 0), $0[0], $0[1]) }, [leaf([3, 1], seed: 102), leaf([], seed: 103)])
        try gradCheck({ try $0[0].where_($0[0].gt(0), 0) }, [leaf([3, 4], seed: 104)])
        try gradCheck({ try $0[0].clamp(min: -0.5, max: 0.5) }, [leaf([3, 4], seed: 105)])
        try gradCheck({ try $0[0].clamp(min: 0.1) }, [leaf([3, 4], seed: 106)])
        try gradCheck({ try $0[0].clamp(max: -0.1) }, [leaf([3, 4], seed: 107)])
        try gradCheck({ try $0[0].maskedFill(cond, -1) }, [leaf([3, 4], seed: 108)])
        try gradCheck({ try $0[0].maskedFill(cond.select(0, 1), 7) }, [leaf([3, 4], seed: 109)])
    }

    @Test func reductions() throws {
        try gradCheck({ try $0[0].sum() }, [leaf([2, 3, 4], seed: 120)])
        try gradCheck({ try $0[0].sum(dims: [0, 2]) }, [leaf([2, 3, 4], seed: 121)])
        try gradCheck({ try $0[0].sum(dims: [0, 2], keepDim: true) }, [leaf([2, 3, 4], seed: 122)])
        try gradCheck({ try $0[0].sum(dims: [-1]) }, [leaf([2, 3, 4], seed: 123)])
        try gradCheck({ try $0[0].t().sum(dims: [1]) }, [leaf([3, 4], seed: 124)])
        try gradCheck({ try $0[0].mean() }, [leaf([2, 3, 4], seed: 125)])
        try gradCheck({ try $0[0].mean(dims: [1, 2]) }, [leaf([2, 3, 4], seed: 126)])
        try gradCheck({ try $0[0].mean(dims: [0], keepDim: true) }, [leaf([2, 3, 4], seed: 127)])
        try gradCheck({ try $0[0].variance() }, [leaf([2, 3, 4], seed: 128)])
        try gradCheck({ try $0[0].variance(dims: [1]) }, [leaf([2, 3, 4], seed: 129)])
        try gradCheck({ try $0[0].variance(dims: [0, 2], correction: 0, keepDim: true) }, [leaf([2, 3, 4], seed: 130)])
        try gradCheck({ try $0[0].max(dim: 1).values }, [leaf([3, 4], seed: 131)])
        try gradCheck({ try $0[0].max(dim: 0, keepDim: true).values }, [leaf([3, 4], seed: 132)])
        try gradCheck({ try $0[0].min(dim: -1).values }, [leaf([2, 3, 4], seed: 133)])
        try gradCheck({ try $0[0].max() }, [leaf([3, 4], seed: 134)])
        try gradCheck({ try $0[0].min() }, [leaf([3, 4], seed: 135)])
        try gradCheck({ try $0[0].cumsum(0) }, [leaf([3, 4], seed: 136)])
        try gradCheck({ try $0[0].cumsum(1) }, [leaf([3, 4], seed: 137)])
        try gradCheck({ try $0[0].t().cumsum(-1) }, [leaf([3, 4], seed: 138)])
        try gradCheck({ try $0[0].sumTo([1, 4]) }, [leaf([2, 3, 4], seed: 139)])
    }

    @Test func softmaxFamily() throws {
        try gradCheck({ try $0[0].softmax(-1) }, [leaf([3, 4], seed: 150)])
        try gradCheck({ try $0[0].softmax(0) }, [leaf([3, 4], seed: 151)])
        try gradCheck({ try $0[0].softmax(1) }, [leaf([2, 3, 4], seed: 152)])
        try gradCheck({ try $0[0].logSoftmax(-1) }, [leaf([3, 4], seed: 153)])
        try gradCheck({ try $0[0].logSoftmax(0) }, [leaf([2, 3, 4], seed: 154)])
        try gradCheck({ try $0[0].t().softmax(1) }, [leaf([3, 4], seed: 155)])
        try gradCheck({ try $0[0].logsumexp(dims: [1]) }, [leaf([3, 4], seed: 156)])
        try gradCheck({ try $0[0].logsumexp(dims: [0, 2], keepDim: true) }, [leaf([2, 3, 4], seed: 157)])
        try gradCheck({ try $0[0].mul(300).logsumexp(dims: [-1]) }, [leaf([3, 4], seed: 158)], rtol: 1e-4)
    }

    @Test func layerNorm() throws {
        try gradCheck({ try $0[0].layerNorm(weight: $0[1], bias: $0[2]) }, [leaf([2, 3, 5], seed: 170), leaf([5], seed: 171), leaf([5], seed: 172)])
        try gradCheck({ try $0[0].layerNorm(weight: $0[1], bias: nil) }, [leaf([3, 5], seed: 173), leaf([5], seed: 174)])
        try gradCheck({ try $0[0].layerNorm(weight: nil, bias: $0[1]) }, [leaf([3, 5], seed: 175), leaf([5], seed: 176)])
        try gradCheck({ try $0[0].layerNorm(weight: nil, bias: nil) }, [leaf([4, 6], seed: 177)])
        try gradCheck({ try $0[0].t().layerNorm(weight: nil, bias: nil, eps: 0.1) }, [leaf([5, 3], seed: 178)])
    }

    @Test func matmul() throws {
        try gradCheck({ try $0[0].matmul($0[1]) }, [leaf([3, 4], seed: 190), leaf([4, 5], seed: 191)])
        try gradCheck({ try $0[0].t().matmul($0[1]) }, [leaf([4, 3], seed: 192), leaf([4, 5], seed: 193)])
        try gradCheck({ try $0[0].matmul($0[1].t()) }, [leaf([3, 4], seed: 194), leaf([5, 4], seed: 195)])
        try gradCheck({ try $0[0].t().matmul($0[1].t()) }, [leaf([4, 3], seed: 196), leaf([5, 4], seed: 197)])
        try gradCheck({ try $0[0].matmul($0[1]) }, [leaf([2, 3, 4], seed: 198), leaf([2, 4, 5], seed: 199)])
        try gradCheck({ try $0[0].matmul($0[1]) }, [leaf([2, 3, 4], seed: 200), leaf([4, 5], seed: 201)])
        try gradCheck({ try $0[0].matmul($0[1]) }, [leaf([3, 4], seed: 202), leaf([2, 4, 5], seed: 203)])
        try gradCheck({ try $0[0].matmul($0[1]) }, [leaf([2, 1, 3, 4], seed: 204), leaf([3, 4, 2], seed: 205)])
        try gradCheck({ try $0[0].matmul($0[1].transpose(-1, -2)) }, [leaf([2, 3, 4], seed: 206), leaf([2, 5, 4], seed: 207)])
        try gradCheck({ try $0[0].matmul($0[1]) }, [leaf([4], seed: 208), leaf([4, 5], seed: 209)])
        try gradCheck({ try $0[0].matmul($0[1]) }, [leaf([3, 4], seed: 210), leaf([4], seed: 211)])
        try gradCheck({ try $0[0].matmul($0[1]) }, [leaf([4], seed: 212), leaf([4], seed: 213)])
        try gradCheck({ try $0[0].matmul($0[1]) }, [leaf([2, 3, 4], seed: 214), leaf([4], seed: 215)])
        // x[:, ::2] as a strided view
        try gradCheck({ try $0[0].view([3, 4, 2]).select(2, 0).matmul($0[1]) }, [leaf([3, 8], seed: 216), leaf([4, 2], seed: 217)])
    }

    @Test func indexing() throws {
        let idx = try i64([3, 0, 1, 2, 2, 0], [3, 2])
        try gradCheck({ try $0[0].gather(1, idx) }, [leaf([3, 4], seed: 230)])
        try gradCheck({ try $0[0].gather(0, i64([2, 0, 1, 1, 0, 2, 2, 0], [2, 4])) }, [leaf([3, 4], seed: 231)])
        // scatter: positions unique within each row, so both gradients are defined
        try gradCheck({ try $0[0].scatter(1, idx, $0[1]) }, [leaf([3, 4], seed: 232), leaf([3, 2], seed: 233)])
        try gradCheck({ try $0[0].scatter(1, idx, $0[1]) }, [leaf([3, 4], seed: 234), leaf([3, 3], seed: 235)])
        try gradCheck({ try $0[0].scatter(1, idx, value: 5) }, [leaf([3, 4], seed: 236)])
        let repeated = try i64([0, 2, 0, 2, 1, 0, 0, 0], [2, 4])
        try gradCheck({ try $0[0].scatterAdd(0, repeated, $0[1]) }, [leaf([3, 4], seed: 237), leaf([2, 4], seed: 238)])
        try gradCheck({ try $0[0].indexSelect(0, i64([2, 0, 2])) }, [leaf([3, 4], seed: 239)])
        try gradCheck({ try $0[0].indexSelect(1, i64([-1, 1])) }, [leaf([2, 3, 4], seed: 240)])
        try gradCheck({ try $0[0].indexAdd(1, i64([0, 3, 0]), $0[1]) }, [leaf([2, 4], seed: 241), leaf([2, 3], seed: 242)])
        let mask = try bools([true, false, true, true, false, false, true, false, false, true, true, false], [3, 4])
        try gradCheck({ try $0[0].maskedSelect(mask) }, [leaf([3, 4], seed: 243)])
        try gradCheck({ try $0[0].maskedSelect(mask) }, [leaf([4], seed: 244)])
        try gradCheck({ try $0[0].t().maskedSelect(mask.t()) }, [leaf([3, 4], seed: 245)])
    }

    @Test func joiningAndSplitting() throws {
        try gradCheck({ try Tensor.cat([$0[0], $0[1]], dim: 1) }, [leaf([2, 3], seed: 260), leaf([2, 2], seed: 261)])
        try gradCheck({ try Tensor.cat([$0[0], $0[1], $0[0]], dim: 0) }, [leaf([1, 3], seed: 262), leaf([2, 3], seed: 263)])
        try gradCheck({ try Tensor.stack([$0[0], $0[1]], dim: 1) }, [leaf([2, 3], seed: 264), leaf([2, 3], seed: 265)])
        try gradCheck({ try Tensor.stack([$0[0], $0[1]], dim: -1) }, [leaf([2, 3], seed: 266), leaf([2, 3], seed: 267)])
        try gradCheck(
            {
                let p = try $0[0].split(2, dim: 1); return try p[0].mul(p[1])
            }, [leaf([3, 4], seed: 268)])
        try gradCheck(
            {
                let p = try $0[0].split(2, dim: 1); return try p[2].mul(p[0].narrow(1, 0, 1))
            }, [leaf([3, 5], seed: 269)])
        try gradCheck(
            {
                let p = try $0[0].split(sizes: [1, 3], dim: 0); return try p[1].add(p[0])
            }, [leaf([4, 2], seed: 270)])
        try gradCheck(
            {
                let p = try $0[0].chunk(3, dim: 0); return try p[2].sub(p[1])
            }, [leaf([6, 2], seed: 271)])
    }

    @Test func selection() throws {
        try gradCheck({ try $0[0].topk(2, dim: 1).values }, [leaf([3, 5], seed: 280)])
        try gradCheck({ try $0[0].topk(2, dim: 0, largest: false).values }, [leaf([3, 5], seed: 281)])
        try gradCheck({ try $0[0].topk(3, sorted: false).values }, [leaf([2, 6], seed: 282)])
        try gradCheck({ try $0[0].sort(dim: 0).values }, [leaf([3, 4], seed: 283)])
        try gradCheck({ try $0[0].sort(dim: -1, descending: true).values }, [leaf([3, 4], seed: 284)])
        try gradCheck({ try $0[0].kthvalue(2, dim: 1).values }, [leaf([3, 5], seed: 285)])
        try gradCheck({ try $0[0].kthvalue(3, dim: 0, keepDim: true).values }, [leaf([4, 2], seed: 286)])
    }

    @Test func conversionAndDropout() throws {
        // through f32 and back: the function is linear, so a large step keeps f32 rounding out
        try gradCheck({ try $0[0].to(.f32).to(.f64).mul(3) }, [leaf([3, 4], seed: 300)], atol: 1e-4, eps: 1e-2)
        try gradCheck({ try $0[0].to(.f32).mul(2).to(.f64) }, [leaf([3, 4], seed: 301)], atol: 1e-4, eps: 1e-2)
        // a fresh generator per call: every evaluation drops the same elements
        try gradCheck({ try $0[0].dropout(0.3, generator: Generator(seed: 7)) }, [leaf([4, 5], seed: 302)])
        try gradCheck({ try $0[0].dropout(0.3, training: false, generator: Generator(seed: 7)).mul(2) }, [leaf([4, 5], seed: 303)])
    }

    @Test func composite() throws {
        // a tiny attention block: every op above, chained, with shared subexpressions
        try gradCheck(
            { x in
                let q = try x[0].matmul(x[1]), k = try x[0].matmul(x[2])
                let scores = try q.matmul(k.transpose(-1, -2)).div(2).softmax(-1)
                return try scores.matmul(x[0]).layerNorm(weight: nil, bias: nil).gelu().add(x[0])
            }, [leaf([2, 3, 4], seed: 310), leaf([4, 4], seed: 311), leaf([4, 4], seed: 312)], rtol: 1e-4)
    }
}
