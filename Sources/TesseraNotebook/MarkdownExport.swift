// MarkdownExport: a notebook as Markdown with its outputs, for READMEs and reports. Code in
// ```lua fences, printed text in plain fences; of a result's representations the richest one
// Markdown can hold: SVG as a file next to the .md (or inline as a data URI), PNG inline,
// Markdown and HTML as they are, else the text.

public enum MarkdownExport {
    /// A file to write next to the Markdown: path relative to the .md, and contents.
    public struct Asset: Equatable {
        public let path: String
        public let contents: String
    }

    /// The Markdown for `nb`. SVG images become assets under `assetDirectory` (relative to the
    /// .md, e.g. "quickstart_files"), or data URIs when it is nil.
    public static func render(_ nb: Notebook, assetDirectory: String?) -> (markdown: String, assets: [Asset]) {
        var blocks: [String] = []
        var assets: [Asset] = []
        for (k, cell) in nb.cells.enumerated() {
            switch cell.kind {
            case .markdown: blocks.append(cell.source)
            case .raw: blocks.append(cell.source)
            case .code:
                blocks.append("```lua\n" + cell.source + "\n```")
                for (j, output) in cell.outputs.enumerated() {
                    switch output {
                    case .stream(_, let text):
                        blocks.append(fenced(text))
                    case .error(_, _, let traceback):
                        blocks.append(fenced(traceback.joined(separator: "\n")))
                    case .executeResult(_, let bundle), .displayData(let bundle):
                        let name = "cell\(k + 1)_output\(j + 1)"
                        blocks.append(richest(bundle, name: name, assetDirectory: assetDirectory, &assets))
                    }
                }
            }
        }
        return (blocks.filter { !$0.isEmpty }.joined(separator: "\n\n") + "\n", assets)
    }

    static func richest(_ bundle: MimeBundle, name: String, assetDirectory: String?, _ assets: inout [Asset]) -> String {
        if let svg = bundle.data["image/svg+xml"] {
            if let dir = assetDirectory {
                let path = dir + "/" + name + ".svg"
                assets.append(Asset(path: path, contents: svg))
                return "![\(name)](\(path))"
            }
            return "![\(name)](data:image/svg+xml;base64,\(base64(Array(svg.utf8))))"
        }
        if let png = bundle.data["image/png"] {
            return "![\(name)](data:image/png;base64,\(png.filter { !$0.isWhitespace }))"
        }
        if let md = bundle.data["text/markdown"] { return md }
        if let html = bundle.data["text/html"] { return html }
        return fenced(bundle.text)
    }

    /// text in a fence longer than any run of backticks inside it
    static func fenced(_ text: String) -> String {
        var longest = 0, run = 0
        for c in text {
            run = c == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        let fence = String(repeating: "`", count: max(3, longest + 1))
        let body = text.hasSuffix("\n") ? String(text.dropLast()) : text
        return fence + "\n" + body + "\n" + fence
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            let b0 = UInt32(bytes[i]), b1 = n > 1 ? UInt32(bytes[i + 1]) : 0, b2 = n > 2 ? UInt32(bytes[i + 2]) : 0
            let v = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(v >> 18 & 63)])
            out.append(alphabet[Int(v >> 12 & 63)])
            out.append(n > 1 ? alphabet[Int(v >> 6 & 63)] : UInt8(ascii: "="))
            out.append(n > 2 ? alphabet[Int(v & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
