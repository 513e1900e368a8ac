// CheckpointNames: the names a checkpoint gives its tensors -> the names of Tessera's modules.
// Tessera's encoders use BERT's names (`bert.*`, `cls.predictions.*`), its decoders LLaMA's
// (`model.*`, `lm_head`); XLM-R / RoBERTa checkpoints (`roberta.*`, `lm_head.*`), bare encoders
// saved with or without their prefix, old `gamma`/`beta` LayerNorm names and llama.cpp's GGUF
// names (`blk.N.attn_q`) are renamed here.

/// Renames for encoder checkpoints (BERT, RoBERTa, XLM-R). `prefixed`: whether the target
/// model keeps its encoder under `bert.` (models with a head) or is a bare encoder.
func encoderName(_ name: String, prefixed: Bool) -> String {
    var n = name
    for old in ["roberta.", "xlm_roberta.", "bert.", "model."] where n.hasPrefix(old) {
        n = String(n.dropFirst(old.count))
        break
    }
    // the masked-LM heads: RoBERTa's lm_head.{dense, layer_norm, decoder, bias}
    let heads: [(String, String)] = [
        ("lm_head.dense.", "cls.predictions.transform.dense."),
        ("lm_head.layer_norm.", "cls.predictions.transform.LayerNorm."),
        ("lm_head.decoder.bias", "cls.predictions.bias"),
        ("lm_head.decoder.", "cls.predictions.decoder."),
        ("lm_head.bias", "cls.predictions.bias"),
    ]
    for (old, new) in heads where n.hasPrefix(old) { return new + n.dropFirst(old.count) }
    if n.hasPrefix("cls.") || n.hasPrefix("classifier.") { return fixLayerNorm(n) }
    n = fixLayerNorm(n)
    return prefixed ? "bert." + n : n
}

/// TF-era BERT checkpoints call LayerNorm's parameters gamma and beta.
private func fixLayerNorm(_ n: String) -> String {
    if n.hasSuffix("LayerNorm.gamma") { return n.dropLast("gamma".count) + "weight" }
    if n.hasSuffix("LayerNorm.beta") { return n.dropLast("beta".count) + "bias" }
    return n
}

/// Checkpoint entries that are not weights (buffers transformers saves and recomputes).
func isIgnorableCheckpointEntry(_ name: String) -> Bool {
    name.hasSuffix("position_ids") || name.hasSuffix("rotary_emb.inv_freq") || name.hasSuffix("masked_bias")
        || name.hasSuffix("attn.bias")
}

/// llama.cpp's GGUF tensor names -> Hugging Face LlamaForCausalLM names (nil: not a LLaMA weight).
func llamaName(fromGGUF name: String) -> String? {
    switch name {
    case "token_embd.weight": return "model.embed_tokens.weight"
    case "output_norm.weight": return "model.norm.weight"
    case "output.weight": return "lm_head.weight"
    default: break
    }
    guard name.hasPrefix("blk.") else { return nil }
    let parts = name.split(separator: ".", maxSplits: 2)
    guard parts.count == 3, let layer = Int(parts[1]) else { return nil }
    let map = [
        "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
        "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
        "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
        "ffn_down": "mlp.down_proj",
    ]
    let rest = parts[2].split(separator: ".", maxSplits: 1)
    guard rest.count == 2, let module = map[String(rest[0])] else { return nil }
    return "model.layers.\(layer).\(module).\(rest[1])"
}
