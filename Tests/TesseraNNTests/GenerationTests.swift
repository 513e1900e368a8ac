// GenerationTests: decoding over a KV cache gives the logits of the full forward pass, greedy
// generation equals the loop that re-runs the whole sequence, and sampling stays inside top-k /
// top-p, reproducibly.

import Testing
@testable import TesseraNN
@testable import TesseraTensor

/// a tiny decoder: D 16, 4 query heads over 2 kv heads (hd 4), vocab 29, untied
private func tinyModel(seed: UInt64 = 3) throws -> DecoderForCausalLM {
    let config = try DecoderConfig(
        vocabSize: 29, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2,
        intermediateSize: 24, maxPositionEmbeddings: 32, ropeTheta: 1000, initializerRange: 0.4)
    let model = try DecoderForCausalLM(config, generator: Generator(seed: seed))
    model.eval()
    return model
}

private func ids(_ v: [Int]) throws -> Tensor { try Tensor.from(v.map { Int64($0) }, shape: [1, v.count]) }

/// logits (V) at the last position of a full forward pass over `tokens`
private func lastLogits(_ model: DecoderForCausalLM, _ tokens: [Int]) throws -> [Double] {
    let logits = try model(ids(tokens)).logits
    return try logits.select(1, tokens.count - 1).reshape([-1]).toDoubles()
}

@Suite struct GenerationTests {
    @Test func cachedStepsMatchTheFullForwardPass() throws {
        let model = try tinyModel()
        let tokens = [3, 17, 4, 9, 22, 1, 5]
        let cache = KVCache(layers: 2)
        // a 3-token prefix, then one token at a time, then two at once
        var incremental = try noGrad { try model(ids(Array(tokens[..<3])), cache: cache).logits }
        #expect(cache.length == 3)
        expectClose(try incremental.select(1, 2).reshape([-1]).toDoubles(), try lastLogits(model, Array(tokens[..<3])), "prefix")
        for n in 3..<5 {
            incremental = try noGrad { try model(ids([tokens[n]]), cache: cache).logits }
            expectClose(try incremental.reshape([-1]).toDoubles(), try lastLogits(model, Array(tokens[...n])), rtol: 1e-4, atol: 1e-5, "step \(n)")
        }
        incremental = try noGrad { try model(ids(Array(tokens[5...])), cache: cache).logits }
        #expect(cache.length == 7)
        let full = try model(ids(tokens)).logits
        expectClose(try incremental.toDoubles(), try full.narrow(1, 5, 2).contiguous().toDoubles(), rtol: 1e-4, atol: 1e-5, "two at once")
        #expect(cache.byteCount == 2 * 2 * 2 * 7 * 4 * 4)
    }

    @Test func greedyEqualsTheUncachedLoop() throws {
        let model = try tinyModel()
        var tokens = [1, 2, 3]
        for _ in 0..<8 {
            let l = try lastLogits(model, tokens)
            tokens.append(l.indices.max { l[$0] < l[$1] }!)
        }
        let generated = try model.generate([1, 2, 3], options: GenerationOptions(maxNewTokens: 8))
        #expect(generated == Array(tokens[3...]))
        #expect(model.training == false)
        // stops after a stop token, which is kept
        let stop = generated[2]
        let stopped = try model.generate([1, 2, 3], options: GenerationOptions(maxNewTokens: 8, stopTokens: [stop]))
        #expect(stopped == Array(generated[...generated.firstIndex(of: stop)!]))
        // the callback can stop it
        var seen: [Int] = []
        let two = try model.generate([1, 2, 3], options: GenerationOptions(maxNewTokens: 8)) {
            seen.append($0); return seen.count < 2
        }
        #expect(two == Array(generated[..<2]) && seen == two)
    }

    @Test func samplingIsReproducibleAndStaysInTheCandidates() throws {
        let model = try tinyModel()
        let options = GenerationOptions(maxNewTokens: 10, temperature: 1.5)
        let a = try model.generate([4, 5], options: options, generator: Generator(seed: 9))
        let b = try model.generate([4, 5], options: options, generator: Generator(seed: 9))
        #expect(a == b && a.count == 10)
        // top_k = 1 and a tiny top_p are greedy whatever the temperature
        let greedy = try model.generate([4, 5], options: GenerationOptions(maxNewTokens: 6))
        #expect(try model.generate([4, 5], options: GenerationOptions(maxNewTokens: 6, temperature: 5, topK: 1)) == greedy)
        #expect(try model.generate([4, 5], options: GenerationOptions(maxNewTokens: 6, temperature: 5, topP: 1e-9)) == greedy)
        // top_k = 3: every sampled token is among the 3 most likely after its prefix
        var prefix = [4, 5]
        let sampled = try model.generate(prefix, options: GenerationOptions(maxNewTokens: 6, temperature: 3, topK: 3), generator: Generator(seed: 1))
        for token in sampled {
            let l = try lastLogits(model, prefix)
            let top3 = l.indices.sorted { l[$0] > l[$1] }.prefix(3)
            #expect(top3.contains(token))
            prefix.append(token)
        }
    }

    @Test func badRequestsThrow() throws {
        let model = try tinyModel()
        expectTensorError("generate") { try model.generate([]) }
        expectTensorError("generate") { try model.generate([29]) }
        expectTensorError("generate") { try model.generate([1], options: GenerationOptions(topP: 0)) }
        expectTensorError("generate") { try model.generate([1], options: GenerationOptions(temperature: -1)) }
        // the context is bounded by max_position_embeddings
        #expect(try model.generate(Array(repeating: 1, count: 30), options: GenerationOptions(maxNewTokens: 10)).count == 2)
        let cache = KVCache(layers: 3)
        expectTensorError("DecoderModel") { try model(ids([1]), cache: cache) }
    }
}
