// Notebook: cells with their sources and outputs, as nbformat 4 defines them; read from and
// written to Jupytext percent `.lua` (PercentFormat), `.ipynb` (IpynbFormat) and Markdown
// (MarkdownExport).

public struct Notebook: Equatable, Sendable {
    public var cells: [NotebookCell]
    /// notebook metadata (kernelspec, language_info, jupytext, ...), kept as read
    public var metadata: [String: JSON]

    public init(cells: [NotebookCell] = [], metadata: [String: JSON] = [:]) {
        self.cells = cells
        self.metadata = metadata
    }

    /// The kernel Tessera notebooks name, so Jupyter tools know the language.
    public static let kernelspec: JSON = .object([
        "display_name": .string("Tessera (Lua)"), "language": .string("lua"), "name": .string("tessera"),
    ])
    public static let languageInfo: JSON = .object([
        "file_extension": .string(".lua"), "mimetype": .string("text/x-lua"), "name": .string("lua"), "version": .string("5.4"),
    ])

    /// Reads a notebook by its extension: `.ipynb`, else percent `.lua`.
    public static func read(path: String) throws -> Notebook {
        guard let text = readFile(path) else { throw NotebookError("cannot read '\(path)'") }
        if path.hasSuffix(".ipynb") {
            do {
                return try IpynbFormat.read(text)
            } catch let e as NotebookError {
                throw NotebookError("\(path): \(e.message)")
            }
        }
        return PercentFormat.read(text)
    }

    /// Gives each cell without one a stable id, unique in the notebook.
    public mutating func assignIDs() {
        var used = Set(cells.map(\.id).filter { !$0.isEmpty })
        for k in cells.indices where cells[k].id.isEmpty {
            var id = NotebookCell.hashID(cells[k].source)
            var n = 1
            while used.contains(id) {
                n += 1
                id = NotebookCell.hashID(cells[k].source) + "-\(n)"
            }
            used.insert(id)
            cells[k].id = id
        }
    }
}

public struct NotebookCell: Equatable, Sendable {
    public enum Kind: String, Sendable {
        case code, markdown, raw
    }

    public var kind: Kind
    public var source: String
    /// nbformat 4.5 cell id (`^[a-zA-Z0-9-_]+$`, 1-64 characters); empty until assigned
    public var id: String
    /// cell metadata; a percent-format title is `title`
    public var metadata: [String: JSON]
    /// code cells: the input number when run, nil if never run
    public var executionCount: Int?
    public var outputs: [CellOutput]

    public init(
        _ kind: Kind, _ source: String, id: String = "", metadata: [String: JSON] = [:], executionCount: Int? = nil,
        outputs: [CellOutput] = []
    ) {
        self.kind = kind
        self.source = source
        self.id = id
        self.metadata = metadata
        self.executionCount = executionCount
        self.outputs = outputs
    }

    /// 8 hex digits of the FNV-1a hash of the source: the same text gets the same id, so
    /// re-running a notebook does not churn its ids
    static func hashID(_ source: String) -> String {
        var h: UInt32 = 2_166_136_261
        for b in source.utf8 {
            h ^= UInt32(b)
            h = h &* 16_777_619
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}

/// One output of a code cell (nbformat's output types).
public enum CellOutput: Equatable, Sendable {
    /// `name` is "stdout" or "stderr"
    case stream(name: String, text: String)
    case executeResult(executionCount: Int?, MimeBundle)
    case displayData(MimeBundle)
    case error(name: String, value: String, traceback: [String])

    /// consecutive stream outputs of the same name as one, as Jupyter shows them
    static func merged(_ outputs: [CellOutput]) -> [CellOutput] {
        var out: [CellOutput] = []
        for o in outputs {
            if case .stream(let name, let text) = o, case .stream(let lastName, let lastText)? = out.last, name == lastName {
                out[out.count - 1] = .stream(name: name, text: lastText + text)
            } else {
                out.append(o)
            }
        }
        return out
    }

    /// what a terminal shows for it
    public var text: String {
        switch self {
        case .stream(_, let t): return t
        case .executeResult(_, let b), .displayData(let b): return b.text
        case .error(_, _, let tb): return tb.joined(separator: "\n")
        }
    }
}

public struct NotebookError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
