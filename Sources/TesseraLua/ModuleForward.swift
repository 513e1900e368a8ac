// ModuleForward: `m(x, ...)` for every layer class. Plain layers take one tensor; attention takes
// masking options; encoders and decoders take token ids (B, T) and options, and return their
// outputs as a Lua table named as Hugging Face's (last_hidden_state, hidden_states, attentions,
// pooled), after the logits for the models with a head.

import CLua
import LuaShim
import TesseraNN
import TesseraTensor

/// the forward pass of the module at argument 1 on the arguments after it; pushes the results
func moduleForward(_ s: LuaStack) throws -> Int32 {
    let fn = "forward"
    let m = try s.checkModule(1, fn)
    let x = try s.checkTensor(2, fn)
    let encoderOptions = ["attention_mask", "token_type_ids", "return_attentions"]
    func encoderCall(_ opts: LuaOptions) throws -> (mask: Tensor?, types: Tensor?, attentions: Bool) {
        (try opts.tensor("attention_mask"), try opts.tensor("token_type_ids"), try opts.bool("return_attentions") ?? false)
    }
    return try withHookState(s) {
        switch m {
        case let a as MultiHeadAttention:
            let opts = try s.options(3, fn, allowed: ["attention_mask", "causal", "return_probabilities"])
            let probs = try opts.bool("return_probabilities") ?? false
            let r = try a(
                x, paddingMask: try opts.tensor("attention_mask"), causal: try opts.bool("causal"),
                returnProbabilities: probs)
            s.push(r.output)
            if let p = r.probabilities { s.push(p); return 2 }
            return 1
        case let e as EncoderModel:
            let o = try encoderCall(try s.options(3, fn, allowed: encoderOptions))
            s.push(try e(x, attentionMask: o.mask, tokenTypeIds: o.types, returnAttentions: o.attentions))
            return 1
        case let e as any EncoderWithHead:
            let o = try encoderCall(try s.options(3, fn, allowed: encoderOptions))
            let r = try e(x, attentionMask: o.mask, tokenTypeIds: o.types, returnAttentions: o.attentions)
            s.push(r.logits)
            s.push(r.encoder)
            return 2
        case let d as DecoderModel:
            let opts = try s.options(3, fn, allowed: ["attention_mask", "return_attentions"])
            s.push(
                try d(
                    x, attentionMask: try opts.tensor("attention_mask"),
                    returnAttentions: try opts.bool("return_attentions") ?? false))
            return 1
        case let d as DecoderForCausalLM:
            let opts = try s.options(3, fn, allowed: ["attention_mask", "return_attentions"])
            let r = try d(
                x, attentionMask: try opts.tensor("attention_mask"),
                returnAttentions: try opts.bool("return_attentions") ?? false)
            s.push(r.logits)
            s.push(r.decoder)
            return 2
        default:
            guard s.isNoneOrNil(3) else {
                throw LuaError.argument(3, fn, "\(m.typeName) takes one input tensor, got a \(s.typeName(3)) after it")
            }
            s.push(try m(x))
            return 1
        }
    }
}

extension LuaStack {
    /// a sequence of tensors
    func push(list: [Tensor]) {
        lua_createtable(L, Int32(list.count), 0)
        for (k, t) in list.enumerated() {
            push(t)
            lua_rawseti(L, -2, lua_Integer(k + 1))
        }
    }

    /// {last_hidden_state=, hidden_states={...}, attentions={...}, pooled=}
    func push(_ e: EncoderOutput) {
        lua_createtable(L, 0, 4)
        push(e.lastHiddenState)
        lua_setfield(L, -2, "last_hidden_state")
        push(list: e.hiddenStates)
        lua_setfield(L, -2, "hidden_states")
        push(list: e.attentions)
        lua_setfield(L, -2, "attentions")
        if let p = e.pooled {
            push(p)
            lua_setfield(L, -2, "pooled")
        }
    }

    /// {last_hidden_state=, hidden_states={...}, attentions={...}}
    func push(_ d: DecoderOutput) {
        lua_createtable(L, 0, 3)
        push(d.lastHiddenState)
        lua_setfield(L, -2, "last_hidden_state")
        push(list: d.hiddenStates)
        lua_setfield(L, -2, "hidden_states")
        push(list: d.attentions)
        lua_setfield(L, -2, "attentions")
    }
}
