// OutputCapture: a cell's stdout and stderr, caught at the file descriptors. Lua's print and
// io.write, Swift's print, progress lines and C libraries all end in fds 1 and 2, so
// redirecting those (to unlinked temporary files, which never fill up as a pipe would) catches
// every byte a cell writes, whoever wrote it. Replacing Lua's print would miss the rest.
// Output written while captured is not a terminal, so progress shows as plain log lines.

#if canImport(Glibc)
    import Glibc
#endif

final class OutputCapture {
    /// the process's real stdout and stderr while capturing
    let savedOut: Int32, savedErr: Int32
    private let outFile: Int32, errFile: Int32
    private var capturing = false

    init() throws {
        outFile = try OutputCapture.temporaryFile()
        errFile = try OutputCapture.temporaryFile()
        savedOut = dup(1)
        savedErr = dup(2)
        guard savedOut >= 0, savedErr >= 0 else { throw NotebookError("cannot duplicate stdout/stderr") }
    }

    deinit {
        stop()
        for fd in [outFile, errFile, savedOut, savedErr] where fd >= 0 { close(fd) }
    }

    /// an unlinked file in $TMPDIR (or /tmp), opened for appending
    private static func temporaryFile() throws -> Int32 {
        let dir = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array((dir + "/tessera-output.XXXXXX").utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw NotebookError("cannot create a temporary file in \(dir) to capture output") }
        unlink(template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        // appending: after a drain truncates the file, the next write starts at 0 again
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_APPEND)
        return fd
    }

    func start() {
        guard !capturing else { return }
        fflush(nil)
        dup2(outFile, 1)
        dup2(errFile, 2)
        capturing = true
    }

    func stop() {
        guard capturing else { return }
        fflush(nil)
        dup2(savedOut, 1)
        dup2(savedErr, 2)
        capturing = false
    }

    /// What was written since the last drain, as stream outputs (stdout first).
    func drain() -> [CellOutput] {
        fflush(nil)
        var out: [CellOutput] = []
        for (name, fd) in [("stdout", outFile), ("stderr", errFile)] {
            let bytes = OutputCapture.takeAll(fd)
            if !bytes.isEmpty { out.append(.stream(name: name, text: String(decoding: bytes, as: UTF8.self))) }
        }
        return out
    }

    private static func takeAll(_ fd: Int32) -> [UInt8] {
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_size > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        _ = ftruncate(fd, 0)
        return n > 0 ? Array(bytes[..<n]) : []
    }

    /// Writes to the real stdout or stderr, captured or not.
    func echo(_ text: String, toError: Bool = false) {
        var t = text
        t.withUTF8 { buf in
            var off = 0
            while off < buf.count {
                let n = write(toError ? savedErr : savedOut, buf.baseAddress! + off, buf.count - off)
                if n <= 0 { break }
                off += n
            }
        }
    }
}
