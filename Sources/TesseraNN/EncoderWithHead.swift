// EncoderWithHead: the shared call of the encoder models with a task head (masked LM, token and
// sequence classification): run the `bert` encoder, apply the head, run the hooks.

import TesseraTensor

/// An encoder (`bert.*`) with a task head on top.
public protocol EncoderWithHead: Module {
    /// the head's logits from the encoder's output
    func head(_ encoded: EncoderOutput) throws -> Tensor
}

extension EncoderWithHead {
    /// ids (B, T) -> the head's logits and the encoder's output
    public func callAsFunction(
        _ ids: Tensor, attentionMask: Tensor? = nil, tokenTypeIds: Tensor? = nil,
        returnAttentions: Bool = false
    ) throws -> (logits: Tensor, encoder: EncoderOutput) {
        let e = try child("bert", as: EncoderModel.self)(
            ids, attentionMask: attentionMask, tokenTypeIds: tokenTypeIds,
            returnAttentions: returnAttentions)
        return (try runForwardHooks(head(e)), e)
    }
}
