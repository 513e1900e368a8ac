// GenerateMethod: `m:generate(ids, options)` for causal LMs: greedy or sampled continuation over a
// KV cache (TesseraNN/Generation.swift), with an optional per-token callback for streaming.

import CLua
import LuaShim
import TesseraNN
import TesseraTensor

extension LuaRuntime {
    func openGenerateMethod(_ m: LibraryBuilder) {
        m.def(
            "generate",
            "m:generate(ids [, {max_new_tokens=, temperature=, top_k=, top_p=, stop=, seed=, on_token=}])",
            "Continues the prompt ids with a causal LM (nn.DecoderForCausalLM) and returns the new ids.",
            details: """
                ids: a table of token ids or a 1-D (or 1 x T) integer tensor, 0-based as in the
                vocabulary. The prompt runs once; each new token then costs one position over a
                key/value cache. temperature = 0 (default) picks the most likely token (greedy);
                otherwise tokens are sampled from softmax(logits / temperature), among the top_k
                most likely (0: all) and the smallest most-likely set reaching probability top_p
                (1: all), from a generator seeded with seed (default: the global one, see
                tensor.manual_seed). max_new_tokens defaults to 32. stop: a token id or a table of
                them; generation ends after one (it is included). on_token(id) is called with each
                new token as it comes (e.g. to print it); returning false stops. Runs in eval mode
                without gradients.
                """,
            example:
                "tensor.manual_seed(0)\nlocal m = nn.DecoderForCausalLM{vocab_size = 50, hidden_size = 16, num_hidden_layers = 2,\n  num_attention_heads = 4, num_key_value_heads = 2, intermediate_size = 32}\nlocal greedy = m:generate({1, 2, 3}, {max_new_tokens = 5})\nlocal sampled = m:generate({1, 2, 3}, {max_new_tokens = 5, temperature = 0.8, top_p = 0.9, seed = 7})\nprint(#greedy, #sampled)"
        ) { s in
            try self.generate(s)
        }
    }

    private func generate(_ s: LuaStack) throws -> Int32 {
        let fn = "generate", L = s.L
        guard let model = try s.checkModule(1, fn) as? DecoderForCausalLM else {
            throw LuaError.argument(1, fn, "a causal language model (nn.DecoderForCausalLM) expected, got \(try s.checkModule(1, fn).typeName)")
        }
        let prompt: [Int]
        if let t = s.tensor(at: 2) {
            guard !t.dtype.isFloatingPoint, t.dtype != .bool, t.rank == 1 || (t.rank == 2 && t.shape[0] == 1) else {
                throw LuaError.argument(
                    2, fn,
                    "token ids expected as a table or a 1-D (or 1 x T) integer tensor, got \(t.dtype) \(t.shape.map(String.init).joined(separator: "x"))"
                )
            }
            prompt = t.toDoubles().map { Int($0) }
        } else {
            guard lua_type(L, 2) == LUA_TTABLE else { throw LuaError.argument(2, fn, "table or tensor of token ids expected, got \(s.typeName(2))") }
            prompt = try s.intSequence(2, fn)
        }
        let opts = try s.options(
            3, fn, allowed: ["max_new_tokens", "temperature", "top_k", "top_p", "seed"], raw: ["stop", "on_token"])
        var options = GenerationOptions()
        options.maxNewTokens = try opts.int("max_new_tokens") ?? 32
        options.temperature = try opts.number("temperature") ?? 0
        options.topK = try opts.int("top_k") ?? 0
        options.topP = try opts.number("top_p") ?? 1
        var onToken: Int32 = 0
        if !s.isNoneOrNil(3) {
            lua_getfield(L, 3, "stop")
            switch lua_type(L, -1) {
            case LUA_TNIL: break
            case LUA_TNUMBER:
                guard let id = s.number(at: -1), id == id.rounded() else {
                    throw LuaError.argument(3, fn, "option 'stop' must be a token id or a table of them")
                }
                options.stopTokens = [Int(id)]
            case LUA_TTABLE: options.stopTokens = Set(try s.intSequence(lua_gettop(L), fn))
            default: throw LuaError.argument(3, fn, "option 'stop' must be a token id or a table of them, got \(s.typeName(-1))")
            }
            onToken = try s.callbackOption(3, "on_token", fn, signature: "a function(id)")
        }
        let generator = try opts.int("seed").map { Generator(seed: UInt64(bitPattern: Int64($0))) } ?? .shared
        lua_pushcclosure(L, luashim_traceback, 0)
        let handler = lua_gettop(L)
        var callbackFailed = false
        let ids: [Int]
        do {
            ids = try model.generate(prompt, options: options, generator: generator) { token in
                try Cancellation.check("generate")
                guard onToken != 0 else { return true }
                lua_pushvalue(L, onToken)
                s.push(token)
                guard luashim_pcall(L, 1, 1, handler) == LUA_OK else {
                    callbackFailed = true
                    throw LuaCalleeError()
                }
                let stop = lua_type(L, -1) == LUA_TBOOLEAN && lua_toboolean(L, -1) == 0
                lua_settop(L, -2)
                return !stop
            }
        } catch is LuaCalleeError where callbackFailed {
            // the callback's error, with its traceback, is on top of the stack
            let message = s.string(at: -1) ?? "error in on_token"
            lua_settop(L, -2)
            s.push("generate: on_token failed: " + message)
            throw LuaCalleeError()
        }
        lua_createtable(L, Int32(ids.count), 0)
        for (k, id) in ids.enumerated() {
            s.push(id)
            lua_rawseti(L, -2, lua_Integer(k + 1))
        }
        return 1
    }
}
