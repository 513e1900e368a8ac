// Tokenizer: text to token ids and back, HF tokenizers' pipeline: added tokens are cut out of the
// raw text first, the rest is normalized, pre-tokenized into words and each word run through the
// model (WordPiece, Unigram or BPE); the post-processor adds special tokens. Batches are padded
// (left or right) and truncated, with attention masks.

/// Ids of the special tokens a model uses, where it has them.
public struct SpecialTokenIDs: Sendable, Equatable {
    public var pad: Int?
    public var unk: Int?
    public var cls: Int?
    public var sep: Int?
    public var bos: Int?
    public var eos: Int?
    public var mask: Int?

    public init(pad: Int? = nil, unk: Int? = nil, cls: Int? = nil, sep: Int? = nil, bos: Int? = nil, eos: Int? = nil, mask: Int? = nil) {
        self.pad = pad
        self.unk = unk
        self.cls = cls
        self.sep = sep
        self.bos = bos
        self.eos = eos
        self.mask = mask
    }
}

/// Which side of a short sequence gets the padding.
public enum PaddingSide: String, Sendable { case right, left }

/// Ids of a batch of texts, all of one length, with 1 for real tokens and 0 for padding.
public struct BatchEncoding: Sendable, Equatable {
    /// (batch, length)
    public var ids: [[Int]]
    /// (batch, length)
    public var attentionMask: [[Int]]
    public var length: Int { ids.first?.count ?? 0 }
}

public final class Tokenizer: @unchecked Sendable {
    /// "WordPiece", "Unigram" or "BPE"
    public let kind: String
    let model: any TokenizationModel
    let normalizer: (any TextNormalizer)?
    let preTokenizer: (any PreTokenizer)?
    public let postProcessor: PostProcessor
    let decoder: (any TokenDecoder)?
    let added: AddedVocabulary
    public var specialTokens: SpecialTokenIDs
    /// the truncation length the tokenizer file asks for, if any (used by batch when no
    /// max_length is given)
    public var modelMaxLength: Int?
    private let specialIDs: Set<Int>
    private let addedByID: [Int: String]
    private let addedByContent: [String: Int]

    init(
        kind: String, model: any TokenizationModel, normalizer: (any TextNormalizer)?, preTokenizer: (any PreTokenizer)?,
        postProcessor: PostProcessor, decoder: (any TokenDecoder)?, addedTokens: [AddedToken], specialTokens: SpecialTokenIDs,
        modelMaxLength: Int? = nil
    ) {
        self.kind = kind
        self.model = model
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.postProcessor = postProcessor
        self.decoder = decoder
        self.added = AddedVocabulary(addedTokens)
        self.specialTokens = specialTokens
        self.modelMaxLength = modelMaxLength
        specialIDs = Set(addedTokens.filter(\.special).map(\.id))
        addedByID = Dictionary(addedTokens.map { ($0.id, $0.content) }, uniquingKeysWith: { a, _ in a })
        addedByContent = Dictionary(addedTokens.map { ($0.content, $0.id) }, uniquingKeysWith: { a, _ in a })
    }

    /// ids (0-based, as the model numbers them) of `text`, with the post-processor's special
    /// tokens when `addSpecialTokens`.
    public func encode(_ text: String, addSpecialTokens: Bool = true) throws -> [Int] {
        try encodeIDs(text, addSpecialTokens: addSpecialTokens).map(Int.init)
    }

    /// encode, as Int32 ids (the hot path's own type)
    public func encodeIDs(_ text: String, addSpecialTokens: Bool = true) throws -> [Int32] {
        let content = try encodeContent(Array(text.utf8))
        return addSpecialTokens ? postProcessor.apply(content) : content
    }

    private func encodeContent(_ text: [UInt8]) throws -> [Int32] {
        var ids: [Int32] = []
        ids.reserveCapacity(text.count / 3 + 4)
        try forEachPart(text) { token in
            ids.append(Int32(token.id))
        } words: { p, r in
            try model.tokenize(p, r, into: &ids)
        }
        return ids
    }

    /// Runs the pipeline over text: `added` for each added token, `words` for each word the
    /// pre-tokenizer makes of the normalized text between them.
    private func forEachPart(
        _ text: [UInt8], added addedToken: (AddedToken) -> Void, words: (UnsafeBufferPointer<UInt8>, Range<Int>) throws -> Void
    ) throws {
        for (range, token) in added.split(text) {
            if let token {
                addedToken(token)
                continue
            }
            let raw = Array(text[range])
            var w = Words(normalizer?.normalize(raw) ?? raw, startsText: range.lowerBound == 0)
            preTokenizer?.split(&w)
            try w.bytes.withUnsafeBufferPointer { p in
                for r in w.ranges where !r.isEmpty { try words(p, r) }
            }
        }
    }

    /// The token strings of `text` as HF's Encoding.tokens gives them (the model's pieces, e.g.
    /// "##ing", "▁the", "Ġthe"; a unigram unknown piece shows the text it covers).
    public func tokens(_ text: String, addSpecialTokens: Bool = false) throws -> [String] {
        var out: [String] = []
        try forEachPart(Array(text.utf8)) { token in
            out.append(token.content)
        } words: { p, r in
            out.append(contentsOf: try model.pieces(p, r))
        }
        guard addSpecialTokens else { return out }
        return postProcessor.prefix.map { idToToken($0) ?? "" } + out + postProcessor.suffix.map { idToToken($0) ?? "" }
    }

    /// Text of `ids`; special tokens (added tokens marked special) are left out when
    /// `skipSpecialTokens`. Throws on an id outside the vocabulary.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = true) throws -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            if skipSpecialTokens && specialIDs.contains(id) { continue }
            guard let t = idToToken(id) else {
                throw TokenizerError.invalidArgument("id \(id) is not in the vocabulary (size \(vocabularySize))")
            }
            tokens.append(t)
        }
        guard let decoder else { return tokens.joined(separator: " ") }
        return decoder.decodeChain(tokens).joined()
    }

    /// Ids of several texts, truncated to `maxLength` (special tokens included) and padded to the
    /// longest (or to `maxLength` when `padToMaxLength`) on `padding`'s side with the pad id.
    public func batch(
        _ texts: [String], maxLength: Int? = nil, padding: PaddingSide? = .right, padToMaxLength: Bool = false, truncation: Bool = true,
        addSpecialTokens: Bool = true
    ) throws -> BatchEncoding {
        if let maxLength, maxLength < 1 || maxLength > 1 << 24 {
            throw TokenizerError.invalidArgument("max_length must lie in [1, 2^24], got \(maxLength)")
        }
        let limit = truncation ? maxLength : nil
        var rows: [[Int]] = []
        rows.reserveCapacity(texts.count)
        for text in texts {
            var content = try encodeContent(Array(text.utf8))
            let added = addSpecialTokens ? postProcessor.addedCount : 0
            if let limit { content = Array(content.prefix(max(0, limit - added))) }
            rows.append((addSpecialTokens ? postProcessor.apply(content) : content).map(Int.init))
        }
        guard let padding else {
            guard Set(rows.map(\.count)).count <= 1 else {
                throw TokenizerError.invalidArgument("texts encode to different lengths; pass padding to make one tensor")
            }
            return BatchEncoding(ids: rows, attentionMask: rows.map { Array(repeating: 1, count: $0.count) })
        }
        var length = rows.map(\.count).max() ?? 0
        if padToMaxLength, let maxLength { length = max(length, maxLength) }
        let pad = specialTokens.pad ?? 0
        var ids: [[Int]] = [], mask: [[Int]] = []
        for row in rows {
            let fill = length - row.count
            let padIDs = Array(repeating: pad, count: fill), zeros = Array(repeating: 0, count: fill)
            let ones = Array(repeating: 1, count: row.count)
            ids.append(padding == .right ? row + padIDs : padIDs + row)
            mask.append(padding == .right ? ones + zeros : zeros + ones)
        }
        return BatchEncoding(ids: ids, attentionMask: mask)
    }

    /// one more than the largest id (model vocabulary and added tokens)
    public var vocabularySize: Int { max(model.vocabulary.size, (addedByID.keys.max() ?? -1) + 1) }

    public func tokenToID(_ token: String) -> Int? {
        addedByContent[token] ?? model.vocabulary.id(token)
    }

    public func idToToken(_ id: Int) -> String? { addedByID[id] ?? model.vocabulary.token(id) }

    /// the added tokens (special or not), in the tokenizer file's order
    public var addedTokens: [AddedToken] { added.tokens }

    /// whether decode(skipSpecialTokens:) leaves this id out
    public func isSpecial(_ id: Int) -> Bool { specialIDs.contains(id) }
}
