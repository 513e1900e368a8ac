// DecoderModel: a LLaMA style decoder (HF LlamaModel: embed_tokens, layers.N, norm) and the causal
// LM on top (HF LlamaForCausalLM: model.*, lm_head), with lm_head tied to the embeddings or not.

import TesseraTensor

/// What a decoder call returns.
public struct DecoderOutput {
    /// (B, T, D): the final norm of the last layer's output
    public let lastHiddenState: Tensor
    /// numHiddenLayers + 1 tensors (B, T, D) as transformers gives them: the embeddings, the
    /// output of every layer but the last, and lastHiddenState (the last layer's output, normed)
    public let hiddenStates: [Tensor]
    /// one (B, heads, T, T) per layer when asked for, else empty
    public let attentions: [Tensor]
}

public final class DecoderModel: Module {
    public let config: DecoderConfig

    /// Initialised as transformers does (normal(0, initializer_range) weights).
    public convenience init(_ config: DecoderConfig, generator: Generator = .shared) throws {
        try self.init(config, generator: generator, initialize: true)
    }

    init(_ config: DecoderConfig, generator: Generator, initialize: Bool) throws {
        self.config = config
        super.init()
        let rope = try RotaryEmbedding(headDim: config.headDim, base: config.ropeTheta)
        try registerModule(
            "embed_tokens",
            Embedding(
                config.vocabSize, config.hiddenSize, paddingIndex: config.padTokenId,
                generator: generator))
        try registerModule(
            "layers",
            ModuleList(
                (0..<config.numHiddenLayers).map { _ in
                    try DecoderLayer(config, rope: rope, generator: generator)
                }))
        try registerModule("norm", RMSNorm(config.hiddenSize, eps: config.rmsNormEps))
        try registerModule("rotary_emb", rope)
        if initialize { try initializeWeights(std: config.initializerRange, generator: generator) }
    }

    /// the token embedding table (V, D), which a tied lm_head shares
    public var tokenEmbeddings: Tensor { get throws { try requiredTensor("embed_tokens.weight") } }

    /// ids (B, T); attentionMask (B, T), 1 / true for real tokens (nil: none padded). Positions
    /// count from 0 in every row, so padding belongs on the right. With a cache (generation),
    /// ids are the tokens after the cache's P tokens, at positions P..., the mask covers all
    /// P + T, and the cache grows by T.
    public func callAsFunction(
        _ ids: Tensor, attentionMask: Tensor? = nil, returnAttentions: Bool = false, cache: KVCache? = nil
    ) throws -> DecoderOutput {
        let out = try decode(ids, attentionMask, returnAttentions, cache)
        _ = try runForwardHooks(out.lastHiddenState)
        return out
    }

    /// ids (B, T) -> last hidden state (B, T, D)
    public override func forward(_ ids: Tensor) throws -> Tensor { try decode(ids, nil, false).lastHiddenState }

    private func decode(
        _ ids: Tensor, _ attentionMask: Tensor?, _ returnAttentions: Bool, _ cache: KVCache? = nil
    ) throws -> DecoderOutput {
        let past = cache?.length ?? 0
        try checkTokenInputs(ids, cache == nil ? [("attention mask", attentionMask)] : [], op: "DecoderModel")
        guard past + ids.shape[1] <= config.maxPositionEmbeddings else {
            throw TensorError(
                "DecoderModel", "\(past + ids.shape[1]) tokens exceed max_position_embeddings \(config.maxPositionEmbeddings)")
        }
        if let cache {
            guard cache.layers == config.numHiddenLayers, cache.batch == nil || cache.batch == ids.shape[0] else {
                throw TensorError(
                    "DecoderModel",
                    "the KV cache is for \(cache.layers) layers and batch \(cache.batch ?? 0), the model has \(config.numHiddenLayers) layers and the input batch \(ids.shape[0])"
                )
            }
        }
        let mask = try attentionBlockMask(
            batch: ids.shape[0], length: ids.shape[1], paddingMask: attentionMask,
            causal: true, pastLength: past, op: "DecoderModel")
        var h = try child("embed_tokens")(ids)
        var (states, attentions) = ([h], [Tensor]())
        for (index, (_, layer)) in try child("layers").children.enumerated() {
            guard let layer = layer as? DecoderLayer else {
                throw TensorError("DecoderModel", "layer is a \(layer.typeName), expected DecoderLayer")
            }
            let r = try layer(h, mask: mask, cache: cache, layer: index)
            h = r.output
            states.append(h)
            if returnAttentions { attentions.append(r.probabilities) }
        }
        let last = try child("norm")(h)
        states[states.count - 1] = last
        cache?.advance(by: ids.shape[1], batch: ids.shape[0])
        return DecoderOutput(lastHiddenState: last, hiddenStates: states, attentions: attentions)
    }

    public override var extraDescription: String {
        var s = "\(config.numHiddenLayers) layers, \(config.hiddenSize), heads: \(config.numAttentionHeads)"
        if config.numKeyValueHeads != config.numAttentionHeads { s += ", kv heads: \(config.numKeyValueHeads)" }
        return s
    }
}

/// A decoder with its language-model head: logits = lm_head(h), lm_head (D -> V) without bias.
public final class DecoderForCausalLM: Module {
    public let config: DecoderConfig

    /// config.tieWordEmbeddings makes lm_head share the token embedding table.
    public init(_ config: DecoderConfig, generator: Generator = .shared) throws {
        self.config = config
        super.init()
        let model = try registerModule("model", DecoderModel(config, generator: generator, initialize: false))
        let head =
            config.tieWordEmbeddings
            ? try Linear(weight: model.tokenEmbeddings)
            : try Linear(config.hiddenSize, config.vocabSize, bias: false, generator: generator)
        try registerModule("lm_head", head)
        try initializeWeights(std: config.initializerRange, generator: generator)
    }

    /// ids (B, T) -> logits (B, T, V) and the decoder's output; a cache as DecoderModel's
    public func callAsFunction(
        _ ids: Tensor, attentionMask: Tensor? = nil,
        returnAttentions: Bool = false, cache: KVCache? = nil
    ) throws -> (logits: Tensor, decoder: DecoderOutput) {
        let d = try child("model", as: DecoderModel.self)(
            ids, attentionMask: attentionMask, returnAttentions: returnAttentions, cache: cache)
        return (try runForwardHooks(child("lm_head")(d.lastHiddenState)), d)
    }

    /// ids (B, T) -> logits (B, T, V)
    public override func forward(_ ids: Tensor) throws -> Tensor { try child("lm_head")(child("model")(ids)) }

    public override var extraDescription: String { config.tieWordEmbeddings ? "tied" : "" }
}
