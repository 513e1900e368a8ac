// PreTokenizers: how normalized text is cut into words before the model sees them (HF
// tokenizers' `pre_tokenizer`): BERT's whitespace-and-punctuation split, whitespace splits,
// digits, punctuation, SentencePiece's Metaspace, regex splits and sequences of these.
// ByteLevel lives in ByteLevel.swift.

import Foundation

/// Words as ranges of one UTF-8 buffer; pre-tokenizers either cut the ranges further or write a
/// new buffer (Metaspace, ByteLevel).
struct Words {
    var bytes: [UInt8]
    var ranges: [Range<Int>]
    /// whether the first range starts at the beginning of the whole input text (Metaspace's
    /// prepend_scheme "first")
    var startsText: Bool

    init(_ bytes: [UInt8], startsText: Bool) {
        self.bytes = bytes
        self.ranges = bytes.isEmpty ? [] : [0..<bytes.count]
        self.startsText = startsText
    }

    /// Replaces each range by the ranges `cut` emits for it (same buffer).
    mutating func cutEach(_ cut: (UnsafeBufferPointer<UInt8>, Range<Int>, inout [Range<Int>]) -> Void) {
        var out: [Range<Int>] = []
        out.reserveCapacity(ranges.count * 2)
        bytes.withUnsafeBufferPointer { p in
            for r in ranges { cut(p, r, &out) }
        }
        ranges = out
    }
}

protocol PreTokenizer: Sendable {
    func split(_ words: inout Words)
}

/// How a split keeps the delimiters it found (HF SplitDelimiterBehavior).
enum DelimiterBehavior: String, Sendable {
    case removed = "Removed", isolated = "Isolated", mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext", contiguous = "Contiguous"
}

/// Emits the pieces of `range` given its delimiter matches (sorted, non-overlapping, non-empty).
func emitSplits(_ range: Range<Int>, _ matches: [Range<Int>], _ behavior: DelimiterBehavior, into out: inout [Range<Int>]) {
    var pieces: [(Range<Int>, Bool)] = []
    var at = range.lowerBound
    for m in matches {
        if m.lowerBound > at { pieces.append((at..<m.lowerBound, false)) }
        pieces.append((m, true))
        at = m.upperBound
    }
    if at < range.upperBound { pieces.append((at..<range.upperBound, false)) }
    // as HF folds them: a delimiter merges into its neighbour unless that is a delimiter too
    var local: [Range<Int>] = []
    var previousMatch = false
    switch behavior {
    case .removed: local = pieces.filter { !$0.1 }.map(\.0)
    case .isolated: local = pieces.map(\.0)
    case .mergedWithPrevious:
        for (r, isMatch) in pieces {
            if isMatch && !previousMatch, let last = local.last {
                local[local.count - 1] = last.lowerBound..<r.upperBound
            } else {
                local.append(r)
            }
            previousMatch = isMatch
        }
    case .mergedWithNext:
        for (r, isMatch) in pieces.reversed() {
            if isMatch && !previousMatch, let last = local.last {
                local[local.count - 1] = r.lowerBound..<last.upperBound
            } else {
                local.append(r)
            }
            previousMatch = isMatch
        }
        local.reverse()
    case .contiguous:
        for (r, isMatch) in pieces {
            if isMatch == previousMatch, let last = local.last {
                local[local.count - 1] = last.lowerBound..<r.upperBound
            } else {
                local.append(r)
            }
            previousMatch = isMatch
        }
    }
    out.append(contentsOf: local)
}

/// BERT's pre-tokenizer: splits on whitespace (dropped) and punctuation (kept, one per word).
struct BertPreTokenizer: PreTokenizer {
    func split(_ words: inout Words) {
        words.cutEach { p, r, out in
            var start = r.lowerBound
            var i = r.lowerBound
            while i < r.upperBound {
                let b = p[i]
                let c: ScalarClass, n: Int
                if b < 0x80 {
                    c = asciiClasses[Int(b)]
                    n = 1
                } else {
                    let (v, len) = decodeScalar(p, i)
                    c = classifyScalar(v)
                    n = len
                }
                if c.contains(.whitespace) {
                    if i > start { out.append(start..<i) }
                    start = i + n
                } else if c.contains(.bertPunctuation) {
                    if i > start { out.append(start..<i) }
                    out.append(i..<i + n)
                    start = i + n
                }
                i += n
            }
            if r.upperBound > start { out.append(start..<r.upperBound) }
        }
    }
}

/// Splits on whitespace, dropping it (HF WhitespaceSplit).
struct WhitespaceSplitPreTokenizer: PreTokenizer {
    func split(_ words: inout Words) {
        words.cutEach { p, r, out in
            var start = r.lowerBound
            var i = r.lowerBound
            while i < r.upperBound {
                let (v, n) = decodeScalar(p, i)
                if scalarClass(v).contains(.whitespace) {
                    if i > start { out.append(start..<i) }
                    start = i + n
                }
                i += n
            }
            if r.upperBound > start { out.append(start..<r.upperBound) }
        }
    }
}

/// Runs of word characters and runs of other non-whitespace characters (HF Whitespace: the
/// regex \w+|[^\w\s]+).
struct WhitespacePreTokenizer: PreTokenizer {
    func split(_ words: inout Words) {
        words.cutEach { p, r, out in
            var start = -1
            var startKind = 0
            var i = r.lowerBound
            while i < r.upperBound {
                let (v, n) = decodeScalar(p, i)
                let c = scalarClass(v)
                let kind =
                    c.contains(.whitespace) ? 0 : (c.contains(.letter) || c.contains(.number) || c.contains(.nonspacingMark) || v == 95) ? 1 : 2
                if kind != startKind {
                    if start >= 0 && startKind != 0 { out.append(start..<i) }
                    start = i
                    startKind = kind
                }
                i += n
            }
            if start >= 0 && startKind != 0 { out.append(start..<r.upperBound) }
        }
    }
}

/// Splits digits from the rest: each digit alone, or runs of digits (HF Digits).
struct DigitsPreTokenizer: PreTokenizer {
    let individualDigits: Bool

    func split(_ words: inout Words) {
        words.cutEach { p, r, out in
            var matches: [Range<Int>] = []
            var i = r.lowerBound
            while i < r.upperBound {
                let (v, n) = decodeScalar(p, i)
                if scalarClass(v).contains(.number) {
                    if !individualDigits, let last = matches.last, last.upperBound == i {
                        matches[matches.count - 1] = last.lowerBound..<i + n
                    } else {
                        matches.append(i..<i + n)
                    }
                }
                i += n
            }
            emitSplits(r, matches, .isolated, into: &out)
        }
    }
}

/// Splits off each punctuation character (HF Punctuation, BERT's definition).
struct PunctuationPreTokenizer: PreTokenizer {
    let behavior: DelimiterBehavior

    func split(_ words: inout Words) {
        words.cutEach { p, r, out in
            var matches: [Range<Int>] = []
            var i = r.lowerBound
            while i < r.upperBound {
                let (v, n) = decodeScalar(p, i)
                if scalarClass(v).contains(.bertPunctuation) { matches.append(i..<i + n) }
                i += n
            }
            emitSplits(r, matches, behavior, into: &out)
        }
    }
}

/// SentencePiece's whitespace handling (HF Metaspace): spaces become `replacement` (▁), a
/// replacement is prepended to each word (prepend_scheme "always"), to the text's first word only
/// ("first") or never, and with `split` the text is cut before each replacement.
struct MetaspacePreTokenizer: PreTokenizer {
    enum PrependScheme: String, Sendable { case always, first, never }
    let replacement: [UInt8]
    let prependScheme: PrependScheme
    let splitWords: Bool

    init(replacement: String = "\u{2581}", prependScheme: PrependScheme = .always, split: Bool = true) {
        self.replacement = Array(replacement.utf8)
        self.prependScheme = prependScheme
        self.splitWords = split
    }

    func split(_ words: inout Words) {
        var bytes: [UInt8] = []
        var ranges: [Range<Int>] = []
        bytes.reserveCapacity(words.bytes.count * 3 / 2 + 4)
        for (k, r) in words.ranges.enumerated() {
            let start = bytes.count
            let word = replaceAll(Array(words.bytes[r]), [32], replacement)
            let startsWithReplacement = word.starts(with: replacement)
            let prepend =
                switch prependScheme {
                case .always: !startsWithReplacement
                case .first: !startsWithReplacement && k == 0 && words.startsText && r.lowerBound == 0
                case .never: false
                }
            if prepend { bytes.append(contentsOf: replacement) }
            bytes.append(contentsOf: word)
            guard splitWords else {
                ranges.append(start..<bytes.count)
                continue
            }
            var matches: [Range<Int>] = []
            var i = start
            while i + replacement.count <= bytes.count {
                if bytes[i] == replacement[0] && bytes[i..<i + replacement.count].elementsEqual(replacement) {
                    matches.append(i..<i + replacement.count)
                    i += replacement.count
                } else {
                    i += 1
                }
            }
            emitSplits(start..<bytes.count, matches, .mergedWithNext, into: &ranges)
        }
        words.bytes = bytes
        words.ranges = ranges
    }
}

/// Splits on a pattern (HF Split): a literal string, or a regular expression, scanned by hand
/// for the GPT-2 / LLaMA-3 families (PatternScanner) and by NSRegularExpression otherwise.
struct SplitPreTokenizer: PreTokenizer {
    enum Pattern: @unchecked Sendable {
        case literal([UInt8])
        case scanner(PatternScanner)
        case regex(NSRegularExpression)
    }
    let pattern: Pattern
    let behavior: DelimiterBehavior
    let invert: Bool

    init(literal: String, behavior: DelimiterBehavior, invert: Bool) {
        pattern = .literal(Array(literal.utf8))
        self.behavior = behavior
        self.invert = invert
    }

    init(regex: String, behavior: DelimiterBehavior, invert: Bool) throws {
        if let s = PatternScanner(pattern: regex) {
            pattern = .scanner(s)
        } else {
            do {
                pattern = .regex(try NSRegularExpression(pattern: regex))
            } catch {
                throw TokenizerError.malformed("Split pre-tokenizer: bad regular expression \(regex)")
            }
        }
        self.behavior = behavior
        self.invert = invert
    }

    func matches(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> [Range<Int>] {
        switch pattern {
        case .literal(let lit):
            var m: [Range<Int>] = []
            guard !lit.isEmpty else { return m }
            var i = r.lowerBound
            while i + lit.count <= r.upperBound {
                if p[i] == lit[0] && p[i..<i + lit.count].elementsEqual(lit) {
                    m.append(i..<i + lit.count)
                    i += lit.count
                } else {
                    i += 1
                }
            }
            return m
        case .scanner(let s):
            var m: [Range<Int>] = []
            s.scan(p, r) { m.append($0) }
            return m
        case .regex(let re):
            let s = stringFromUTF8(p[r])
            let utf16Offsets = utf16ToUTF8Offsets(s)
            return re.matches(in: s, range: NSRange(location: 0, length: s.utf16.count)).compactMap { m in
                guard m.range.length > 0 else { return nil }
                return (r.lowerBound + utf16Offsets[m.range.location])..<(r.lowerBound + utf16Offsets[m.range.location + m.range.length])
            }
        }
    }

    func split(_ words: inout Words) {
        words.cutEach { p, r, out in
            var m = matches(p, r)
            if invert {
                var gaps: [Range<Int>] = []
                var at = r.lowerBound
                for x in m {
                    if x.lowerBound > at { gaps.append(at..<x.lowerBound) }
                    at = x.upperBound
                }
                if at < r.upperBound { gaps.append(at..<r.upperBound) }
                m = gaps
            }
            emitSplits(r, m, behavior, into: &out)
        }
    }
}

/// For each UTF-16 offset of `s` (and its end), the UTF-8 offset.
func utf16ToUTF8Offsets(_ s: String) -> [Int] {
    var offsets: [Int] = []
    offsets.reserveCapacity(s.utf16.count + 1)
    var utf8 = 0
    for scalar in s.unicodeScalars {
        let n8 = UTF8.width(scalar), n16 = UTF16.width(scalar)
        for _ in 0..<n16 { offsets.append(utf8) }
        utf8 += n8
    }
    offsets.append(utf8)
    return offsets
}

struct SequencePreTokenizer: PreTokenizer {
    let preTokenizers: [any PreTokenizer]
    func split(_ words: inout Words) {
        for p in preTokenizers { p.split(&words) }
    }
}
