// ChunkedLineReader: the lines of a file read in fixed-size chunks, so a 100 MB corpus is never
// held as one string. A line is handed out as bytes that stay valid until the next call.

#if canImport(Glibc)
    import Glibc
#endif

final class ChunkedLineReader {
    /// the name used in error messages (the path as given)
    let name: String
    /// 1-based number of the line last returned
    private(set) var lineNumber = 0
    private var fd: Int32 = -1
    private var buffer: UnsafeMutableRawBufferPointer
    /// bytes [start, end) of the buffer are read but not yet returned
    private var start = 0, end = 0
    private var atEOF = false
    /// bytes read from the file so far
    private(set) var bytesRead = 0

    /// Opens `path` for reading in chunks of `chunkSize` bytes (a longer line grows the buffer).
    init(path: String, chunkSize: Int = 1 << 20) throws {
        name = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DataError(path, line: 0, "cannot open: \(String(cString: strerror(errno)))") }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw DataError(path, line: 0, "is a directory, not a file")
        }
        buffer = .allocate(byteCount: max(chunkSize, 16), alignment: 16)
    }

    /// Reads from text already in memory (tests, strings passed from Lua).
    init(text: String, name: String) {
        self.name = name
        let utf8 = Array(text.utf8)
        buffer = .allocate(byteCount: max(utf8.count, 1), alignment: 16)
        utf8.withUnsafeBytes { buffer.copyMemory(from: $0) }
        end = utf8.count
        bytesRead = utf8.count
        atEOF = true
    }

    deinit {
        if fd >= 0 { close(fd) }
        buffer.deallocate()
    }

    /// The next line without its `\n` (and without a `\r` before it), or nil at the end. The
    /// bytes are valid until the next call. A UTF-8 byte-order mark at the file's start is skipped.
    func nextLine() throws -> UnsafeRawBufferPointer? {
        while true {
            if let nl = findNewline() {
                let line = trimmed(start, nl)
                start = nl + 1
                return line
            }
            if atEOF {
                guard start < end else { return nil }
                let line = trimmed(start, end)
                start = end
                return line
            }
            try refill()
        }
    }

    private func findNewline() -> Int? {
        guard start < end, let base = buffer.baseAddress else { return nil }
        guard let p = memchr(base + start, 0x0A, end - start) else { return nil }
        return base.distance(to: p)
    }

    private func trimmed(_ from: Int, _ to: Int) -> UnsafeRawBufferPointer {
        lineNumber += 1
        var a = from, b = to
        if b > a, buffer[b - 1] == 0x0D { b -= 1 }
        if lineNumber == 1, b - a >= 3, buffer[a] == 0xEF, buffer[a + 1] == 0xBB, buffer[a + 2] == 0xBF { a += 3 }
        return UnsafeRawBufferPointer(rebasing: buffer[a..<b])
    }

    /// Moves the unread tail to the front (growing the buffer when a line fills it) and reads more.
    private func refill() throws {
        let pending = end - start
        if start > 0, pending > 0, let base = buffer.baseAddress { memmove(base, base + start, pending) }
        start = 0
        end = pending
        if end == buffer.count {
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 16)
            bigger.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[0..<end]))
            buffer.deallocate()
            buffer = bigger
        }
        guard let base = buffer.baseAddress else { return }
        let n = read(fd, base + end, buffer.count - end)
        if n < 0 {
            if errno == EINTR { return }
            throw DataError(name, line: lineNumber + 1, "read failed: \(String(cString: strerror(errno)))")
        }
        if n == 0 { atEOF = true }
        end += n
        bytesRead += n
    }
}

extension String {
    /// The UTF-8 bytes as a String (invalid sequences become U+FFFD).
    init(utf8Bytes b: UnsafeRawBufferPointer) {
        self = String(decoding: b, as: UTF8.self)
    }
}
