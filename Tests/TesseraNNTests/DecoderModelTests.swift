// DecoderModelTests: the LLaMA decoder: Hugging Face parameter names and counts, tied and untied
// lm_head, a Float64 gradient check of a layer, and masks that really hide the future and padding.

import Testing
@testable import TesseraTensor
@testable import TesseraNN

/// a tiny decoder: D 8, 2 query heads sharing 1 kv head (hd 4), intermediate 12, vocab 13
private func tinyConfig(tied: Bool = false, layers: Int = 2) throws -> DecoderConfig {
    try DecoderConfig(
        vocabSize: 13, hiddenSize: 8, numHiddenLayers: layers, numAttentionHeads: 2, numKeyValueHeads: 1,
        intermediateSize: 12, maxPositionEmbeddings: 16, ropeTheta: 500, tieWordEmbeddings: tied,
        initializerRange: 0.5)
}

/// HF's count for LlamaForCausalLM
private func llamaParameterCount(_ c: DecoderConfig) -> Int {
    let (v, d, i, hd) = (c.vocabSize, c.hiddenSize, c.intermediateSize, c.headDim)
    let attention = 2 * d * c.numAttentionHeads * hd + 2 * d * c.numKeyValueHeads * hd
    let layer = attention + 3 * d * i + 2 * d
    return v * d + c.numHiddenLayers * layer + d + (c.tieWordEmbeddings ? 0 : v * d)
}

@Suite struct DecoderModelTests {
    @Test func namesAndCountsFollowHuggingFace() throws {
        let model = try DecoderForCausalLM(tinyConfig())
        let names = Set(model.namedParameters().map(\.name))
        for name in [
            "model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
            "model.layers.1.self_attn.v_proj.weight", "model.layers.1.self_attn.o_proj.weight",
            "model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.up_proj.weight", "model.layers.0.mlp.down_proj.weight",
            "model.layers.0.input_layernorm.weight", "model.layers.0.post_attention_layernorm.weight",
            "model.norm.weight", "lm_head.weight",
        ] {
            #expect(names.contains(name), "\(name)")
        }
        #expect(!names.contains { $0.hasSuffix(".bias") })
        #expect(model.parameterCount == llamaParameterCount(try tinyConfig()))
        let tied = try DecoderForCausalLM(tinyConfig(tied: true))
        #expect(tied.parameterCount == llamaParameterCount(try tinyConfig(tied: true)))
        #expect(!tied.namedParameters().contains { $0.name == "lm_head.weight" })
        try tied.to(.f64)
        #expect(try tied.requiredTensor("lm_head.weight") === tied.requiredTensor("model.embed_tokens.weight"))
        // the formula gives TinyLlama-1.1B's 1,100,048,384
        let tiny = try DecoderConfig(
            vocabSize: 32000, hiddenSize: 2048, numHiddenLayers: 22, numAttentionHeads: 32,
            numKeyValueHeads: 4, intermediateSize: 5632)
        #expect(llamaParameterCount(tiny) == 1_100_048_384)
        let text = model.description
        for line in [
            "DecoderForCausalLM()  [\(groupedDigits(model.parameterCount)) parameters, all trainable]",
            "self_attn: DecoderAttention(heads: 2, kv heads: 1, rope base: 500.0)",
            "gate_proj: Linear(8 -> 12, bias: false)", "input_layernorm: RMSNorm(8, eps: 1e-06)",
            "rotary_emb: RotaryEmbedding(4, base: 500.0)", "lm_head: Linear(8 -> 13, bias: false)",
        ] {
            #expect(text.contains(line), "\(line)\n\(text)")
        }
    }

    @Test func layerGradients() throws {
        let c = try tinyConfig()
        let layer = try DecoderLayer(c, rope: RotaryEmbedding(headDim: 4, base: 500), generator: Generator(seed: 50))
        try noGrad {
            for (_, p) in layer.namedParameters() where p.rank == 1 {
                _ = try p.copy_(Tensor.rand(p.shape, low: 0.5, high: 1.5, generator: Generator(seed: 53)))
            }
        }
        let mask = try attentionBlockMask(batch: 2, length: 3, paddingMask: i64([1, 1, 1, 1, 0, 1], [2, 3]), causal: true)
        try moduleGradCheck(layer, [leaf([2, 3, 8], seed: 51)]) { try layer($0[0], mask: mask).output }
    }

    @Test func theFutureAndPaddingAreHidden() throws {
        let model = try DecoderForCausalLM(tinyConfig(), generator: Generator(seed: 52))
        let logits = try model(i64([3, 1, 4, 1, 5, 9], [1, 6])).toDoubles()
        // changing the last token changes only the last position
        let changed = try model(i64([3, 1, 4, 1, 5, 2], [1, 6])).toDoubles()
        #expect(Array(changed[..<(5 * 13)]) == Array(logits[..<(5 * 13)]))
        #expect(Array(changed[(5 * 13)...]) != Array(logits[(5 * 13)...]))
        // a masked token in the middle is invisible to every later position, whatever its id
        let mask = try i64([1, 1, 0, 1, 1, 1], [1, 6])
        let a = try model(i64([3, 1, 4, 1, 5, 9], [1, 6]), attentionMask: mask).logits.toDoubles()
        let b = try model(i64([3, 1, 7, 1, 5, 9], [1, 6]), attentionMask: mask).logits.toDoubles()
        #expect(Array(a[(3 * 13)...]) == Array(b[(3 * 13)...]))
        let r = try model(i64([3, 1, 4, 1, 5, 9], [1, 6]), returnAttentions: true)
        #expect(r.decoder.hiddenStates.count == 3 && r.decoder.attentions.count == 2)
        let probs = r.decoder.attentions[0].toDoubles()
        #expect((0..<6).allSatisfy { i in (i + 1..<6).allSatisfy { probs[i * 6 + $0] == 0 } })
        expectTensorError("DecoderModel") { try model(Tensor.zeros([1, 17], dtype: .i64), attentionMask: nil) }
    }
}
