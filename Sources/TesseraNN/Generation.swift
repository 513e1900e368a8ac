// Generation: continuing a prompt with a causal LM, one token at a time over a KV cache: greedy,
// or sampled with temperature, top-k and top-p (nucleus), as transformers' generate does.

import TesseraTensor

#if canImport(Glibc)
    import Glibc
#endif

/// How to pick each next token.
public struct GenerationOptions {
    /// tokens to add at most
    public var maxNewTokens = 32
    /// 0 picks the most likely token (greedy); otherwise logits are divided by it and sampled
    public var temperature = 0.0
    /// sample among the k most likely tokens only (0: all)
    public var topK = 0
    /// sample among the most likely tokens whose probabilities first reach p (1: all)
    public var topP = 1.0
    /// generation stops after any of these tokens (which is included in the result)
    public var stopTokens: Set<Int> = []

    public init(
        maxNewTokens: Int = 32, temperature: Double = 0, topK: Int = 0, topP: Double = 1, stopTokens: Set<Int> = []
    ) {
        (self.maxNewTokens, self.temperature, self.topK, self.topP, self.stopTokens) =
            (maxNewTokens, temperature, topK, topP, stopTokens)
    }

    func validate() throws {
        guard maxNewTokens >= 0 else { throw TensorError("generate", "max_new_tokens must be non-negative, got \(maxNewTokens)") }
        guard temperature >= 0, temperature.isFinite else {
            throw TensorError("generate", "temperature must be a finite number >= 0, got \(temperature)")
        }
        guard topK >= 0 else { throw TensorError("generate", "top_k must be non-negative, got \(topK)") }
        guard topP > 0, topP <= 1 else { throw TensorError("generate", "top_p must be in (0, 1], got \(topP)") }
    }
}

extension DecoderForCausalLM {
    /// The tokens that follow `prompt` (ids), without the prompt. The prompt goes through the
    /// model once; each new token then costs one position over the cache. `onToken` sees each
    /// token as it is chosen and may stop generation by returning false. Runs in eval mode
    /// without gradients; the model's mode is restored.
    public func generate(
        _ prompt: [Int], options: GenerationOptions = GenerationOptions(), generator: Generator = .shared,
        onToken: (Int) throws -> Bool = { _ in true }
    ) throws -> [Int] {
        try options.validate()
        guard !prompt.isEmpty else { throw TensorError("generate", "the prompt is empty: give at least one token id") }
        if let bad = prompt.first(where: { $0 < 0 || $0 >= config.vocabSize }) {
            throw TensorError("generate", "token id \(bad) is outside the vocabulary (0..<\(config.vocabSize))")
        }
        let wasTraining = training
        eval()
        defer { train(wasTraining) }
        return try noGrad {
            let cache = KVCache(layers: config.numHiddenLayers)
            var next = try Tensor.from(prompt.map { Int64($0) }, shape: [1, prompt.count])
            var out: [Int] = []
            while out.count < options.maxNewTokens {
                if prompt.count + out.count >= config.maxPositionEmbeddings { break }
                let logits = try self(next, cache: cache).logits
                let last = try logits.select(1, logits.shape[1] - 1).reshape([-1])
                let token = try pick(last, options, generator)
                out.append(token)
                if try !onToken(token) || options.stopTokens.contains(token) { break }
                next = try Tensor.from([Int64(token)], shape: [1, 1])
            }
            return out
        }
    }

    /// the next token from the last position's logits (V)
    private func pick(_ logits: Tensor, _ o: GenerationOptions, _ generator: Generator) throws -> Int {
        let v = logits.toDoubles()
        guard o.temperature > 0 else { return argmax(v) }
        var candidates = Array(v.indices)
        if o.topK > 0 && o.topK < v.count {
            let top = try logits.topk(o.topK).indices.toDoubles()
            candidates = top.map { Int($0) }
        } else if o.topP < 1 {
            candidates.sort { v[$0] > v[$1] }
        }
        if o.topP < 1 && o.topK > 0 { candidates.sort { v[$0] > v[$1] } }
        // softmax over the candidates at the temperature, in Double
        let scale = 1 / o.temperature
        let top = candidates.map { v[$0] * scale }
        let m = top.max() ?? 0
        var p = top.map { ($0 - m).isNaN ? 0 : exp($0 - m) }
        var total = p.reduce(0, +)
        if o.topP < 1 {
            // the smallest prefix (most likely first) whose probability reaches top_p
            var cumulative = 0.0, keep = p.count
            for (i, x) in p.enumerated() {
                cumulative += x / total
                if cumulative >= o.topP {
                    keep = i + 1
                    break
                }
            }
            p.removeSubrange(keep...)
            candidates.removeSubrange(keep...)
            total = p.reduce(0, +)
        }
        guard total > 0, total.isFinite else { return argmax(v) }
        var u = generator.nextDouble() * total
        for (i, x) in p.enumerated() {
            u -= x
            if u < 0 { return candidates[i] }
        }
        return candidates[candidates.count - 1]
    }

    private func argmax(_ v: [Double]) -> Int {
        var best = 0
        for i in v.indices where v[i] > v[best] { best = i }
        return best
    }
}
