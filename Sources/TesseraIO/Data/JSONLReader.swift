// JSONLReader: JSON Lines, one JSON object per line (blank lines skipped), parsed with the
// target's strict JSON parser; a bad line throws `file:line: invalid JSON ...`.

public final class JSONLReader {
    private let lines: ChunkedLineReader

    public init(path: String) throws { lines = try ChunkedLineReader(path: path) }

    public init(text: String, name: String = "<text>") { lines = ChunkedLineReader(text: text, name: name) }

    public var bytesRead: Int { lines.bytesRead }

    /// The next object's members in file order, with its 1-based line; nil at the end.
    public func next() throws -> (line: Int, members: [(String, JSONValue)])? {
        while let b = try lines.nextLine() {
            if b.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            let value: JSONValue
            do {
                value = try JSONValue.parse(b)
            } catch let e as JSONSyntaxError {
                throw DataError(lines.name, line: lines.lineNumber, e.description)
            }
            guard case .object(let members) = value else {
                throw DataError(lines.name, line: lines.lineNumber, "expected a JSON object, got \(value.kind)")
            }
            return (lines.lineNumber, members)
        }
        return nil
    }
}
