// NotebookCommands: `tessera run` and `tessera convert`, parsed and carried out here so the
// executable only dispatches to them.

#if canImport(Glibc)
    import Glibc
#endif

public enum NotebookCommands {
    public static let usage = """
        usage: tessera run NOTEBOOK [--out FILE] [--allow-errors] [--timeout SECONDS] [--quiet]
          runs a percent .lua or .ipynb notebook cell by cell in one Lua state and writes it with
          its outputs (default: NOTEBOOK with the extension .ipynb; an .ipynb is updated in place).
          Stops at the first failing cell (exit status 1) unless --allow-errors.
        usage: tessera convert NOTEBOOK --to ipynb|lua|md [--out FILE] [--inline-images]
          converts between percent .lua, .ipynb and Markdown (with outputs; SVG images are written
          to NAME_files/ next to the .md unless --inline-images)
        """

    /// `tessera run ARGS`; returns the exit status.
    public static func run(_ args: [String], stdlibPath: String?) -> Int32 {
        var input: String?, out: String?, options = NotebookRunner.Options()
        var rest = args[...]
        while let a = rest.popFirst() {
            switch a {
            case "--allow-errors": options.allowErrors = true
            case "--quiet", "-q": options.echo = false
            case "--out", "-o":
                guard let v = rest.popFirst() else { return usageError("--out needs a file name") }
                out = v
            case "--timeout":
                guard let v = rest.popFirst(), let s = Double(v), s > 0, s < 1e9 else {
                    return usageError("--timeout needs a positive number of seconds")
                }
                options.timeout = s
            case "-h", "--help":
                print(usage)
                return 0
            default:
                if a.hasPrefix("-") || input != nil { return usageError("unexpected argument '\(a)'") }
                input = a
            }
        }
        guard let input else { return usageError("give a notebook to run") }
        let target = out ?? (input.hasSuffix(".ipynb") ? input : replacingExtension(input, with: ".ipynb"))
        do {
            var nb = try Notebook.read(path: input)
            let session = try Session(stdlibPath: stdlibPath)
            let report = try NotebookRunner(session: session, options: options).run(&nb)
            try writeAtomically(target, IpynbFormat.write(nb))
            let failed = report.failedCells.map(String.init).joined(separator: ", ")
            let summary =
                "tessera run: \(report.cellsRun) cell\(report.cellsRun == 1 ? "" : "s") in \(formatDuration(report.seconds)), "
                + (failed.isEmpty ? "no errors" : "failed: cell \(failed)") + "; wrote \(target)"
            fputs(summary + "\n", stderr)
            return report.failedCells.isEmpty || options.allowErrors ? 0 : 1
        } catch {
            fputs("tessera run: \(error)\n", stderr)
            return 1
        }
    }

    /// `tessera convert ARGS`; returns the exit status.
    public static func convert(_ args: [String]) -> Int32 {
        var input: String?, out: String?, format: String?, inline = false
        var rest = args[...]
        while let a = rest.popFirst() {
            switch a {
            case "--to", "-t":
                guard let v = rest.popFirst() else { return usageError("--to needs ipynb, lua or md") }
                format = v
            case "--out", "-o":
                guard let v = rest.popFirst() else { return usageError("--out needs a file name") }
                out = v
            case "--inline-images": inline = true
            case "-h", "--help":
                print(usage)
                return 0
            default:
                if a.hasPrefix("-") || input != nil { return usageError("unexpected argument '\(a)'") }
                input = a
            }
        }
        guard let input else { return usageError("give a notebook to convert") }
        guard let format, ["ipynb", "lua", "md"].contains(format) else { return usageError("--to must be ipynb, lua or md") }
        let target = out ?? replacingExtension(input, with: "." + format)
        if target == input { return usageError("the output would overwrite the input; give --out") }
        do {
            let nb = try Notebook.read(path: input)
            switch format {
            case "ipynb": try writeAtomically(target, IpynbFormat.write(nb))
            case "lua": try writeAtomically(target, PercentFormat.write(nb))
            default:
                let assetDirectory = inline ? nil : basename(replacingExtension(target, with: "")) + "_files"
                let (markdown, assets) = MarkdownExport.render(nb, assetDirectory: assetDirectory)
                let dir = directory(of: target)
                if let assetDirectory, !assets.isEmpty {
                    let path = dir + assetDirectory
                    if mkdir(path, 0o755) != 0 && errno != EEXIST { throw NotebookError("cannot create \(path)") }
                }
                for asset in assets { try writeAtomically(dir + asset.path, asset.contents) }
                try writeAtomically(target, markdown)
            }
            fputs("tessera convert: wrote \(target)\n", stderr)
            return 0
        } catch {
            fputs("tessera convert: \(error)\n", stderr)
            return 1
        }
    }

    static func usageError(_ message: String) -> Int32 {
        fputs("tessera: \(message)\n" + usage + "\n", stderr)
        return 1
    }
}

/// `dir/name.lua` -> `dir/name.ipynb` (the extension is what follows the last dot of the name)
func replacingExtension(_ path: String, with ext: String) -> String {
    let name = basename(path)
    guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return path + ext }
    return directory(of: path) + name[..<dot] + ext
}

func basename(_ path: String) -> String {
    path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
}

/// the directory part with its trailing slash, or "" for a bare name
func directory(of path: String) -> String {
    path.lastIndex(of: "/").map { String(path[...$0]) } ?? ""
}

/// Writes `text` to a temporary file beside `path`, then renames it over `path`, so an
/// interrupted write never leaves half a notebook.
public func writeAtomically(_ path: String, _ text: String) throws {
    let tmp = path + ".tmp-\(getpid())"
    guard let f = fopen(tmp, "wb") else { throw NotebookError("cannot write '\(path)'") }
    var t = text
    let ok = t.withUTF8 { buf in buf.isEmpty || fwrite(buf.baseAddress, 1, buf.count, f) == buf.count }
    if fclose(f) != 0 || !ok {
        unlink(tmp)
        throw NotebookError("cannot write '\(path)' (disk full?)")
    }
    guard rename(tmp, path) == 0 else {
        unlink(tmp)
        throw NotebookError("cannot write '\(path)'")
    }
}
