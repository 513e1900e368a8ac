// Unigram: SentencePiece's unigram model as HF tokenizers runs it. Viterbi finds the segmentation
// of a word into vocabulary pieces with the largest total score (log-probability); a character
// no single piece covers is unknown, scored (lowest piece score - 10); runs of unknown characters
// fuse into one unknown token, which byte fallback (if the model has <0x00>..<0xFF>) spells as
// bytes instead.

final class UnigramModel: TokenizationModel, @unchecked Sendable {
    let vocabulary: Vocabulary
    /// score of each id (log-probability)
    let scores: [Double]
    let unk: Int32?
    let byteFallback: Bool
    /// id of <0xXX> for each byte, -1 where missing
    private let byteIDs: [Int32]
    private let unknownScore: Double

    var unknownID: Int? { unk.map(Int.init) }

    init(pieces: [String], scores: [Double], unknownID: Int?, byteFallback: Bool) throws {
        guard pieces.count == scores.count else {
            throw TokenizerError.malformed("Unigram: \(pieces.count) pieces but \(scores.count) scores")
        }
        guard !pieces.isEmpty else { throw TokenizerError.malformed("Unigram: empty vocabulary") }
        if let u = unknownID, u < 0 || u >= pieces.count {
            throw TokenizerError.malformed("Unigram: unknown id \(u) outside the vocabulary of \(pieces.count) pieces")
        }
        guard scores.allSatisfy({ $0.isFinite }) else { throw TokenizerError.malformed("Unigram: a score is not finite") }
        let vocabulary = Vocabulary(pieces)
        self.vocabulary = vocabulary
        self.scores = scores
        unk = unknownID.map(Int32.init)
        self.byteFallback = byteFallback
        byteIDs = (0..<256).map { b in Int32(vocabulary.id(byteFallbackToken(UInt8(b))) ?? -1) }
        unknownScore = (scores.min() ?? 0) - 10
    }

    func tokenize(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, into ids: inout [Int32]) throws {
        for (range, id) in try segment(p, r) { ids.append(contentsOf: resolve(p, range, id)) }
    }

    /// Pieces as HF names them: an unknown piece is shown as the text it covers.
    func pieces(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) throws -> [String] {
        try segment(p, r).flatMap { range, id in
            resolve(p, range, id).map { $0 == unk ? stringFromUTF8(p[range]) : vocabulary.token(Int($0)) ?? "" }
        }
    }

    /// The best segmentation of p[r]: byte ranges (absolute) and piece ids, unknown runs fused.
    private func segment(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) throws -> [(Range<Int>, Int32)] {
        let n = r.count, base = r.lowerBound
        let table = vocabulary.table
        // best[e]: best score of a path over bytes 0..<e; from/id: the last piece of that path
        var best = [Double](repeating: 0, count: n + 1)
        var from = [Int32](repeating: -1, count: n + 1)
        var pieceID = [Int32](repeating: -1, count: n + 1)
        var s = 0
        while s < n {
            let charLength = min(utf8Length(p[base + s]), n - s)
            var hasSingleCharPiece = false
            var e = s + 1
            let limit = min(n, s + table.maxKeyLength)
            while e <= limit {
                if e < n && p[base + e] & 0xC0 == 0x80 {
                    e += 1
                    continue
                }
                let id = table.lookup(p, (base + s)..<(base + e))
                if id >= 0 {
                    let candidate = best[s] + scores[Int(id)]
                    if from[e] < 0 || candidate > best[e] {
                        best[e] = candidate
                        from[e] = Int32(s)
                        pieceID[e] = id
                    }
                    if e - s == charLength { hasSingleCharPiece = true }
                }
                e += 1
            }
            if !hasSingleCharPiece {
                guard let unk else {
                    throw TokenizerError.invalidArgument("Unigram: a character has no piece and the model has no unknown token")
                }
                let e = s + charLength
                let candidate = best[s] + unknownScore
                if from[e] < 0 || candidate > best[e] {
                    best[e] = candidate
                    from[e] = Int32(s)
                    pieceID[e] = unk
                }
            }
            s += charLength
        }
        // back from the end; consecutive unknown pieces fuse into one
        var pieces: [(Range<Int>, Int32)] = []
        var e = n
        while e > 0 {
            let s = Int(from[e])
            if let unk, pieceID[e] == unk, let last = pieces.last, last.1 == unk, last.0.lowerBound == e {
                pieces[pieces.count - 1] = (s..<last.0.upperBound, unk)
            } else {
                pieces.append((s..<e, pieceID[e]))
            }
            e = s
        }
        return pieces.reversed().map { ((base + $0.0.lowerBound)..<(base + $0.0.upperBound), $0.1) }
    }

    /// The ids of one piece: an unknown run is looked up whole, then spelled in bytes (byte
    /// fallback), else it is the unknown id.
    private func resolve(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ id: Int32) -> [Int32] {
        guard id == unk else { return [id] }
        let known = vocabulary.table.lookup(p, range)
        if known >= 0 { return [known] }
        if byteFallback && range.allSatisfy({ byteIDs[Int(p[$0])] >= 0 }) { return range.map { byteIDs[Int(p[$0])] } }
        return [id]
    }
}

/// "<0x41>": the piece that stands for one byte under byte fallback.
func byteFallbackToken(_ b: UInt8) -> String {
    let hex = Array("0123456789ABCDEF")
    return "<0x\(hex[Int(b >> 4)])\(hex[Int(b & 15)])>"
}
