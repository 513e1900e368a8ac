// Attention: multi-head scaled dot-product self-attention with a key padding mask, an optional
// causal mask, rotary position embeddings and grouped-query attention (kvHeads < heads: each group
// of heads/kvHeads query heads shares one key/value head, as in LLaMA's repeat_kv).

import TesseraTensor

public final class MultiHeadAttention: Module {
    public let dim: Int
    public let heads: Int
    public let kvHeads: Int
    public let headDim: Int
    /// whether calls mask future positions unless told otherwise
    public let causal: Bool
    private var query: Module
    private var key: Module
    private var value: Module
    private var output: Module
    private let rope: RotaryEmbedding?
    private let dropout: Dropout?

    /// The result of a call: the output and, when asked for, the attention probabilities.
    public struct Result {
        /// (B, T, dim)
        public let output: Tensor
        /// (B, heads, T, T), rows summing to 1 over the keys
        public let probabilities: Tensor?
    }

    /// query (dim -> heads·headDim), key and value (dim -> kvHeads·headDim), output (heads·headDim -> dim)
    public init(
        dim: Int, heads: Int, kvHeads: Int? = nil, headDim: Int? = nil, bias: Bool = true,
        causal: Bool = false, rope: RotaryEmbedding? = nil, dropout: Double = 0,
        generator: Generator = .shared
    ) throws {
        let kv = kvHeads ?? heads
        guard heads > 0, kv > 0, heads % kv == 0 else {
            throw TensorError("MultiHeadAttention", "heads (\(heads)) must be a positive multiple of kv heads (\(kv))")
        }
        let hd = headDim ?? dim / heads
        guard hd > 0, headDim != nil || dim % heads == 0 else {
            throw TensorError("MultiHeadAttention", "dimension \(dim) does not split into \(heads) heads")
        }
        if let rope, rope.headDim != hd {
            throw TensorError("MultiHeadAttention", "rotary embedding is for head dimension \(rope.headDim), heads have \(hd)")
        }
        (self.dim, self.heads, self.kvHeads, self.headDim, self.causal, self.rope) = (dim, heads, kv, hd, causal, rope)
        query = try Linear(dim, heads * hd, bias: bias, generator: generator)
        key = try Linear(dim, kv * hd, bias: bias, generator: generator)
        value = try Linear(dim, kv * hd, bias: bias, generator: generator)
        output = try Linear(heads * hd, dim, bias: bias, generator: generator)
        self.dropout = dropout > 0 ? try Dropout(dropout, generator: generator) : nil
        super.init()
        try registerModule("query", query)
        try registerModule("key", key)
        try registerModule("value", value)
        try registerModule("output", output)
        if let rope { try registerModule("rope", rope) }
        if let d = self.dropout { try registerModule("dropout", d) }
    }

    public override func childReplaced(_ name: String, old: Module, new: Module) {
        switch name {
        case "query": query = new
        case "key": key = new
        case "value": value = new
        case "output": output = new
        default: break
        }
    }

    /// Self-attention over x (B, T, dim). `paddingMask` (B, T) marks real tokens with true / non-zero
    /// (Hugging Face's attention_mask); padded keys get no attention. `positionOffset` shifts the
    /// rotary positions (decoding after a prefix).
    public func callAsFunction(
        _ x: Tensor, paddingMask: Tensor? = nil, causal: Bool? = nil, positionOffset: Int = 0,
        returnProbabilities: Bool = false
    ) throws -> Result {
        let r = try attend(x, paddingMask, causal ?? self.causal, positionOffset, returnProbabilities)
        return Result(output: try runForwardHooks(r.output), probabilities: r.probabilities)
    }

    /// x (B, T, dim) -> (B, T, dim), with the module's default masking and no padding
    public override func forward(_ x: Tensor) throws -> Tensor {
        try attend(x, nil, causal, 0, false).output
    }

    /// the attention itself, without hooks (callers run them once)
    private func attend(
        _ x: Tensor, _ paddingMask: Tensor?, _ causal: Bool, _ positionOffset: Int,
        _ returnProbabilities: Bool
    ) throws -> Result {
        guard x.rank == 3, x.shape[2] == dim else {
            throw TensorError("MultiHeadAttention", "expects input (B, T, \(dim)), got \(dimsString(x.shape))")
        }
        let (b, t) = (x.shape[0], x.shape[1])
        // (B, T, h·hd) -> (B, h, T, hd)
        func split(_ y: Tensor, _ h: Int) throws -> Tensor { try y.reshape([b, t, h, headDim]).transpose(1, 2) }
        var q = try split(query(x), heads)
        var k = try split(key(x), kvHeads)
        let v = try split(value(x), kvHeads)
        if let rope {
            q = try rope.apply(q, offset: positionOffset)
            k = try rope.apply(k, offset: positionOffset)
        }
        let blocked = try attentionBlockMask(
            batch: b, length: t, paddingMask: paddingMask, causal: causal,
            op: "MultiHeadAttention")
        let (context, probs) = try scaledDotProductAttention(q, k, v, blocked: blocked, dropout: dropout)
        return Result(output: try output(context), probabilities: returnProbabilities ? probs : nil)
    }

    public override var extraDescription: String {
        var s = "\(dim), heads: \(heads)"
        if kvHeads != heads { s += ", kv heads: \(kvHeads)" }
        if causal { s += ", causal" }
        return s
    }
}
