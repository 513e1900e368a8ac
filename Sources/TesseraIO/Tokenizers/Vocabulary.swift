// Vocabulary: a model's tokens by id and ids by token bytes. Ids may have gaps (reduced
// vocabularies keep their original numbers); a gap has no token.

/// Ids must be below this: vocabularies are dense arrays, and real ones stay far below (256k).
let maxTokenID = 1 << 24

struct Vocabulary: Sendable {
    /// token of each id, nil for an id without one
    private(set) var tokens: [String?] = []
    private(set) var table = PieceTable()

    init() {}

    /// Vocabulary of `tokens` numbered from 0 (a repeated token keeps its last id, as HF's maps do).
    init(_ tokens: [String]) {
        self.tokens = tokens
        for (id, t) in tokens.enumerated() { table.insert(t, Int32(id)) }
    }

    /// Vocabulary from token -> id pairs; throws on a negative id.
    init(pairs: [(String, Int)]) throws {
        for (t, id) in pairs { try add(t, id) }
    }

    mutating func add(_ token: String, _ id: Int) throws {
        guard id >= 0, id < maxTokenID else { throw TokenizerError.malformed("token \(token.debugDescription) has id \(id)") }
        if id >= tokens.count { tokens += [String?](repeating: nil, count: id + 1 - tokens.count) }
        tokens[id] = token
        table.insert(token, Int32(id))
    }

    /// one more than the largest id
    var size: Int { tokens.count }

    func id(_ token: String) -> Int? {
        let id = table.lookup(token)
        return id >= 0 ? Int(id) : nil
    }

    func token(_ id: Int) -> String? { id >= 0 && id < tokens.count ? tokens[id] : nil }
}

/// A tokenization model: cuts one pre-tokenized word into ids.
protocol TokenizationModel: AnyObject, Sendable {
    var vocabulary: Vocabulary { get }
    /// Appends the ids of the word p[r] (non-empty UTF-8).
    func tokenize(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, into ids: inout [Int32]) throws
    /// the unknown token's id, if the model has one
    var unknownID: Int? { get }
    /// The pieces of the word p[r] as strings (HF's Encoding.tokens).
    func pieces(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) throws -> [String]
}

extension TokenizationModel {
    func pieces(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) throws -> [String] {
        var ids: [Int32] = []
        try tokenize(p, r, into: &ids)
        return ids.map { vocabulary.token(Int($0)) ?? "" }
    }
}
