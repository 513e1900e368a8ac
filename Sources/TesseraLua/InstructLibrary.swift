// InstructLibrary: the `instruct` Lua library: instruction-tuning data for causal LMs (SpIEL and
// QLoRA's use case): {instruction, input, output} examples from JSONL or built from WordNet, the
// ChatML prompt, and padded batches whose labels keep only the response tokens.

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
        return InstructionExample(
            instruction: try field("instruction", required: true), input: try field("input", required: false),
            output: try field("output", required: false))
    }

    func push(examples: [InstructionExample]) {
        lua_createtable(L, Int32(examples.count), 0)
        for (j, e) in examples.enumerated() {
            pushRecord([("instruction", e.instruction), ("input", e.input), ("output", e.output)])
            lua_rawseti(L, -2, lua_Integer(j + 1))
        }
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
            ChatML (SmolLM2's template); instruct.batch pads token ids and sets labels to -100 outside the
            response, so nn.cross_entropy(logits:narrow(2, 1, T - 1), labels:narrow(2, 2, T - 1)) trains on
            the answers only. instruct.wordnet builds real examples from WordNet's glosses.
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
            "batch", "instruct.batch(tokenizer, examples [, {max_length=, system=, pad=}])",
            "Token ids (B, T) and labels (B, T): prompt, response and <|im_end|>, padded; labels -100 except on the response. Also returns the response token count.",
            details: "max_length (default 512) cuts long examples from the end; pad: the padding id (default the tokenizer's pad, else 0).",
            example: instructExample + """
                local tok = tokenizers.bpe{tokens = {"a", "b", "<|im_start|>", "<|im_end|>"}, merges = {}}
                local ids, labels, n = instruct.batch(tok, examples, {max_length = 64})
                print(ids:shape()[1], labels:shape()[2], n)
                """
        ) { s in
            let fn = "instruct.batch"
            let tok = try s.tokenizerArgument(1, fn)
            let examples = try s.instructionExamples(2, fn)
            let opts = try s.options(3, fn, allowed: ["max_length", "system", "pad"])
            let b = try instructionBatch(
                examples, template: ChatTemplate(system: try opts.string("system")), tokenizer: tok, maxLength: try opts.int("max_length") ?? 512,
                padID: try opts.int("pad") ?? tok.specialTokens.pad ?? 0)
            s.push(b.ids)
            s.push(b.labels)
            s.push(b.responseTokens)
            return 3
        }
        lib.def(
            "read", "instruct.read(path)",
            "Examples from a JSONL file of {instruction, input, output} (Alpaca) or {instruction, instances = {{input, output}}} (Self-Instruct seeds).",
            example: """
                local path = os.tmpname()
                local f = io.open(path, "w")
                f:write('{"instruction": "Say hi.", "input": "", "output": "Hi."}\\n')
                f:close()
                print(#instruct.read(path))
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
        lua_setglobal(L, "instruct")
    }
}
