// EncoderClassifiers: classification heads on an encoder, named as Hugging Face's
// BertForTokenClassification and BertForSequenceClassification (`bert.*`, `classifier.*`).

import TesseraTensor

/// A label per token: classifier(dropout(h)) on every position.
public final class EncoderForTokenClassification: Module, EncoderWithHead {
    public let config: EncoderConfig
    public let numLabels: Int

    /// `classifierDropout` defaults to the config's hidden dropout, as in transformers
    public init(
        _ config: EncoderConfig, numLabels: Int, classifierDropout: Double? = nil,
        generator: Generator = .shared
    ) throws {
        (self.config, self.numLabels) = (config, numLabels)
        super.init()
        try registerModule("bert", EncoderModel(config, pooler: false, generator: generator, initialize: false))
        try registerModule("dropout", Dropout(classifierDropout ?? config.hiddenDropoutProb, generator: generator))
        try registerModule("classifier", Linear(config.hiddenSize, numLabels, generator: generator))
        try initializeWeights(std: config.initializerRange, generator: generator)
    }

    /// classifier(dropout(h)) on every position: (B, T, D) -> logits (B, T, labels)
    public func head(_ e: EncoderOutput) throws -> Tensor {
        try child("classifier")(child("dropout")(e.lastHiddenState))
    }

    /// ids (B, T) -> logits (B, T, labels)
    public override func forward(_ ids: Tensor) throws -> Tensor {
        try child("classifier")(child("dropout")(child("bert")(ids)))
    }

    public override var extraDescription: String { "labels: \(numLabels)" }
}

/// A label per sequence, read from the first token: through the pooler (BERT) or directly from
/// its last hidden state (`usePooler: false`).
public final class EncoderForSequenceClassification: Module, EncoderWithHead {
    public let config: EncoderConfig
    public let numLabels: Int
    public let usePooler: Bool

    public init(
        _ config: EncoderConfig, numLabels: Int, usePooler: Bool = true, classifierDropout: Double? = nil,
        generator: Generator = .shared
    ) throws {
        (self.config, self.numLabels, self.usePooler) = (config, numLabels, usePooler)
        super.init()
        try registerModule("bert", EncoderModel(config, pooler: usePooler, generator: generator, initialize: false))
        try registerModule("dropout", Dropout(classifierDropout ?? config.hiddenDropoutProb, generator: generator))
        try registerModule("classifier", Linear(config.hiddenSize, numLabels, generator: generator))
        try initializeWeights(std: config.initializerRange, generator: generator)
    }

    /// ids (B, T) -> logits (B, labels)
    public override func forward(_ ids: Tensor) throws -> Tensor {
        try head(child("bert", as: EncoderModel.self)(ids, attentionMask: nil))
    }

    /// the pooled vector or the first token's state (B, D) -> logits (B, labels)
    public func head(_ e: EncoderOutput) throws -> Tensor {
        let sentence = try e.pooled ?? e.lastHiddenState.select(1, 0)
        return try child("classifier")(child("dropout")(sentence))
    }

    public override var extraDescription: String { "labels: \(numLabels)\(usePooler ? "" : ", first token")" }
}
