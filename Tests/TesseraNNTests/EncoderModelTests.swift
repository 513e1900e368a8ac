// EncoderModelTests: the BERT / XLM-R encoder and its heads: Hugging Face parameter names and
// counts, printed structure, Float64 gradient check of a layer, padding that changes nothing, and
// XLM-R's position ids.

import Testing
@testable import TesseraTensor
@testable import TesseraNN

/// a tiny encoder: D 8, 2 heads, intermediate 12, vocab 11, 10 positions, no dropout
private func tinyConfig(layers: Int = 2, positions: EncoderConfig.PositionIDs = .fromZero) throws -> EncoderConfig {
    try EncoderConfig(
        vocabSize: 11, hiddenSize: 8, numHiddenLayers: layers, numAttentionHeads: 2, intermediateSize: 12,
        maxPositionEmbeddings: 10, layerNormEps: 1e-12, padTokenId: positions == .afterPadding ? 1 : 0,
        hiddenDropoutProb: 0, attentionProbsDropoutProb: 0, initializerRange: 0.5, positionIDs: positions)
}

/// HF's count for BertModel: embeddings, layers, and the pooler when present
private func bertParameterCount(_ c: EncoderConfig, pooler: Bool) -> Int {
    let (v, d, i, p, tt) = (c.vocabSize, c.hiddenSize, c.intermediateSize, c.maxPositionEmbeddings, c.typeVocabSize)
    let embeddings = (v + p + tt) * d + 2 * d
    let layer = 4 * (d * d + d) + 2 * 2 * d + (d * i + i) + (i * d + d)
    return embeddings + c.numHiddenLayers * layer + (pooler ? d * d + d : 0)
}

@Suite struct EncoderModelTests {
    @Test func namesFollowHuggingFace() throws {
        let names = Set(try EncoderForMaskedLM(tinyConfig()).namedParameters().map(\.name))
        for name in [
            "bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight",
            "bert.embeddings.token_type_embeddings.weight", "bert.embeddings.LayerNorm.weight",
            "bert.embeddings.LayerNorm.bias", "bert.encoder.layer.0.attention.self.query.weight",
            "bert.encoder.layer.1.attention.self.key.bias", "bert.encoder.layer.0.attention.self.value.weight",
            "bert.encoder.layer.0.attention.output.dense.weight", "bert.encoder.layer.0.attention.output.LayerNorm.bias",
            "bert.encoder.layer.1.intermediate.dense.weight", "bert.encoder.layer.1.output.dense.bias",
            "bert.encoder.layer.1.output.LayerNorm.weight", "cls.predictions.transform.dense.weight",
            "cls.predictions.transform.LayerNorm.weight", "cls.predictions.bias",
        ] {
            #expect(names.contains(name), "\(name)")
        }
        // tied: the decoder weight is the word embedding table, listed once
        #expect(!names.contains("cls.predictions.decoder.weight"))
        let untied = try EncoderForMaskedLM(tinyConfig(), tieWordEmbeddings: false)
        #expect(untied.namedParameters().contains { $0.name == "cls.predictions.decoder.weight" })
        let seq = Set(try EncoderForSequenceClassification(tinyConfig(), numLabels: 3).namedParameters().map(\.name))
        #expect(seq.contains("bert.pooler.dense.weight") && seq.contains("classifier.bias"))
        let tok = Set(try EncoderForTokenClassification(tinyConfig(), numLabels: 3).namedParameters().map(\.name))
        #expect(!tok.contains("bert.pooler.dense.weight") && tok.contains("classifier.weight"))
    }

    @Test func parameterCountsMatchTheFormula() throws {
        let c = try tinyConfig()
        #expect(try EncoderModel(c).parameterCount == bertParameterCount(c, pooler: true))
        #expect(try EncoderModel(c, pooler: false).parameterCount == bertParameterCount(c, pooler: false))
        // tied MLM head: transform (dense + LayerNorm) and the vocabulary bias on top
        let d = c.hiddenSize
        #expect(try EncoderForMaskedLM(c).parameterCount == bertParameterCount(c, pooler: false) + d * d + 3 * d + c.vocabSize)
        #expect(try EncoderForSequenceClassification(c, numLabels: 3).parameterCount == bertParameterCount(c, pooler: true) + 3 * d + 3)
        // the formula gives bert-base-uncased's published 109,482,240
        let base = try EncoderConfig(
            vocabSize: 30522, hiddenSize: 768, numHiddenLayers: 12, numAttentionHeads: 12,
            intermediateSize: 3072)
        #expect(bertParameterCount(base, pooler: true) == 109_482_240)
    }

    @Test func printsItsStructure() throws {
        let text = try EncoderForMaskedLM(tinyConfig(layers: 1)).description
        let count = groupedDigits(bertParameterCount(try tinyConfig(layers: 1), pooler: false) + 64 + 24 + 11)
        #expect(text.hasPrefix("EncoderForMaskedLM()  [\(count) parameters, all trainable]"), "\(text)")
        for line in [
            "bert: EncoderModel(1 layers, 8, heads: 2)", "word_embeddings: Embedding(11, 8, padding: 0)",
            "self: EncoderSelfAttention(heads: 2)", "query: Linear(8 -> 8)  weight 8x8, bias 8  [72]",
            "LayerNorm: LayerNorm(8, eps: 1e-12)", "intermediate: Intermediate()", "act: GELU()",
            "predictions: MaskedLMPrediction()  bias 11",
        ] {
            #expect(text.contains(line), "\(line)")
        }
    }

    @Test func layerGradients() throws {
        let layer = try EncoderLayer(tinyConfig(), generator: Generator(seed: 40))
        let mask = try attentionBlockMask(batch: 2, length: 3, paddingMask: i64([1, 1, 1, 1, 1, 0], [2, 3]), causal: false)
        try moduleGradCheck(layer, [leaf([2, 3, 8], seed: 41)]) { try layer($0[0], mask: mask).output }
    }

    @Test func paddingChangesNothing() throws {
        for positions in [EncoderConfig.PositionIDs.fromZero, .afterPadding] {
            let model = try EncoderModel(tinyConfig(positions: positions), generator: Generator(seed: 42))
            try model.to(.f64)
            let pad: Int64 = positions == .afterPadding ? 1 : 0
            let plain = try model(i64([5, 3, 7, 2], [1, 4]), returnAttentions: true)
            // right padding (and junk ids under the mask) leave the real tokens alone
            for tail: [Int64] in [[pad, pad], [9, 4]] {
                let padded = try model(i64([5, 3, 7, 2] + tail, [1, 6]), attentionMask: i64([1, 1, 1, 1, 0, 0], [1, 6]))
                expectClose(
                    try padded.lastHiddenState.narrow(1, 0, 4).toDoubles(), plain.lastHiddenState.toDoubles(),
                    rtol: 1e-10, atol: 1e-12, "\(positions) right padding")
            }
            // XLM-R positions count real tokens only, so left padding changes nothing either
            if positions == .afterPadding {
                let left = try model(i64([pad, pad, 5, 3, 7, 2], [1, 6]), attentionMask: i64([0, 0, 1, 1, 1, 1], [1, 6]))
                expectClose(
                    try left.lastHiddenState.narrow(1, 2, 4).toDoubles(), plain.lastHiddenState.toDoubles(),
                    rtol: 1e-10, atol: 1e-12, "left padding")
            }
            #expect(plain.hiddenStates.count == 3 && plain.attentions.count == 2 && plain.pooled?.shape == [1, 8])
        }
    }

    @Test func positionIds() throws {
        let xlmr = try EncoderEmbeddings(tinyConfig(positions: .afterPadding))
        #expect(try xlmr.positionIds(i64([5, 3, 1, 1, 1, 4, 6, 1], [2, 4])).toArray(Int64.self) == [2, 3, 1, 1, 1, 2, 3, 1])
        let bert = try EncoderEmbeddings(tinyConfig())
        #expect(try bert.positionIds(i64([5, 3, 0], [1, 3])).toArray(Int64.self) == [0, 1, 2])
        expectTensorError("EncoderEmbeddings") { try bert.positionIds(Tensor.zeros([1, 11], dtype: .i64)) }
        expectTensorError("EncoderEmbeddings") { try xlmr.positionIds(Tensor.zeros([1, 9], dtype: .i64)) }
        let model = try EncoderModel(tinyConfig())
        expectTensorError("EncoderModel") { try model(f32([1, 2], [1, 2]), attentionMask: nil) }
        expectTensorError("EncoderModel") { try model(i64([1, 2], [1, 2]), attentionMask: i64([1], [1, 1])) }
    }

    @Test func headsGiveTheirShapes() throws {
        let c = try tinyConfig()
        let ids = try i64([2, 3, 4, 5, 6, 7], [2, 3])
        #expect(try EncoderForMaskedLM(c)(ids).shape == [2, 3, 11])
        #expect(try EncoderForTokenClassification(c, numLabels: 5)(ids).shape == [2, 3, 5])
        #expect(try EncoderForSequenceClassification(c, numLabels: 4)(ids).shape == [2, 4])
        let cls = try EncoderForSequenceClassification(c, numLabels: 4, usePooler: false)
        #expect(try cls(ids, attentionMask: nil).logits.shape == [2, 4])
        // the tied decoder stays tied through a dtype change
        let mlm = try EncoderForMaskedLM(c)
        try mlm.to(.f64)
        #expect(try mlm.requiredTensor("cls.predictions.decoder.weight") === mlm.requiredTensor("bert.embeddings.word_embeddings.weight"))
    }
}
