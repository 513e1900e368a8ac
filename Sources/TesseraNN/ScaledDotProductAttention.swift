// ScaledDotProductAttention: the attention arithmetic every attention layer shares, given
// per-head queries, keys and values: softmax(q kᵀ / √hd, masked) v, with grouped-query heads
// (each group of H/KV query heads shares one key/value head, as in LLaMA's repeat_kv).

import TesseraTensor

/// bool (B or 1, 1, T or 1, P + T): true where a query may not see a key; nil when nothing is
/// masked. `paddingMask` (B, P + T) marks real tokens with true / non-zero (Hugging Face's
/// attention_mask); `causal` also hides every key after its query. `pastLength` P is the number
/// of cached keys before the T new queries (decoding with a KV cache): query i sits at P + i.
public func attentionBlockMask(
    batch b: Int, length t: Int, paddingMask: Tensor?, causal: Bool, pastLength p: Int = 0,
    op: String = "attention"
) throws -> Tensor? {
    var blocked: Tensor?
    let keys = p + t
    if let m = paddingMask {
        guard m.shape == [b, keys] else {
            throw TensorError(op, "padding mask has shape \(dimsString(m.shape)), expected \(b)x\(keys)")
        }
        blocked = try m.eq(0).reshape([b, 1, 1, keys])
    }
    if causal {
        let key = try Tensor.arange(0, Double(keys), dtype: .i64)
        let query = try Tensor.arange(Double(p), Double(keys), dtype: .i64)
        // key j after query i
        let future = try key.reshape([1, keys]).gt(query.reshape([t, 1])).reshape([1, 1, t, keys])
        blocked = try blocked.map { try $0.logicalOr(future) } ?? future
    }
    return blocked
}

/// q (B, H, T, hd), k and v (B, KV, S, hd) with H a multiple of KV (S = T, or more keys than
/// queries when decoding with a cache), `blocked` from attentionBlockMask -> context (B, T, H·hd)
/// and probabilities (B, H, T, S), rows summing to 1 over the keys.
/// `dropout` (training only) acts on the probabilities used for the context, not the ones returned.
public func scaledDotProductAttention(
    _ q: Tensor, _ k: Tensor, _ v: Tensor, blocked: Tensor?,
    dropout: Dropout? = nil
) throws -> (context: Tensor, probabilities: Tensor) {
    guard q.rank == 4, k.rank == 4, v.shape == k.shape, q.shape[0] == k.shape[0], q.shape[3] == k.shape[3],
        k.shape[1] > 0, q.shape[1] % k.shape[1] == 0
    else {
        throw TensorError(
            "attention",
            "expects q (B, H, T, hd) and k, v (B, KV, S, hd) with H a multiple of KV, got \(dimsString(q.shape)), \(dimsString(k.shape)), \(dimsString(v.shape))"
        )
    }
    let (b, h, t, hd, kvHeads, s) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3], k.shape[1], k.shape[2])
    // grouped-query heads without copying k and v per query head: the rep query heads of a group
    // are consecutive, so q (B, H, T, hd) is q (B, KV, rep·T, hd) and each group is one product
    // with its shared key/value head (B·KV products of rep·T rows instead of B·H of T)
    let rep = h / kvHeads
    let grouped = rep == 1 ? q : try q.contiguous().reshape([b, kvHeads, rep * t, hd])
    // q kᵀ (B, KV, rep·T, S) -> scores (B, H, T, S)
    var scores = try grouped.matmul(k.transpose(-1, -2)).reshape([b, h, t, s]).mul(1 / Double(hd).squareRoot())
    if let blocked {
        let lowest = scores.dtype == .f32 ? -Double(Float.greatestFiniteMagnitude) : -Double.greatestFiniteMagnitude
        scores = try scores.maskedFill(blocked, lowest)
    }
    let probs = try scores.softmax(-1)
    let attended = try dropout.map { try $0(probs) } ?? probs
    // (B, KV, rep·T, S) @ v (B, KV, S, hd) -> (B, H, T, hd) -> (B, T, H·hd)
    let context = try attended.reshape([b, kvHeads, rep * t, s]).matmul(v).reshape([b, h, t, hd]).transpose(1, 2).reshape([b, t, h * hd])
    return (context, probs)
}
