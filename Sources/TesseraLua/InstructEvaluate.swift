// InstructEvaluate: `instruct.evaluate(model, tokenizer, examples, options)`: held-out exact match
// and token F1 of greedy answers (TesseraMethods/InstructionEvaluation.swift), with an optional
// answer extraction (GSM8K's number, or a Lua function) and a per-example callback.

import CLua
import LuaShim
import TesseraMethods
import TesseraNN

extension LuaStack {
    /// {text=, answer=, reference=, exact_match=, f1=}
    func push(_ p: InstructionPrediction) {
        pushRecord([("text", p.text), ("answer", p.answer), ("reference", p.reference), ("f1", p.f1)])
        push(p.exactMatch)
        lua_setfield(L, -2, "exact_match")
    }
}

private let evaluateExample = """
    tensor.manual_seed(0)
    local letters = {}
    for c in ("abcdefghijklmnopqrstuvwxyz"):gmatch(".") do letters[#letters + 1] = c end
    for _, t in ipairs{"Ġ", "Ċ", "<|im_start|>", "<|im_end|>"} do letters[#letters + 1] = t end
    local tok = tokenizers.bpe{tokens = letters, merges = {}}
    local m = nn.DecoderForCausalLM{vocab_size = #letters, hidden_size = 16, num_hidden_layers = 1,
      num_attention_heads = 2, intermediate_size = 32}
    local r = instruct.evaluate(m, tok, {{instruction = "say hi", output = "hi"}}, {max_new_tokens = 4})
    print(r.exact_match, r.f1, r.predictions[1].text)

    """

extension LuaRuntime {
    func openInstructEvaluate(_ lib: LibraryBuilder) {
        lib.def(
            "evaluate", "instruct.evaluate(model, tokenizer, examples [, {max_new_tokens=, system=, extract=, on_example=}])",
            "Generates each example's answer greedily and scores it: {exact_match=, f1=, count=, predictions={{text=, answer=, reference=, exact_match=, f1=}, ...}}.",
            details: """
                Each ChatML prompt is continued with the KV cache (m:generate, greedy) until <|im_end|> or the
                tokenizer's eos, at most max_new_tokens (default 64) tokens. The reference is the example's
                answer field if it has one (GSM8K from instruct.read), else its output. Scores are SQuAD's
                (metrics.exact_match, metrics.token_f1: lowercase, punctuation and a/an/the removed, whitespace
                collapsed), averaged over the examples, from 0 to 1. extract picks the scored answer out of the
                generated text: "gsm8k" (the number after the last "####", else the last number) or a
                function(text) returning a string; by default the whole text. on_example(i, prediction) is
                called after each example (e.g. to print it); returning false stops early, and the scores then
                cover the examples done. Runs in eval mode without gradients.
                """,
            example: evaluateExample
        ) { s in
            try self.instructEvaluate(s)
        }
    }

    private func instructEvaluate(_ s: LuaStack) throws -> Int32 {
        let fn = "instruct.evaluate", L = s.L
        let module = try s.checkModule(1, fn)
        guard let model = module as? DecoderForCausalLM else {
            throw LuaError.argument(1, fn, "a causal language model (nn.DecoderForCausalLM) expected, got \(module.typeName)")
        }
        let tok = try s.tokenizerArgument(2, fn)
        let examples = try s.instructionExamples(3, fn)
        guard !examples.isEmpty else { throw LuaError.argument(3, fn, "at least one example expected, got an empty list") }
        let opts = try s.options(4, fn, allowed: ["max_new_tokens", "system"], raw: ["extract", "on_example"])
        let maxNewTokens = try opts.int("max_new_tokens") ?? 64
        guard maxNewTokens >= 1 else { throw LuaError.argument(4, fn, "option 'max_new_tokens' must be at least 1, got \(maxNewTokens)") }
        lua_pushcclosure(L, luashim_traceback, 0)
        let handler = lua_gettop(L)
        var extraction = AnswerExtraction.whole, extractFunction: Int32 = 0, onExample: Int32 = 0
        if !s.isNoneOrNil(4) {
            lua_getfield(L, 4, "extract")
            switch lua_type(L, -1) {
            case LUA_TNIL: break
            case LUA_TFUNCTION: extractFunction = lua_gettop(L)
            case LUA_TSTRING:
                let name = s.string(at: -1) ?? ""
                guard let e = AnswerExtraction(rawValue: name) else {
                    throw LuaError.argument(4, fn, "option 'extract' must be \"gsm8k\", \"whole\" or a function(text), got \"\(name)\"")
                }
                extraction = e
            default: throw LuaError.argument(4, fn, "option 'extract' must be \"gsm8k\", \"whole\" or a function(text), got \(s.typeName(-1))")
            }
            onExample = try s.callbackOption(4, "on_example", fn, signature: "a function(i, prediction)")
        }
        /// calls the function at `f` with the values `pushArguments` pushes, leaving one result
        func call(_ f: Int32, _ what: String, _ count: Int32, _ pushArguments: () -> Void) throws {
            lua_pushvalue(L, f)
            pushArguments()
            guard luashim_pcall(L, count, 1, handler) == LUA_OK else {
                let message = s.string(at: -1) ?? "error in \(what)"
                lua_settop(L, -2)
                s.push("\(fn): \(what) failed: " + message)
                throw LuaCalleeError()
            }
        }
        let r = try evaluateInstructions(
            model: model, tokenizer: tok, examples: examples, template: ChatTemplate(system: try opts.string("system")),
            maxNewTokens: maxNewTokens,
            extract: { text in
                guard extractFunction != 0 else { return extraction.answer(from: text) }
                try call(extractFunction, "extract", 1) { s.push(text) }
                defer { lua_settop(L, -2) }
                guard lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER, let answer = s.string(at: -1) else {
                    throw LuaError.argument(4, fn, "option 'extract' returned \(s.typeName(-1)), not a string")
                }
                return answer
            },
            onExample: { i, p in
                guard onExample != 0 else { return true }
                try call(onExample, "on_example", 2) {
                    s.push(i + 1)
                    s.push(p)
                }
                defer { lua_settop(L, -2) }
                return !(lua_type(L, -1) == LUA_TBOOLEAN && lua_toboolean(L, -1) == 0)
            })
        lua_createtable(L, 0, 4)
        s.push(r.exactMatch)
        lua_setfield(L, -2, "exact_match")
        s.push(r.f1)
        lua_setfield(L, -2, "f1")
        s.push(r.predictions.count)
        lua_setfield(L, -2, "count")
        lua_createtable(L, Int32(r.predictions.count), 0)
        for (k, p) in r.predictions.enumerated() {
            s.push(p)
            lua_rawseti(L, -2, lua_Integer(k + 1))
        }
        lua_setfield(L, -2, "predictions")
        return 1
    }
}
