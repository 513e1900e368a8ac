// CoNLLUReader: streams the sentences of a CoNLL-U file one at a time (the file is read in
// chunks), checking each row; a malformed line throws `file:line: what`.

public final class CoNLLUReader {
    private let lines: ChunkedLineReader
    /// offsets of the tabs in the current row (reused, so a row allocates only its strings)
    private var tabs: [Int] = []

    /// `chunkSize`: bytes read at a time (a longer line grows the buffer)
    public init(path: String, chunkSize: Int = 1 << 20) throws { lines = try ChunkedLineReader(path: path, chunkSize: chunkSize) }

    /// Reads CoNLL-U text held in memory; `name` stands for the file in error messages.
    public init(text: String, name: String = "<text>") { lines = ChunkedLineReader(text: text, name: name) }

    /// bytes read from the file so far
    public var bytesRead: Int { lines.bytesRead }

    /// Every sentence of a file.
    public static func read(path: String) throws -> [CoNLLUSentence] {
        let r = try CoNLLUReader(path: path)
        var out: [CoNLLUSentence] = []
        while let s = try r.next() { out.append(s) }
        return out
    }

    static let columnNames = ["ID", "FORM", "LEMMA", "UPOS", "XPOS", "FEATS", "HEAD", "DEPREL", "DEPS", "MISC"]

    private func fail(_ line: Int, _ what: String) -> DataError { DataError(lines.name, line: line, what) }

    /// The next sentence, or nil at the end of the file.
    public func next() throws -> CoNLLUSentence? {
        var s = CoNLLUSentence()
        var started = false
        while let b = try lines.nextLine() {
            let n = lines.lineNumber
            if b.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                if started { return try finished(s) }
                continue
            }
            if !started {
                started = true
                s.line = n
            }
            if b[0] == UInt8(ascii: "#") {
                guard s.words.isEmpty, s.multiwordTokens.isEmpty, s.emptyNodes.isEmpty else {
                    throw fail(n, "comment line inside a sentence (a blank line must end the sentence before it)")
                }
                var c = UnsafeRawBufferPointer(rebasing: b[1...])
                if c.first == 0x20 { c = UnsafeRawBufferPointer(rebasing: c[1...]) }
                s.comments.append(String(utf8Bytes: c))
                continue
            }
            let r = try row(b, line: n)
            switch r.id {
            case .word(let i):
                guard i == s.words.count + 1 else { throw fail(n, "word ID \(i) out of order (expected \(s.words.count + 1))") }
                s.words.append(r)
            case .range(let first, let last):
                guard first == s.words.count + 1 else {
                    throw fail(n, "multiword token \(first)-\(last) must come just before word \(s.words.count + 1)")
                }
                s.multiwordTokens.append(r)
            case .empty(let after, let index):
                var previous = 0
                if let last = s.emptyNodes.last, case .empty(let a, let k) = last.id, a == after { previous = k }
                guard after == s.words.count, index == previous + 1 else {
                    throw fail(n, "empty node \(after).\(index) out of order (expected \(s.words.count).\(previous + 1))")
                }
                s.emptyNodes.append(r)
            }
        }
        return started ? try finished(s) : nil
    }

    /// Checks what can only be checked once the sentence is complete.
    private func finished(_ s: CoNLLUSentence) throws -> CoNLLUSentence {
        guard !s.words.isEmpty else { throw fail(s.line, "sentence has no words") }
        let count = s.words.count
        for w in s.words {
            if let h = w.head, h > count {
                throw fail(w.line, "HEAD \(h) is not a word of this sentence (it has \(count) words)")
            }
        }
        for m in s.multiwordTokens {
            if case .range(_, let last) = m.id, last > count {
                throw fail(m.line, "multiword token \(m.id) reaches past the last word (\(count))")
            }
        }
        return s
    }

    /// One row: 10 columns, a valid ID, HEAD and FEATS.
    private func row(_ b: UnsafeRawBufferPointer, line n: Int) throws -> CoNLLURow {
        tabs.removeAll(keepingCapacity: true)
        tabs.append(-1)
        for i in 0..<b.count where b[i] == 0x09 { tabs.append(i) }
        tabs.append(b.count)
        guard tabs.count == 11 else {
            throw fail(n, "expected 10 tab-separated columns, found \(tabs.count - 1)")
        }
        func col(_ k: Int) throws -> UnsafeRawBufferPointer {
            let c = UnsafeRawBufferPointer(rebasing: b[(tabs[k] + 1)..<tabs[k + 1]])
            guard !c.isEmpty else { throw fail(n, "column \(k + 1) (\(CoNLLUReader.columnNames[k])) is empty; write _ for no value") }
            return c
        }
        func text(_ k: Int) throws -> String { String(utf8Bytes: try col(k)) }
        let id = try parseID(try col(0), n)
        let headBytes = try col(6)
        var head: Int?
        if !(headBytes.count == 1 && headBytes[0] == UInt8(ascii: "_")) {
            guard let h = CoNLLUReader.integer(headBytes) else {
                throw fail(n, "HEAD '\(String(utf8Bytes: headBytes))' is not a word ID or _")
            }
            head = h
        }
        if case .word(let i) = id {
            if head == i { throw fail(n, "word \(i) is its own HEAD") }
        }
        let feats = try col(5)
        try checkFeatures(feats, n)
        return CoNLLURow(
            id: id, form: try text(1), lemma: try text(2), upos: try text(3), xpos: try text(4),
            feats: String(utf8Bytes: feats), head: head, deprel: try text(7), deps: try text(8), misc: try text(9),
            line: n)
    }

    private func parseID(_ c: UnsafeRawBufferPointer, _ n: Int) throws -> CoNLLUID {
        let bad = fail(n, "ID '\(String(utf8Bytes: c))' is not a word ID (3), a range (3-4) or an empty node (3.1)")
        if let i = CoNLLUReader.integer(c) {
            guard i >= 1 else { throw bad }
            return .word(i)
        }
        for (sep, isRange) in [(UInt8(ascii: "-"), true), (UInt8(ascii: "."), false)] {
            guard let k = c.firstIndex(of: sep) else { continue }
            guard let a = CoNLLUReader.integer(UnsafeRawBufferPointer(rebasing: c[..<k])),
                let z = CoNLLUReader.integer(UnsafeRawBufferPointer(rebasing: c[(k + 1)...]))
            else { throw bad }
            if isRange {
                guard a >= 1, z > a else { throw fail(n, "multiword range \(a)-\(z) must span at least two words") }
                return .range(first: a, last: z)
            }
            guard z >= 1 else { throw bad }
            return .empty(after: a, index: z)
        }
        throw bad
    }

    /// "_" or Key=Value pairs separated by "|", each with a non-empty key and value.
    private func checkFeatures(_ c: UnsafeRawBufferPointer, _ n: Int) throws {
        if c.count == 1 && c[0] == UInt8(ascii: "_") { return }
        var partStart = 0
        var eq = -1
        for i in 0...c.count {
            let end = i == c.count || c[i] == UInt8(ascii: "|")
            if end {
                guard eq > partStart, eq < i - 1 else {
                    let part = String(utf8Bytes: UnsafeRawBufferPointer(rebasing: c[partStart..<i]))
                    throw fail(n, "FEATS entry '\(part)' is not Key=Value (in '\(String(utf8Bytes: c))')")
                }
                partStart = i + 1
                eq = -1
            } else if c[i] == UInt8(ascii: "="), eq < 0 {
                eq = i
            }
        }
    }

    /// A non-negative decimal integer of at most 9 digits, or nil.
    static func integer(_ c: UnsafeRawBufferPointer) -> Int? {
        guard !c.isEmpty, c.count <= 9 else { return nil }
        var v = 0
        for d in c {
            guard d >= 0x30, d <= 0x39 else { return nil }
            v = v * 10 + Int(d - 0x30)
        }
        return v
    }
}
