// DecoderLayer: one pre-RMSNorm LLaMA layer, laid out as Hugging Face's LlamaDecoderLayer so that
// parameter names match checkpoints:
//   h = x + self_attn(input_layernorm(x))            self_attn.{q,k,v,o}_proj, causal, RoPE, GQA
//   y = h + mlp(post_attention_layernorm(h))         mlp.down_proj(act(mlp.gate_proj(·)) · mlp.up_proj(·))

import TesseraTensor

/// Causal self-attention with rotary positions and grouped-query heads (HF LlamaAttention).
public final class DecoderAttention: Module {
    public let heads: Int
    public let kvHeads: Int
    public let headDim: Int
    /// the model's rotary table (shared by every layer; stateless, so not registered here)
    private let rope: RotaryEmbedding

    public init(_ config: DecoderConfig, rope: RotaryEmbedding, generator: Generator = .shared) throws {
        (heads, kvHeads, headDim, self.rope) = (config.numAttentionHeads, config.numKeyValueHeads, config.headDim, rope)
        super.init()
        let (d, bias) = (config.hiddenSize, config.attentionBias)
        try registerModule("q_proj", Linear(d, heads * headDim, bias: bias, generator: generator))
        try registerModule("k_proj", Linear(d, kvHeads * headDim, bias: bias, generator: generator))
        try registerModule("v_proj", Linear(d, kvHeads * headDim, bias: bias, generator: generator))
        try registerModule("o_proj", Linear(heads * headDim, d, bias: bias, generator: generator))
        try registerModule("dropout", Dropout(config.attentionDropout, generator: generator))
    }

    /// x (B, T, D), mask from attentionBlockMask (causal) -> output (B, T, D), probabilities
    /// (B, heads, T, P + T). With a cache, x holds the T tokens after the P cached ones: their
    /// keys and values are appended to the cache's entry `layer`.
    public func callAsFunction(
        _ x: Tensor, mask: Tensor?, cache: KVCache? = nil, layer: Int = 0
    ) throws -> (output: Tensor, probabilities: Tensor) {
        guard x.rank == 3 else {
            throw TensorError("DecoderAttention", "expects input (B, T, D), got \(dimsString(x.shape))")
        }
        let (b, t) = (x.shape[0], x.shape[1])
        let past = cache?.length ?? 0
        // (B, T, n·hd) -> (B, n, T, hd)
        func split(_ name: String, _ n: Int) throws -> Tensor { try child(name)(x).reshape([b, t, n, headDim]).transpose(1, 2) }
        let q = try rope.apply(split("q_proj", heads), offset: past)
        var k = try rope.apply(split("k_proj", kvHeads), offset: past), v = try split("v_proj", kvHeads)
        if let cache { (k, v) = try cache.append(layer: layer, keys: k, values: v) }
        let r = try scaledDotProductAttention(
            q, k, v, blocked: mask,
            dropout: child("dropout", as: Dropout.self))
        return (try runForwardHooks(child("o_proj")(r.context)), r.probabilities)
    }

    public override var extraDescription: String {
        "heads: \(heads)\(kvHeads != heads ? ", kv heads: \(kvHeads)" : ""), rope base: \(rope.base)"
    }
}

/// down_proj(act(gate_proj(x)) · up_proj(x)), no biases (HF LlamaMLP).
public final class DecoderMLP: Module {
    public init(_ config: DecoderConfig, generator: Generator = .shared) throws {
        super.init()
        let (d, i) = (config.hiddenSize, config.intermediateSize)
        try registerModule("gate_proj", Linear(d, i, bias: false, generator: generator))
        try registerModule("up_proj", Linear(d, i, bias: false, generator: generator))
        try registerModule("down_proj", Linear(i, d, bias: false, generator: generator))
        try registerModule("act_fn", activation(named: config.hiddenAct))
    }

    /// x (..., D) -> (..., D)
    public override func forward(_ x: Tensor) throws -> Tensor {
        try child("down_proj")(gatedActivation(child("act_fn"), child("gate_proj")(x), child("up_proj")(x)))
    }
}

public final class DecoderLayer: Module {
    public init(_ config: DecoderConfig, rope: RotaryEmbedding, generator: Generator = .shared) throws {
        super.init()
        try registerModule("self_attn", DecoderAttention(config, rope: rope, generator: generator))
        try registerModule("mlp", DecoderMLP(config, generator: generator))
        try registerModule("input_layernorm", RMSNorm(config.hiddenSize, eps: config.rmsNormEps))
        try registerModule("post_attention_layernorm", RMSNorm(config.hiddenSize, eps: config.rmsNormEps))
    }

    /// x (B, T, D), mask from attentionBlockMask -> output (B, T, D), probabilities
    /// (B, heads, T, P + T); with a cache, as DecoderAttention.
    public func callAsFunction(
        _ x: Tensor, mask: Tensor?, cache: KVCache? = nil, layer index: Int = 0
    ) throws -> (output: Tensor, probabilities: Tensor) {
        let (y, probs) = try layer(x, mask, cache, index)
        return (try runForwardHooks(y), probs)
    }

    /// x (B, T, D) -> (B, T, D), causal, no padding
    public override func forward(_ x: Tensor) throws -> Tensor {
        let t = x.rank == 3 ? x.shape[1] : 0
        return try layer(x, attentionBlockMask(batch: 1, length: t, paddingMask: nil, causal: true)).output
    }

    /// the layer without hooks (callers run them once)
    private func layer(
        _ x: Tensor, _ mask: Tensor?, _ cache: KVCache? = nil, _ index: Int = 0
    ) throws -> (output: Tensor, probabilities: Tensor) {
        let a = try child("self_attn", as: DecoderAttention.self)(
            child("input_layernorm")(x), mask: mask, cache: cache, layer: index)
        let h = try x.add(a.output)
        return (try h.add(child("mlp")(child("post_attention_layernorm")(h))), a.probabilities)
    }
}
