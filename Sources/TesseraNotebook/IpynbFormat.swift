// IpynbFormat: Jupyter's .ipynb, nbformat 4 (written as 4.5, with cell ids). Reading accepts
// text as one string or a list of lines; writing splits text into lines as nbformat does, so
// files diff like Jupyter's own.

public enum IpynbFormat {
    /// mime types nbformat stores as lists of lines besides text/*
    static let splitMimeTypes: Set<String> = ["image/svg+xml", "application/javascript"]

    // MARK: reading

    public static func read(_ text: String) throws -> Notebook {
        let root: JSON
        do {
            root = try JSON.parse(text)
        } catch let e as JSONError {
            throw NotebookError("not a notebook: \(e.message)")
        }
        guard let top = root.object else { throw NotebookError("not a notebook: the top level is not a JSON object") }
        guard let major = top["nbformat"]?.int else { throw NotebookError("not a notebook: no nbformat version") }
        guard major == 4 else {
            throw NotebookError("nbformat \(major) is not supported (only 4; convert it with `jupyter nbconvert --to notebook`)")
        }
        guard let cells = top["cells"]?.array else { throw NotebookError("not a notebook: no cells list") }
        var nb = Notebook(metadata: top["metadata"]?.object ?? [:])
        for (k, c) in cells.enumerated() {
            do {
                nb.cells.append(try cell(c))
            } catch let e as NotebookError {
                throw NotebookError("cell \(k + 1): \(e.message)")
            }
        }
        nb.assignIDs()
        return nb
    }

    static func cell(_ json: JSON) throws -> NotebookCell {
        guard let c = json.object else { throw NotebookError("not a JSON object") }
        guard let typeName = c["cell_type"]?.string, let kind = NotebookCell.Kind(rawValue: typeName) else {
            throw NotebookError("cell_type must be code, markdown or raw")
        }
        var cell = NotebookCell(kind, try text(c["source"], "source"), id: c["id"]?.string ?? "", metadata: c["metadata"]?.object ?? [:])
        if kind == .code {
            cell.executionCount = c["execution_count"]?.int
            for (k, o) in (c["outputs"]?.array ?? []).enumerated() {
                do {
                    cell.outputs.append(try output(o))
                } catch let e as NotebookError {
                    throw NotebookError("output \(k + 1): \(e.message)")
                }
            }
        }
        return cell
    }

    static func output(_ json: JSON) throws -> CellOutput {
        guard let o = json.object, let type = o["output_type"]?.string else { throw NotebookError("no output_type") }
        switch type {
        case "stream":
            return .stream(name: o["name"]?.string ?? "stdout", text: try text(o["text"], "text"))
        case "execute_result":
            return .executeResult(executionCount: o["execution_count"]?.int, try bundle(o["data"]))
        case "display_data", "update_display_data":
            return .displayData(try bundle(o["data"]))
        case "error":
            let traceback = try (o["traceback"]?.array ?? []).map { line -> String in
                guard let s = line.string else { throw NotebookError("traceback lines must be strings") }
                return s
            }
            return .error(name: o["ename"]?.string ?? "", value: o["evalue"]?.string ?? "", traceback: traceback)
        default:
            throw NotebookError("unknown output_type '\(type)'")
        }
    }

    static func bundle(_ json: JSON?) throws -> MimeBundle {
        guard let data = json?.object else { throw NotebookError("data must be an object of mime type -> content") }
        var out: [String: String] = [:]
        for (mime, value) in data {
            // JSON mime types hold structured data: kept as its JSON text
            if case .string = value {
                out[mime] = try text(value, mime)
            } else if case .array(let a) = value, a.allSatisfy({ $0.string != nil }) {
                out[mime] = try text(value, mime)
            } else {
                out[mime] = value.compact()
            }
        }
        return MimeBundle(out)
    }

    /// a string, or a list of strings joined (nbformat's multiline string)
    static func text(_ json: JSON?, _ field: String) throws -> String {
        switch json {
        case .none, .null?: return ""
        case .string(let s)?: return s
        case .array(let lines)?:
            return try lines.map { line -> String in
                guard let s = line.string else { throw NotebookError("\(field) must be a string or a list of strings") }
                return s
            }.joined()
        default:
            throw NotebookError("\(field) must be a string or a list of strings")
        }
    }

    // MARK: writing

    /// The notebook as nbformat 4.5 JSON; Lua's kernelspec and language_info are filled in
    /// when missing, and cells without ids get stable ones.
    public static func write(_ notebook: Notebook) -> String {
        var nb = notebook
        nb.assignIDs()
        var metadata = nb.metadata
        if metadata["kernelspec"] == nil { metadata["kernelspec"] = Notebook.kernelspec }
        if metadata["language_info"] == nil { metadata["language_info"] = Notebook.languageInfo }
        let root: JSON = .object([
            "cells": .array(nb.cells.map(json)),
            "metadata": .object(metadata),
            "nbformat": .int(4),
            "nbformat_minor": .int(5),
        ])
        return root.formatted()
    }

    static func json(_ cell: NotebookCell) -> JSON {
        var c: [String: JSON] = [
            "cell_type": .string(cell.kind.rawValue),
            "id": .string(cell.id),
            "metadata": .object(cell.metadata),
            "source": lines(cell.source),
        ]
        if cell.kind == .code {
            c["execution_count"] = cell.executionCount.map { .int($0) } ?? .null
            c["outputs"] = .array(cell.outputs.map(json))
        }
        return .object(c)
    }

    static func json(_ output: CellOutput) -> JSON {
        switch output {
        case .stream(let name, let text):
            return .object(["output_type": .string("stream"), "name": .string(name), "text": lines(text)])
        case .executeResult(let count, let bundle):
            return .object([
                "output_type": .string("execute_result"), "data": data(bundle), "metadata": .object([:]),
                "execution_count": count.map { .int($0) } ?? .null,
            ])
        case .displayData(let bundle):
            return .object(["output_type": .string("display_data"), "data": data(bundle), "metadata": .object([:])])
        case .error(let name, let value, let traceback):
            return .object([
                "output_type": .string("error"), "ename": .string(name), "evalue": .string(value),
                "traceback": .array(traceback.map { .string($0) }),
            ])
        }
    }

    static func data(_ bundle: MimeBundle) -> JSON {
        var out: [String: JSON] = [:]
        for (mime, content) in bundle.data {
            if mime == "application/json" || (mime.hasPrefix("application/") && mime.hasSuffix("+json")),
                let parsed = try? JSON.parse(content)
            {
                out[mime] = parsed
            } else if mime.hasPrefix("text/") || splitMimeTypes.contains(mime) {
                out[mime] = lines(content)
            } else {
                out[mime] = .string(content)
            }
        }
        return .object(out)
    }

    /// nbformat's multiline string: lines keeping their "\n", the last without one
    static func lines(_ text: String) -> JSON {
        var out: [JSON] = []
        var current = String.UnicodeScalarView()
        for u in text.unicodeScalars {
            current.append(u)
            if u == "\n" {
                out.append(.string(String(current)))
                current = String.UnicodeScalarView()
            }
        }
        if !current.isEmpty { out.append(.string(String(current))) }
        return .array(out)
    }
}
