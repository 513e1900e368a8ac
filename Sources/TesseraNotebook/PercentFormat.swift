// PercentFormat: Jupytext's percent format for Lua, the source format of Tessera notebooks. The
// file stays a Lua script: cells start at `-- %%` lines, Markdown and raw cells are comments.
//
//   -- ---                                  optional header (YAML, commented): notebook metadata
//   -- jupyter:                             under `jupyter:`, as Jupytext writes it
//   --   kernelspec: ...
//   -- ---
//
//   -- %% [markdown]
//   -- # A heading                          Markdown, each line behind `-- `
//
//   -- %% Load the data tags=["setup"]      code cell with a title and metadata (key=JSON)
//   local x = tensor.randn(3)
//
// Cells are separated by one blank line, which belongs to neither.

public enum PercentFormat {
    // MARK: reading

    public static func read(_ text: String) -> Notebook {
        // "\r\n" is one Character: both end a line
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init)
        if lines.last == "" { lines.removeLast() }
        var nb = Notebook()
        var start = 0
        if lines.first?.trimmingWhitespace() == "-- ---",
            let end = lines.dropFirst().firstIndex(where: { $0.trimmingWhitespace() == "-- ---" })
        {
            let yaml = MiniYAML.parse(lines[1..<end].map(uncommented))
            nb.metadata = yaml["jupyter"]?.object ?? [:]
            start = end + 1
            if start < lines.count && lines[start].trimmingWhitespace().isEmpty { start += 1 }
        }
        var markers = lines.indices.filter { $0 >= start && isMarker(lines[$0]) }
        // text before the first marker is a code cell of its own
        if lines[start..<(markers.first ?? lines.count)].contains(where: { !$0.trimmingWhitespace().isEmpty }) {
            markers.insert(start - 1, at: 0)
        }
        for (k, m) in markers.enumerated() {
            let next = k + 1 < markers.count ? markers[k + 1] : lines.count
            var body = Array(lines[(m + 1)..<next])
            if k + 1 < markers.count, body.last?.trimmingWhitespace().isEmpty == true { body.removeLast() }
            var cell = m < start ? NotebookCell(.code, "") : options(afterMarker: lines[m])
            if cell.kind != .code { body = body.map(uncommented) }
            cell.source = body.joined(separator: "\n")
            nb.cells.append(cell)
        }
        nb.assignIDs()
        return nb
    }

    /// `-- %%`, `-- %% Title [markdown] key="value"` (Jupytext's `^\s*--\s*%%(%*)\s(.*)$` or a bare `-- %%`)
    static func isMarker(_ line: String) -> Bool {
        var s = Substring(line)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        guard s.hasPrefix("--") else { return false }
        s.removeFirst(2)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        guard s.hasPrefix("%%") else { return false }
        while s.first == "%" { s.removeFirst() }
        return s.isEmpty || s.first == " " || s.first == "\t"
    }

    /// A cell, empty, with the kind, title and metadata of its marker line.
    static func options(afterMarker line: String) -> NotebookCell {
        guard let r = line.firstRange(of: "%%") else { return NotebookCell(.code, "") }
        var rest = String(line[r.upperBound...].drop { $0 == "%" }).trimmingWhitespace()
        var kind = NotebookCell.Kind.code
        for (tag, k) in [("[markdown]", NotebookCell.Kind.markdown), ("[md]", .markdown), ("[raw]", .raw)] {
            if let t = rest.firstRange(of: tag) {
                rest = (rest[..<t.lowerBound] + " " + rest[t.upperBound...]).trimmingWhitespace()
                kind = k
                break
            }
        }
        // metadata: the earliest word from which the rest reads as key=JSON pairs
        var metadata: [String: JSON] = [:]
        var title = rest
        let bytes = Array(rest.utf8)
        for p in bytes.indices where p == 0 || bytes[p - 1] == 32 {
            if let pairs = keyValuePairs(bytes[p...]) {
                metadata = pairs
                title = String(decoding: bytes[..<p], as: UTF8.self).trimmingWhitespace()
                break
            }
        }
        if !title.isEmpty { metadata["title"] = .string(title) }
        return NotebookCell(kind, "", metadata: metadata)
    }

    /// `key=JSON key2=JSON` to the end, or nil
    static func keyValuePairs(_ text: ArraySlice<UInt8>) -> [String: JSON]? {
        var out: [String: JSON] = [:]
        var i = text.startIndex
        while i < text.endIndex {
            while i < text.endIndex && text[i] == 32 { i += 1 }
            if i == text.endIndex { break }
            let keyStart = i
            while i < text.endIndex, isKeyByte(text[i]) { i += 1 }
            guard i > keyStart, i < text.endIndex, text[i] == UInt8(ascii: "=") else { return nil }
            let key = String(decoding: text[keyStart..<i], as: UTF8.self)
            i += 1
            guard let (value, used) = try? JSON.parsePrefix(text[i...]) else { return nil }
            i += used
            guard i == text.endIndex || text[i] == 32 else { return nil }
            out[key] = value
        }
        return out.isEmpty ? nil : out
    }

    /// Jupytext's metadata keys: `[a-zA-Z0-9_.-]+`
    static func isKeyByte(_ b: UInt8) -> Bool {
        (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 95 || b == 46 || b == 45
    }

    /// a Markdown line without its `-- ` (or `--`)
    static func uncommented(_ line: String) -> String {
        if line.hasPrefix("-- ") { return String(line.dropFirst(3)) }
        if line.hasPrefix("--") { return String(line.dropFirst(2)) }
        return line
    }

    // MARK: writing

    /// The percent text; a header is written when the metadata names a kernelspec or jupytext
    /// settings (other metadata, such as language_info, stays in .ipynb files, as with Jupytext).
    public static func write(_ nb: Notebook) -> String {
        var parts: [String] = []
        let header = nb.metadata.filter { $0.key == "jupytext" || $0.key == "kernelspec" }
        if !header.isEmpty {
            let yaml = MiniYAML.write(["jupyter": .object(header)])
            parts.append((["---"] + yaml + ["---"]).map(commented).joined(separator: "\n"))
        }
        for cell in nb.cells {
            var text = markerLine(cell)
            let body =
                cell.kind == .code
                ? cell.source
                : cell.source.split(separator: "\n", omittingEmptySubsequences: false).map { commented(String($0)) }.joined(separator: "\n")
            if !cell.source.isEmpty { text += "\n" + body }
            parts.append(text)
        }
        return parts.joined(separator: "\n\n") + "\n"
    }

    static func markerLine(_ cell: NotebookCell) -> String {
        var words = ["-- %%"]
        var metadata = cell.metadata
        if let title = metadata.removeValue(forKey: "title")?.string, !title.isEmpty { words.append(title) }
        if cell.kind != .code { words.append("[\(cell.kind.rawValue)]") }
        for key in metadata.keys.sorted() { words.append(key + "=" + metadata[key]!.compact()) }
        return words.joined(separator: " ")
    }

    static func commented(_ line: String) -> String { line.isEmpty ? "--" : "-- " + line }
}

/// The YAML Jupytext headers use: nested maps of scalars, two spaces per level.
enum MiniYAML {
    static func parse(_ lines: [String]) -> [String: JSON] {
        var index = 0
        return block(lines, &index, indent: 0)
    }

    private static func block(_ lines: [String], _ i: inout Int, indent: Int) -> [String: JSON] {
        var out: [String: JSON] = [:]
        while i < lines.count {
            let line = lines[i]
            let depth = line.prefix { $0 == " " }.count
            let content = line.trimmingWhitespace()
            if content.isEmpty || content.hasPrefix("#") { i += 1; continue }
            if depth < indent { break }
            i += 1
            guard let colon = content.firstIndex(of: ":") else { continue }
            let key = String(content[..<colon]).trimmingWhitespace()
            let value = String(content[content.index(after: colon)...]).trimmingWhitespace()
            if value.isEmpty {
                let nextDepth = i < lines.count ? lines[i].prefix { $0 == " " }.count : 0
                out[key] = nextDepth > depth ? .object(block(lines, &i, indent: nextDepth)) : .null
            } else {
                out[key] = scalar(value)
            }
        }
        return out
    }

    static func scalar(_ v: String) -> JSON {
        if v.count >= 2, v.hasPrefix("'"), v.hasSuffix("'") {
            return .string(String(v.dropFirst().dropLast()).replacing("''", with: "'"))
        }
        if v.count >= 2, v.hasPrefix("\""), v.hasSuffix("\""), let s = try? JSON.parse(v) { return s }
        switch v {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "null", "~": return .null
        default: return Int(v).map { .int($0) } ?? .string(v)
        }
    }

    static func write(_ map: [String: JSON], indent: Int = 0) -> [String] {
        var out: [String] = []
        let pad = String(repeating: " ", count: indent)
        for key in map.keys.sorted() {
            switch map[key]! {
            case .object(let o):
                out.append(pad + key + ":")
                out += write(o, indent: indent + 2)
            case .string(let s):
                out.append(pad + key + ": " + quotedIfNeeded(s))
            case let other:
                out.append(pad + key + ": " + other.compact())
            }
        }
        return out
    }

    /// single quotes where plain text would read back as something else (`'1.3'`, `'true'`)
    static func quotedIfNeeded(_ s: String) -> String {
        let plain =
            !s.isEmpty && Double(s) == nil && !["true", "false", "null", "~"].contains(s)
            && !s.contains(": ") && !s.contains(" #") && !"'\"[]{}&*!|>%@`#,?-".contains(s.first!)
            && s.trimmingWhitespace() == s
        return plain ? s : "'" + s.replacing("'", with: "''") + "'"
    }
}
