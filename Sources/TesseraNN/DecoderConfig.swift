// DecoderConfig: the shape of a LLaMA style decoder, from Swift values or from a Hugging Face
// `config.json`. Field names follow the config keys; defaults are those of transformers'
// LlamaConfig (num_key_value_heads defaults to num_attention_heads: no grouped-query attention).

import TesseraTensor

public struct DecoderConfig: Sendable, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    /// key/value heads; each is shared by numAttentionHeads / numKeyValueHeads query heads
    public var numKeyValueHeads: Int
    public var intermediateSize: Int
    /// the dimension of one attention head (hiddenSize / numAttentionHeads unless a config says)
    public var headDim: Int
    /// the gate activation of the SwiGLU feed-forward
    public var hiddenAct: String
    public var maxPositionEmbeddings: Int
    public var rmsNormEps: Double
    /// the RoPE base θ
    public var ropeTheta: Double
    /// whether lm_head shares the token embedding matrix
    public var tieWordEmbeddings: Bool
    /// whether q/k/v/o projections have biases (Qwen2-like models; LLaMA has none)
    public var attentionBias: Bool
    /// the padding id, whose embedding row stays zero (nil: none)
    public var padTokenId: Int?
    public var attentionDropout: Double
    public var initializerRange: Double

    public init(
        vocabSize: Int, hiddenSize: Int, numHiddenLayers: Int, numAttentionHeads: Int, numKeyValueHeads: Int? = nil,
        intermediateSize: Int, headDim: Int? = nil, hiddenAct: String = "silu", maxPositionEmbeddings: Int = 2048,
        rmsNormEps: Double = 1e-6, ropeTheta: Double = 10_000, tieWordEmbeddings: Bool = false,
        attentionBias: Bool = false, padTokenId: Int? = nil, attentionDropout: Double = 0,
        initializerRange: Double = 0.02
    ) throws {
        (self.vocabSize, self.hiddenSize, self.numHiddenLayers) = (vocabSize, hiddenSize, numHiddenLayers)
        (self.numAttentionHeads, self.numKeyValueHeads) = (numAttentionHeads, numKeyValueHeads ?? numAttentionHeads)
        (self.intermediateSize, self.hiddenAct) = (intermediateSize, hiddenAct)
        self.headDim = headDim ?? (numAttentionHeads > 0 ? hiddenSize / numAttentionHeads : 0)
        (self.maxPositionEmbeddings, self.rmsNormEps, self.ropeTheta) = (maxPositionEmbeddings, rmsNormEps, ropeTheta)
        (self.tieWordEmbeddings, self.attentionBias, self.padTokenId) = (tieWordEmbeddings, attentionBias, padTokenId)
        (self.attentionDropout, self.initializerRange) = (attentionDropout, initializerRange)
        try validate(headDimGiven: headDim != nil)
    }

    /// From a Hugging Face config.json dictionary. rope_scaling and mlp_bias are refused rather
    /// than silently ignored: the model would compute something else than the checkpoint expects.
    public init(huggingFace config: [String: Any]) throws {
        let c = ConfigDictionary(values: config, op: "DecoderConfig")
        guard !c.has("rope_scaling") else {
            throw TensorError("DecoderConfig", "rope_scaling is not supported (got \(config["rope_scaling"]!))")
        }
        guard try !c.bool("mlp_bias", default: false) else {
            throw TensorError("DecoderConfig", "mlp_bias is not supported")
        }
        try self.init(
            vocabSize: c.int("vocab_size"), hiddenSize: c.int("hidden_size"), numHiddenLayers: c.int("num_hidden_layers"),
            numAttentionHeads: c.int("num_attention_heads"), numKeyValueHeads: c.optionalInt("num_key_value_heads"),
            intermediateSize: c.int("intermediate_size"), headDim: c.optionalInt("head_dim"),
            hiddenAct: c.string("hidden_act", default: "silu"),
            maxPositionEmbeddings: c.int("max_position_embeddings", default: 2048),
            rmsNormEps: c.double("rms_norm_eps", default: 1e-6), ropeTheta: c.double("rope_theta", default: 10_000),
            tieWordEmbeddings: c.bool("tie_word_embeddings", default: false),
            attentionBias: c.bool("attention_bias", default: false), padTokenId: c.optionalInt("pad_token_id"),
            attentionDropout: c.double("attention_dropout", default: 0),
            initializerRange: c.double("initializer_range", default: 0.02))
    }

    private func validate(headDimGiven: Bool) throws {
        func fail(_ message: String) -> TensorError { TensorError("DecoderConfig", message) }
        for (name, v) in [
            ("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("num_hidden_layers", numHiddenLayers),
            ("num_attention_heads", numAttentionHeads), ("num_key_value_heads", numKeyValueHeads),
            ("intermediate_size", intermediateSize), ("max_position_embeddings", maxPositionEmbeddings),
        ]
        where v <= 0 {
            throw fail("\(name) must be positive, got \(v)")
        }
        guard numAttentionHeads % numKeyValueHeads == 0 else {
            throw fail("num_attention_heads \(numAttentionHeads) is not a multiple of num_key_value_heads \(numKeyValueHeads)")
        }
        guard headDimGiven || hiddenSize % numAttentionHeads == 0 else {
            throw fail("hidden_size \(hiddenSize) does not split into \(numAttentionHeads) heads")
        }
        guard headDim > 0, headDim % 2 == 0 else { throw fail("head_dim must be positive and even (RoPE), got \(headDim)") }
        if let p = padTokenId, !(0..<vocabSize).contains(p) {
            throw fail("pad_token_id \(p) is outside the vocabulary of \(vocabSize)")
        }
        guard rmsNormEps > 0, ropeTheta > 0, (0...1).contains(attentionDropout), initializerRange >= 0 else {
            throw fail("rms_norm_eps and rope_theta must be positive, attention_dropout in [0, 1], initializer_range non-negative")
        }
        do { _ = try activation(named: hiddenAct) } catch let e as TensorError { throw fail("hidden_act: \(e.message)") }
    }
}
