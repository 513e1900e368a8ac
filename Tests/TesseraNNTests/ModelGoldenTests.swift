// ModelGoldenTests: the encoder (BertForMaskedLM) and decoder (LlamaForCausalLM) against the NumPy
// reference in Golden/nn.json, which scripts/golden/make_nn_golden.py writes: weights by Hugging
// Face name (loaded with a strict loadStateDict), inputs, and the expected outputs.

import Foundation
import Testing
@testable import TesseraTensor
@testable import TesseraNN

/// One model family's part of Golden/nn.json.
private struct GoldenModel {
    let config: [String: Any]
    let weights: [String: Any]
    let inputs: [String: Any]
    let expected: [String: Any]

    static func load(_ family: String) throws -> GoldenModel {
        let url = try #require(Bundle.module.url(forResource: "nn", withExtension: "json", subdirectory: "Golden"))
        let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let part = try #require(root[family] as? [String: Any])
        return GoldenModel(
            config: try #require(part["config"] as? [String: Any]),
            weights: try #require(part["weights"] as? [String: Any]),
            inputs: try #require(part["inputs"] as? [String: Any]),
            expected: try #require(part["expected"] as? [String: Any]))
    }

    /// shape and values of a stored tensor
    static func parts(_ spec: Any?) throws -> (shape: [Int], data: [Double]) {
        let s = try #require(spec as? [String: Any])
        let shape = try #require(s["shape"] as? [Int])
        let data = try #require(s["data"] as? [Any]).map { ($0 as? NSNumber)?.doubleValue ?? .nan }
        return (shape, data)
    }

    func stateDict(_ dtype: DType) throws -> [String: Tensor] {
        try weights.mapValues { spec in
            let (shape, data) = try GoldenModel.parts(spec)
            return try Tensor.from(data, shape: shape).to(dtype)
        }
    }

    func ids(_ name: String) throws -> Tensor {
        let (shape, data) = try GoldenModel.parts(inputs[name])
        return try Tensor.from(data.map { Int64($0) }, shape: shape)
    }

    func expect(
        _ name: String, _ actual: Tensor, rtol: Double, atol: Double,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let (shape, data) = try GoldenModel.parts(expected[name])
        #expect(actual.shape == shape, sourceLocation: sourceLocation)
        expectClose(actual.toDoubles(), data, rtol: rtol, atol: atol, name, sourceLocation: sourceLocation)
    }
}

@Suite struct ModelGoldenTests {
    /// (dtype, rtol, atol): f64 agrees to the 12 digits stored; f32 to ~1e-6 (checked at 1e-4)
    static let precisions: [(DType, Double, Double)] = [(.f64, 1e-9, 1e-10), (.f32, 1e-4, 1e-5)]

    @Test func encoderMatchesNumPy() throws {
        let g = try GoldenModel.load("encoder")
        let config = try EncoderConfig(huggingFace: g.config)
        for (dtype, rtol, atol) in Self.precisions {
            let model = try EncoderForMaskedLM(config, generator: Generator(seed: 1))
            try model.to(dtype)
            let report = try model.loadStateDict(g.stateDict(dtype))
            #expect(report.isClean)
            model.eval()
            let r = try model(
                g.ids("input_ids"), attentionMask: g.ids("attention_mask"),
                tokenTypeIds: g.ids("token_type_ids"), returnAttentions: true)
            #expect(r.logits.dtype == dtype)
            try g.expect("last_hidden_state", r.encoder.lastHiddenState, rtol: rtol, atol: atol)
            try g.expect("logits", r.logits, rtol: rtol, atol: atol)
            try g.expect("attentions.1", r.encoder.attentions[1], rtol: rtol, atol: atol)
            #expect(r.encoder.hiddenStates.count == 3 && r.encoder.attentions.count == 2)
        }
    }

    @Test func decoderMatchesNumPy() throws {
        let g = try GoldenModel.load("decoder")
        let config = try DecoderConfig(huggingFace: g.config)
        #expect(config.ropeTheta == 1000 && config.numKeyValueHeads == 2 && config.padTokenId == nil)
        for (dtype, rtol, atol) in Self.precisions {
            let model = try DecoderForCausalLM(config, generator: Generator(seed: 2))
            try model.to(dtype)
            #expect(try model.loadStateDict(g.stateDict(dtype)).isClean)
            model.eval()
            let r = try model(g.ids("input_ids"), attentionMask: g.ids("attention_mask"), returnAttentions: true)
            try g.expect("last_hidden_state", r.decoder.lastHiddenState, rtol: rtol, atol: atol)
            try g.expect("logits", r.logits, rtol: rtol, atol: atol)
            try g.expect("attentions.1", r.decoder.attentions[1], rtol: rtol, atol: atol)
        }
    }
}
