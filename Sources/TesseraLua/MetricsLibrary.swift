// MetricsLibrary: the `metrics` Lua library: accuracy, macro-F1, entity-level F1 over BIO tags
// and perplexity (TesseraNN/Metrics.swift); exact match and token F1 of generated answers
// (TesseraMethods/AnswerMetrics.swift). Class ids are data, 0-based as in `nn`.

import CLua
import LuaShim
import TesseraMethods
import TesseraNN
import TesseraTensor

extension LuaStack {
    /// Class ids at i: a table of integers, an integer tensor, or logits (..., C) whose argmax
    /// over the last dimension gives 0-based ids when `goldRank` is one less than their rank.
    func classIDs(_ i: Int32, _ fn: String, goldRank: Int? = nil) throws -> [Int] {
        if let t = tensor(at: i) {
            if t.dtype.isFloatingPoint, let goldRank, t.rank == goldRank + 1, let classes = t.shape.last, classes > 0 {
                let v = t.toDoubles()
                return stride(from: 0, to: v.count, by: classes).map { row in
                    (0..<classes).max { v[row + $0] < v[row + $1] }!
                }
            }
            let v = t.toDoubles()
            guard v.allSatisfy({ $0 == $0.rounded() }) else {
                throw LuaError.argument(i, fn, "class ids must be integers (or logits with one more dimension than the gold ids)")
            }
            return v.map { Int($0) }
        }
        guard lua_type(L, i) == LUA_TTABLE else { throw LuaError.argument(i, fn, "tensor or table of class ids expected, got \(typeName(i))") }
        return try intSequence(i, fn)
    }

    /// Answers at i: one string, or a list of strings.
    func answerList(_ i: Int32, _ fn: String) throws -> [String] {
        if lua_type(L, i) == LUA_TSTRING, let s = string(at: i) { return [s] }
        guard lua_type(L, i) == LUA_TTABLE else { throw LuaError.argument(i, fn, "string or list of strings expected, got \(typeName(i))") }
        let t = lua_absindex(L, i)
        return try (0..<Int(lua_rawlen(L, t))).map { k in
            lua_rawgeti(L, t, lua_Integer(k + 1))
            defer { lua_settop(L, -2) }
            guard lua_type(L, -1) == LUA_TSTRING, let s = string(at: -1) else {
                throw LuaError.argument(i, fn, "element \(k + 1) is a \(typeName(-1)), not a string")
            }
            return s
        }
    }

    /// The rank of the gold ids at i (a table counts as 1-D).
    func labelRank(_ i: Int32) -> Int { tensor(at: i)?.rank ?? 1 }

    /// Sentences of tags at i: a table of tables of strings, or one table of strings (one sentence).
    func tagSentences(_ i: Int32, _ fn: String) throws -> [[String]] {
        guard lua_type(L, i) == LUA_TTABLE, tensor(at: i) == nil else {
            throw LuaError.argument(i, fn, "table of tag sequences expected, got \(typeName(i))")
        }
        let t = lua_absindex(L, i)
        func strings(_ at: Int32, _ what: String) throws -> [String] {
            var out: [String] = []
            for k in 0..<Int(lua_rawlen(L, at)) {
                lua_rawgeti(L, at, lua_Integer(k + 1))
                defer { lua_settop(L, -2) }
                guard lua_type(L, -1) == LUA_TSTRING, let s = string(at: -1) else {
                    throw LuaError.argument(i, fn, "\(what)element \(k + 1) is a \(typeName(-1)), not a tag string")
                }
                out.append(s)
            }
            return out
        }
        if lua_rawgeti(L, t, 1) != LUA_TTABLE {
            lua_settop(L, -2)
            return [try strings(t, "")]
        }
        lua_settop(L, -2)
        var sentences: [[String]] = []
        for k in 0..<Int(lua_rawlen(L, t)) {
            lua_rawgeti(L, t, lua_Integer(k + 1))
            defer { lua_settop(L, -2) }
            guard lua_type(L, -1) == LUA_TTABLE else {
                throw LuaError.argument(i, fn, "sentence \(k + 1) is a \(typeName(-1)), not a table of tags")
            }
            sentences.append(try strings(lua_absindex(L, -1), "sentence \(k + 1): "))
        }
        return sentences
    }
}

extension LuaRuntime {
    func openMetricsLibrary() {
        lua_createtable(L, 0, 8)
        let lib = LibraryBuilder(self, prefix: "metrics", qualifiedErrors: true)
        Help.addTopic(
            "metrics",
            """
            metrics: evaluation scores. Class ids are 0-based data as in nn (predictions may also be
            logits (..., C), whose argmax is taken); gold ids equal to ignore_index (default -100,
            padding and sub-word continuations) are not scored. Entity scores read BIO tags the way
            seqeval's default mode and conlleval do. Generated answers are scored as SQuAD's script does
            (exact_match, token_f1 after normalize_answer); instruct.evaluate uses them.
            """)
        let ignoreNote =
            "predicted and gold: tensors or tables of class ids (predicted may be logits (..., C)); gold ids equal to ignore_index (default -100) are skipped. NaN when nothing is scored."
        func scores(_ s: LuaStack, _ fn: String) throws -> (predicted: [Int], gold: [Int], ignore: Int?) {
            let opts = try s.options(3, fn, allowed: ["ignore_index"])
            let gold = try s.classIDs(2, fn)
            return (try s.classIDs(1, fn, goldRank: s.labelRank(2)), gold, try opts.int("ignore_index") ?? ignoredLabel)
        }
        lib.def(
            "accuracy", "metrics.accuracy(predicted, gold [, {ignore_index=}])", "Fraction of predictions equal to the gold class.",
            details: ignoreNote,
            example:
                "print(metrics.accuracy({0, 1, 2, 1}, {0, 2, 2, -100}))  -- 2 of 3\nlocal logits = tensor.from{{2, 1}, {0, 3}}\nprint(metrics.accuracy(logits, tensor.from({0, 0}, {dtype = 'i64'})))"
        ) { s in
            let (p, g, ignore) = try scores(s, "metrics.accuracy")
            s.push(try accuracy(predicted: p, gold: g, ignoreIndex: ignore))
            return 1
        }
        lib.def(
            "macro_f1", "metrics.macro_f1(predicted, gold [, {ignore_index=}])",
            "Per-class F1 averaged with equal weight over the classes (sklearn's average='macro').",
            details: ignoreNote
                + "\nThe classes averaged are those that occur among the predictions or the gold ids (sklearn's\ndefault labels): a class absent from both is left out. A class never predicted, or never\ngold, has F1 0 (sklearn's zero_division=0).",
            example:
                "-- class 0: F1 2/3, class 1: 4/5, class 2 (predicted only) 0, class 3 (gold only) 0\nprint(metrics.macro_f1({0, 0, 1, 1, 2}, {0, 1, 1, 1, 3}))  -- 22/60"
        ) { s in
            let (p, g, ignore) = try scores(s, "metrics.macro_f1")
            s.push(try macroF1(predicted: p, gold: g, ignoreIndex: ignore))
            return 1
        }
        lib.def(
            "span_f1", "metrics.span_f1(predicted, gold)", "Entity-level precision, recall and F1 of BIO tag sequences (seqeval's default mode).",
            details: """
                predicted and gold: tables of sentences, each a table of tags ("B-PER", "I-PER", "O"),
                or one sentence. Returns {precision=, recall=, f1=, correct=, predicted=, gold=},
                micro-averaged over entities: an entity is correct when its type, first and last token
                all match. Entities are read as seqeval (default, non-strict mode) and conlleval do: an
                I-X that does not continue an X entity starts one, so "O I-PER" holds a PER entity;
                E- and S- (IOBES) are read too. Scores are 0 when there is nothing to divide by.
                """,
            example:
                "local gold = {{'B-PER', 'I-PER', 'O', 'B-LOC'}}\nlocal pred = {{'B-PER', 'I-PER', 'O', 'O'}}\nlocal r = metrics.span_f1(pred, gold)\nprint(r.precision, r.recall, r.f1)  -- 1, 0.5, 0.6667"
        ) { s in
            let fn = "metrics.span_f1"
            let r = try spanF1(predicted: try s.tagSentences(1, fn), gold: try s.tagSentences(2, fn))
            lua_createtable(s.L, 0, 6)
            for (key, value) in [("precision", r.precision), ("recall", r.recall), ("f1", r.f1)] {
                s.push(value)
                lua_setfield(s.L, -2, key)
            }
            for (key, value) in [("correct", r.correct), ("predicted", r.predicted), ("gold", r.gold)] {
                s.push(value)
                lua_setfield(s.L, -2, key)
            }
            return 1
        }
        lib.def(
            "entities", "metrics.entities(tags)", "The entities of one sentence of BIO tags, as span_f1 reads them.",
            details: "Returns a list of {type=, first=, last=}, positions counting from 1.",
            example: "for _, e in ipairs(metrics.entities{'B-PER', 'I-PER', 'O', 'I-LOC'}) do\n  print(e.type, e.first, e.last)\nend"
        ) { s in
            let sentences = try s.tagSentences(1, "metrics.entities")
            guard sentences.count == 1 else { throw LuaError.argument(1, "metrics.entities", "one sentence (a table of tag strings) expected") }
            let spans = entitySpans(sentences[0])
            lua_createtable(s.L, Int32(spans.count), 0)
            for (k, span) in spans.enumerated() {
                lua_createtable(s.L, 0, 3)
                s.push(span.type)
                lua_setfield(s.L, -2, "type")
                s.push(span.start + 1)
                lua_setfield(s.L, -2, "first")
                s.push(span.end + 1)
                lua_setfield(s.L, -2, "last")
                lua_rawseti(s.L, -2, lua_Integer(k + 1))
            }
            return 1
        }
        lib.def(
            "perplexity", "metrics.perplexity(loss)", "exp(loss): the perplexity of a mean cross-entropy in nats per token.",
            details: "loss is a number or a one-element tensor (nn.cross_entropy's mean over the counted tokens).",
            example:
                "print(metrics.perplexity(math.log(20)))\nlocal logits = tensor.zeros(4, 10)\nprint(metrics.perplexity(nn.cross_entropy(logits, tensor.from({1, 2, 3, 4}, {dtype = 'i64'}))))  -- 10"
        ) { s in
            let loss = try s.tensor(at: 1)?.item() ?? s.checkNumber(1, "metrics.perplexity")
            s.push(perplexity(meanCrossEntropy: loss))
            return 1
        }
        /// the mean of score over paired predictions and references (strings or equal-length lists)
        func meanAnswerScore(_ s: LuaStack, _ fn: String, _ score: (String, String) -> Double) throws -> Double {
            let p = try s.answerList(1, fn), r = try s.answerList(2, fn)
            guard p.count == r.count, !p.isEmpty else {
                throw LuaError.argument(2, fn, "as many references as predictions expected (at least one), got \(r.count) and \(p.count)")
            }
            return zip(p, r).reduce(0) { $0 + score($1.0, $1.1) } / Double(p.count)
        }
        let answerNote = """
            prediction and reference: two strings, or two lists of strings of the same length (the mean is
            returned). Both are normalised as SQuAD's evaluation does (metrics.normalize_answer).
            """
        lib.def(
            "exact_match", "metrics.exact_match(prediction, reference)",
            "1 if the normalised prediction equals the normalised reference, else 0; over lists, the fraction equal.",
            details: answerNote,
            example:
                "print(metrics.exact_match('The Eiffel Tower.', 'eiffel  tower'))  -- 1\nprint(metrics.exact_match({'Paris', '42'}, {'paris', '41'}))  -- 0.5"
        ) { s in
            s.push(try meanAnswerScore(s, "metrics.exact_match") { answerExactMatch($0, $1) ? 1 : 0 })
            return 1
        }
        lib.def(
            "token_f1", "metrics.token_f1(prediction, reference)",
            "SQuAD's token F1 of the normalised words (shared as multisets); over lists, the mean.",
            details: answerNote + "\nF1 is 1 when both are empty after normalisation and 0 when only one is.",
            example: "print(metrics.token_f1('the cat sat', 'a cat sat down'))  -- precision 1, recall 2/3: 0.8"
        ) { s in
            s.push(try meanAnswerScore(s, "metrics.token_f1", answerTokenF1))
            return 1
        }
        lib.def(
            "normalize_answer", "metrics.normalize_answer(text)",
            "SQuAD's answer normalisation: lowercase, punctuation (Unicode's and ASCII's) and the articles a/an/the removed, whitespace collapsed.",
            example: "print(metrics.normalize_answer('  The  Answer is: ¡42!  '))  -- answer is 42"
        ) { s in
            s.push(normalizeAnswer(try s.checkString(1, "metrics.normalize_answer")))
            return 1
        }
        lua_setglobal(L, "metrics")
    }
}
