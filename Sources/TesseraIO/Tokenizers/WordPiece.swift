// WordPiece: BERT's model. Each word is cut greedily into the longest vocabulary entries from
// the left, pieces after the first carrying the "##" prefix; a word with a part no entry covers,
// or longer than max_input_chars_per_word characters, is the unknown token.

final class WordPieceModel: TokenizationModel, @unchecked Sendable {
    let vocabulary: Vocabulary
    /// ids of the "##"-prefixed entries, keyed by what follows the prefix
    private let continuation: PieceTable
    let continuingSubwordPrefix: String
    let unknownToken: String
    private let unk: Int32
    let maxInputCharsPerWord: Int

    var unknownID: Int? { Int(unk) }

    init(vocabulary: Vocabulary, unknownToken: String = "[UNK]", continuingSubwordPrefix: String = "##", maxInputCharsPerWord: Int = 100)
        throws
    {
        guard let unk = vocabulary.id(unknownToken) else {
            throw TokenizerError.malformed("WordPiece: the unknown token \(unknownToken.debugDescription) is not in the vocabulary")
        }
        self.vocabulary = vocabulary
        self.unk = Int32(unk)
        self.unknownToken = unknownToken
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.maxInputCharsPerWord = maxInputCharsPerWord
        var continuation = PieceTable()
        let prefix = Array(continuingSubwordPrefix.utf8)
        for (id, t) in vocabulary.tokens.enumerated() {
            guard let t else { continue }
            let bytes = Array(t.utf8)
            if bytes.count > prefix.count && bytes.starts(with: prefix) {
                continuation.insert(bytes[prefix.count...], Int32(id))
            }
        }
        self.continuation = continuation
    }

    func tokenize(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, into ids: inout [Int32]) {
        var chars = 0
        for i in r where p[i] & 0xC0 != 0x80 { chars += 1 }
        if chars > maxInputCharsPerWord {
            ids.append(unk)
            return
        }
        let first = ids.count
        let maxWhole = vocabulary.table.maxKeyLength, maxContinued = continuation.maxKeyLength
        var s = r.lowerBound
        while s < r.upperBound {
            let table = s == r.lowerBound ? vocabulary.table : continuation
            var e = min(r.upperBound, s + (s == r.lowerBound ? maxWhole : maxContinued))
            while e < r.upperBound && e > s && p[e] & 0xC0 == 0x80 { e -= 1 }
            var found: Int32 = -1
            while e > s {
                found = table.lookup(p, s..<e)
                if found >= 0 { break }
                e -= 1
                while e > s && p[e] & 0xC0 == 0x80 { e -= 1 }
            }
            if found < 0 {
                ids.removeSubrange(first...)
                ids.append(unk)
                return
            }
            ids.append(found)
            s = e
        }
    }
}
