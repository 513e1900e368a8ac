// StateDict: a model's tensors by dotted name, and loading them back with a report of what did
// not fit. Loading copies into the existing tensors, so optimizers holding them stay valid.

import TesseraTensor

/// What loadStateDict found: keys the model has but the dict lacks, keys the dict has but the
/// model lacks, and keys whose shapes differ.
public struct StateDictReport: CustomStringConvertible, Sendable {
    public var missing: [String] = []
    public var unexpected: [String] = []
    public var misShaped: [(name: String, expected: [Int], got: [Int])] = []
    /// names copied into the model
    public var loaded: [String] = []

    public var isClean: Bool { missing.isEmpty && unexpected.isEmpty && misShaped.isEmpty }

    public var description: String {
        var lines = ["loaded \(loaded.count) tensor(s)"]
        if !missing.isEmpty { lines.append("missing: " + missing.joined(separator: ", ")) }
        if !unexpected.isEmpty { lines.append("unexpected: " + unexpected.joined(separator: ", ")) }
        if !misShaped.isEmpty {
            lines.append(
                "mis-shaped: " + misShaped.map { "\($0.name) (model \(dimsString($0.expected)), dict \(dimsString($0.got)))" }.joined(separator: ", ")
            )
        }
        return lines.joined(separator: "\n")
    }
}

extension Module {
    /// Parameters and buffers by dotted name (the tensors themselves, not copies).
    public func stateDict() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (name, t) in namedParameters() + namedBuffers() { out[name] = t }
        return out
    }

    /// Copies the tensors of `dict` into the model's tensors of the same names (dtypes convert).
    /// Strict loading throws, before copying anything, when any key is missing, unexpected or
    /// mis-shaped; otherwise the fitting keys are copied and the report lists the rest.
    @discardableResult
    public func loadStateDict(_ dict: [String: Tensor], strict: Bool = true) throws -> StateDictReport {
        var report = StateDictReport()
        let own = namedParameters() + namedBuffers()
        var pairs: [(Tensor, Tensor)] = []
        for (name, t) in own {
            guard let src = dict[name] else { report.missing.append(name); continue }
            guard src.shape == t.shape else { report.misShaped.append((name, t.shape, src.shape)); continue }
            pairs.append((t, src))
            report.loaded.append(name)
        }
        let ownNames = Set(own.map(\.name))
        report.unexpected = dict.keys.filter { !ownNames.contains($0) }.sorted()
        if strict && !report.isClean {
            throw TensorError("load_state_dict", "state dict does not fit \(typeName):\n\(report)")
        }
        try noGrad {
            for (dst, src) in pairs { try dst.copy_(src) }
        }
        return report
    }
}

/// `2x3` (and `scalar`): shapes as error messages and printouts show them.
func dimsString(_ shape: [Int]) -> String {
    shape.isEmpty ? "scalar" : shape.map(String.init).joined(separator: "x")
}
