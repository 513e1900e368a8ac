// TokenizerJSON: reads HF `tokenizer.json` (model, normalizer, pre-tokenizer, post-processor,
// decoder, added tokens) into a Tokenizer. Components Tessera does not implement are errors
// naming them. One approximation: SentencePiece's `Precompiled` character map is not decoded but
// replaced by what it holds for XLM-R (NFKC with control and whitespace fix-ups).

import Foundation

/// A JSON object with typed, erroring field access; `path` names it in errors.
struct JSONObject {
    let fields: [String: Any]
    let path: String

    init(_ value: Any?, _ path: String) throws {
        guard let d = value as? [String: Any] else { throw TokenizerError.malformed("\(path) is not an object") }
        fields = d
        self.path = path
    }

    func has(_ key: String) -> Bool { fields[key] != nil && !(fields[key] is NSNull) }

    func string(_ key: String) throws -> String {
        guard let s = fields[key] as? String else { throw TokenizerError.malformed("\(path).\(key) is not a string") }
        return s
    }

    func optionalString(_ key: String) throws -> String? { has(key) ? try string(key) : nil }

    func bool(_ key: String, default d: Bool) throws -> Bool {
        guard has(key) else { return d }
        guard let n = fields[key] as? Bool else {
            throw TokenizerError.malformed("\(path).\(key) is not a boolean")
        }
        return n
    }

    func int(_ key: String) throws -> Int {
        guard let n = fields[key] as? NSNumber, let i = Int(exactly: n.doubleValue) else {
            throw TokenizerError.malformed("\(path).\(key) is not an integer")
        }
        return i
    }

    func optionalInt(_ key: String) throws -> Int? { has(key) ? try int(key) : nil }

    func array(_ key: String) throws -> [Any] {
        guard let a = fields[key] as? [Any] else { throw TokenizerError.malformed("\(path).\(key) is not an array") }
        return a
    }

    func object(_ key: String) throws -> JSONObject { try JSONObject(fields[key], "\(path).\(key)") }

    /// a pattern field: {"String": s} or {"Regex": r}
    func pattern(_ key: String) throws -> (literal: String?, regex: String?) {
        let p = try object(key)
        if p.has("String") { return (try p.string("String"), nil) }
        if p.has("Regex") { return (nil, try p.string("Regex")) }
        throw TokenizerError.malformed("\(path).\(key) has neither String nor Regex")
    }
}

extension Tokenizer {
    /// A tokenizer from the contents of an HF tokenizer.json; `config` is the optional
    /// tokenizer_config.json next to it (special-token names, model_max_length).
    public static func fromJSON(_ data: Data, config: Data? = nil) throws -> Tokenizer {
        let root: JSONObject
        do {
            root = try JSONObject(try JSONSerialization.jsonObject(with: data), "tokenizer.json")
        } catch let e as TokenizerError {
            throw e
        } catch {
            throw TokenizerError.malformed("tokenizer.json is not valid JSON")
        }
        let modelJSON = try root.object("model")
        let model = try readModel(modelJSON)
        let addedJSON = root.has("added_tokens") ? try root.array("added_tokens") : []
        let added = try addedJSON.enumerated().map { k, v -> AddedToken in
            let a = try JSONObject(v, "tokenizer.json.added_tokens[\(k)]")
            return AddedToken(
                content: try a.string("content"), id: try a.int("id"), special: try a.bool("special", default: false),
                lstrip: try a.bool("lstrip", default: false), rstrip: try a.bool("rstrip", default: false),
                singleWord: try a.bool("single_word", default: false), normalized: try a.bool("normalized", default: false))
        }
        for a in added where a.id < 0 || a.id >= maxTokenID {
            throw TokenizerError.malformed("added token \(a.content.debugDescription) has id \(a.id)")
        }
        let normalizer = try root.has("normalizer") ? readNormalizer(try root.object("normalizer")) : nil
        let pre = try root.has("pre_tokenizer") ? readPreTokenizer(try root.object("pre_tokenizer")) : nil
        let post = try root.has("post_processor") ? readPostProcessor(try root.object("post_processor")) : (PostProcessor.none, nil)
        let decoder = try root.has("decoder") ? readDecoder(try root.object("decoder")) : nil
        for id in post.0.prefix + post.0.suffix where id < 0 || id >= maxTokenID {
            throw TokenizerError.malformed("post_processor: special token id \(id) out of range")
        }
        let lookup: (String) -> Int? = { t in added.first { $0.content == t }?.id ?? model.vocabulary.id(t) }
        var special = SpecialTokenIDs(unk: model.unknownID)
        special.cls = post.1?.cls ?? lookup("[CLS]") ?? lookup("<s>")
        special.sep = post.1?.sep ?? lookup("[SEP]") ?? lookup("</s>")
        special.bos = lookup("<s>") ?? lookup("<|begin_of_text|>") ?? post.0.prefix.first
        special.eos = lookup("</s>") ?? lookup("<|end_of_text|>") ?? lookup("<|endoftext|>") ?? post.0.suffix.last
        special.mask = lookup("[MASK]") ?? lookup("<mask>")
        special.pad = lookup("[PAD]") ?? lookup("<pad>")
        if root.has("padding") {
            let padding = try root.object("padding")
            if let id = try padding.optionalInt("pad_id") { special.pad = id }
        }
        var maxLength: Int? = nil
        if root.has("truncation") { maxLength = try root.object("truncation").optionalInt("max_length") }
        if let config {
            let c = try JSONObject(try? JSONSerialization.jsonObject(with: config), "tokenizer_config.json")
            try applyConfig(c, &special, &maxLength, lookup)
        }
        let kind = try modelJSON.optionalString("type") ?? (model is WordPieceModel ? "WordPiece" : model is UnigramModel ? "Unigram" : "BPE")
        return Tokenizer(
            kind: kind, model: model, normalizer: normalizer, preTokenizer: pre, postProcessor: post.0, decoder: decoder,
            addedTokens: added, specialTokens: special, modelMaxLength: maxLength)
    }

    /// Special-token names and model_max_length from tokenizer_config.json.
    static func applyConfig(_ c: JSONObject, _ special: inout SpecialTokenIDs, _ maxLength: inout Int?, _ lookup: (String) -> Int?) throws {
        func tokenID(_ key: String) -> Int? {
            if let s = c.fields[key] as? String { return lookup(s) }
            if let d = c.fields[key] as? [String: Any], let s = d["content"] as? String { return lookup(s) }
            return nil
        }
        special.pad = tokenID("pad_token") ?? special.pad
        special.unk = tokenID("unk_token") ?? special.unk
        special.cls = tokenID("cls_token") ?? special.cls
        special.sep = tokenID("sep_token") ?? special.sep
        special.bos = tokenID("bos_token") ?? special.bos
        special.eos = tokenID("eos_token") ?? special.eos
        special.mask = tokenID("mask_token") ?? special.mask
        if maxLength == nil, let m = c.fields["model_max_length"] as? NSNumber, m.doubleValue < 1e7 { maxLength = m.intValue }
    }

    static func readModel(_ m: JSONObject) throws -> any TokenizationModel {
        let type = try m.optionalString("type") ?? (m.has("merges") ? "BPE" : m.has("continuing_subword_prefix") ? "WordPiece" : "Unigram")
        switch type {
        case "WordPiece":
            let vocab = try Vocabulary(pairs: try vocabPairs(try m.object("vocab")))
            return try WordPieceModel(
                vocabulary: vocab, unknownToken: try m.optionalString("unk_token") ?? "[UNK]",
                continuingSubwordPrefix: try m.optionalString("continuing_subword_prefix") ?? "##",
                maxInputCharsPerWord: try m.optionalInt("max_input_chars_per_word") ?? 100)
        case "Unigram":
            var pieces: [String] = [], scores: [Double] = []
            for (k, entry) in try m.array("vocab").enumerated() {
                guard let pair = entry as? [Any], pair.count == 2, let piece = pair[0] as? String, let score = pair[1] as? NSNumber else {
                    throw TokenizerError.malformed("\(m.path).vocab[\(k)] is not a [piece, score] pair")
                }
                pieces.append(piece)
                scores.append(score.doubleValue)
            }
            return try UnigramModel(
                pieces: pieces, scores: scores, unknownID: try m.optionalInt("unk_id"), byteFallback: try m.bool("byte_fallback", default: false))
        case "BPE":
            let vocab = try Vocabulary(pairs: try vocabPairs(try m.object("vocab")))
            var merges: [(String, String)] = []
            for (k, entry) in try m.array("merges").enumerated() {
                if let s = entry as? String, let space = s.firstIndex(of: " ") {
                    merges.append((String(s[..<space]), String(s[s.index(after: space)...])))
                } else if let pair = entry as? [Any], pair.count == 2, let a = pair[0] as? String, let b = pair[1] as? String {
                    merges.append((a, b))
                } else {
                    throw TokenizerError.malformed("\(m.path).merges[\(k)] is neither \"a b\" nor [a, b]")
                }
            }
            return try BPEModel(
                vocabulary: vocab, merges: merges, unknownToken: try m.optionalString("unk_token"),
                continuingSubwordPrefix: try m.optionalString("continuing_subword_prefix"),
                endOfWordSuffix: try m.optionalString("end_of_word_suffix"), fuseUnknown: try m.bool("fuse_unk", default: false),
                byteFallback: try m.bool("byte_fallback", default: false), ignoreMerges: try m.bool("ignore_merges", default: false))
        default:
            throw TokenizerError.unsupported("model type \(type) (Tessera reads WordPiece, Unigram and BPE)")
        }
    }

    static func vocabPairs(_ v: JSONObject) throws -> [(String, Int)] {
        try v.fields.map { token, id in
            guard let n = id as? NSNumber, let i = Int(exactly: n.doubleValue) else {
                throw TokenizerError.malformed("\(v.path): id of \(token.debugDescription) is not an integer")
            }
            return (token, i)
        }
    }

    static func readNormalizer(_ n: JSONObject) throws -> (any TextNormalizer)? {
        switch try n.string("type") {
        case "BertNormalizer":
            return BertNormalizer(
                cleanText: try n.bool("clean_text", default: true), handleChineseChars: try n.bool("handle_chinese_chars", default: true),
                stripAccents: n.has("strip_accents") ? try n.bool("strip_accents", default: false) : nil,
                lowercase: try n.bool("lowercase", default: true))
        case "NFC": return UnicodeNormalizer(form: .nfc)
        case "NFD": return UnicodeNormalizer(form: .nfd)
        case "NFKC": return UnicodeNormalizer(form: .nfkc)
        case "Precompiled": return SentencePieceNormalizer()
        case "NFKD": return UnicodeNormalizer(form: .nfkd)
        case "Lowercase": return LowercaseNormalizer()
        case "StripAccents": return StripAccentsNormalizer()
        case "Strip": return StripNormalizer(left: try n.bool("strip_left", default: true), right: try n.bool("strip_right", default: true))
        case "Prepend": return PrependNormalizer(prefix: Array(try n.string("prepend").utf8))
        case "Replace":
            let p = try n.pattern("pattern")
            let content = try n.string("content")
            if let literal = p.literal { return ReplaceNormalizer(literal: literal, content: content) }
            return try ReplaceNormalizer(regex: p.regex ?? "", content: content)
        case "Sequence":
            let parts = try n.array("normalizers").enumerated().compactMap { k, v in
                try readNormalizer(try JSONObject(v, "\(n.path).normalizers[\(k)]"))
            }
            return SequenceNormalizer(normalizers: parts)
        case let other: throw TokenizerError.unsupported("normalizer \(other)")
        }
    }

    static func readPreTokenizer(_ p: JSONObject) throws -> any PreTokenizer {
        func behavior(_ key: String) throws -> DelimiterBehavior {
            let name = try p.optionalString(key) ?? "Isolated"
            guard let b = DelimiterBehavior(rawValue: name) else { throw TokenizerError.malformed("\(p.path).\(key): unknown behavior \(name)") }
            return b
        }
        switch try p.string("type") {
        case "BertPreTokenizer": return BertPreTokenizer()
        case "Whitespace": return WhitespacePreTokenizer()
        case "WhitespaceSplit": return WhitespaceSplitPreTokenizer()
        case "Digits": return DigitsPreTokenizer(individualDigits: try p.bool("individual_digits", default: false))
        case "Punctuation": return PunctuationPreTokenizer(behavior: try behavior("behavior"))
        case "ByteLevel":
            return ByteLevelPreTokenizer(
                addPrefixSpace: try p.bool("add_prefix_space", default: true), useRegex: try p.bool("use_regex", default: true))
        case "Metaspace":
            let replacement = try p.optionalString("replacement") ?? "\u{2581}"
            guard replacement.count == 1 else { throw TokenizerError.malformed("\(p.path).replacement is not one character") }
            return MetaspacePreTokenizer(
                replacement: replacement, prependScheme: try prependScheme(p),
                split: try p.bool("split", default: true))
        case "Split":
            let pattern = try p.pattern("pattern")
            let invert = try p.bool("invert", default: false)
            if let literal = pattern.literal { return SplitPreTokenizer(literal: literal, behavior: try behavior("behavior"), invert: invert) }
            return try SplitPreTokenizer(regex: pattern.regex ?? "", behavior: try behavior("behavior"), invert: invert)
        case "Sequence":
            let parts = try p.array("pretokenizers").enumerated().map { k, v in
                try readPreTokenizer(try JSONObject(v, "\(p.path).pretokenizers[\(k)]"))
            }
            return SequencePreTokenizer(preTokenizers: parts)
        case let other: throw TokenizerError.unsupported("pre-tokenizer \(other)")
        }
    }

    static func prependScheme(_ p: JSONObject) throws -> MetaspacePreTokenizer.PrependScheme {
        if let s = try p.optionalString("prepend_scheme") {
            guard let scheme = MetaspacePreTokenizer.PrependScheme(rawValue: s) else {
                throw TokenizerError.malformed("\(p.path).prepend_scheme: unknown scheme \(s)")
            }
            return scheme
        }
        return try p.bool("add_prefix_space", default: true) ? .always : .never
    }

    /// The ids around a text, and the [CLS]/[SEP] (or <s>/</s>) of BERT/RoBERTa processors.
    static func readPostProcessor(_ p: JSONObject) throws -> (PostProcessor, (cls: Int, sep: Int)?) {
        func tokenPair(_ key: String) throws -> Int {
            guard let pair = p.fields[key] as? [Any], pair.count == 2, let n = pair[1] as? NSNumber else {
                throw TokenizerError.malformed("\(p.path).\(key) is not a [token, id] pair")
            }
            return n.intValue
        }
        switch try p.string("type") {
        case "BertProcessing", "RobertaProcessing":
            let cls = try tokenPair("cls"), sep = try tokenPair("sep")
            return (PostProcessor(prefix: [cls], suffix: [sep]), (cls, sep))
        case "ByteLevel": return (.none, nil)
        case "TemplateProcessing":
            let specials = try p.object("special_tokens")
            var prefix: [Int] = [], suffix: [Int] = []
            var seenSequence = false
            for (k, item) in try p.array("single").enumerated() {
                let piece = try JSONObject(item, "\(p.path).single[\(k)]")
                if piece.has("Sequence") {
                    seenSequence = true
                } else if piece.has("SpecialToken") {
                    let name = try piece.object("SpecialToken").string("id")
                    let entry = try specials.object(name)
                    let ids = try entry.array("ids").map { v -> Int in
                        guard let n = v as? NSNumber else { throw TokenizerError.malformed("\(entry.path).ids holds a non-number") }
                        return n.intValue
                    }
                    if seenSequence { suffix += ids } else { prefix += ids }
                } else {
                    throw TokenizerError.malformed("\(piece.path) is neither Sequence nor SpecialToken")
                }
            }
            return (PostProcessor(prefix: prefix, suffix: suffix), nil)
        case "Sequence":
            var result = PostProcessor.none
            var clsSep: (Int, Int)? = nil
            for (k, v) in try p.array("processors").enumerated() {
                let (inner, pair) = try readPostProcessor(try JSONObject(v, "\(p.path).processors[\(k)]"))
                result = PostProcessor(prefix: inner.prefix + result.prefix, suffix: result.suffix + inner.suffix)
                clsSep = clsSep ?? pair
            }
            return (result, clsSep)
        case let other: throw TokenizerError.unsupported("post-processor \(other)")
        }
    }

    static func readDecoder(_ d: JSONObject) throws -> any TokenDecoder {
        switch try d.string("type") {
        case "WordPiece":
            return WordPieceDecoder(prefix: try d.optionalString("prefix") ?? "##", cleanup: try d.bool("cleanup", default: true))
        case "Metaspace":
            let replacement = try d.optionalString("replacement") ?? "\u{2581}"
            guard let c = replacement.first, replacement.count == 1 else {
                throw TokenizerError.malformed("\(d.path).replacement is not one character")
            }
            return MetaspaceDecoder(replacement: c, prependScheme: try prependScheme(d))
        case "ByteLevel": return ByteLevelDecoder()
        case "ByteFallback": return ByteFallbackDecoder()
        case "Fuse": return FuseDecoder()
        case "Strip":
            let content = try d.optionalString("content") ?? " "
            guard let c = content.first, content.count == 1 else { throw TokenizerError.malformed("\(d.path).content is not one character") }
            return StripDecoder(content: c, start: try d.optionalInt("start") ?? 0, stop: try d.optionalInt("stop") ?? 0)
        case "Replace":
            let p = try d.pattern("pattern")
            guard let literal = p.literal else { throw TokenizerError.unsupported("Replace decoder with a regular expression") }
            return ReplaceDecoder(pattern: literal, content: try d.string("content"))
        case "Sequence":
            let parts = try d.array("decoders").enumerated().map { k, v in try readDecoder(try JSONObject(v, "\(d.path).decoders[\(k)]")) }
            return SequenceDecoder(decoders: parts)
        case let other: throw TokenizerError.unsupported("decoder \(other)")
        }
    }
}
