// NNModels: nn.Encoder, nn.Decoder and the models with heads, built from config tables with the
// keys of a Hugging Face config.json (read by EncoderConfig / DecoderConfig(huggingFace:)).

import CLua
import LuaShim
import TesseraNN
import TesseraTensor

extension LuaStack {
    /// A Lua table with string keys as a config.json dictionary: integers stay Int, other numbers
    /// Double, nested tables become dictionaries (or arrays when they are sequences).
    func configDictionary(_ i: Int32, _ fn: String) throws -> [String: Any] {
        guard lua_type(L, i) == LUA_TTABLE, tensor(at: i) == nil else {
            throw LuaError.argument(i, fn, "config table expected (the keys of a config.json), got \(typeName(i))")
        }
        guard case let dict as [String: Any] = try configValue(lua_absindex(L, i), fn, arg: i, depth: 0) else {
            throw LuaError.argument(i, fn, "config table expected with string keys, got a list")
        }
        return dict
    }

    private func configValue(_ idx: Int32, _ fn: String, arg: Int32, depth: Int) throws -> Any {
        switch lua_type(L, idx) {
        case LUA_TNUMBER:
            return lua_isinteger(L, idx) != 0 ? Int(luashim_tointeger(L, idx, nil)) : luashim_tonumber(L, idx, nil)
        case LUA_TBOOLEAN: return lua_toboolean(L, idx) != 0
        case LUA_TSTRING: return string(at: idx) ?? ""
        case LUA_TTABLE where tensor(at: idx) == nil && depth < 8:
            let n = Int(lua_rawlen(L, idx))
            if n > 0 {
                var list: [Any] = []
                for k in 1...n {
                    lua_rawgeti(L, idx, lua_Integer(k))
                    defer { lua_settop(L, -2) }
                    list.append(try configValue(lua_absindex(L, -1), fn, arg: arg, depth: depth + 1))
                }
                return list
            }
            var dict: [String: Any] = [:]
            lua_pushnil(L)
            while lua_next(L, idx) != 0 {
                defer { lua_settop(L, -2) }
                guard lua_type(L, -2) == LUA_TSTRING, let key = string(at: -2) else {
                    throw LuaError.argument(arg, fn, "config keys must be strings, got a \(typeName(-2)) key")
                }
                dict[key] = try configValue(lua_absindex(L, -1), fn, arg: arg, depth: depth + 1)
            }
            return dict
        default:
            throw LuaError.argument(arg, fn, "config values must be numbers, booleans, strings or tables, got a \(typeName(idx))")
        }
    }
}

extension LuaRuntime {
    func openModelConstructors(_ lib: LibraryBuilder) {
        let config = "local config = {vocab_size = 50, hidden_size = 16, num_hidden_layers = 2,\n  num_attention_heads = 2, intermediate_size = 32}\n"
        let ids = "local ids = tensor.from({{2, 7, 9, 0}}, {dtype = 'i64'})\n"
        let configNote = """
            config holds the keys of a Hugging Face config.json (vocab_size, hidden_size,
            num_hidden_layers, num_attention_heads, intermediate_size, ...); keys the model does
            not use are ignored, as real configs carry many. Token ids are 0-based.
            """
        func encoderConfig(_ s: LuaStack, _ fn: String) throws -> (EncoderConfig, [String: Any]) {
            let dict = try s.configDictionary(1, fn)
            return (try EncoderConfig(huggingFace: dict), dict)
        }
        func classifierDropout(_ opts: LuaOptions, _ dict: [String: Any]) throws -> Double? {
            try opts.number("classifier_dropout") ?? (dict["classifier_dropout"] as? Double) ?? (dict["classifier_dropout"] as? Int).map(Double.init)
        }
        func labels(_ s: LuaStack, _ fn: String) throws -> Int {
            let n = try s.checkInt(2, fn)
            guard n > 0 else { throw LuaError.argument(2, fn, "number of labels must be positive, got \(n)") }
            return n
        }

        lib.def(
            "Encoder", "nn.Encoder(config [, {pooler=}])", "A BERT / XLM-R encoder (HF BertModel) with a pooler unless pooler = false.",
            details: configNote
                + "\nm(ids [, {attention_mask=, token_type_ids=, return_attentions=}]) returns\n{last_hidden_state=, hidden_states={...}, attentions={...}, pooled=}.",
            example: "tensor.manual_seed(0)\n" + config + ids
                + "local out = nn.Encoder(config)(ids)\nprint(out.last_hidden_state:shape()[3], #out.hidden_states, out.pooled:shape()[2])"
        ) { s in
            let (c, _) = try encoderConfig(s, "nn.Encoder")
            let opts = try s.options(2, "nn.Encoder", allowed: ["pooler"])
            s.push(try EncoderModel(c, pooler: try opts.bool("pooler") ?? true))
            return 1
        }
        lib.def(
            "EncoderForMaskedLM", "nn.EncoderForMaskedLM(config)", "An encoder with BERT's masked-LM head (HF BertForMaskedLM).",
            details: configNote
                + "\nThe head's decoder shares the word embeddings unless config.tie_word_embeddings = false.\nm(ids [, options]) returns logits (B, T, vocab) and the encoder's output table.",
            example: "tensor.manual_seed(0)\n" + config + ids + "local logits = nn.EncoderForMaskedLM(config)(ids)\nprint(logits:shape()[3])"
        ) { s in
            let (c, dict) = try encoderConfig(s, "nn.EncoderForMaskedLM")
            s.push(try EncoderForMaskedLM(c, tieWordEmbeddings: (dict["tie_word_embeddings"] as? Bool) ?? true))
            return 1
        }
        lib.def(
            "EncoderForTokenClassification", "nn.EncoderForTokenClassification(config, num_labels [, {classifier_dropout=}])",
            "An encoder with a label per token (HF BertForTokenClassification).",
            details: configNote + "\nm(ids [, options]) returns logits (B, T, num_labels) and the encoder's output table.",
            example: "tensor.manual_seed(0)\n" + config + ids
                + "local logits = nn.EncoderForTokenClassification(config, 3)(ids)\nprint(logits:shape()[3])"
        ) { s in
            let fn = "nn.EncoderForTokenClassification"
            let (c, dict) = try encoderConfig(s, fn)
            let n = try labels(s, fn)
            let opts = try s.options(3, fn, allowed: ["classifier_dropout"])
            s.push(try EncoderForTokenClassification(c, numLabels: n, classifierDropout: try classifierDropout(opts, dict)))
            return 1
        }
        lib.def(
            "EncoderForSequenceClassification",
            "nn.EncoderForSequenceClassification(config, num_labels [, {use_pooler=, classifier_dropout=}])",
            "An encoder with a label per sequence, read from the first token (HF BertForSequenceClassification).",
            details: configNote + "\nm(ids [, options]) returns logits (B, num_labels) and the encoder's output table.",
            example: "tensor.manual_seed(0)\n" + config + ids + "local logits = nn.EncoderForSequenceClassification(config, 2)(ids)\nprint(logits)"
        ) { s in
            let fn = "nn.EncoderForSequenceClassification"
            let (c, dict) = try encoderConfig(s, fn)
            let n = try labels(s, fn)
            let opts = try s.options(3, fn, allowed: ["use_pooler", "classifier_dropout"])
            s.push(
                try EncoderForSequenceClassification(
                    c, numLabels: n, usePooler: try opts.bool("use_pooler") ?? true,
                    classifierDropout: try classifierDropout(opts, dict)))
            return 1
        }
        lib.def(
            "Decoder", "nn.Decoder(config)", "A LLaMA style decoder (HF LlamaModel).",
            details: configNote
                + "\nm(ids [, {attention_mask=, return_attentions=}]) returns\n{last_hidden_state=, hidden_states={...}, attentions={...}}.",
            example: "tensor.manual_seed(0)\n" + config + ids + "print(nn.Decoder(config)(ids).last_hidden_state:shape()[3])"
        ) { s in
            s.push(try DecoderModel(try DecoderConfig(huggingFace: try s.configDictionary(1, "nn.Decoder"))))
            return 1
        }
        lib.def(
            "DecoderForCausalLM", "nn.DecoderForCausalLM(config)", "A decoder with its language-model head (HF LlamaForCausalLM).",
            details: configNote
                + "\nconfig.tie_word_embeddings shares lm_head with the token embeddings.\nm(ids [, options]) returns logits (B, T, vocab) and the decoder's output table.",
            example: "tensor.manual_seed(0)\n" + config + ids
                + "local m = nn.DecoderForCausalLM(config)\nlocal logits = m(ids)\n-- next-token loss: position t predicts token t + 1\nlocal T = ids:size(2)\nprint(nn.cross_entropy(logits:narrow(2, 1, T - 1), ids:narrow(2, 2, T - 1)))"
        ) { s in
            s.push(try DecoderForCausalLM(try DecoderConfig(huggingFace: try s.configDictionary(1, "nn.DecoderForCausalLM"))))
            return 1
        }
    }

    func openLosses(_ lib: LibraryBuilder) {
        let reductions = "\"mean\" (default), \"sum\" or \"none\""
        func reduction(_ opts: LuaOptions) throws -> LossReduction {
            let name = try opts.string("reduction") ?? "mean"
            guard let r = LossReduction(rawValue: name) else {
                throw LuaError.argument(opts.arg, opts.fn, "option 'reduction' must be \(reductions), got \"\(name)\"")
            }
            return r
        }
        lib.def(
            "cross_entropy", "nn.cross_entropy(logits, targets [, {ignore_index=, label_smoothing=, reduction=}])",
            "Softmax cross-entropy of class ids under logits (..., C).",
            details: """
                targets (...) are integer class ids counting from 0 (0 .. C-1), as labels and
                token ids come in Hugging Face datasets: they are data, not Lua positions.
                Targets equal to ignore_index (default -100) count for nothing. reduction is
                \(reductions). Predicted class ids are logits:argmax(-1) - 1.
                """,
            example:
                "local logits = tensor.from{{2.0, 0.5, -1.0}, {0.1, 0.2, 3.0}}\nlocal labels = tensor.from({0, 2}, {dtype = 'i64'})\nprint(nn.cross_entropy(logits, labels))\nprint(nn.cross_entropy(logits, tensor.from({0, -100}, {dtype = 'i64'}), {reduction = 'none'}))"
        ) { s in
            let fn = "nn.cross_entropy"
            let logits = try s.checkTensor(1, fn)
            let targets =
                lua_type(s.L, 2) == LUA_TTABLE && s.tensor(at: 2) == nil
                ? try s.tensorFromTable(2, fn, dtype: .i64) : try s.checkTensor(2, fn)
            let opts = try s.options(3, fn, allowed: ["ignore_index", "label_smoothing", "reduction"])
            s.push(
                try crossEntropy(
                    logits, targets, ignoreIndex: try opts.int("ignore_index") ?? -100,
                    labelSmoothing: try opts.number("label_smoothing") ?? 0, reduction: try reduction(opts)))
            return 1
        }
        lib.def(
            "mse_loss", "nn.mse_loss(prediction, target [, {reduction=}])", "Mean squared error (prediction - target)².",
            details: "The shapes must match. reduction is \(reductions).",
            example: "print(nn.mse_loss(tensor.from{1, 2, 3}, tensor.from{1, 2, 5}))"
        ) { s in
            let fn = "nn.mse_loss"
            let p = try s.checkTensor(1, fn), t = try s.checkTensorLike(2, fn)
            let opts = try s.options(3, fn, allowed: ["reduction"])
            s.push(try mseLoss(p, t, reduction: try reduction(opts)))
            return 1
        }
        for (name, summary, kl) in [
            ("kl_div", "KL(teacher ‖ student) of temperature-softened distributions, times T² (distillation).", true),
            ("soft_cross_entropy", "-Σ p_teacher · log p_student of temperature-softened distributions, times T².", false),
        ] {
            lib.def(
                name, "nn.\(name)(student_logits, teacher_logits [, {temperature=}])", summary,
                details: "Both (..., C); summed over classes, averaged over rows. The teacher gets no gradient. temperature defaults to 1.",
                example: "local s = tensor.from{{1.0, 2.0, 0.5}}\nlocal t = tensor.from{{1.5, 1.0, 0.0}}\nprint(nn.\(name)(s, t, {temperature = 2}))"
            ) { s in
                let fn = "nn." + name
                let student = try s.checkTensor(1, fn), teacher = try s.checkTensor(2, fn)
                let opts = try s.options(3, fn, allowed: ["temperature"])
                let temperature = try opts.number("temperature") ?? 1
                s.push(
                    kl
                        ? try klDivergence(student: student, teacher: teacher, temperature: temperature)
                        : try softCrossEntropy(student: student, teacher: teacher, temperature: temperature))
                return 1
            }
        }
    }
}
