// PatternScanner: hand-written matchers for the regular expressions byte-level BPE tokenizers
// split with (GPT-2's and the LLaMA-3 / cl100k family), a few times faster than a regex engine.
// Each recognised pattern string maps to a set of rules; any other pattern goes to
// NSRegularExpression.

struct PatternScanner: Sendable {
    /// `'s|'t|'re|'ve|'m|'ll|'d` matched case-insensitively (LLaMA-3's (?i:...))
    let caseInsensitiveContractions: Bool
    /// LLaMA-3's `[^\r\n\p{L}\p{N}]?\p{L}+` instead of GPT-2's ` ?\p{L}+`
    let anyPrefixBeforeLetters: Bool
    /// digits per number match: GPT-2's ` ?\p{N}+` (nil, unlimited, with an optional space) or
    /// `\p{N}{1,k}` (no space)
    let maxDigits: Int?
    /// LLaMA-3's `[\r\n]*` after punctuation and its `\s*[\r\n]+` rule
    let newlineRules: Bool

    static let gpt2 = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3 =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    /// Qwen2 and others: LLaMA-3's with single digits
    static let llama3SingleDigits =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    init?(pattern: String) {
        switch pattern {
        case PatternScanner.gpt2: self.init(caseInsensitive: false, anyPrefix: false, maxDigits: nil, newlineRules: false)
        case PatternScanner.llama3: self.init(caseInsensitive: true, anyPrefix: true, maxDigits: 3, newlineRules: true)
        case PatternScanner.llama3SingleDigits: self.init(caseInsensitive: true, anyPrefix: true, maxDigits: 1, newlineRules: true)
        default: return nil
        }
    }

    private init(caseInsensitive: Bool, anyPrefix: Bool, maxDigits: Int?, newlineRules: Bool) {
        self.caseInsensitiveContractions = caseInsensitive
        self.anyPrefixBeforeLetters = anyPrefix
        self.maxDigits = maxDigits
        self.newlineRules = newlineRules
    }

    private enum Kind { case letter, number, space, newline, other }

    @inline(__always) private static func kind(_ v: UInt32) -> Kind {
        if v == 10 || v == 13 { return .newline }
        let c = scalarClass(v)
        if c.contains(.letter) { return .letter }
        if c.contains(.number) { return .number }
        if c.contains(.whitespace) { return .space }
        return .other
    }

    /// Calls `emit` with each match in `r` of p, left to right (the patterns match every character).
    func scan(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, _ emit: (Range<Int>) -> Void) {
        // scalars and kinds of the range, so rules can look ahead
        var offsets: [Int] = []
        var values: [UInt32] = []
        var kinds: [Kind] = []
        offsets.reserveCapacity(r.count + 1)
        var i = r.lowerBound
        while i < r.upperBound {
            let (v, n) = decodeScalar(p, i)
            offsets.append(i)
            values.append(v)
            kinds.append(PatternScanner.kind(v))
            i += n
        }
        offsets.append(r.upperBound)
        let n = values.count
        var k = 0
        while k < n {
            let end = matchEnd(values, kinds, k, n)
            emit(offsets[k]..<offsets[end])
            k = end
        }
    }

    /// The end (exclusive, in scalars) of the match starting at k.
    private func matchEnd(_ v: [UInt32], _ kind: [Kind], _ k: Int, _ n: Int) -> Int {
        @inline(__always) func isSpaceLike(_ j: Int) -> Bool { kind[j] == .space || kind[j] == .newline }
        @inline(__always) func run(_ from: Int, _ test: (Int) -> Bool) -> Int {
            var j = from
            while j < n && test(j) { j += 1 }
            return j
        }
        // contractions
        if v[k] == 39, k + 1 < n {
            if let e = contraction(v, k + 1, n) { return e }
        }
        let c = kind[k]
        // letters, with an optional prefix
        if c == .letter { return run(k) { kind[$0] == .letter } }
        if k + 1 < n && kind[k + 1] == .letter {
            let prefixOK = anyPrefixBeforeLetters ? (c != .newline && c != .number) : v[k] == 32
            if prefixOK { return run(k + 1) { kind[$0] == .letter } }
        }
        // numbers
        if let maxDigits {
            if c == .number { return run(k) { kind[$0] == .number && $0 - k < maxDigits } }
        } else {
            if c == .number { return run(k) { kind[$0] == .number } }
            if v[k] == 32 && k + 1 < n && kind[k + 1] == .number { return run(k + 1) { kind[$0] == .number } }
        }
        // punctuation and symbols, with an optional space
        let otherStart = c == .other ? k : (v[k] == 32 && k + 1 < n && kind[k + 1] == .other) ? k + 1 : -1
        if otherStart >= 0 {
            let e = run(otherStart) { kind[$0] == .other }
            return newlineRules ? run(e) { kind[$0] == .newline } : e
        }
        // whitespace
        let spaceEnd = run(k) { isSpaceLike($0) }
        if newlineRules {
            // \s*[\r\n]+: up to the last newline of the run
            var last = -1
            for j in k..<spaceEnd where kind[j] == .newline { last = j }
            if last >= 0 { return last + 1 }
        }
        // \s+(?!\S): the run, less its last character when something follows it
        if spaceEnd == n { return n }
        if spaceEnd - k >= 2 { return spaceEnd - 1 }
        return k + 1
    }

    /// End of `s|t|re|ve|m|ll|d` at j (after an apostrophe), or nil.
    private func contraction(_ v: [UInt32], _ j: Int, _ n: Int) -> Int? {
        @inline(__always) func at(_ i: Int) -> UInt32 {
            guard i < n else { return 0 }
            let x = v[i]
            return caseInsensitiveContractions && x >= 65 && x <= 90 ? x + 32 : x
        }
        switch at(j) {
        case 115, 116, 109, 100: return j + 1  // s t m d
        case 114, 118: return at(j + 1) == 101 ? j + 2 : nil  // re ve
        case 108: return at(j + 1) == 108 ? j + 2 : nil  // ll
        default: return nil
        }
    }
}
