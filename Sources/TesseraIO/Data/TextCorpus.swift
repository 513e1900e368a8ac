// TextCorpus: plain-text corpora streamed from disk, one item per line or per paragraph (lines
// up to a blank line, joined with "\n"), each with the line it starts on.

public final class TextCorpusReader {
    public enum Unit: Sendable {
        /// every line, blank ones included (so item i is line i)
        case lines
        /// runs of non-blank lines separated by one or more blank lines
        case paragraphs
    }

    private let lines: ChunkedLineReader
    public let unit: Unit

    public init(path: String, unit: Unit) throws {
        lines = try ChunkedLineReader(path: path)
        self.unit = unit
    }

    public init(text: String, name: String = "<text>", unit: Unit) {
        lines = ChunkedLineReader(text: text, name: name)
        self.unit = unit
    }

    /// bytes read from the file so far
    public var bytesRead: Int { lines.bytesRead }

    /// The next line or paragraph with its 1-based first line, or nil at the end.
    public func next() throws -> (line: Int, text: String)? {
        switch unit {
        case .lines:
            guard let b = try lines.nextLine() else { return nil }
            return (lines.lineNumber, String(utf8Bytes: b))
        case .paragraphs:
            var first = 0
            var text = ""
            while let b = try lines.nextLine() {
                if b.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                    if first > 0 { return (first, text) }
                    continue
                }
                if first == 0 {
                    first = lines.lineNumber
                } else {
                    text += "\n"
                }
                text += String(utf8Bytes: b)
            }
            return first > 0 ? (first, text) : nil
        }
    }

    /// Every item of a file.
    public static func read(path: String, unit: Unit) throws -> [String] {
        let r = try TextCorpusReader(path: path, unit: unit)
        var out: [String] = []
        while let item = try r.next() { out.append(item.text) }
        return out
    }
}
