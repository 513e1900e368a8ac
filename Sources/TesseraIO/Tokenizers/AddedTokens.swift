// AddedTokens: tokens matched in the raw text before normalization and the model ([CLS], <s>,
// <|im_start|> ...), as HF's added vocabulary: leftmost-longest matches, optionally absorbing the
// whitespace to their left/right (lstrip/rstrip) or only as whole words (single_word).

public struct AddedToken: Sendable, Equatable {
    public var content: String
    public var id: Int
    /// skipped by decode(skipSpecialTokens:)
    public var special: Bool
    public var lstrip = false
    public var rstrip = false
    public var singleWord = false
    /// HF matches these after normalization; Tessera matches every added token in the raw text
    public var normalized = false

    public init(
        content: String, id: Int, special: Bool, lstrip: Bool = false, rstrip: Bool = false, singleWord: Bool = false, normalized: Bool = false
    ) {
        self.content = content
        self.id = id
        self.special = special
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.singleWord = singleWord
        self.normalized = normalized
    }
}

struct AddedVocabulary: Sendable {
    let tokens: [AddedToken]
    private let bytes: [[UInt8]]
    /// indices into tokens by their first byte, longest first
    private let byFirstByte: [[Int]]

    init(_ tokens: [AddedToken]) {
        let tokens = tokens.filter { !$0.content.isEmpty }
        self.tokens = tokens
        let bytes = tokens.map { Array($0.content.utf8) }
        self.bytes = bytes
        var index = [[Int]](repeating: [], count: 256)
        for (k, b) in bytes.enumerated() { index[Int(b[0])].append(k) }
        byFirstByte = index.map { list in list.sorted { bytes[$0].count > bytes[$1].count } }
    }

    var isEmpty: Bool { tokens.isEmpty }

    /// Cuts text into runs of ordinary text (token nil) and added tokens.
    func split(_ text: [UInt8]) -> [(range: Range<Int>, token: AddedToken?)] {
        if tokens.isEmpty { return [(0..<text.count, nil)] }
        var out: [(range: Range<Int>, token: AddedToken?)] = []
        var segmentStart = 0
        var i = 0
        text.withUnsafeBufferPointer { p in
            while i < p.count {
                let candidates = byFirstByte[Int(p[i])]
                var matched: (Int, Int)? = nil
                for k in candidates {
                    let b = bytes[k]
                    guard i + b.count <= p.count, p[i..<i + b.count].elementsEqual(b) else { continue }
                    if tokens[k].singleWord && !isWordBoundary(p, i, i + b.count) { continue }
                    matched = (k, i + b.count)
                    break
                }
                guard let (k, end) = matched else {
                    i += 1
                    continue
                }
                var start = i, stop = end
                if tokens[k].lstrip { while start > segmentStart && isSpace(p[start - 1]) { start -= 1 } }
                if tokens[k].rstrip { while stop < p.count && isSpace(p[stop]) { stop += 1 } }
                if start > segmentStart { out.append((segmentStart..<start, nil)) }
                out.append((start..<stop, tokens[k]))
                segmentStart = stop
                i = stop
            }
            if segmentStart < p.count { out.append((segmentStart..<p.count, nil)) }
        }
        return out
    }

    private func isSpace(_ b: UInt8) -> Bool { b == 32 || (9...13).contains(b) }

    /// whether the match start..<end has no word character right before or after it
    private func isWordBoundary(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        func isWordChar(_ v: UInt32) -> Bool {
            let c = scalarClass(v)
            return c.contains(.letter) || c.contains(.number) || v == 95
        }
        if start > 0 {
            var s = start - 1
            while s > 0 && p[s] & 0xC0 == 0x80 { s -= 1 }
            if isWordChar(decodeScalar(p, s).0) { return false }
        }
        if end < p.count && isWordChar(decodeScalar(p, end).0) { return false }
        return true
    }
}
