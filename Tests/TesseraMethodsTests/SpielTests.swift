// SpielTests: the faithfulness checks of the SpIEL spec (§7): forward and gradients of the sparse
// delta equal the dense computation (sampled and dense paths), budgets, SftAdamW's per-element
// age, SM3 equal to dense SM3-II when every entry is active and its state (accumulators included)
// saved and restored bit for bit, the selection schedule, drop and
// AG/MA regrowth with exactly k distinct in-range indices and W0 untouched, NF4 round trips.

import Foundation
import TesseraTestSupport
import Testing

@testable import TesseraMethods
@testable import TesseraNN
@testable import TesseraTensor

/// a 2-layer LLaMA-shaped decoder small enough for debug builds
func tinyDecoder(seed: UInt64 = 1) throws -> DecoderForCausalLM {
    let c = try DecoderConfig(
        vocabSize: 20, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2, numKeyValueHeads: 1, intermediateSize: 24, maxPositionEmbeddings: 32)
    return try DecoderForCausalLM(c, generator: Generator(seed: seed))
}

func lmLoss(_ model: DecoderForCausalLM, _ ids: Tensor) throws -> Tensor {
    let t = ids.shape[1]
    let logits = try model(ids.narrow(1, 0, t - 1)).logits
    return try crossEntropy(logits.reshape([-1, 20]), ids.narrow(1, 1, t - 1).contiguous().reshape([-1]))
}

func floats(_ t: Tensor) throws -> [Float] { try t.detach().contiguous().toArray(Float.self) }

@Suite struct SpielTests {
    /// a SparseDeltaLinear on a random Linear with random values, and the equivalent dense weight
    func randomDelta(out: Int = 5, in inF: Int = 20, k: Int = 12, seed: UInt64 = 2) throws -> (SparseDeltaLinear, Tensor) {
        let g = Generator(seed: seed)
        let base = try Linear(inF, out, generator: g)
        let layer = try SparseDeltaLinear(base: base, indices: randomSubset(k, of: out * inF, generator: g))
        _ = try layer.values.detach().copy_(Tensor.randn([k], generator: g))
        return (layer, try layer.mergedWeight())
    }

    @Test func forwardAndGradientsMatchDense() throws {
        for tokens in [3, 70, 300] {  // below a 16-float dot, not a multiple of 16, beyond a 256-token block
            let (layer, w) = try randomDelta()
            let w0 = try floats((layer.base as! Linear).weight)
            let x = try Tensor.randn([tokens, 20], generator: Generator(seed: 9)).requiresGrad(true)
            let go = try Tensor.randn([tokens, 5], generator: Generator(seed: 10))
            let y = try layer(x)
            let b = try (layer.base as! Linear).bias!.detach()
            let yRef = try x.detach().matmul(w.t()).add(b)
            #expect(zip(try floats(y), try floats(yRef)).allSatisfy { abs($0 - $1) < 1e-4 })
            try y.backward(go)
            // dense reference: gW = goᵀ x gathered, gx = go W
            let gW = try floats(go.t().matmul(x.detach()))
            let idx = layer.indexArray()
            let gv = try floats(layer.values.grad!)
            for n in 0..<layer.k { #expect(abs(gv[n] - gW[Int(idx[n])]) < 1e-3) }
            let gxRef = try floats(go.matmul(w))
            #expect(zip(try floats(x.grad!), gxRef).allSatisfy { abs($0 - $1) < 1e-4 })
            #expect(layer.sampledBackwards == 1 && layer.denseBackwards == 0)
            // Δ was added into W0 in place for each product and taken out again, bit for bit
            #expect(try floats((layer.base as! Linear).weight).map(\.bitPattern) == w0.map(\.bitPattern))
        }
    }

    @Test func densePathGivesTheSameValueGradient() throws {
        let (a, _) = try randomDelta(seed: 4)
        let (b, _) = try randomDelta(seed: 4)
        b.sampledCost = 1000  // forces the GEMM + gather path
        let x = try Tensor.randn([2, 9, 20], generator: Generator(seed: 5))
        try a(x).sum().backward()
        try b(x).sum().backward()
        #expect(b.denseBackwards == 1 && a.sampledBackwards == 1)
        #expect(zip(try floats(a.values.grad!), try floats(b.values.grad!)).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    @Test func windowSumsMatchTheDenseGradient() throws {
        // the first micro-batch picks candidates from the dense gradient, later ones are sampled
        let (layer, _) = try randomDelta(out: 6, in: 40, k: 12, seed: 21)
        layer.gradientWindow = GradientWindow()
        var dense: [[Float]] = []
        for s in 0..<3 {
            let x = try Tensor.randn([5, 40], generator: Generator(seed: UInt64(30 + s)))
            let go = try Tensor.randn([5, 6], generator: Generator(seed: UInt64(40 + s)))
            dense.append(try floats(go.t().matmul(x)))
            try layer(x).backward(go)
        }
        let w = layer.gradientWindow!
        #expect(w.samples == 3 && layer.denseBackwards == 1 && layer.sampledBackwards == 2)
        for (j, c) in w.candidates.enumerated() {
            let sum = dense.reduce(Float(0)) { $0 + $1[Int(c)] }
            let squares = dense.reduce(Float(0)) { $0 + $1[Int(c)] * $1[Int(c)] }
            #expect(abs(w.sum[j] - sum) < 1e-3 && abs(w.sumOfSquares[j] - squares) < 1e-2)
        }
    }

    @Test func startsAsTheBaseModelAndBudgetsFollowTheSpec() throws {
        let model = try tinyDecoder()
        let ids = try Tensor.randint(0, 20, [2, 6], generator: Generator(seed: 3))
        let before = try floats(model(ids).logits)
        let spiel = try SpielModel(wrapping: model, budget: .matchLoRARank(2), generator: Generator(seed: 1))
        #expect(spiel.layers.count == 14)
        // r · Σ(in + out), floored per module
        let perRank = 2 * (2 * (16 + 16) + 2 * (16 + 8) + 2 * (16 + 24) + (24 + 16))
        #expect(spiel.k <= 2 * perRank && spiel.k > 2 * perRank - 14)
        #expect(zip(before, try floats(model(ids).logits)).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(model.trainableParameters().allSatisfy { $0.name.hasSuffix(".values") })
        // uniform density: k_m ∝ numel_m
        for (_, l) in spiel.layers { #expect(abs(Double(l.k) / Double(l.numel) - Double(spiel.k) / Double(spiel.targetNumel)) < 0.02) }
        let dense = try SpielModel(wrapping: try tinyDecoder(), budget: .density(0.01))
        #expect(dense.k <= Int(Double(SpielModel.fullParameterCount(try tinyDecoder())) * 0.01))
        expectTensorError("spiel.wrap") { try SpielModel(wrapping: try tinyDecoder(), budget: .density(2)) }
        expectTensorError("spiel.wrap") { try SpielModel(wrapping: try tinyDecoder(), budget: .count(10), targets: TargetModules(["nothing"])) }
        expectTensorError("spiel.wrap") { try SparseDeltaLinear(base: Linear(2, 2), indices: [0, 0]) }
    }

    @Test func sftAdamWAgesEachEntry() throws {
        let p = try Tensor.zeros([2]).requiresGrad(true)
        let opt = try SftAdamW([("p", p)], lr: 0.1)
        p.grad = try f32([1, 1])
        try opt.step()
        // first step of Adam moves each entry by lr (m̂/√v̂ = 1)
        #expect(try floats(p).allSatisfy { abs($0 + 0.1) < 1e-4 })
        // a seeded entry (age 3, moments of mean g = 2, g² = 4) moves by lr·m̂/(√v̂+ε) ≈ lr
        let (age, m, v) = try opt.moments(for: p)
        age.setFlat(1, 3)
        m.setFlat(1, 2 * (1 - pow(0.9, 3)))
        v.setFlat(1, 4 * (1 - pow(0.999, 3)))
        p.grad = try f32([0, 2])
        try opt.step()
        #expect(try floats(age) == [2, 4])
        #expect(abs(try floats(p)[1] - (-0.2)) < 1e-3)
    }

    @Test func sm3WithEveryEntryActiveIsDenseSM3() throws {
        let base = try Linear(3, 2, bias: false, generator: Generator(seed: 1))
        let layer = try SparseDeltaLinear(base: base, indices: (0..<6).map { Int64($0) })
        let opt = try SftSM3([layer], lr: 0.1)
        var row = [Float](repeating: 0, count: 2), col = [Float](repeating: 0, count: 3)
        var p = [Float](repeating: 0, count: 6)
        let g = Generator(seed: 8)
        for _ in 0..<4 {
            let grad = try Tensor.randn([6], generator: g)
            layer.values.grad = grad
            try opt.step()
            // dense SM3-II reference
            let gr = try floats(grad)
            var nu = [Float](repeating: 0, count: 6)
            for i in 0..<6 { nu[i] = min(row[i / 3], col[i % 3]) + gr[i] * gr[i] }
            for i in 0..<6 {
                row[i / 3] = max(row[i / 3], nu[i])
                col[i % 3] = max(col[i % 3], nu[i])
                p[i] -= 0.1 * gr[i] / (nu[i] + 1e-8).squareRoot()
            }
            #expect(zip(try floats(layer.values), p).allSatisfy { abs($0 - $1) < 1e-5 })
        }
        #expect(opt.accumulators(of: layer).row == row)
    }

    /// two identical deltas trained alike; one optimizer continues, the other's state goes through
    /// stateDict into a fresh SftSM3: the next step is bitwise the same
    @Test func sm3StateRoundTrip() throws {
        func layer() throws -> SparseDeltaLinear {
            let base = try Linear(5, 4, bias: false, generator: Generator(seed: 1))
            return try SparseDeltaLinear(base: base, indices: [0, 3, 7, 8, 13, 19])
        }
        let (a, b) = (try layer(), try layer())
        let optA = try SftSM3([a], lr: 0.1, weightDecay: 0.01)
        let g = Generator(seed: 5)
        let grads = try (0..<3).map { _ in try Tensor.randn([6], generator: g) }
        for grad in grads.prefix(2) {
            a.values.grad = grad
            try optA.step()
        }
        let saved = try optA.stateDict()
        #expect(saved["delta0.values.row"]?.shape == [4] && saved["delta0.values.col"]?.shape == [5])
        _ = try b.values.copy_(a.values)
        let optB = try SftSM3([b], lr: 0.1, weightDecay: 0.01)
        try optB.loadStateDict(saved)
        #expect(optB.stepCount == 2)
        #expect(try optB.stateDict()["delta0.values.col"]?.toArray(Float.self) == optA.accumulators(of: a).col)
        a.values.grad = grads[2]
        b.values.grad = grads[2]
        try optA.step()
        try optB.step()
        #expect(try floats(a.values) == floats(b.values))
        #expect(optA.accumulators(of: a).row == optB.accumulators(of: b).row)
        #expect(optA.accumulators(of: a).col == optB.accumulators(of: b).col)
        // a mis-shaped accumulator is refused, naming it
        var bad = saved
        bad["delta0.values.row"] = try Tensor.zeros([3])
        #expect(throws: TensorError.self) { try SftSM3([b], lr: 0.1).loadStateDict(bad) }
    }

    /// trains a tiny decoder with SpIEL for `steps` updates, checking invariants at each selection
    func train(_ regrowth: SpielSelector.Regrowth, steps: Int = 30, policy: SpielSelector.RatePolicy = .linear) throws
        -> (SpielSelector, [Float], [Float])
    {
        let model = try tinyDecoder()
        let w0 = try floats(model.namedParameters().first { $0.name.hasSuffix("q_proj.weight") }!.tensor)
        let spiel = try SpielModel(wrapping: model, budget: .matchLoRARank(1), generator: Generator(seed: 2))
        let values = spiel.layers.map { ($0.path, $0.layer.values) }
        let opt: Optimizer = regrowth == .gradient ? try SftAdamW(values, lr: 1e-2) : try SftSM3(spiel.layers.map(\.layer), lr: 1e-2)
        let selector = try SpielSelector(spiel, regrowth: regrowth, optimizer: opt, totalUpdateSteps: steps, policy: policy)
        var windowSamples: [Int] = []
        selector.onSelection = { _ in windowSamples.append(spiel.layers[0].layer.gradientWindow?.samples ?? 0) }
        let data = Generator(seed: 4)
        var losses: [Float] = []
        for _ in 0..<steps {
            let ids = try Tensor.randint(0, 10, [2, 8], generator: data)
            let loss = try lmLoss(model, ids.mul(2))  // even tokens only: learnable
            losses.append(Float(try loss.item()))
            try loss.backward()
            try opt.step()
            opt.zeroGrad()
            let before = spiel.layers.map { $0.layer.indexArray() }
            let valuesBefore = try spiel.layers.map { try floats($0.layer.values) }
            if let event = try selector.step() {
                for ((_, l), (old, vals)) in zip(spiel.layers, zip(before, valuesBefore)) {
                    let idx = l.indexArray()
                    #expect(idx.count == l.k && Set(idx).count == l.k && idx.allSatisfy { $0 >= 0 && $0 < Int64(l.numel) })
                    // changed slots are among the smallest |δ| and restart at zero
                    let changed = (0..<l.k).filter { idx[$0] != old[$0] }
                    let planned = Int(Double(l.k) * event.rate)
                    #expect(changed.count <= planned)
                    let cutoff = vals.map(abs).sorted()[max(0, min(l.k, planned) - 1)]
                    for s in changed {
                        #expect(abs(vals[s]) <= cutoff)
                        #expect(try floats(l.values)[s] == 0)
                    }
                    if regrowth == .momentum { #expect(Set(idx.filter { !Set(old).contains($0) }).isDisjoint(with: Set(old))) }
                }
            }
        }
        let w0After = try floats(model.namedParameters().first { $0.name.hasSuffix("q_proj.base_layer.weight") }!.tensor)
        // every AG window holds exactly the 5 updates before its selection (the reference's later ones 6)
        if regrowth == .gradient { #expect(windowSamples == [5, 5]) }
        return (selector, w0, w0After)
    }

    @Test func gradientRegrowthSchedule() throws {
        let (selector, w0, w0After) = try train(.gradient)
        #expect(selector.events.map(\.step) == [5, 25])
        #expect(selector.events[0].rate == 1)
        #expect(abs(selector.events[1].rate - 0.2 * (1 - 25.0 / 30)) < 1e-12)
        // the first selection replaces everything but the collisions
        #expect(selector.events[0].replaced + selector.events[0].collisions == selector.events[0].planned)
        #expect(w0 == w0After)
        #expect(selector.spiel.layers.allSatisfy { $0.layer.gradientWindow == nil })
    }

    @Test func momentumRegrowthSchedule() throws {
        let (selector, w0, w0After) = try train(.momentum, policy: .cosine)
        #expect(selector.events.map(\.step) == [5, 25])
        let expected: Double = 0.2 * (1 + cos(Double.pi * 25 / 30)) / 2
        #expect(abs(selector.events[1].rate - expected) < 1e-12)
        #expect(selector.events.allSatisfy { $0.collisions == 0 })
        #expect(w0 == w0After)
    }

    @Test func oneMicroBatchRegrowsTheExactTopGradients() throws {
        // spec §7: with one micro-batch per phase, incoming = top-n |g| over indices not remaining
        let (layer, _) = try randomDelta(out: 6, in: 8, k: 10, seed: 11)
        let spiel = try SpielModel(adapted: layer)
        let opt = try SftAdamW([("v", layer.values)], lr: 0)
        let selector = try SpielSelector(spiel, regrowth: .gradient, optimizer: opt, totalUpdateSteps: 100, accumulationSteps: 1)
        let x = try Tensor.randn([4, 8], generator: Generator(seed: 12))
        let gW = try floats(layer(x).detach().mul(2).t().matmul(x))  // d Σy²/dW = (2y)ᵀ x
        try layer(x).pow(2).sum().backward()
        let old = layer.indexArray()
        try opt.step()
        let event = try selector.step()!
        #expect(event.rate == 1)
        let idx = layer.indexArray()
        let expected = (0..<48).sorted { (abs(gW[$0]), $1) > (abs(gW[$1]), $0) }.prefix(10)
        #expect(Set(idx) == Set(expected.map { Int64($0) }))
        #expect(Set(idx).intersection(old).count == event.collisions)
    }

    @Test func diffExportAndMerge() throws {
        let model = try tinyDecoder()
        let ids = try Tensor.randint(0, 20, [1, 5], generator: Generator(seed: 3))
        let spiel = try SpielModel(wrapping: model, budget: .count(100))
        for (_, l) in spiel.layers { _ = try l.values.detach().copy_(Tensor.randn([l.k], generator: Generator(seed: 6)).mul(0.1)) }
        let adapted = try floats(model(ids).logits)
        let diff = try spiel.diff()
        #expect(diff.nnz == spiel.k)
        let l0 = spiel.layers[0].layer
        let w0 = try floats((l0.base as! Linear).weight)
        try l0.merge()
        #expect(zip(adapted, try floats(model(ids).logits)).allSatisfy { abs($0 - $1) < 1e-4 })
        try l0.unmerge()
        #expect(zip(w0, try floats((l0.base as! Linear).weight)).allSatisfy { abs($0 - $1) < 1e-6 })
        try spiel.mergeAndUnload()
        #expect(model.namedModules().allSatisfy { !($0.module is SparseDeltaLinear) })
        #expect(zip(adapted, try floats(model(ids).logits)).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    @Test func nf4RoundTripAndQuantisedBase() throws {
        let w = try Tensor.randn([8, 96], generator: Generator(seed: 1)).mul(0.05)
        let q = try NF4Matrix(w)
        #expect(NF4Matrix.dynamicMap.count == 256 && NF4Matrix.dynamicMap.contains(0) && NF4Matrix.dynamicMap.last == 1)
        #expect(q.bitsPerParameter < 4.6)
        let d = try floats(q.dequantized()), ref = try floats(w)
        // the error of each element is at most half the widest NF4 gap times its block's absmax
        let absmax = ref.map(abs).max()!
        #expect(zip(d, ref).allSatisfy { abs($0 - $1) <= 0.17 * absmax })
        // exact levels survive: a block of ±absmax and zeros
        let exact = try NF4Matrix(f32([1, -1, 0, 0] + [Float](repeating: 0.5, count: 60), [1, 64]))
        #expect(try floats(exact.dequantized()).prefix(4).map { ($0 * 1000).rounded() / 1000 } == [1, -1, 0, 0])
        // a sparse delta over an NF4 base equals the dense computation on the dequantised weight
        let nf4 = try NF4Linear(q)
        let layer = try SparseDeltaLinear(base: nf4, indices: [0, 100, 700])
        _ = try layer.values.detach().copy_(f32([0.5, -0.25, 1]))
        let x = try Tensor.randn([3, 96], generator: Generator(seed: 2))
        let y = try floats(layer(x)), yRef = try floats(x.matmul(layer.mergedWeight().t()))
        #expect(zip(y, yRef).allSatisfy { abs($0 - $1) < 1e-4 })
    }
}
