// EncoderLayer: one post-LN BERT / XLM-R transformer layer, laid out as Hugging Face's BertLayer
// so that parameter names match checkpoints:
//   attention.self.{query,key,value}   h = attention.output.LayerNorm(x + dropout(attention.output.dense(attn(x))))
//   intermediate.dense, output.dense   y = output.LayerNorm(h + dropout(output.dense(act(intermediate.dense(h)))))

import TesseraTensor

/// Query, key and value projections and the attention itself (HF BertSelfAttention).
public final class EncoderSelfAttention: Module {
    public let heads: Int
    public let headDim: Int

    public init(_ config: EncoderConfig, generator: Generator = .shared) throws {
        (heads, headDim) = (config.numAttentionHeads, config.headDim)
        super.init()
        let d = config.hiddenSize
        for name in ["query", "key", "value"] { try registerModule(name, Linear(d, d, generator: generator)) }
        try registerModule("dropout", Dropout(config.attentionProbsDropoutProb, generator: generator))
    }

    /// x (B, T, D), mask from attentionBlockMask -> context (B, T, D), probabilities (B, heads, T, T)
    public func callAsFunction(_ x: Tensor, mask: Tensor?) throws -> (context: Tensor, probabilities: Tensor) {
        guard x.rank == 3, x.shape[2] == heads * headDim else {
            throw TensorError("EncoderSelfAttention", "expects input (B, T, \(heads * headDim)), got \(dimsString(x.shape))")
        }
        let (b, t) = (x.shape[0], x.shape[1])
        // (B, T, D) -> (B, heads, T, hd)
        func split(_ name: String) throws -> Tensor { try child(name)(x).reshape([b, t, heads, headDim]).transpose(1, 2) }
        let r = try scaledDotProductAttention(
            split("query"), split("key"), split("value"), blocked: mask,
            dropout: child("dropout", as: Dropout.self))
        return (try runForwardHooks(r.context), r.probabilities)
    }

    public override var extraDescription: String { "heads: \(heads)" }
}

/// dense, dropout, then LayerNorm of the sum with the residual (HF BertSelfOutput and BertOutput).
public final class ResidualOutput: Module {
    public init(_ inFeatures: Int, _ config: EncoderConfig, generator: Generator = .shared) throws {
        super.init()
        try registerModule("dense", Linear(inFeatures, config.hiddenSize, generator: generator))
        try registerModule("LayerNorm", LayerNorm(config.hiddenSize, eps: config.layerNormEps))
        try registerModule("dropout", Dropout(config.hiddenDropoutProb, generator: generator))
    }

    /// x (B, T, in), residual (B, T, D) -> (B, T, D)
    public func callAsFunction(_ x: Tensor, residual: Tensor) throws -> Tensor {
        let h = try child("dropout")(child("dense")(x))
        return try runForwardHooks(child("LayerNorm")(h.add(residual)))
    }
}

/// Self-attention and its residual output (HF BertAttention).
public final class EncoderAttention: Module {
    public init(_ config: EncoderConfig, generator: Generator = .shared) throws {
        super.init()
        try registerModule("self", EncoderSelfAttention(config, generator: generator))
        try registerModule("output", ResidualOutput(config.hiddenSize, config, generator: generator))
    }

    /// x (B, T, D) -> output (B, T, D), probabilities (B, heads, T, T)
    public func callAsFunction(_ x: Tensor, mask: Tensor?) throws -> (output: Tensor, probabilities: Tensor) {
        let (context, probs) = try child("self", as: EncoderSelfAttention.self)(x, mask: mask)
        return (try child("output", as: ResidualOutput.self)(context, residual: x), probs)
    }
}

/// The up projection and activation of the feed-forward block (HF BertIntermediate).
public final class Intermediate: Module {
    public init(_ config: EncoderConfig, generator: Generator = .shared) throws {
        super.init()
        try registerModule("dense", Linear(config.hiddenSize, config.intermediateSize, generator: generator))
        try registerModule("act", activation(named: config.hiddenAct))
    }

    /// x (..., D) -> (..., intermediate)
    public override func forward(_ x: Tensor) throws -> Tensor { try child("act")(child("dense")(x)) }
}

public final class EncoderLayer: Module {
    public init(_ config: EncoderConfig, generator: Generator = .shared) throws {
        super.init()
        try registerModule("attention", EncoderAttention(config, generator: generator))
        try registerModule("intermediate", Intermediate(config, generator: generator))
        try registerModule("output", ResidualOutput(config.intermediateSize, config, generator: generator))
    }

    /// x (B, T, D), mask from attentionBlockMask -> output (B, T, D), probabilities (B, heads, T, T)
    public func callAsFunction(_ x: Tensor, mask: Tensor?) throws -> (output: Tensor, probabilities: Tensor) {
        let (y, probs) = try layer(x, mask)
        return (try runForwardHooks(y), probs)
    }

    /// x (B, T, D) -> (B, T, D), no padding
    public override func forward(_ x: Tensor) throws -> Tensor { try layer(x, nil).output }

    /// the layer without hooks (callers run them once)
    private func layer(_ x: Tensor, _ mask: Tensor?) throws -> (output: Tensor, probabilities: Tensor) {
        let (h, probs) = try child("attention", as: EncoderAttention.self)(x, mask: mask)
        return (try child("output", as: ResidualOutput.self)(child("intermediate")(h), residual: h), probs)
    }
}
