// CoNLL-U: sentences of the Universal Dependencies format (https://universaldependencies.org/format.html):
// comment lines, then one row per word with 10 tab-separated columns. Multiword tokens (`1-2`)
// and empty nodes (`8.1`) are kept apart from the word sequence, so `words[i]` has ID i+1.

/// The ID column: a word, a multiword token's range, or an empty node.
public enum CoNLLUID: Equatable, Sendable, CustomStringConvertible {
    /// a word, 1-based
    case word(Int)
    /// a multiword token spanning words first...last
    case range(first: Int, last: Int)
    /// empty node `after.index`: the index-th empty node after word `after` (0: before the first)
    case empty(after: Int, index: Int)

    public var description: String {
        switch self {
        case .word(let i): return "\(i)"
        case .range(let a, let b): return "\(a)-\(b)"
        case .empty(let a, let b): return "\(a).\(b)"
        }
    }
}

/// One row with its 10 columns. Columns are kept as written ("_" included) except ID and HEAD.
public struct CoNLLURow: Equatable, Sendable {
    public var id: CoNLLUID
    public var form: String
    public var lemma: String
    public var upos: String
    public var xpos: String
    /// morphological features as written: "_" or "Key=Value|Key=Value"; see `features`
    public var feats: String
    /// the head word's ID (0 is the root); nil when the column is "_"
    public var head: Int?
    public var deprel: String
    /// enhanced dependencies as written ("_" or "head:rel|head:rel")
    public var deps: String
    public var misc: String
    /// the 1-based line of the row in its file
    public var line: Int

    /// FEATS as (key, value) pairs in file order; empty for "_". Keys may repeat (some
    /// treebanks write one twice); values of multi-valued features keep their commas.
    public var features: [(key: String, value: String)] {
        guard feats != "_" else { return [] }
        return feats.split(separator: "|").map { pair -> (key: String, value: String) in
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(kv[0]), kv.count > 1 ? String(kv[1]) : "")
        }
    }
}

public struct CoNLLUSentence: Equatable, Sendable {
    /// comment lines without the leading "#" and one following space
    public var comments: [String] = []
    /// the words (syntactic units): words[i] has ID i+1
    public var words: [CoNLLURow] = []
    /// surface tokens that split into several words (`1-2  don't`)
    public var multiwordTokens: [CoNLLURow] = []
    /// empty nodes of the enhanced graph (`8.1`)
    public var emptyNodes: [CoNLLURow] = []
    /// the 1-based line where the sentence starts (its first comment or row)
    public var line = 0

    public init() {}

    /// The value of a `# key = value` comment, or nil.
    public func metadata(_ key: String) -> String? {
        for c in comments {
            guard let eq = c.firstIndex(of: "=") else { continue }
            if c[..<eq].trimmingSpaces == key { return String(c[c.index(after: eq)...].trimmingSpaces) }
        }
        return nil
    }

    /// `# sent_id = ...`
    public var sentID: String? { metadata("sent_id") }
    /// `# text = ...`: the sentence as written
    public var text: String? { metadata("text") }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return s
    }
}
