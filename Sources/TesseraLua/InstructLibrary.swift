// InstructLibrary: the `instruct` Lua library: instruction-tuning data for causal LMs (SpIEL and
// QLoRA's use case): {instruction, input, output} examples from JSONL or built from WordNet and
// bitext, the ChatML prompt, and padded or packed batches whose labels keep only the response
// tokens. instruct.evaluate (InstructEvaluate.swift) scores generated answers.

import CLua
import LuaShim
import TesseraIO
import TesseraMethods
import TesseraTensor

extension LuaStack {
    /// A list of {instruction=, input=, output=} tables at i.
    func instructionExamples(_ i: Int32, _ fn: String) throws -> [InstructionExample] {
        guard lua_type(L, i) == LUA_TTABLE else {
            throw LuaError.argument(i, fn, "list of {instruction=, input=, output=} expected, got \(typeName(i))")
        }
        let t = lua_absindex(L, i)
        var out: [InstructionExample] = []
        for k in 0..<Int(lua_rawlen(L, t)) {
            lua_rawgeti(L, t, lua_Integer(k + 1))
            defer { lua_settop(L, -2) }
            out.append(try instructionExample(-1, fn, arg: i, element: k + 1))
        }
        return out
    }

    func instructionExample(_ i: Int32, _ fn: String, arg: Int32, element: Int? = nil) throws -> InstructionExample {
        let at = element.map { " (element \($0))" } ?? ""
        guard lua_type(L, i) == LUA_TTABLE else { throw LuaError.argument(arg, fn, "example\(at) must be a table, got \(typeName(i))") }
        func field(_ name: String, required: Bool) throws -> String {
            lua_getfield(L, i, name)
            defer { lua_settop(L, -2) }
            if isNoneOrNil(-1) && !required { return "" }
            guard lua_type(L, -1) == LUA_TSTRING, let s = string(at: -1) else {
                throw LuaError.argument(arg, fn, "example\(at) needs a string '\(name)', got \(typeName(-1))")
            }
            return s
        }
        lua_getfield(L, i, "answer")
        let hasAnswer = !isNoneOrNil(-1)
        lua_settop(L, -2)
        return InstructionExample(
            instruction: try field("instruction", required: true), input: try field("input", required: false),
            output: try field("output", required: false), answer: hasAnswer ? try field("answer", required: true) : nil)
    }

    func push(examples: [InstructionExample]) {
        lua_createtable(L, Int32(examples.count), 0)
        for (j, e) in examples.enumerated() {
            pushRecord([("instruction", e.instruction), ("input", e.input), ("output", e.output), ("answer", e.answer as Any)])
            lua_rawseti(L, -2, lua_Integer(j + 1))
        }
    }

    /// (source, target) pairs at i: a list of {source, target} (two strings, or fields source=
    /// and target=), or the path of a two-column TSV file
    func bitextPairs(_ i: Int32, _ fn: String) throws -> [(source: String, target: String)] {
        if lua_type(L, i) == LUA_TSTRING, let path = string(at: i) { return try readBitextTSV(path) }
        guard lua_type(L, i) == LUA_TTABLE else {
            throw LuaError.argument(i, fn, "list of {source, target} pairs or the path of a TSV file expected, got \(typeName(i))")
        }
        let t = lua_absindex(L, i)
        var out: [(source: String, target: String)] = []
        for k in 0..<Int(lua_rawlen(L, t)) {
            lua_rawgeti(L, t, lua_Integer(k + 1))
            defer { lua_settop(L, -2) }
            let pair = lua_absindex(L, -1)
            guard lua_type(L, pair) == LUA_TTABLE else { throw LuaError.argument(i, fn, "pair \(k + 1) is a \(typeName(pair)), not a table") }
            var sides: [String] = []
            for (n, key) in ["source", "target"].enumerated() {
                if lua_getfield(L, pair, key) == LUA_TNIL {
                    lua_settop(L, -2)
                    lua_rawgeti(L, pair, lua_Integer(n + 1))
                }
                defer { lua_settop(L, -2) }
                guard lua_type(L, -1) == LUA_TSTRING, let text = string(at: -1) else {
                    throw LuaError.argument(i, fn, "pair \(k + 1) needs a string \(key) (field \(key) or element \(n + 1)), got \(typeName(-1))")
                }
                sides.append(text)
            }
            out.append((sides[0], sides[1]))
        }
        return out
    }

    func tokenizerArgument(_ i: Int32, _ fn: String) throws -> Tokenizer {
        guard let t = retainedObject(at: i, metatable: tokenizerMetatableKey, as: Tokenizer.self) else {
            throw LuaError.argument(i, fn, "tokenizer expected, got \(typeName(i))")
        }
        return t
    }
}

private let instructExample = """
    local examples = {
      {instruction = "Name the colour of the sky.", output = "Blue."},
      {instruction = "Add the numbers.", input = "2 and 3", output = "5"},
    }

    """

extension LuaRuntime {
    func openInstructLibrary() {
        lua_createtable(L, 0, 4)
        let lib = LibraryBuilder(self, prefix: "instruct", qualifiedErrors: true)
        Help.addTopic(
            "instruct",
            """
            instruct: instruction-tuning data. Examples are tables {instruction=, input=, output=}; prompts use
            ChatML (SmolLM2's template); instruct.batch pads (or packs) token ids and sets labels to -100
            outside the response, so nn.cross_entropy(logits:narrow(2, 1, T - 1), labels:narrow(2, 2, T - 1))
            trains on the answers only. Sources: instruct.read (Alpaca, Self-Instruct, GSM8K JSONL),
            instruct.wordnet (word senses), instruct.bible and instruct.bitext (translation).
            instruct.evaluate generates each answer greedily and reports exact match and token F1.
            """)
        lib.def(
            "prompt", "instruct.prompt(example [, {system=}])", "The ChatML prompt of an example, ending where the assistant's answer starts.",
            example: instructExample + "print(instruct.prompt(examples[2]))"
        ) { s in
            let fn = "instruct.prompt"
            let e = try s.instructionExample(1, fn, arg: 1)
            let opts = try s.options(2, fn, allowed: ["system"])
            s.push(ChatTemplate(system: try opts.string("system")).prompt(e))
            return 1
        }
        lib.def(
            "batch", "instruct.batch(tokenizer, examples [, {max_length=, system=, pad=, pack=}])",
            "Token ids (B, T) and labels (B, T): prompt, response and <|im_end|>, padded; labels -100 except on the response. Also returns the response token count.",
            details: """
                max_length (default 512) cuts long examples from the end; pad: the padding id (default the
                tokenizer's pad, else 0). pack = true puts several examples in each row of exactly max_length
                tokens (each whole, in the first row with room; fewer rows, less padding), as Hugging Face's
                simple packing: there is no block-diagonal attention mask and positions run on, so an example
                attends to the ones before it in its row, but no loss crosses examples: prompts are -100 and so
                is each example's first token.
                """,
            example: instructExample + """
                local tok = tokenizers.bpe{tokens = {"a", "b", "<|im_start|>", "<|im_end|>"}, merges = {}}
                local ids, labels, n = instruct.batch(tok, examples, {max_length = 64})
                print(ids:shape()[1], labels:shape()[2], n)
                """
        ) { s in
            let fn = "instruct.batch"
            let tok = try s.tokenizerArgument(1, fn)
            let examples = try s.instructionExamples(2, fn)
            let opts = try s.options(3, fn, allowed: ["max_length", "system", "pad", "pack"])
            let template = ChatTemplate(system: try opts.string("system"))
            let (length, pad) = (try opts.int("max_length") ?? 512, try opts.int("pad") ?? tok.specialTokens.pad ?? 0)
            let b =
                try opts.bool("pack") == true
                ? try instructionPackedBatch(examples, template: template, tokenizer: tok, length: length, padID: pad)
                : try instructionBatch(examples, template: template, tokenizer: tok, maxLength: length, padID: pad)
            s.push(b.ids)
            s.push(b.labels)
            s.push(b.responseTokens)
            return 3
        }
        lib.def(
            "read", "instruct.read(path)",
            "Examples from a JSONL file of {instruction, input, output} (Alpaca), {instruction, instances = {{input, output}}} (Self-Instruct seeds) or {question, answer} (GSM8K).",
            details: """
                GSM8K lines become {instruction = question, output = the worked solution without its calculator
                annotations <<…>>, answer = the number after "####"}: answer is what instruct.evaluate compares
                with (use {extract = "gsm8k"} there). Lines of none of these shapes are skipped.
                """,
            example: """
                local path = os.tmpname()
                local f = io.open(path, "w")
                f:write('{"instruction": "Say hi.", "input": "", "output": "Hi."}\\n')
                f:write('{"question": "What is 2 + 3?", "answer": "2 + 3 = <<2+3=5>>5\\\\n#### 5"}\\n')
                f:close()
                local ex = instruct.read(path)
                print(#ex, ex[2].output, ex[2].answer)
                os.remove(path)
                """
        ) { s in
            s.push(examples: try readInstructionJSONL(try s.checkString(1, "instruct.read")))
            return 1
        }
        lib.def(
            "wordnet", "instruct.wordnet(dir [, {count=, seed=}])",
            "Word-sense questions from WordNet's data.noun/verb/adj in dir: \"What does 'w' mean in: ...?\" answered by the gloss.",
            details: "count (default 1000) examples, shuffled with seed (default 0). assets/wordnet holds WordNet 3.0.",
            example: """
                local dir = os.tmpname()
                os.remove(dir)
                os.execute("mkdir " .. dir)
                for _, pos in ipairs{"noun", "verb", "adj"} do
                  local f = io.open(dir .. "/data." .. pos, "w")
                  if pos == "noun" then f:write('00000001 05 n 01 bank 0 000 | sloping land beside water; "they sat on the bank"\\n') end
                  f:close()
                end
                print(instruct.wordnet(dir)[1].output)
                for _, pos in ipairs{"noun", "verb", "adj"} do os.remove(dir .. "/data." .. pos) end
                os.remove(dir)
                """
        ) { s in
            let fn = "instruct.wordnet"
            let dir = try s.checkString(1, fn)
            let opts = try s.options(2, fn, allowed: ["count", "seed"])
            s.push(
                examples: try wordNetInstructions(
                    directory: dir, count: try opts.int("count") ?? 1000, seed: UInt64(truncatingIfNeeded: try opts.int("seed") ?? 0)))
            return 1
        }
        lib.def(
            "bitext", "instruct.bitext(pairs, {to= [, count=, seed=, max_chars=]})",
            "Translation examples \"Translate to <to>: <source>\" answered by the target, from a list of {source, target} pairs or a two-column TSV file.",
            details: """
                pairs: a list of {source, target} (two strings, or fields source= and target=) or the path of a
                TSV file whose first two columns are source and target. to: the target language's name, as the
                instruction says it ("Spanish"). Pairs with an empty side, or a source longer than max_chars
                characters, are left out; the rest are shuffled with seed (default 0) and the first count
                (default all) returned.
                """,
            example: """
                local ex = instruct.bitext({{"Good morning.", "Buenos días."}, {source = "Thank you.", target = "Gracias."}},
                  {to = "Spanish", seed = 1})
                print(#ex, ex[1].instruction, ex[1].output)
                """
        ) { s in
            let fn = "instruct.bitext"
            let pairs = try s.bitextPairs(1, fn)
            let opts = try s.options(2, fn, allowed: ["to", "count", "seed", "max_chars"])
            guard let to = try opts.string("to"), !to.isEmpty else {
                throw LuaError.argument(2, fn, "option 'to' (the target language's name, e.g. \"Spanish\") is required")
            }
            s.push(
                examples: bitextInstructions(
                    pairs, to: to, count: try opts.int("count") ?? pairs.count, seed: UInt64(truncatingIfNeeded: try opts.int("seed") ?? 0),
                    maxCharacters: try opts.int("max_chars")))
            return 1
        }
        lib.def(
            "bible", "instruct.bible(dir [, {direction=, count=, seed=, max_chars=}])",
            "Translation examples from two Bibles (SWORD zText modules in dir's subfolders) aligned verse by verse: \"Translate to Spanish: <KJV verse>\" → Reina-Valera's.",
            details: """
                dir holds one folder per module, each with its .conf, whose Lang= line names its language
                (assets/bible: kjv is en, sparv is es; scripts/fetch-assets). direction (default "en-es") is
                source-target by those codes. Verses both modules have are kept, those longer than max_chars
                characters left out, then shuffled with seed (default 0): the first count (default 1000).
                """,
            example: """
                local conf = io.open("assets/bible/kjv/engKJV2006eb.conf")
                if conf then
                  conf:close()
                  local ex = instruct.bible("assets/bible", {count = 2, max_chars = 80})
                  print(ex[1].instruction, "->", ex[1].output)
                end
                """
        ) { s in
            let fn = "instruct.bible"
            let dir = try s.checkString(1, fn)
            let opts = try s.options(2, fn, allowed: ["direction", "count", "seed", "max_chars"])
            let direction = try opts.string("direction") ?? "en-es"
            let codes = direction.split(separator: "-")
            guard codes.count == 2, codes[0] != codes[1] else {
                throw LuaError.argument(2, fn, "option 'direction' must be two language codes such as \"en-es\", got \"\(direction)\"")
            }
            s.push(
                examples: try bibleInstructions(
                    directory: dir, direction: direction, count: try opts.int("count") ?? 1000,
                    seed: UInt64(truncatingIfNeeded: try opts.int("seed") ?? 0), maxCharacters: try opts.int("max_chars")))
            return 1
        }
        openInstructEvaluate(lib)
        lua_setglobal(L, "instruct")
    }
}
