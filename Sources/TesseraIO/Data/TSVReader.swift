// TSVReader: tab-separated rows (no quoting: a field is everything between tabs), every row
// with the same number of columns; and bitext, aligned pairs from two columns or two files.

public final class TSVReader {
    private let lines: ChunkedLineReader
    /// columns every row must have; set by the first row when not given
    public private(set) var columnCount: Int?

    public init(path: String, columns: Int? = nil) throws {
        lines = try ChunkedLineReader(path: path)
        columnCount = columns
    }

    public init(text: String, name: String = "<text>", columns: Int? = nil) {
        lines = ChunkedLineReader(text: text, name: name)
        columnCount = columns
    }

    public var bytesRead: Int { lines.bytesRead }

    /// The next row's fields with its 1-based line, or nil at the end. Blank lines are skipped.
    public func next() throws -> (line: Int, fields: [String])? {
        while let b = try lines.nextLine() {
            if b.isEmpty { continue }
            var fields: [String] = []
            var start = 0
            for i in 0...b.count where i == b.count || b[i] == 0x09 {
                fields.append(String(utf8Bytes: UnsafeRawBufferPointer(rebasing: b[start..<i])))
                start = i + 1
            }
            if let want = columnCount, fields.count != want {
                throw DataError(lines.name, line: lines.lineNumber, "expected \(want) tab-separated columns, found \(fields.count)")
            }
            columnCount = fields.count
            return (lines.lineNumber, fields)
        }
        return nil
    }
}

/// Sentence pairs: a two-column TSV file, or two files aligned line by line.
public enum Bitext {
    public static func read(tsv path: String) throws -> [(source: String, target: String)] {
        let r = try TSVReader(path: path, columns: 2)
        var out: [(String, String)] = []
        while let row = try r.next() { out.append((row.fields[0], row.fields[1])) }
        return out
    }

    /// Line i of `source` with line i of `target`; the files must have the same number of lines.
    public static func read(source: String, target: String) throws -> [(source: String, target: String)] {
        let a = try TextCorpusReader(path: source, unit: .lines)
        let b = try TextCorpusReader(path: target, unit: .lines)
        var out: [(String, String)] = []
        while true {
            let x = try a.next(), y = try b.next()
            switch (x, y) {
            case (let x?, let y?): out.append((x.text, y.text))
            case (nil, nil): return out
            case (let x?, nil):
                throw DataError(source, line: x.line, "\(target) ends at line \(x.line - 1), the files are not aligned")
            case (nil, let y?):
                throw DataError(target, line: y.line, "\(source) ends at line \(y.line - 1), the files are not aligned")
            }
        }
    }
}
