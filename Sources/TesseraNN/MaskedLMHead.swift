// MaskedLMHead: BERT's masked-language-model head, named as Hugging Face's BertOnlyMLMHead
// (`cls.predictions.transform.dense`, `...transform.LayerNorm`, `cls.predictions.decoder`,
// `cls.predictions.bias`): logits = decoder(LayerNorm(act(dense(h)))) + bias, with the decoder
// weight tied to the word embeddings (a shared tensor) or its own.

import TesseraTensor

/// dense -> activation -> LayerNorm (HF BertPredictionHeadTransform)
public final class PredictionTransform: Module {
    public init(_ config: EncoderConfig, generator: Generator = .shared) throws {
        super.init()
        try registerModule("dense", Linear(config.hiddenSize, config.hiddenSize, generator: generator))
        try registerModule("transform_act_fn", activation(named: config.hiddenAct))
        try registerModule("LayerNorm", LayerNorm(config.hiddenSize, eps: config.layerNormEps))
    }

    /// h (..., D) -> (..., D)
    public override func forward(_ h: Tensor) throws -> Tensor {
        try child("LayerNorm")(child("transform_act_fn")(child("dense")(h)))
    }
}

/// transform, decoder (D -> V, no bias of its own) and the vocabulary bias (HF BertLMPredictionHead)
public final class MaskedLMPrediction: Module {
    /// `tiedTo` (V, D): the word embedding table the decoder shares; nil gives the decoder its own weight
    public init(_ config: EncoderConfig, tiedTo wordEmbeddings: Tensor?, generator: Generator = .shared) throws {
        super.init()
        try registerParameter("bias", Tensor.zeros([config.vocabSize]))
        try registerModule("transform", PredictionTransform(config, generator: generator))
        let decoder =
            try wordEmbeddings.map { try Linear(weight: $0) }
            ?? Linear(config.hiddenSize, config.vocabSize, bias: false, generator: generator)
        try registerModule("decoder", decoder)
    }

    /// h (..., D) -> logits (..., V)
    public override func forward(_ h: Tensor) throws -> Tensor {
        try child("decoder")(child("transform")(h)).add(requiredParameter("bias"))
    }
}

/// `cls`: holds `predictions` (HF BertOnlyMLMHead).
public final class MaskedLMHead: Module {
    public init(_ config: EncoderConfig, tiedTo wordEmbeddings: Tensor?, generator: Generator = .shared) throws {
        super.init()
        try registerModule("predictions", MaskedLMPrediction(config, tiedTo: wordEmbeddings, generator: generator))
    }

    /// h (..., D) -> logits (..., V)
    public override func forward(_ h: Tensor) throws -> Tensor { try child("predictions")(h) }
}

/// An encoder with a masked LM head: `bert.*` and `cls.*`, as HF BertForMaskedLM.
public final class EncoderForMaskedLM: Module, EncoderWithHead {
    public let config: EncoderConfig

    /// `tieWordEmbeddings` (HF's default) shares the word embedding table with the decoder.
    public init(_ config: EncoderConfig, tieWordEmbeddings: Bool = true, generator: Generator = .shared) throws {
        self.config = config
        super.init()
        let encoder = try registerModule("bert", EncoderModel(config, pooler: false, generator: generator, initialize: false))
        try registerModule(
            "cls",
            MaskedLMHead(
                config, tiedTo: tieWordEmbeddings ? encoder.wordEmbeddings : nil,
                generator: generator))
        try initializeWeights(std: config.initializerRange, generator: generator)
    }

    /// h (B, T, D) -> logits (B, T, V)
    public func head(_ e: EncoderOutput) throws -> Tensor { try child("cls")(e.lastHiddenState) }

    /// ids (B, T) -> logits (B, T, V)
    public override func forward(_ ids: Tensor) throws -> Tensor { try child("cls")(child("bert")(ids)) }
}
