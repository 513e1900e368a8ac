// EncoderModel: a BERT / XLM-R encoder (HF BertModel): embeddings, the stack `encoder.layer.N`,
// and an optional pooler (tanh(dense(h_CLS))). It returns every layer's hidden states and, when
// asked, every layer's attention probabilities: what distillation and probing read.

import TesseraTensor

/// What an encoder call returns.
public struct EncoderOutput {
    /// (B, T, D): the last layer's output
    public let lastHiddenState: Tensor
    /// numHiddenLayers + 1 tensors (B, T, D): the embeddings' output, then each layer's (HF hidden_states)
    public let hiddenStates: [Tensor]
    /// one (B, heads, T, T) per layer when asked for, else empty (HF attentions)
    public let attentions: [Tensor]
    /// (B, D) from the pooler, when the model has one
    public let pooled: Tensor?
}

/// The layers of an encoder, as `layer.0`, `layer.1`, ... (HF BertEncoder).
public final class EncoderStack: Module {
    public init(_ config: EncoderConfig, generator: Generator = .shared) throws {
        super.init()
        try registerModule(
            "layer",
            ModuleList(
                (0..<config.numHiddenLayers).map { _ in
                    try EncoderLayer(config, generator: generator)
                }))
    }

    /// x (B, T, D), mask from attentionBlockMask -> each layer's output and (when asked) probabilities
    public func callAsFunction(_ x: Tensor, mask: Tensor?, returnAttentions: Bool = false) throws
        -> (hiddenStates: [Tensor], attentions: [Tensor])
    {
        var (states, attentions) = ([Tensor](), [Tensor]())
        var h = x
        for (_, layer) in try child("layer").children {
            guard let layer = layer as? EncoderLayer else {
                throw TensorError("EncoderStack", "layer is a \(layer.typeName), expected EncoderLayer")
            }
            let r = try layer(h, mask: mask)
            h = r.output
            states.append(h)
            if returnAttentions { attentions.append(r.probabilities) }
        }
        return (states, attentions)
    }

    /// x (B, T, D) -> (B, T, D), no padding
    public override func forward(_ x: Tensor) throws -> Tensor { try self(x, mask: nil).hiddenStates.last ?? x }
}

/// tanh(dense(h[:, 0])): the first ([CLS]) token's state as a sentence vector (HF BertPooler).
public final class Pooler: Module {
    public init(_ dim: Int, generator: Generator = .shared) throws {
        super.init()
        try registerModule("dense", Linear(dim, dim, generator: generator))
        try registerModule("activation", Tanh())
    }

    /// h (B, T, D) -> (B, D)
    public override func forward(_ h: Tensor) throws -> Tensor {
        try child("activation")(child("dense")(h.select(1, 0)))
    }
}

public final class EncoderModel: Module {
    public let config: EncoderConfig

    /// Initialised as transformers does (normal(0, initializer_range) weights); `pooler: false` for
    /// models whose heads read the token states (masked LM, token classification).
    public convenience init(_ config: EncoderConfig, pooler: Bool = true, generator: Generator = .shared) throws {
        try self.init(config, pooler: pooler, generator: generator, initialize: true)
    }

    /// heads built on top initialise the whole model once, after tying their weights
    init(_ config: EncoderConfig, pooler: Bool, generator: Generator, initialize: Bool) throws {
        self.config = config
        super.init()
        try registerModule("embeddings", EncoderEmbeddings(config, generator: generator))
        try registerModule("encoder", EncoderStack(config, generator: generator))
        if pooler { try registerModule("pooler", Pooler(config.hiddenSize, generator: generator)) }
        if initialize { try initializeWeights(std: config.initializerRange, generator: generator) }
    }

    /// the word embedding table (V, D), which masked LM heads may share
    public var wordEmbeddings: Tensor { get throws { try requiredTensor("embeddings.word_embeddings.weight") } }

    /// ids (B, T); attentionMask (B, T), 1 / true for real tokens (nil: none padded); tokenTypeIds
    /// (B, T) (nil: all 0).
    public func callAsFunction(
        _ ids: Tensor, attentionMask: Tensor? = nil, tokenTypeIds: Tensor? = nil,
        returnAttentions: Bool = false
    ) throws -> EncoderOutput {
        let out = try encode(ids, attentionMask, tokenTypeIds, returnAttentions)
        _ = try runForwardHooks(out.lastHiddenState)
        return out
    }

    /// ids (B, T) -> last hidden state (B, T, D)
    public override func forward(_ ids: Tensor) throws -> Tensor { try encode(ids, nil, nil, false).lastHiddenState }

    private func encode(
        _ ids: Tensor, _ attentionMask: Tensor?, _ tokenTypeIds: Tensor?,
        _ returnAttentions: Bool
    ) throws -> EncoderOutput {
        try checkTokenInputs(ids, [("attention mask", attentionMask), ("token type ids", tokenTypeIds)], op: "EncoderModel")
        let x = try child("embeddings", as: EncoderEmbeddings.self)(ids, tokenTypeIds: tokenTypeIds)
        let mask = try attentionBlockMask(
            batch: ids.shape[0], length: ids.shape[1], paddingMask: attentionMask,
            causal: false, op: "EncoderModel")
        let r = try child("encoder", as: EncoderStack.self)(x, mask: mask, returnAttentions: returnAttentions)
        let last = r.hiddenStates.last ?? x
        let pooled = try module(at: "pooler").map { try $0(last) }
        return EncoderOutput(
            lastHiddenState: last, hiddenStates: [x] + r.hiddenStates, attentions: r.attentions,
            pooled: pooled)
    }

    public override var extraDescription: String {
        "\(config.numHiddenLayers) layers, \(config.hiddenSize), heads: \(config.numAttentionHeads)"
    }
}
