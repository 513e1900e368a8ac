// DiffExtraction: a SparseDiff from two sets of weights (a base and a fine-tuned copy): the K
// entries that changed most over all compared tensors jointly, or every changed entry.

import TesseraNN
import TesseraTensor

extension SparseDiff {
    /// The diff tuned - base over the float tensors both hold with the same shape (or those
    /// `maskable` patterns select). `k`: keep exactly the K largest changes; nil keeps every
    /// entry that changed. Tensors selected by `head` patterns are stored densely from `tuned`.
    /// The compared base tensors fingerprint the base.
    public static func extract(
        base: [String: Tensor], tuned: [String: Tensor], k: Int? = nil, density: Double? = nil, maskable: [String]? = nil,
        head: [String] = [], kind: SparseDiffKind = .other, baseName: String = "extracted"
    ) throws -> SparseDiff {
        let op = "sft.extract"
        let headPatterns = head.map(NamePattern.init)
        let maskPatterns = maskable.map { $0.map(NamePattern.init) }
        var compared: [(name: String, base: Tensor, tuned: Tensor)] = []
        var heads: [String: Tensor] = [:]
        for name in base.keys.sorted() {
            guard let b = base[name], let t = tuned[name] else { continue }
            guard b.shape == t.shape else {
                throw TensorError(op, "'\(name)' has shape \(b.shape) in the base but \(t.shape) in the tuned weights")
            }
            if headPatterns.contains(where: { $0.selects(name) }) {
                heads[name] = try t.detach().to(.f32).clone()
                continue
            }
            guard b.dtype.isFloatingPoint, maskPatterns.map({ $0.contains { $0.selects(name) } }) ?? true else { continue }
            compared.append((name, try b.detach().to(.f32).contiguous(), try t.detach().to(.f32).contiguous()))
        }
        guard !compared.isEmpty else { throw TensorError(op, "the two sets of weights share no float tensor of the same shape") }
        let total = compared.reduce(0) { $0 + $1.base.numel }
        let budget: Int?
        if let k {
            guard k >= 0, k <= total else { throw TensorError(op, "k = \(k) must lie in 0...\(total) (the entries compared)") }
            budget = k
        } else if let density {
            guard density >= 0, density <= 1 else { throw TensorError(op, "density must lie in [0, 1], got \(density)") }
            budget = Int(density * Double(total))
        } else {
            budget = nil
        }
        let keys = compared.map { ChangeKeys($0.tuned.pointer(Float.self), $0.base.pointer(Float.self), count: $0.base.numel) }
        let chosen: [[Int64]]
        if let budget {
            chosen = try selectLargest(keys, k: budget, op: op)
        } else {
            // every changed entry: a key of 1 is a zero change
            chosen = keys.map { key in (0..<key.count).filter { key.key($0) > 1 }.map(Int64.init) }
        }
        var params: [String: ParameterDiff] = [:]
        for (c, positions) in zip(compared, chosen) {
            let pt = c.tuned.pointer(Float.self), pb = c.base.pointer(Float.self)
            params[c.name] = ParameterDiff(unchecked: c.base.shape, positions, positions.map { pt[Int($0)] - pb[Int($0)] })
        }
        params = params.filter { !$0.value.indices.isEmpty }
        return try SparseDiff(
            parameters: params, heads: heads,
            base: BaseIdentity(name: baseName, fingerprint: BaseIdentity.fingerprint(of: compared.map { ($0.name, $0.base) })),
            kind: kind, k: budget, maskableCount: total, training: ["method": "extracted"])
    }
}
