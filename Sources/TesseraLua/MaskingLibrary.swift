// MaskingLibrary: nn.mask_tokens (BERT's masked language modelling inputs and labels) and
// nn.pad_sequences (a batch from variable-length id sequences), added to the `nn` table.

import CLua
import LuaShim
import TesseraNN
import TesseraTensor

extension LuaRuntime {
    /// Adds the data functions to the global `nn` table.
    func openMaskingFunctions() {
        _ = luashim_getglobal(L, "nn")
        let lib = LibraryBuilder(self, prefix: "nn", qualifiedErrors: true)
        let batch = "local ids, mask = nn.pad_sequences({{101, 7, 8, 9, 102}, {101, 5, 102}}, {pad_id = 0})\n"
        lib.def(
            "mask_tokens", "nn.mask_tokens(ids, {mask_id=, vocab_size=, special_ids=, attention_mask=, probability=, seed=})",
            "Masked language modelling inputs and labels (Hugging Face's DataCollatorForLanguageModeling).",
            details: """
                ids: integer (B, T). Each token that is not in special_ids (a list of ids: CLS, SEP,
                PAD, MASK...) and not padding (attention_mask 0) is chosen with probability
                (default 0.15); a chosen token becomes mask_id 80% of the time, a random token 10%
                (uniform over 0 .. vocab_size-1, special tokens included, as Hugging Face draws from
                the whole vocabulary), and stays 10%. Returns inputs and labels, both i64 (B, T):
                labels hold the original id at chosen positions and -100 elsewhere, which
                nn.cross_entropy ignores. Draws come from the generator tensor.manual_seed seeds,
                or from a private one when seed is given: the same seed gives the same batch.
                """,
            example: batch
                + "local inputs, labels = nn.mask_tokens(ids, {mask_id = 103, vocab_size = 30522,\n  special_ids = {0, 101, 102, 103}, attention_mask = mask, probability = 0.5, seed = 1})\nprint(inputs)\nprint(labels)"
        ) { s in
            let fn = "nn.mask_tokens"
            let ids = try s.checkTensor(1, fn)
            let opts = try s.options(2, fn, allowed: ["mask_id", "vocab_size", "attention_mask", "probability", "seed"], raw: ["special_ids"])
            guard let maskID = try opts.int("mask_id") else { throw LuaError.argument(2, fn, "option 'mask_id' is required") }
            guard let vocabulary = try opts.int("vocab_size") else { throw LuaError.argument(2, fn, "option 'vocab_size' is required") }
            var specials: [Int] = []
            if lua_type(s.L, 2) == LUA_TTABLE {
                lua_getfield(s.L, 2, "special_ids")
                if !s.isNoneOrNil(-1) {
                    guard lua_type(s.L, -1) == LUA_TTABLE else {
                        throw LuaError.argument(2, fn, "option 'special_ids' must be a table of token ids")
                    }
                    specials = try s.intSequence(-1, fn)
                }
                lua_settop(s.L, -2)
            }
            let masking = try TokenMasking(
                maskTokenID: maskID, vocabularySize: vocabulary, specialTokenIDs: Set(specials),
                probability: try opts.number("probability") ?? 0.15)
            let generator = try opts.int("seed").map { Generator(seed: UInt64(bitPattern: Int64($0))) } ?? .shared
            let (inputs, labels) = try masking.apply(ids, attentionMask: try opts.tensor("attention_mask"), generator: generator)
            s.push(inputs)
            s.push(labels)
            return 2
        }
        lib.def(
            "pad_sequences", "nn.pad_sequences(sequences [, {pad_id=, max_length=}])",
            "Pads lists of token ids on the right into a batch; returns ids and attention_mask, both i64 (B, T).",
            details: """
                sequences: a table of tables of token ids (or of 1-D integer tensors). T is the longest
                length, or max_length when that is shorter (longer sequences are cut). pad_id defaults
                to 0; attention_mask is 1 on tokens and 0 on padding.
                """,
            example: batch + "print(ids)\nprint(mask)"
        ) { s in
            let fn = "nn.pad_sequences"
            guard lua_type(s.L, 1) == LUA_TTABLE, s.tensor(at: 1) == nil else {
                throw LuaError.argument(1, fn, "table of id sequences expected, got \(s.typeName(1))")
            }
            var sequences: [[Int]] = []
            for k in 0..<Int(lua_rawlen(s.L, 1)) {
                lua_rawgeti(s.L, 1, lua_Integer(k + 1))
                defer { lua_settop(s.L, -2) }
                if let t = s.tensor(at: -1), t.rank == 1, !t.dtype.isFloatingPoint {
                    sequences.append(t.toDoubles().map { Int($0) })
                } else if lua_type(s.L, -1) == LUA_TTABLE, s.tensor(at: -1) == nil {
                    sequences.append(try s.intSequence(-1, fn))
                } else {
                    throw LuaError.argument(1, fn, "sequence \(k + 1) is a \(s.typeName(-1)), not a table of ids or a 1-D integer tensor")
                }
            }
            let opts = try s.options(2, fn, allowed: ["pad_id", "max_length"])
            let (ids, mask) = try padSequences(sequences, padID: try opts.int("pad_id") ?? 0, maxLength: try opts.int("max_length"))
            s.push(ids)
            s.push(mask)
            return 2
        }
        lua_settop(L, -2)
    }
}
