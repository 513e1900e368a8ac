// LoRATests: LoRA/QLoRA per the spec (§4.3): starts equal to the base, trains only A and B,
// scaling alpha/r or alpha/√r, merge/unmerge, and HF peft's adapter layout both ways (a file
// the test writes with peft's documented key names loads; a saved adapter reads back).

import Foundation
import TesseraIO
import TesseraTestSupport
import Testing

@testable import TesseraMethods
@testable import TesseraNN
@testable import TesseraTensor

@Suite struct LoRATests {
    func tempDirectory() -> String {
        NSTemporaryDirectory() + "/tessera-lora-\(UInt32.random(in: 0...UInt32.max))"
    }

    @Test func wrapStartsAtTheBaseAndTrainsOnlyTheAdapters() throws {
        let model = try tinyDecoder()
        let ids = try Tensor.randint(0, 20, [2, 6], generator: Generator(seed: 3))
        let before = try floats(model(ids).logits)
        let lora = try LoRAModel(wrapping: model, config: LoRAConfig(rank: 2, alpha: 16, dropout: 0.1))
        #expect(lora.layers.count == 14)
        #expect(model.trainableParameterCount == lora.trainableCount)
        #expect(lora.trainableCount == 2 * (2 * (16 + 16) + 2 * (16 + 8) + 2 * (16 + 24) + (24 + 16)) * 2)
        model.eval()
        #expect(zip(before, try floats(model(ids).logits)).allSatisfy { abs($0 - $1) < 1e-5 })
        let a = try floats(lora.layers[0].layer.loraA.weight)
        #expect(a.allSatisfy { abs($0) <= 1 / Float(16).squareRoot() } && a.contains { $0 != 0 })
        #expect(lora.layers[0].layer.scaling == 8)
        let rs = try LoRALinear(base: Linear(4, 4), rank: 4, alpha: 8, useRSLoRA: true)
        #expect(rs.scaling == 4)
        expectTensorError("lora.wrap") { try LoRALinear(base: Linear(4, 4), rank: 0, alpha: 8) }
        expectTensorError("lora.wrap") { try LoRAModel(wrapping: try tinyDecoder(), config: LoRAConfig(targets: ["nothing"])) }
    }

    @Test func mergeUnmergeAndMergeAndUnload() throws {
        let model = try tinyDecoder()
        let ids = try Tensor.randint(0, 20, [1, 5], generator: Generator(seed: 3))
        let lora = try LoRAModel(wrapping: model, config: LoRAConfig(rank: 2, alpha: 4))
        for (_, l) in lora.layers {
            _ = try l.loraB.weight.detach().copy_(Tensor.randn(l.loraB.weight.shape, generator: Generator(seed: 5)).mul(0.1))
        }
        let adapted = try floats(model(ids).logits)
        let l0 = lora.layers[0].layer
        let w0 = try floats((l0.base as! Linear).weight)
        try l0.merge()
        #expect(zip(adapted, try floats(model(ids).logits)).allSatisfy { abs($0 - $1) < 1e-4 })
        try l0.unmerge()
        #expect(zip(w0, try floats((l0.base as! Linear).weight)).allSatisfy { abs($0 - $1) < 1e-6 })
        try lora.mergeAndUnload()
        #expect(zip(adapted, try floats(model(ids).logits)).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    @Test func peftLayoutRoundTrip() throws {
        let dir = tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try tinyDecoder()
        let lora = try LoRAModel(wrapping: model, config: LoRAConfig(rank: 2, alpha: 16, targets: ["q_proj", "v_proj"]))
        for (_, l) in lora.layers { _ = try l.loraB.weight.detach().copy_(Tensor.randn(l.loraB.weight.shape, generator: Generator(seed: 7))) }
        try lora.save(to: dir)
        let file = try SafetensorsFile(path: dir + "/adapter_model.safetensors")
        #expect(Set(file.names).contains("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight"))
        #expect(file.names.count == 8)
        let other = try LoRAModel.load(from: dir, into: try tinyDecoder())
        #expect(other.config == lora.config)
        for ((_, a), (_, b)) in zip(lora.layers, other.layers) { #expect(try floats(a.loraB.weight) == floats(b.loraB.weight)) }
    }

    @Test func readsAnAdapterWrittenWithPeftKeyNames() throws {
        let dir = tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // as peft's save_pretrained writes them: adapter name stripped, f32, metadata format pt
        let config =
            #"{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "lora_dropout": 0.05, "target_modules": ["o_proj"], "bias": "none", "task_type": "CAUSAL_LM"}"#
        try config.write(toFile: dir + "/adapter_config.json", atomically: true, encoding: .utf8)
        var tensors: [String: Tensor] = [:]
        for layer in 0..<2 {
            tensors["base_model.model.model.layers.\(layer).self_attn.o_proj.lora_A.weight"] = try Tensor.full([4, 16], 0.5)
            tensors["base_model.model.model.layers.\(layer).self_attn.o_proj.lora_B.weight"] = try Tensor.full([16, 4], 0.25)
        }
        try Safetensors.save(tensors, metadata: ["format": "pt"], to: dir + "/adapter_model.safetensors")
        let model = try tinyDecoder()
        let lora = try LoRAModel.load(from: dir, into: model)
        #expect(lora.config.rank == 4 && lora.config.alpha == 8 && lora.layers.count == 2)
        // ΔW = B A · alpha/r = 0.25·0.5·4·2 everywhere
        #expect(try floats(lora.layers[1].layer.deltaWeight()).allSatisfy { abs($0 - 1) < 1e-6 })
        tensors.removeValue(forKey: "base_model.model.model.layers.1.self_attn.o_proj.lora_B.weight")
        try Safetensors.save(tensors, metadata: ["format": "pt"], to: dir + "/adapter_model.safetensors")
        expectTensorError("lora.load") { try LoRAModel.load(from: dir, into: try tinyDecoder()) }
    }

    @Test func qloraOverNF4() throws {
        let model = try tinyDecoder()
        let replaced = try model.quantizeNF4(targets: .llama)
        #expect(replaced.count == 14)
        let lora = try LoRAModel(wrapping: model, config: LoRAConfig(rank: 2, alpha: 16))
        let ids = try Tensor.randint(0, 20, [2, 6], generator: Generator(seed: 3))
        let loss = try lmLoss(model, ids)
        try loss.backward()
        #expect(lora.layers.allSatisfy { (try? $0.layer.loraB.weight.grad) != nil })
        expectTensorError("merge") { try lora.layers[0].layer.merge() }
    }
}
