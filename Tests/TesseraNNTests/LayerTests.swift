// LayerTests: Embedding, LayerNorm, RMSNorm, Dropout, activations, feed-forward blocks: values by
// hand (or NumPy, quoted) and Float64 gradient checks of inputs and parameters.

import Testing
@testable import TesseraTensor
@testable import TesseraNN

@Suite struct LayerTests {
    @Test func embeddingLooksUpRowsAndSkipsPaddingInBackward() throws {
        let e = try Embedding(4, 2, paddingIndex: 0, generator: Generator(seed: 1))
        try noGrad { try e.weight.copy_(f32([9, 9, 1, 2, 3, 4, 5, 6], [4, 2])) }
        let ids = try i64([1, 3, 0, 1], [2, 2])
        let y = try e(ids)
        expectTensor(y, [2, 2, 2], [1, 2, 5, 6, 9, 9, 1, 2])
        try y.sum().backward()
        // id 1 twice, id 3 once, padding id 0 never
        expectTensor(try e.weight.grad!, [4, 2], [0, 0, 2, 2, 0, 0, 1, 1])
        #expect(try Embedding(4, 2, paddingIndex: 2).weight.select(0, 2).toDoubles() == [0, 0])
        expectTensorError("embedding") { try e(i64([4])) }
        expectTensorError("Embedding") { try Embedding(4, 2, paddingIndex: 4) }
        let g = try Embedding(5, 3, paddingIndex: 4, generator: Generator(seed: 2))
        // ids without the padding id: its row's gradient is zero by design, not by calculus
        try moduleGradCheck(g, []) { _ in try g(i64([0, 2, 2, 3, 1], [5])) }
    }

    @Test func layerNormValuesAndGradients() throws {
        let ln = try LayerNorm(3)
        expectTensor(try ln(f32([1, 2, 3], [1, 3])), [1, 3], [-1.2247357, 0, 1.2247357], rtol: 1e-4)
        try noGrad {
            try ln.parameter("weight")!.copy_(f32([1, 2, 3])); try ln.parameter("bias")!.copy_(f32([0.1, 0.2, 0.3]))
        }
        try moduleGradCheck(ln, [leaf([2, 3], seed: 3)]) { try ln($0[0]) }
        #expect(ln.layerDescription == "LayerNorm(3, eps: 1e-05)")
    }

    @Test func rmsNormValuesAndGradients() throws {
        let n = try RMSNorm(4)
        // numpy: x / sqrt(mean(x²) + 1e-6)
        expectTensor(try n(f32([1, 2, 3, 4], [1, 4])), [1, 4], [0.36514835, 0.73029669, 1.09544504, 1.46059339], rtol: 1e-5)
        try noGrad { try n.parameter("weight")!.copy_(f32([0.5, 1, 2, -1])) }
        try moduleGradCheck(n, [leaf([3, 4], seed: 4)]) { try n($0[0]) }
        try gradCheck({ try $0[0].rmsNorm(weight: nil, eps: 1e-5) }, [leaf([2, 3, 5], seed: 5)])
        try gradCheck({ try $0[0].rmsNorm(weight: $0[1]) }, [leaf([17, 18], seed: 6), leaf([18], seed: 7)])
        expectTensorError("rms_norm") { try Tensor.zeros([2, 3]).rmsNorm(weight: Tensor.ones([2])) }
    }

    @Test func dropoutTrainsAndEvaluates() throws {
        let d = try Dropout(0.5, generator: Generator(seed: 8))
        let x = try Tensor.ones([1000])
        let y = try d(x).toDoubles()
        #expect(y.allSatisfy { $0 == 0 || $0 == 2 })
        #expect(abs(Double(y.filter { $0 == 0 }.count) - 500) < 60)
        d.eval()
        #expect(try d(x).toDoubles() == x.toDoubles())
        expectTensorError("Dropout") { try Dropout(1.5) }
    }

    @Test func activations() throws {
        let x = try f32([-1, 0, 1], [3])
        expectTensor(try GELU()(x), [3], [-0.15865525, 0, 0.84134475], rtol: 1e-5)
        expectTensor(try GELU(approximation: .tanh)(x), [3], [-0.15880801, 0, 0.84119199], rtol: 1e-5)
        expectTensor(try ReLU()(x), [3], [0, 0, 1])
        expectTensor(try SiLU()(x), [3], [-0.26894142, 0, 0.73105858], rtol: 1e-5)
        expectTensor(try Tanh()(x), [3], [-0.76159416, 0, 0.76159416], rtol: 1e-5)
        for act in [GELU(), GELU(approximation: .tanh), SiLU(), Tanh()] as [Module] {
            try gradCheck({ try act($0[0]) }, [leaf([5], seed: 9)])
        }
        #expect(try activation(named: "gelu_new").layerDescription == "GELU(approximate: tanh)")
        expectTensorError("activation") { try activation(named: "softsign") }
    }

    @Test func feedForwardBlocks() throws {
        let g = Generator(seed: 10)
        let ffn = try FeedForward(3, hidden: 5, generator: g)
        let x = try leaf([2, 3], seed: 11)
        try ffn.to(.f64)
        let up = try #require(ffn.module(at: "up")), down = try #require(ffn.module(at: "down"))
        expectTensor(try ffn(x), [2, 3], try down(up(x).gelu()).toDoubles(), rtol: 1e-12)
        try moduleGradCheck(ffn, [x]) { try ffn($0[0]) }

        let glu = try FeedForward(3, hidden: 4, kind: .swiGLU, generator: g)
        #expect(glu.namedParameters().map(\.name) == ["gate.weight", "up.weight", "down.weight"])
        try glu.to(.f64)
        let gate = try #require(glu.module(at: "gate")), u = try #require(glu.module(at: "up")), dn = try #require(glu.module(at: "down"))
        expectTensor(try glu(x), [2, 3], try dn(gate(x).silu().mul(u(x))).toDoubles(), rtol: 1e-12)
        try moduleGradCheck(glu, [x]) { try glu($0[0]) }
        #expect(glu.layerDescription == "FeedForward(3 -> 4, swiGLU)")
        try gradCheck({ try swiGLU($0[0], $0[1]) }, [leaf([3, 5], seed: 12), leaf([3, 5], seed: 13)])
    }

    @Test func fusedSwiGLUIsBitForBitTheComposition() throws {
        let g1 = try Tensor.randn([7, 33], generator: Generator(seed: 14)).mul(3).detach().requiresGrad(true)
        let u1 = try Tensor.randn([7, 33], generator: Generator(seed: 15)).detach().requiresGrad(true)
        let (g2, u2) = (try g1.detach().clone().requiresGrad(true), try u1.detach().clone().requiresGrad(true))
        let go = try Tensor.randn([7, 33], generator: Generator(seed: 16))
        let fused = try swiGLU(g1, u1), plain = try g2.silu().mul(u2)
        try fused.backward(go)
        try plain.backward(go)
        func bits(_ t: Tensor) throws -> [UInt32] { try t.detach().contiguous().toArray(Float.self).map(\.bitPattern) }
        #expect(try bits(fused) == bits(plain))
        #expect(try bits(g1.grad!) == bits(g2.grad!))
        #expect(try bits(u1.grad!) == bits(u2.grad!))
    }

    @Test func everyLayerDescriptionStartsWithItsClassName() throws {
        let layers: [Module] = [
            try Linear(384, 1536), try Embedding(10, 4), try LayerNorm(4), try RMSNorm(4), try Dropout(0.1),
            GELU(), ReLU(), SiLU(), Tanh(), try FeedForward(4, hidden: 8), try RotaryEmbedding(headDim: 4),
            try MultiHeadAttention(dim: 8, heads: 2), try Sequential([ReLU()]), try ModuleList([]),
        ]
        for l in layers {
            let name = String(describing: type(of: l))
            #expect(l.layerDescription.hasPrefix(name + "("), "\(l.layerDescription)")
            #expect(l.description.hasPrefix(l.layerDescription))
        }
        #expect(layers[0].layerDescription == "Linear(384 -> 1536)")
        #expect(layers[11].layerDescription == "MultiHeadAttention(8, heads: 2)")
    }
}
