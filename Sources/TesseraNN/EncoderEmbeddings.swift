// EncoderEmbeddings: the input of a BERT / XLM-R encoder (HF BertEmbeddings / RobertaEmbeddings):
// word + absolute position + token type embeddings, then LayerNorm and dropout.

import TesseraTensor

public final class EncoderEmbeddings: Module {
    public let config: EncoderConfig

    /// word_embeddings (V, D), position_embeddings (P, D), token_type_embeddings (types, D), LayerNorm (D)
    public init(_ config: EncoderConfig, generator: Generator = .shared) throws {
        self.config = config
        super.init()
        let d = config.hiddenSize
        try registerModule("word_embeddings", Embedding(config.vocabSize, d, paddingIndex: config.padTokenId, generator: generator))
        // XLM-R keeps the padding position's row at zero, as it does for words
        let positionPadding = config.positionIDs == .afterPadding ? config.padTokenId : nil
        try registerModule(
            "position_embeddings",
            Embedding(
                config.maxPositionEmbeddings, d, paddingIndex: positionPadding,
                generator: generator))
        try registerModule("token_type_embeddings", Embedding(config.typeVocabSize, d, generator: generator))
        try registerModule("LayerNorm", LayerNorm(d, eps: config.layerNormEps))
        try registerModule("dropout", Dropout(config.hiddenDropoutProb, generator: generator))
    }

    /// The position ids of `ids` (B, T): (1, T) 0..<T for BERT; (B, T) for XLM-R, where real
    /// tokens count from padTokenId + 1 and padding tokens stay at padTokenId.
    public func positionIds(_ ids: Tensor) throws -> Tensor {
        try checkTokenInputs(ids, [], op: "EncoderEmbeddings")
        let (b, t) = (ids.shape[0], ids.shape[1])
        let pad = config.padTokenId
        let positions: Tensor
        switch config.positionIDs {
        case .fromZero:
            positions = try Tensor.arange(0, Double(t), dtype: .i64).reshape([1, t])
        case .afterPadding:
            let flat = try ids.to(.i64).toArray(Int64.self)
            var out = [Int64](repeating: Int64(pad), count: b * t)
            for row in 0..<b {
                var seen = 0
                for j in 0..<t where flat[row * t + j] != Int64(pad) {
                    seen += 1
                    out[row * t + j] = Int64(pad + seen)
                }
            }
            positions = try Tensor.from(out, shape: [b, t])
        }
        let last = config.positionIDs == .fromZero ? t - 1 : pad + t
        guard last < config.maxPositionEmbeddings else {
            throw TensorError(
                "EncoderEmbeddings", "\(t) tokens need position \(last), beyond max_position_embeddings \(config.maxPositionEmbeddings)")
        }
        return positions
    }

    /// ids (B, T), tokenTypeIds (B, T) or nil (all type 0) -> (B, T, D)
    public func callAsFunction(_ ids: Tensor, tokenTypeIds: Tensor?) throws -> Tensor {
        try runForwardHooks(embed(ids, tokenTypeIds))
    }

    /// ids (B, T) -> (B, T, D), all tokens of type 0
    public override func forward(_ ids: Tensor) throws -> Tensor { try embed(ids, nil) }

    /// the sum, normalised, without hooks (callers run them once)
    private func embed(_ ids: Tensor, _ tokenTypeIds: Tensor?) throws -> Tensor {
        try checkTokenInputs(ids, [("token type ids", tokenTypeIds)], op: "EncoderEmbeddings")
        let types = try tokenTypeIds ?? Tensor.zeros(ids.shape, dtype: .i64)
        let sum = try child("word_embeddings")(ids).add(child("position_embeddings")(positionIds(ids)))
            .add(child("token_type_embeddings")(types))
        return try child("dropout")(child("LayerNorm")(sum))
    }

    public override var extraDescription: String {
        config.positionIDs == .afterPadding ? "positions after padding" : ""
    }
}
