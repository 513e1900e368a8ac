// LoRA: puts LoRALinear on a model's target layers (everything else frozen), merges them, and
// reads and writes Hugging Face peft's adapter layout, so adapters move between peft and
// Tessera: a directory with
//   adapter_config.json        {"peft_type": "LORA", "r", "lora_alpha", "lora_dropout",
//                               "target_modules", "use_rslora", "bias": "none", ...}
//   adapter_model.safetensors  base_model.model.<module path>.lora_A.weight (r, in)
//                              base_model.model.<module path>.lora_B.weight (out, r)
// (peft strips the adapter name when saving; keys with `.lora_A.default.weight` are read too).

import Foundation
import TesseraIO
import TesseraNN
import TesseraTensor

public struct LoRAConfig: Sendable, Equatable {
    public var rank: Int
    public var alpha: Double
    public var dropout: Double
    public var useRSLoRA: Bool
    public var targets: [String]

    /// peft's LoraConfig defaults: r 8, alpha 8, dropout 0
    public init(rank: Int = 8, alpha: Double = 8, dropout: Double = 0, useRSLoRA: Bool = false, targets: [String] = TargetModules.llama.names) {
        (self.rank, self.alpha, self.dropout, self.useRSLoRA, self.targets) = (rank, alpha, dropout, useRSLoRA, targets)
    }
}

public final class LoRAModel {
    public let model: Module
    public let config: LoRAConfig
    public let layers: [(path: String, layer: LoRALinear)]

    /// Wraps every target Linear / QuantizedLinear / NF4Linear of `model` and freezes the rest.
    public init(wrapping model: Module, config: LoRAConfig, generator: Generator = .shared) throws {
        let selected = TargetModules(config.targets).select(in: model).filter { SparseDeltaLinear.features(of: $0.module) != nil }
        guard !selected.isEmpty else { throw TensorError("lora.wrap", "no Linear layer matches the targets \(config.targets)") }
        _ = try model.freeze()
        var layers: [(String, LoRALinear)] = []
        for (path, base) in selected {
            let l = try LoRALinear(
                base: base, rank: config.rank, alpha: config.alpha, dropout: config.dropout, useRSLoRA: config.useRSLoRA, generator: generator)
            try model.replaceModule(at: path, with: l)
            layers.append((path, l))
        }
        (self.model, self.config, self.layers) = (model, config, layers)
    }

    /// Σ r·(in + out): the trainable count
    public var trainableCount: Int { layers.reduce(0) { $0 + $1.layer.rank * ($1.layer.inFeatures + $1.layer.outFeatures) } }

    /// lora_A and lora_B of every layer by their peft key
    public func adapterTensors() throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (path, l) in layers {
            out["base_model.model.\(path).lora_A.weight"] = try l.loraA.weight.detach()
            out["base_model.model.\(path).lora_B.weight"] = try l.loraB.weight.detach()
        }
        return out
    }

    /// Writes `directory`/adapter_config.json and adapter_model.safetensors (created if missing;
    /// each file written to a temporary name and renamed).
    public func save(to directory: String, baseModel: String = "") throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let json: [String: Any] = [
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": config.rank, "lora_alpha": config.alpha, "lora_dropout": config.dropout,
            "target_modules": config.targets, "use_rslora": config.useRSLoRA, "bias": "none", "fan_in_fan_out": false,
            "init_lora_weights": true, "inference_mode": true, "base_model_name_or_path": baseModel,
        ]
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        let configPath = directory + "/adapter_config.json"
        try data.write(to: URL(fileURLWithPath: configPath + ".tmp"))
        try Safetensors.save(adapterTensors(), metadata: ["format": "pt"], to: directory + "/adapter_model.safetensors.tmp")
        for name in ["adapter_config.json", "adapter_model.safetensors"] {
            let path = directory + "/" + name
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: path + ".tmp", toPath: path)
        }
    }

    /// Reads a peft LoRA directory's config.
    public static func readConfig(_ directory: String) throws -> LoRAConfig {
        let path = directory + "/adapter_config.json"
        guard let data = FileManager.default.contents(atPath: path),
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { throw TensorError("lora.load", "cannot read a JSON object from \(path)") }
        guard (json["peft_type"] as? String)?.uppercased() == "LORA" else {
            throw TensorError("lora.load", "\(path) is not a LoRA adapter (peft_type \(json["peft_type"] ?? "missing"))")
        }
        guard let r = (json["r"] as? NSNumber)?.intValue else { throw TensorError("lora.load", "\(path) has no rank 'r'") }
        let targets: [String]
        if let list = json["target_modules"] as? [String] {
            targets = list
        } else if let one = json["target_modules"] as? String {
            targets = [one]
        } else {
            throw TensorError("lora.load", "\(path) has no target_modules list")
        }
        return LoRAConfig(
            rank: r, alpha: (json["lora_alpha"] as? NSNumber)?.doubleValue ?? Double(r),
            dropout: (json["lora_dropout"] as? NSNumber)?.doubleValue ?? 0,
            useRSLoRA: (json["use_rslora"] as? Bool) ?? false, targets: targets)
    }

    /// Wraps `model` as the directory's config says and loads its A and B.
    public static func load(from directory: String, into model: Module) throws -> LoRAModel {
        let lora = try LoRAModel(wrapping: model, config: readConfig(directory))
        let file = try SafetensorsFile(path: directory + "/adapter_model.safetensors")
        let names = Set(file.names)
        for (path, l) in lora.layers {
            for (part, linear) in [("lora_A", try l.loraA), ("lora_B", try l.loraB)] {
                let key = ["base_model.model.\(path).\(part).weight", "base_model.model.\(path).\(part).default.weight"].first { names.contains($0) }
                guard let key else { throw TensorError("lora.load", "the adapter has no \(part) for '\(path)'") }
                let t = try file.tensor(key).to(.f32)
                let w = try linear.weight
                guard t.shape == w.shape else {
                    throw TensorError("lora.load", "'\(key)' has shape \(t.shape), the layer needs \(w.shape)")
                }
                _ = try noGrad { try w.copy_(t) }
            }
        }
        return lora
    }

    /// Replaces every LoRA layer by a Linear holding W0 + B A · scaling. Returns the model.
    @discardableResult
    public func mergeAndUnload() throws -> Module {
        for (path, l) in layers {
            let bias = (l.base as? Linear)?.bias ?? (l.base as? QuantizedLinear)?.bias ?? (l.base as? NF4Linear)?.bias
            try model.replaceModule(at: path, with: Linear(weight: l.mergedWeight(), bias: bias?.detach()))
        }
        return model
    }
}
