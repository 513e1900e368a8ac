// NNLibrary: the `nn` Lua library: layer and model constructors (TesseraNN modules) and losses.
// Token ids and class labels are data, not positions: they stay 0-based as in Hugging Face
// vocabularies and datasets, while dimensions stay 1-based as everywhere in Lua.

import CLua
import LuaShim
import TesseraNN
import TesseraTensor

extension LuaRuntime {
    func openNNLibrary() {
        lua_createtable(L, 0, 32)
        let lib = LibraryBuilder(self, prefix: "nn", qualifiedErrors: true)
        Help.addTopic(
            "nn",
            """
            nn: layers, transformer models and losses. Constructors return modules (methods under
            help("Module")); m(x) runs the forward pass. Token ids and class labels are data, not
            positions: they count from 0, as in Hugging Face vocabularies and datasets (padding_idx,
            cross_entropy targets, ignore_index = -100). x:argmax(d) gives 1-based positions, so
            the predicted class id is x:argmax(d) - 1. Model configs are tables with the keys of a
            Hugging Face config.json.
            """)
        func positive(_ s: LuaStack, _ i: Int32, _ fn: String) throws -> Int {
            let n = try s.checkInt(i, fn)
            guard n > 0 else { throw LuaError.argument(i, fn, "positive integer expected, got \(n)") }
            return n
        }

        lib.def(
            "Linear", "nn.Linear(in, out [, {bias=}])", "y = x Wᵀ + b: weight (out, in), bias (out) unless bias = false.",
            details: "Initialised as torch.nn.Linear: U(-1/√in, 1/√in).",
            example: "tensor.manual_seed(0)\nlocal m = nn.Linear(4, 2)\nprint(m)\nprint(m(tensor.randn(3, 4)):shape()[2])"
        ) { s in
            let (a, b) = (try positive(s, 1, "nn.Linear"), try positive(s, 2, "nn.Linear"))
            let opts = try s.options(3, "nn.Linear", allowed: ["bias"])
            s.push(try Linear(a, b, bias: try opts.bool("bias") ?? true))
            return 1
        }
        lib.def(
            "Embedding", "nn.Embedding(count, dim [, {padding_idx=}])", "A table of count vectors of size dim, looked up by token id.",
            details: """
                Token ids are 0-based (0 .. count-1), as in Hugging Face vocabularies: ids are data,
                not Lua positions. padding_idx (0-based too) names the row that stays zero and gets
                no gradient. Input: integer ids (...) -> (..., dim).
                """,
            example:
                "tensor.manual_seed(0)\nlocal e = nn.Embedding(10, 4, {padding_idx = 0})\nlocal ids = tensor.from({{0, 3, 9}}, {dtype = 'i64'})\nprint(e(ids):shape()[3], e(ids)[1][1]:abs():sum():item())"
        ) { s in
            let (n, d) = (try positive(s, 1, "nn.Embedding"), try positive(s, 2, "nn.Embedding"))
            let opts = try s.options(3, "nn.Embedding", allowed: ["padding_idx"])
            s.push(try Embedding(n, d, paddingIndex: try opts.int("padding_idx")))
            return 1
        }
        lib.def(
            "LayerNorm", "nn.LayerNorm(dim [, {eps=, bias=}])", "Normalises the last dimension, then scales (weight) and shifts (bias).",
            example: "print(nn.LayerNorm(3)(tensor.from{{1, 2, 3}}))"
        ) { s in
            let d = try positive(s, 1, "nn.LayerNorm")
            let opts = try s.options(2, "nn.LayerNorm", allowed: ["eps", "bias"])
            s.push(try LayerNorm(d, eps: try opts.number("eps") ?? 1e-5, bias: try opts.bool("bias") ?? true))
            return 1
        }
        lib.def(
            "RMSNorm", "nn.RMSNorm(dim [, {eps=}])", "x / rms(x) · weight over the last dimension (LLaMA).",
            example: "print(nn.RMSNorm(3)(tensor.from{{1, 2, 3}}))"
        ) { s in
            let d = try positive(s, 1, "nn.RMSNorm")
            let opts = try s.options(2, "nn.RMSNorm", allowed: ["eps"])
            s.push(try RMSNorm(d, eps: try opts.number("eps") ?? 1e-6))
            return 1
        }
        lib.def(
            "Dropout", "nn.Dropout([p])", "Zeroes elements with probability p (default 0.1) in training mode, scaling the rest by 1/(1-p).",
            example: "tensor.manual_seed(0)\nlocal d = nn.Dropout(0.5)\nprint(d(tensor.ones(6)))\nprint(d:eval()(tensor.ones(6)))"
        ) { s in
            s.push(try Dropout(try s.optNumber(1, "nn.Dropout", 0.1)))
            return 1
        }
        lib.def(
            "GELU", "nn.GELU([{approximate=}])", "GELU activation; approximate = \"tanh\" for GPT-2's gelu_new.",
            example: "print(nn.GELU()(tensor.from{-1, 0, 1}), nn.GELU{approximate = 'tanh'})"
        ) { s in
            let opts = try s.options(1, "nn.GELU", allowed: ["approximate"])
            let name = try opts.string("approximate") ?? "none"
            guard let a = GELU.Approximation(rawValue: name) else {
                throw LuaError.argument(1, "nn.GELU", "option 'approximate' must be \"none\" or \"tanh\", got \"\(name)\"")
            }
            s.push(GELU(approximation: a))
            return 1
        }
        for (name, make) in [("ReLU", { ReLU() as Module }), ("SiLU", { SiLU() }), ("Tanh", { Tanh() })] {
            lib.def(name, "nn.\(name)()", "\(name) activation as a module.", example: "print(nn.\(name)()(tensor.from{-1, 0, 1}))") { s in
                s.push(make())
                return 1
            }
        }
        lib.def(
            "Sequential", "nn.Sequential({m1, m2, ...})", "Applies its modules in order; they are named \"0\", \"1\", ... as in torch.",
            example: "tensor.manual_seed(0)\nlocal m = nn.Sequential{nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1)}\nprint(m)"
        ) { s in
            guard lua_type(s.L, 1) == LUA_TTABLE, s.tensor(at: 1) == nil else {
                throw LuaError.argument(1, "nn.Sequential", "table of modules expected, got \(s.typeName(1))")
            }
            var layers: [Module] = []
            let n = Int(lua_rawlen(s.L, 1))
            for k in 0..<n {
                lua_rawgeti(s.L, 1, lua_Integer(k + 1))
                defer { lua_settop(s.L, -2) }
                guard let m = s.module(at: -1) else {
                    throw LuaError.argument(1, "nn.Sequential", "element \(k + 1) is a \(s.typeName(-1)), not a module")
                }
                layers.append(m)
            }
            s.push(try Sequential(layers))
            return 1
        }
        lib.def(
            "MultiHeadAttention", "nn.MultiHeadAttention(dim, heads [, {kv_heads=, head_dim=, causal=, rope=, bias=, dropout=}])",
            "Multi-head self-attention with optional causal mask, rotary embeddings and grouped-query heads.",
            details: """
                rope = true adds rotary position embeddings (base 10000), rope = <number> sets the
                base. Call: m(x (B, T, dim) [, {attention_mask=, causal=, return_probabilities=}]).
                """,
            example:
                "tensor.manual_seed(0)\nlocal a = nn.MultiHeadAttention(8, 2, {causal = true, rope = true})\nlocal y, p = a(tensor.randn(1, 3, 8), {return_probabilities = true})\nprint(y:shape()[3], p[1][1][1])"
        ) { s in
            let fn = "nn.MultiHeadAttention"
            let (dim, heads) = (try positive(s, 1, fn), try positive(s, 2, fn))
            let opts = try s.options(3, fn, allowed: ["kv_heads", "head_dim", "causal", "rope", "bias", "dropout"])
            let headDim = try opts.int("head_dim") ?? dim / heads
            var rope: RotaryEmbedding?
            switch opts.values["rope"] {
            case .bool(true)?: rope = try RotaryEmbedding(headDim: headDim)
            case .number(let base)?: rope = try RotaryEmbedding(headDim: headDim, base: base)
            case .bool(false)?, nil: rope = nil
            default: throw LuaError.argument(3, fn, "option 'rope' must be a boolean or a base (number)")
            }
            s.push(
                try MultiHeadAttention(
                    dim: dim, heads: heads, kvHeads: try opts.int("kv_heads"), headDim: try opts.int("head_dim"),
                    bias: try opts.bool("bias") ?? true, causal: try opts.bool("causal") ?? false,
                    rope: rope, dropout: try opts.number("dropout") ?? 0))
            return 1
        }
        lib.def(
            "FeedForward", "nn.FeedForward(dim, hidden [, {kind=, bias=, dropout=}])",
            "A transformer feed-forward block: kind \"gelu\" (BERT, default) or \"swiglu\" (LLaMA, no biases).",
            example: "tensor.manual_seed(0)\nprint(nn.FeedForward(4, 16, {kind = 'swiglu'}))"
        ) { s in
            let fn = "nn.FeedForward"
            let (dim, hidden) = (try positive(s, 1, fn), try positive(s, 2, fn))
            let opts = try s.options(3, fn, allowed: ["kind", "bias", "dropout"])
            let kindName = try opts.string("kind") ?? "gelu"
            guard let kind = ["gelu": FeedForward.Kind.gelu, "swiglu": .swiGLU][kindName.lowercased()] else {
                throw LuaError.argument(3, fn, "option 'kind' must be \"gelu\" or \"swiglu\", got \"\(kindName)\"")
            }
            s.push(try FeedForward(dim, hidden: hidden, kind: kind, bias: try opts.bool("bias"), dropout: try opts.number("dropout") ?? 0))
            return 1
        }
        openModelConstructors(lib)
        openLosses(lib)
        lua_setglobal(L, "nn")
    }
}
