// EncoderConfig: the shape of a BERT / XLM-R style encoder, from Swift values or from a Hugging
// Face `config.json`. Field names follow the config keys (hidden_size -> hiddenSize); defaults are
// those of transformers' BertConfig.

import TesseraTensor

public struct EncoderConfig: Sendable, Equatable {
    /// How position ids are counted. BERT: 0, 1, 2, ... XLM-R / RoBERTa: real tokens count from
    /// padTokenId + 1 and padding tokens sit at padTokenId (fairseq's make_positions).
    public enum PositionIDs: String, Sendable { case fromZero, afterPadding }

    public var vocabSize: Int
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var intermediateSize: Int
    /// the feed-forward activation, as `activation(named:)` reads it
    public var hiddenAct: String
    public var maxPositionEmbeddings: Int
    /// number of segment (token type) ids; XLM-R has 1
    public var typeVocabSize: Int
    public var layerNormEps: Double
    /// the padding id: its word embedding row stays zero, and afterPadding positions start after it
    public var padTokenId: Int
    /// dropout after the embeddings and after each residual branch
    public var hiddenDropoutProb: Double
    /// dropout on the attention probabilities
    public var attentionProbsDropoutProb: Double
    /// standard deviation of the normal initialisation of weights
    public var initializerRange: Double
    public var positionIDs: PositionIDs

    public init(
        vocabSize: Int, hiddenSize: Int, numHiddenLayers: Int, numAttentionHeads: Int, intermediateSize: Int,
        hiddenAct: String = "gelu", maxPositionEmbeddings: Int = 512, typeVocabSize: Int = 2,
        layerNormEps: Double = 1e-12, padTokenId: Int = 0, hiddenDropoutProb: Double = 0.1,
        attentionProbsDropoutProb: Double = 0.1, initializerRange: Double = 0.02,
        positionIDs: PositionIDs = .fromZero
    ) throws {
        (self.vocabSize, self.hiddenSize, self.numHiddenLayers) = (vocabSize, hiddenSize, numHiddenLayers)
        (self.numAttentionHeads, self.intermediateSize, self.hiddenAct) = (numAttentionHeads, intermediateSize, hiddenAct)
        (self.maxPositionEmbeddings, self.typeVocabSize, self.layerNormEps) = (maxPositionEmbeddings, typeVocabSize, layerNormEps)
        (self.padTokenId, self.hiddenDropoutProb, self.attentionProbsDropoutProb) = (padTokenId, hiddenDropoutProb, attentionProbsDropoutProb)
        (self.initializerRange, self.positionIDs) = (initializerRange, positionIDs)
        try validate()
    }

    /// From a Hugging Face config.json dictionary. model_type roberta / xlm-roberta / camembert
    /// selects afterPadding position ids.
    public init(huggingFace config: [String: Any]) throws {
        let c = ConfigDictionary(values: config, op: "EncoderConfig")
        let modelType = try c.string("model_type", default: "bert")
        let positionType = try c.string("position_embedding_type", default: "absolute")
        guard positionType == "absolute" else {
            throw TensorError("EncoderConfig", "position_embedding_type '\(positionType)' is not supported (only 'absolute')")
        }
        try self.init(
            vocabSize: c.int("vocab_size"), hiddenSize: c.int("hidden_size"), numHiddenLayers: c.int("num_hidden_layers"),
            numAttentionHeads: c.int("num_attention_heads"), intermediateSize: c.int("intermediate_size"),
            hiddenAct: c.string("hidden_act", default: "gelu"),
            maxPositionEmbeddings: c.int("max_position_embeddings", default: 512),
            typeVocabSize: c.int("type_vocab_size", default: 2), layerNormEps: c.double("layer_norm_eps", default: 1e-12),
            padTokenId: c.int("pad_token_id", default: 0),
            hiddenDropoutProb: c.double("hidden_dropout_prob", default: 0.1),
            attentionProbsDropoutProb: c.double("attention_probs_dropout_prob", default: 0.1),
            initializerRange: c.double("initializer_range", default: 0.02),
            positionIDs: ["roberta", "xlm-roberta", "camembert"].contains(modelType) ? .afterPadding : .fromZero)
    }

    /// the dimension of one attention head
    public var headDim: Int { hiddenSize / numAttentionHeads }

    private func validate() throws {
        func fail(_ message: String) -> TensorError { TensorError("EncoderConfig", message) }
        for (name, v) in [
            ("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("num_hidden_layers", numHiddenLayers),
            ("num_attention_heads", numAttentionHeads), ("intermediate_size", intermediateSize),
            ("max_position_embeddings", maxPositionEmbeddings), ("type_vocab_size", typeVocabSize),
        ] where v <= 0 {
            throw fail("\(name) must be positive, got \(v)")
        }
        guard hiddenSize % numAttentionHeads == 0 else {
            throw fail("hidden_size \(hiddenSize) does not split into \(numAttentionHeads) heads")
        }
        guard (0..<vocabSize).contains(padTokenId) else {
            throw fail("pad_token_id \(padTokenId) is outside the vocabulary of \(vocabSize)")
        }
        if positionIDs == .afterPadding && maxPositionEmbeddings <= padTokenId + 1 {
            throw fail("max_position_embeddings \(maxPositionEmbeddings) leaves no positions after pad_token_id \(padTokenId)")
        }
        for (name, p) in [("hidden_dropout_prob", hiddenDropoutProb), ("attention_probs_dropout_prob", attentionProbsDropoutProb)]
        where !(0...1).contains(p) {
            throw fail("\(name) must lie in [0, 1], got \(p)")
        }
        guard layerNormEps > 0, initializerRange >= 0 else {
            throw fail("layer_norm_eps must be positive and initializer_range non-negative")
        }
        do { _ = try activation(named: hiddenAct) } catch let e as TensorError { throw fail("hidden_act: \(e.message)") }
    }
}
