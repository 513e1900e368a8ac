// SparseDiffFile: a SparseDiff as one safetensors file (docs/formats.md): per parameter
// `diff/<name>/indices` (I64, flat row-major positions, increasing) and `diff/<name>/values`
// (F32), dense heads as `head/<name>`, and everything else in `__metadata__`. Positions are
// flat over the parameter's full shape, so 3-D (and any) tensors decode by one unravel (the
// reference's decoder mishandles them).

import TesseraIO
import TesseraNN
import TesseraTensor

public enum SparseDiffFormat {
    public static let name = "tessera.sparse_diff"
    public static let version = "1"
}

extension SparseDiff {
    /// Writes the diff to `path` (atomically: a temporary file renamed over it).
    public func save(to path: String) throws {
        var tensors: [String: Tensor] = [:]
        var shapes: [String] = []
        for name in names {
            let d = parameters[name]!
            tensors["diff/\(name)/indices"] = try Tensor.from(d.indices, shape: [d.indices.count])
            tensors["diff/\(name)/values"] = try Tensor.from(d.values, shape: [d.values.count])
            shapes.append(JSONValue.quote(name) + ":[" + d.shape.map(String.init).joined(separator: ",") + "]")
        }
        for (name, t) in heads { tensors["head/\(name)"] = try t.detach().to(.f32).contiguous() }
        func object(_ pairs: [(String, String)]) -> String {
            "{" + pairs.sorted { $0.0 < $1.0 }.map { JSONValue.quote($0.0) + ":" + JSONValue.quote($0.1) }.joined(separator: ",") + "}"
        }
        let metadata: [String: String] = [
            "format": SparseDiffFormat.name,
            "version": SparseDiffFormat.version,
            "kind": kind.rawValue,
            "k": String(k),
            "maskable_count": String(maskableCount),
            "base_name": base.name,
            "base_hash": hex(base.hash),
            "base_fingerprint": object(base.fingerprint.map { ($0.key, $0.value.map(hex32).joined()) }),
            "shapes": "{" + shapes.joined(separator: ",") + "}",
            "training": object(training.map { ($0.key, $0.value) }),
        ]
        try Safetensors.save(tensors, metadata: metadata, to: path)
    }

    /// Reads a diff written by save(to:), checking every part of it.
    public static func load(from path: String) throws -> SparseDiff {
        let op = "sft.load"
        let (tensors, meta) = try Safetensors.load(path: path)
        func bad(_ what: String) -> TensorError { TensorError(op, "\(path) is not a valid sparse diff: \(what)") }
        guard meta["format"] == SparseDiffFormat.name else {
            throw bad("its __metadata__ has format \(meta["format"].map { "'\($0)'" } ?? "missing"), expected '\(SparseDiffFormat.name)'")
        }
        guard meta["version"] == SparseDiffFormat.version else { throw bad("unsupported version \(meta["version"] ?? "missing")") }
        guard let kind = SparseDiffKind(rawValue: meta["kind"] ?? ""), let k = Int(meta["k"] ?? ""),
            let maskable = Int(meta["maskable_count"] ?? "")
        else { throw bad("kind, k or maskable_count missing or malformed") }
        let shapes = try parseObject(meta["shapes"] ?? "", bad)
        var params: [String: ParameterDiff] = [:]
        for (name, value) in shapes {
            guard case .array(let dims) = value, let shape = Optional(dims.compactMap(\.int)), shape.count == dims.count,
                shape.allSatisfy({ $0 >= 0 })
            else { throw bad("the shape of '\(name)' is malformed") }
            guard let it = tensors["diff/\(name)/indices"], let vt = tensors["diff/\(name)/values"], it.rank == 1, vt.rank == 1,
                it.dtype == .i64, vt.dtype == .f32
            else { throw bad("'\(name)' needs 1-D diff/\(name)/indices (I64) and diff/\(name)/values (F32)") }
            params[name] = try ParameterDiff(shape: shape, indices: try it.toArray(Int64.self), values: try vt.toArray(Float.self), op: op)
        }
        var heads: [String: Tensor] = [:]
        for (key, t) in tensors {
            if key.hasPrefix("head/") {
                heads[String(key.dropFirst(5))] = t
            } else if key.hasPrefix("diff/") {
                let name = String(key.dropFirst(5).split(separator: "/").dropLast().joined(separator: "/"))
                guard params[name] != nil else { throw bad("tensor '\(key)' belongs to no parameter listed in 'shapes'") }
            } else {
                throw bad("unexpected tensor '\(key)'")
            }
        }
        var fingerprint: [String: [UInt32]] = [:]
        for (name, value) in try parseObject(meta["base_fingerprint"] ?? "{}", bad) {
            let chars = Array(value.string ?? "-")
            let words = stride(from: 0, to: chars.count, by: 8).map { UInt32(String(chars[$0..<min($0 + 8, chars.count)]), radix: 16) }
            guard chars.count % 8 == 0, words.allSatisfy({ $0 != nil }) else { throw bad("base_fingerprint of '\(name)' is malformed") }
            fingerprint[name] = words.compactMap { $0 }
        }
        var training: [String: String] = [:]
        for (key, value) in try parseObject(meta["training"] ?? "{}", bad) { training[key] = value.string ?? "" }
        return try SparseDiff(
            parameters: params, heads: heads, base: BaseIdentity(name: meta["base_name"] ?? "?", fingerprint: fingerprint),
            kind: kind, k: k, maskableCount: maskable, training: training)
    }
}

/// 8 hex digits
private func hex32(_ x: UInt32) -> String {
    let s = String(x, radix: 16)
    return String(repeating: "0", count: 8 - s.count) + s
}

/// the members of a JSON object held in a metadata string
private func parseObject(_ text: String, _ bad: (String) -> TensorError) throws -> [(String, JSONValue)] {
    let bytes = Array(text.utf8)
    let value = try? bytes.withUnsafeBytes { try JSONValue.parse($0) }
    guard case .object(let members)? = value else { throw bad("a metadata field is not a JSON object: \(text.prefix(60))") }
    return members
}
