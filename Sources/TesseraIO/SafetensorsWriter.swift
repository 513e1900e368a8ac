// SafetensorsWriter: saves named tensors as a safetensors file. The file is written beside its
// destination under a temporary name, flushed to disk and renamed over it, so an interrupted save
// leaves the old file (or none), never a torn one.

import TesseraTensor

#if canImport(Glibc)
    import Glibc
#endif

public enum Safetensors {
    /// Reads every tensor and the `__metadata__` of the file at `path`.
    public static func load(path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let f = try SafetensorsFile(path: path)
        return (try f.tensors(), f.metadata)
    }

    /// Writes `tensors` to `path` atomically. Each tensor is stored as its natural type (f32 as F32,
    /// i64 as I64, ...) unless `dtypes` names another for it (F16/BF16 for floats, narrower integer
    /// types for integers, which must fit). Tensors are laid out by element size, largest first,
    /// then by name, so every tensor's data is aligned to its element size (readers can map it);
    /// the header is padded with spaces to a multiple of 8 bytes, as the format recommends.
    public static func save(
        _ tensors: [String: Tensor], metadata: [String: String] = [:], to path: String, dtypes: [String: SafetensorsDType] = [:]
    ) throws {
        for name in dtypes.keys where tensors[name] == nil {
            throw WeightsFileError(path, "a dtype is given for '\(name)', which is not among the tensors saved")
        }
        if tensors["__metadata__"] != nil { throw WeightsFileError(path, "'__metadata__' is reserved and cannot name a tensor") }
        let order = tensors.map { (name: $0.key, type: dtypes[$0.key] ?? SafetensorsDType.natural(for: $0.value.dtype)) }
            .sorted { ($1.type.size, $0.name) < ($0.type.size, $1.name) }
        var header = "{"
        if !metadata.isEmpty {
            header += "\"__metadata__\":{"
            header += metadata.sorted { $0.key < $1.key }.map { JSONValue.quote($0.key) + ":" + JSONValue.quote($0.value) }.joined(separator: ",")
            header += "},"
        }
        var offset = 0
        var blobs: [EncodedBytes] = []
        for (k, item) in order.enumerated() {
            guard let t = tensors[item.name] else { continue }
            let bytes = try item.type.encode(t, name: item.name)
            let shape = "[" + t.shape.map(String.init).joined(separator: ",") + "]"
            header +=
                JSONValue.quote(item.name)
                + ":{\"dtype\":\"\(item.type.rawValue)\",\"shape\":\(shape),\"data_offsets\":[\(offset),\(offset + bytes.count)]}"
            if k + 1 < order.count { header += "," }
            offset += bytes.count
            blobs.append(bytes)
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        headerBytes += [UInt8](repeating: 0x20, count: (8 - headerBytes.count % 8) % 8)
        var lengthBytes = [UInt8](repeating: 0, count: 8)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { lengthBytes = Array($0) }
        try writeAtomically(path, [.bytes(lengthBytes), .bytes(headerBytes)] + blobs)
    }

    /// Writes `parts` one after another to a temporary file beside `path`, syncs it and renames it
    /// over `path`; on failure the temporary file is removed and `path` is untouched.
    static func writeAtomically(_ path: String, _ parts: [EncodedBytes]) throws {
        let temp = path + ".tmp-\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WeightsFileError(path, "cannot create \(temp): \(String(cString: strerror(errno)))") }
        var ok = false
        defer {
            if !ok { unlink(temp) }
        }
        do {
            defer { close(fd) }
            for part in parts {
                try part.withBytes { buf in
                    var done = 0
                    while done < buf.count {
                        let n = write(fd, buf.baseAddress! + done, buf.count - done)
                        if n < 0 && errno == EINTR { continue }
                        guard n > 0 else { throw WeightsFileError(path, "cannot write \(temp): \(String(cString: strerror(errno)))") }
                        done += n
                    }
                }
            }
            guard fsync(fd) == 0 else { throw WeightsFileError(path, "cannot sync \(temp): \(String(cString: strerror(errno)))") }
        }
        guard rename(temp, path) == 0 else { throw WeightsFileError(path, "cannot rename \(temp) to it: \(String(cString: strerror(errno)))") }
        ok = true
    }
}
