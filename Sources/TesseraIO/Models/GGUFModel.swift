// GGUFModel: a llama.cpp GGUF file of a LLaMA-family model -> DecoderForCausalLM. The config comes
// from the `llama.*` metadata, tensor names are mapped to Hugging Face's, weights are dequantised
// to f32, and the rows of the query and key projections are put back in Hugging Face's order:
// llama.cpp's converter interleaves each head's two rotary halves (its RoPE rotates adjacent
// pairs), Tessera rotates halves as transformers does.

import Foundation
import TesseraNN
import TesseraTensor

extension Pretrained {
    /// `quantized`: the projections stored in quantised blocks become QuantizedLinear layers
    /// that keep them so (the embeddings and norms are dequantised).
    static func loadGGUF(_ path: String, quantized: Bool = false, start: Date) throws -> PretrainedModel {
        let file = try GGUFFile(path: path)
        let config = try llamaConfig(file)
        let decoderConfig = try DecoderConfig(huggingFace: config)
        let model = try Module.withoutInitialization { try DecoderForCausalLM(decoderConfig) }
        var weights: [String: Tensor] = [:]
        var kept: [String] = []
        for info in file.tensors {
            guard let name = llamaName(fromGGUF: info.name) else { continue }
            let linear = name.hasPrefix("model.layers.") && name.hasSuffix("_proj.weight")
            if quantized && linear && info.type.blockElements > 1 && info.dimensions.count == 2 {
                var matrix = try file.quantizedMatrix(info.name)
                if name.hasSuffix("q_proj.weight") { matrix = try unpermuteRotaryRows(matrix, heads: decoderConfig.numAttentionHeads) }
                if name.hasSuffix("k_proj.weight") { matrix = try unpermuteRotaryRows(matrix, heads: decoderConfig.numKeyValueHeads) }
                let path = String(name.dropLast(".weight".count))
                try model.replaceModule(at: path, with: QuantizedLinear(matrix))
                kept.append(name)
                continue
            }
            var t = try file.tensor(info.name)
            if name.hasSuffix("q_proj.weight") { t = try unpermuteRotaryRows(t, heads: decoderConfig.numAttentionHeads) }
            if name.hasSuffix("k_proj.weight") { t = try unpermuteRotaryRows(t, heads: decoderConfig.numKeyValueHeads) }
            weights[name] = t
        }
        if decoderConfig.tieWordEmbeddings { weights["lm_head.weight"] = nil }
        var report = try model.loadStateDict(weights, strict: false)
        report.loaded = (report.loaded + kept).sorted()
        try initializeMissing(model, report, config)
        model.eval()
        return PretrainedModel(
            module: model, architecture: "LlamaForCausalLM", config: config, report: report, path: path,
            seconds: Date().timeIntervalSince(start))
    }

    /// config.json's keys from the GGUF metadata of a llama-architecture file
    static func llamaConfig(_ file: GGUFFile) throws -> [String: Any] {
        let arch = file.metadata["general.architecture"]?.string ?? "?"
        guard arch == "llama" else {
            throw PretrainedLoadError.unreadable(
                file.path, "GGUF architecture '\(arch)' is not supported (Tessera loads 'llama': LLaMA, SmolLM2, ...)")
        }
        func int(_ key: String) throws -> Int {
            guard let v = file.metadata["llama." + key]?.int else {
                throw PretrainedLoadError.unreadable(file.path, "metadata llama.\(key) is missing")
            }
            return v
        }
        let hidden = try int("embedding_length"), heads = try int("attention.head_count")
        let vocab =
            file.metadata["llama.vocab_size"]?.int ?? file.metadata["tokenizer.ggml.tokens"]?.array?.count
            ?? (try? file.info("token_embd.weight").shape[0]) ?? 0
        var config: [String: Any] = [
            "model_type": "llama", "vocab_size": vocab, "hidden_size": hidden,
            "num_hidden_layers": try int("block_count"), "num_attention_heads": heads,
            "num_key_value_heads": file.metadata["llama.attention.head_count_kv"]?.int ?? heads,
            "intermediate_size": try int("feed_forward_length"),
            "max_position_embeddings": file.metadata["llama.context_length"]?.int ?? 2048,
            "rms_norm_eps": file.metadata["llama.attention.layer_norm_rms_epsilon"]?.double ?? 1e-5,
            "rope_theta": file.metadata["llama.rope.freq_base"]?.double ?? 10_000,
            "tie_word_embeddings": !file.tensors.contains { $0.name == "output.weight" },
        ]
        if let hd = file.metadata["llama.attention.key_length"]?.int, hd != hidden / max(heads, 1) { config["head_dim"] = hd }
        for (key, gguf) in [("bos_token_id", "bos_token_id"), ("eos_token_id", "eos_token_id"), ("pad_token_id", "padding_token_id")] {
            if let v = file.metadata["tokenizer.ggml." + gguf]?.int { config[key] = v }
        }
        return config
    }

    /// unpermuteRotaryRows for a matrix kept in its blocks: rows are whole blocks, so they move as
    /// bytes.
    static func unpermuteRotaryRows(_ w: QuantizedMatrix, heads: Int) throws -> QuantizedMatrix {
        guard heads > 0, w.rows % (2 * heads) == 0 else {
            throw TensorError("gguf", "cannot split a \(w.rows)-row projection into \(heads) rotary heads")
        }
        let (hd, half, size) = (w.rows / heads, w.rows / heads / 2, w.rowBytes)
        let source = w.bytes
        var out = [UInt8](repeating: 0, count: source.count)
        for h in 0..<heads {
            for j in 0..<2 {
                for i in 0..<half {
                    let from = (h * hd + i * 2 + j) * size, to = (h * hd + j * half + i) * size
                    out[to..<(to + size)] = source[from..<(from + size)]
                }
            }
        }
        return try QuantizedMatrix(type: w.type, rows: w.rows, columns: w.columns, bytes: out)
    }

    /// (heads·hd, D) in llama.cpp's order -> Hugging Face's: within each head, row 2i + j of the
    /// GGUF tensor is row j·hd/2 + i of transformers' (the inverse of the converter's permute).
    static func unpermuteRotaryRows(_ w: Tensor, heads: Int) throws -> Tensor {
        guard w.rank == 2, heads > 0, w.shape[0] % (2 * heads) == 0 else {
            throw TensorError("gguf", "cannot split a \(w.shape) projection into \(heads) rotary heads")
        }
        let (rows, d) = (w.shape[0], w.shape[1])
        let half = rows / heads / 2
        return try w.reshape([heads, half, 2, d]).transpose(1, 2).contiguous().reshape([rows, d])
    }
}
