// ModelConfigTests: EncoderConfig and DecoderConfig from Swift values, from config.json text as
// JSONSerialization reads it, and the errors for missing, mistyped and unsupported keys.

import Foundation
import Testing
@testable import TesseraTensor
@testable import TesseraNN

/// a config dictionary as JSONSerialization gives it
private func json(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

@Suite struct ModelConfigTests {
    @Test func encoderFromConfigJSON() throws {
        let bert = try EncoderConfig(
            huggingFace: json(
                """
                {"architectures": ["BertForMaskedLM"], "model_type": "bert", "vocab_size": 30522, "hidden_size": 768,
                 "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072, "hidden_act": "gelu",
                 "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12, "pad_token_id": 0,
                 "hidden_dropout_prob": 0.1, "transformers_version": "4.6.0.dev0"}
                """))
        #expect(
            bert
                == (try EncoderConfig(
                    vocabSize: 30522, hiddenSize: 768, numHiddenLayers: 12, numAttentionHeads: 12,
                    intermediateSize: 3072)))
        #expect(bert.headDim == 64 && bert.positionIDs == .fromZero)
        let xlmr = try EncoderConfig(
            huggingFace: json(
                """
                {"model_type": "xlm-roberta", "vocab_size": 250002, "hidden_size": 768, "num_hidden_layers": 12,
                 "num_attention_heads": 12, "intermediate_size": 3072, "max_position_embeddings": 514,
                 "type_vocab_size": 1, "layer_norm_eps": 1e-05, "pad_token_id": 1, "bos_token_id": 0}
                """))
        #expect(xlmr.positionIDs == .afterPadding && xlmr.padTokenId == 1 && xlmr.layerNormEps == 1e-5)
        // Swift values work as well as NSNumbers
        let swift = try EncoderConfig(huggingFace: [
            "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1,
            "num_attention_heads": 2, "intermediate_size": 16, "layer_norm_eps": 1e-5,
        ])
        #expect(swift.hiddenSize == 8 && swift.layerNormEps == 1e-5)
    }

    @Test func decoderFromConfigJSON() throws {
        let tiny = try DecoderConfig(
            huggingFace: json(
                """
                {"model_type": "llama", "vocab_size": 32000, "hidden_size": 2048, "intermediate_size": 5632,
                 "num_hidden_layers": 22, "num_attention_heads": 32, "num_key_value_heads": 4, "hidden_act": "silu",
                 "max_position_embeddings": 2048, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "rope_scaling": null,
                 "tie_word_embeddings": false, "pad_token_id": null, "torch_dtype": "float32"}
                """))
        #expect(tiny.numKeyValueHeads == 4 && tiny.headDim == 64 && tiny.padTokenId == nil && !tiny.tieWordEmbeddings)
        #expect(tiny.rmsNormEps == 1e-5 && tiny.ropeTheta == 10_000)
        let mha = try DecoderConfig(huggingFace: [
            "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1,
            "num_attention_heads": 2, "intermediate_size": 16,
            "tie_word_embeddings": true, "pad_token_id": Int?.none as Any,
        ])
        #expect(mha.numKeyValueHeads == 2 && mha.tieWordEmbeddings && mha.padTokenId == nil)
    }

    @Test func badConfigsThrowNamingTheKey() throws {
        let base: [String: Any] = [
            "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1,
            "num_attention_heads": 2, "intermediate_size": 16,
        ]
        func without(_ key: String) -> [String: Any] { base.filter { $0.key != key } }
        func with(_ key: String, _ value: Any) -> [String: Any] { base.merging([key: value]) { $1 } }
        func expectMessage(
            _ op: String, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation,
            _ body: () throws -> Any
        ) {
            do {
                _ = try body()
                Issue.record("expected an error mentioning \(fragment)", sourceLocation: sourceLocation)
            } catch let e as TensorError {
                #expect(e.op == op && e.message.contains(fragment), "\(e)", sourceLocation: sourceLocation)
            } catch {
                Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
            }
        }
        for key in ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size"] {
            expectMessage("EncoderConfig", key) { try EncoderConfig(huggingFace: without(key)) }
            expectMessage("DecoderConfig", key) { try DecoderConfig(huggingFace: without(key)) }
        }
        expectMessage("EncoderConfig", "hidden_size") { try EncoderConfig(huggingFace: with("hidden_size", "big")) }
        expectMessage("EncoderConfig", "hidden_size") { try EncoderConfig(huggingFace: with("hidden_size", 7.5)) }
        expectMessage("EncoderConfig", "hidden_act") { try EncoderConfig(huggingFace: with("hidden_act", "swoosh")) }
        expectMessage("EncoderConfig", "position_embedding_type") {
            try EncoderConfig(huggingFace: with("position_embedding_type", "relative_key"))
        }
        expectMessage("EncoderConfig", "split") { try EncoderConfig(huggingFace: with("num_attention_heads", 3)) }
        expectMessage("EncoderConfig", "pad_token_id") { try EncoderConfig(huggingFace: with("pad_token_id", 10)) }
        expectMessage("DecoderConfig", "num_key_value_heads") { try DecoderConfig(huggingFace: with("num_key_value_heads", 3)) }
        expectMessage("DecoderConfig", "rope_scaling") {
            try DecoderConfig(huggingFace: with("rope_scaling", ["type": "linear", "factor": 2.0]))
        }
        expectMessage("DecoderConfig", "tie_word_embeddings") { try DecoderConfig(huggingFace: with("tie_word_embeddings", "yes")) }
        expectMessage("DecoderConfig", "head_dim") {
            try DecoderConfig(vocabSize: 10, hiddenSize: 6, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 4)
        }
    }
}
