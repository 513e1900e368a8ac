// RandomTests: seeded streams are bit-identical, different seeds differ, and each sampler has the
// range and the rough moments it promises. Every test owns its Generator (tests run in parallel);
// only sharedGeneratorFollowsManualSeed touches Generator.shared.

import Testing
@testable import TesseraTensor
import TesseraTestSupport

@Suite struct RandomTests {
    func bits(_ t: Tensor) throws -> [UInt32] { try t.toArray(Float.self).map(\.bitPattern) }

    @Test func sameSeedGivesBitIdenticalStreams() throws {
        for seed: UInt64 in [0, 1, 42, .max] {
            let a = Generator(seed: seed), b = Generator(seed: seed)
            #expect(try bits(Tensor.rand([257], generator: a)) == bits(Tensor.rand([257], generator: b)))
            #expect(try bits(Tensor.randn([257], generator: a)) == bits(Tensor.randn([257], generator: b)))
            #expect(try Tensor.randint(-5, 5, [64], generator: a).toDoubles() == Tensor.randint(-5, 5, [64], generator: b).toDoubles())
            #expect(try Tensor.randperm(50, generator: a).toDoubles() == Tensor.randperm(50, generator: b).toDoubles())
        }
        // manualSeed restarts a stream, including the spare Box-Muller normal
        let g = Generator(seed: 9)
        let first = try Tensor.randn([3], dtype: .f64, generator: g).toDoubles()
        g.manualSeed(9)
        #expect(try Tensor.randn([3], dtype: .f64, generator: g).toDoubles() == first)
        #expect(g.seed == 9)
    }

    @Test func differentSeedsDiffer() throws {
        let a = try Tensor.rand([64], generator: Generator(seed: 1)).toDoubles()
        let b = try Tensor.rand([64], generator: Generator(seed: 2)).toDoubles()
        #expect(zip(a, b).filter { $0 == $1 }.count < 2)
        // consecutive draws of one generator differ too
        let g = Generator(seed: 1)
        #expect(try Tensor.rand([8], generator: g).toDoubles() != Tensor.rand([8], generator: g).toDoubles())
    }

    @Test func sharedGeneratorFollowsManualSeed() throws {
        manualSeed(1234)
        let a = try Tensor.rand([16]).toDoubles()
        manualSeed(1234)
        #expect(try Tensor.rand([16]).toDoubles() == a)
        #expect(try Tensor.rand([16], generator: Generator(seed: 1234)).toDoubles() == a)
    }

    @Test func randIsInTheHalfOpenUnitInterval() throws {
        let g = Generator(seed: 3)
        for dtype in [DType.f32, .f64] {
            let v = try Tensor.rand([100_000], dtype: dtype, generator: g).toDoubles()
            #expect(v.allSatisfy { $0 >= 0 && $0 < 1 })
            let mean = v.reduce(0, +) / Double(v.count)
            #expect(Swift.abs(mean - 0.5) < 0.01)
        }
        let r = try Tensor.rand([10_000], low: -3, high: -1, generator: g).toDoubles()
        #expect(r.allSatisfy { $0 >= -3 && $0 < -1 })
    }

    @Test func randnHasTheRequestedMoments() throws {
        let g = Generator(seed: 4)
        let v = try Tensor.randn([100_000], mean: 2, std: 3, dtype: .f64, generator: g)
        let mean = try v.mean().item(), std = try v.variance().sqrt().item()
        #expect(Swift.abs(mean - 2) < 0.05)
        #expect(Swift.abs(std - 3) < 0.05)
        let z = try Tensor.randn([100_000], generator: g)
        #expect(Swift.abs(try z.mean().item()) < 0.02)
        #expect(Swift.abs(try z.variance().item() - 1) < 0.02)
        // tails: about 0.27% beyond 3 sigma
        let beyond = try z.abs().gt(3).sum().item()
        #expect(beyond > 150 && beyond < 400)
    }

    @Test func randpermIsAPermutation() throws {
        let g = Generator(seed: 5)
        for n in [0, 1, 2, 1000] {
            let p = try Tensor.randperm(n, generator: g)
            #expect(p.dtype == .i64 && p.shape == [n])
            #expect(p.toDoubles().sorted() == (0..<n).map(Double.init))
        }
        #expect(try Tensor.randperm(1000, generator: g).toDoubles() != (0..<1000).map(Double.init))
    }

    @Test func randintCoversItsRange() throws {
        let v = try Tensor.randint(-2, 3, [10_000], generator: Generator(seed: 6)).toDoubles()
        #expect(Set(v) == [-2, -1, 0, 1, 2])
        // a span wider than Int.max
        let wide = try Tensor.randint(Int.min, Int.max, [100], generator: Generator(seed: 6)).toDoubles()
        #expect(wide.contains { $0 < 0 } && wide.contains { $0 > 0 })
    }

    @Test func bernoulliAndDropout() throws {
        let g = Generator(seed: 7)
        let b = try Tensor.bernoulli([100_000], p: 0.3, generator: g)
        #expect(Swift.abs(try b.mean().item() - 0.3) < 0.01)
        #expect(Set(b.toDoubles()) == [0, 1])
        let p = try f32([0, 1, 0, 1]).bernoulli(generator: g)
        #expect(p.toDoubles() == [0, 1, 0, 1])

        let x = try Tensor.ones([100_000])
        let d = try x.dropout(0.25, generator: g).toDoubles()
        // survivors are scaled by 1/(1-p), so the mean is kept
        #expect(Set(d) == [0, Double(Float(1 / 0.75))])
        #expect(Swift.abs(Double(d.filter { $0 == 0 }.count) / 100_000 - 0.25) < 0.01)
        #expect(try x.dropout(0.25, training: false, generator: g) === x)
        #expect(try x.dropout(1, generator: g).sum().item() == 0)
    }

    @Test func multinomialRespectsWeights() throws {
        let g = Generator(seed: 8)
        let w = try f32([0, 1, 3, 0])
        let s = try w.multinomial(10_000, replacement: true, generator: g).toDoubles()
        #expect(!s.contains(0) && !s.contains(3))
        #expect(Swift.abs(Double(s.filter { $0 == 2 }.count) / 10_000 - 0.75) < 0.02)
        // without replacement: every index once
        let rows = try f32([1, 2, 3, 4, 5, 6, 7, 8], [2, 4]).multinomial(4, generator: g)
        #expect(rows.shape == [2, 4])
        for r in 0..<2 {
            #expect(try rows.select(0, r).toDoubles().sorted() == [0, 1, 2, 3])
        }
        // only the positive weights can be drawn without replacement
        #expect(try w.multinomial(2, generator: g).toDoubles().sorted() == [1, 2])
    }
}
