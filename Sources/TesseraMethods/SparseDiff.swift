// SparseDiff: a sparse fine-tuning as data (Ansell et al. 2022): per parameter, the sorted flat
// row-major positions that changed and by how much, plus dense "head" tensors for parameters
// trained in full (a task classifier). Applying adds the deltas to a model, reverting subtracts
// them, and diffs compose by adding: base + φ_language + φ_task.

import TesseraNN
import TesseraTensor

/// What a diff adapts a model to: a language (MLM on its text), a task, or anything else.
public enum SparseDiffKind: String, Sendable, CaseIterable {
    case language, task, other
}

/// The changed entries of one parameter.
public struct ParameterDiff: Sendable, Equatable {
    /// the parameter's shape
    public let shape: [Int]
    /// flat row-major positions, strictly increasing, each in 0..<numel
    public let indices: [Int64]
    /// the delta at each position
    public let values: [Float]

    public var numel: Int { shape.reduce(1, *) }

    public init(shape: [Int], indices: [Int64], values: [Float], op: String = "SparseDiff") throws {
        guard indices.count == values.count else {
            throw TensorError(op, "\(indices.count) indices but \(values.count) values")
        }
        let n = shape.reduce(1, *)
        var previous: Int64 = -1
        for i in indices {
            guard i > previous, i < n else {
                throw TensorError(op, "indices must be increasing positions in 0..<\(n) (shape \(shape)), found \(i) after \(previous)")
            }
            previous = i
        }
        (self.shape, self.indices, self.values) = (shape, indices, values)
    }

    /// no checks: for results built from checked diffs
    init(unchecked shape: [Int], _ indices: [Int64], _ values: [Float]) {
        (self.shape, self.indices, self.values) = (shape, indices, values)
    }

    /// sqrt(Σ v²)
    public var norm: Double { values.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot() }
}

/// The model a diff was trained on: a name to show and a fingerprint of the base weights: up
/// to 32 evenly spaced values of each (non-constant) base tensor. A model is taken for the base
/// when at least half of the sampled values match exactly: stacked SFTs (a few percent of the
/// entries each) leave most samples alone, while another model, or a fresh initialisation,
/// matches next to none.
public struct BaseIdentity: Sendable, Equatable {
    public var name: String
    /// parameter name -> the f32 bit patterns of its sampled values
    public var fingerprint: [String: [UInt32]]

    public init(name: String, fingerprint: [String: [UInt32]]) {
        (self.name, self.fingerprint) = (name, fingerprint)
    }

    /// one hash of the whole fingerprint (shown as hex)
    public var hash: UInt64 {
        var h = FNV1a()
        for (name, v) in fingerprint.sorted(by: { $0.key < $1.key }) {
            h.add(name)
            for x in v { h.add(UInt64(x)) }
        }
        return h.value
    }

    /// The fingerprint of `tensors` (constant ones, such as a fresh LayerNorm, identify nothing).
    public static func fingerprint(of tensors: [(name: String, tensor: Tensor)]) -> [String: [UInt32]] {
        var out: [String: [UInt32]] = [:]
        for (name, t) in tensors {
            let sample = samples(t)
            if Set(sample).count > 1 { out[name] = sample }
        }
        return out
    }

    /// The fraction of sampled values `tensors` match, over the fingerprinted names they hold
    /// (nil when they hold none).
    public func matchFraction(_ tensors: [String: Tensor]) -> Double? {
        matchFraction(sampled: tensors.filter { fingerprint[$0.key] != nil }.mapValues(samples))
    }

    /// The fraction of sampled values that match `sampled` (name -> samples).
    func matchFraction(sampled: [String: [UInt32]]) -> Double? {
        var matched = 0, total = 0
        for (name, expected) in fingerprint {
            guard let now = sampled[name] else { continue }
            total += expected.count
            if now.count == expected.count { matched += zip(now, expected).filter { $0 == $1 }.count }
        }
        return total == 0 ? nil : Double(matched) / Double(total)
    }
}

/// 64-bit FNV-1a
struct FNV1a {
    var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ x: UInt64) {
        for b in 0..<8 {
            value ^= (x >> (8 * UInt64(b))) & 0xFF
            value = value &* 0x100_0000_01b3
        }
    }

    mutating func add(_ s: String) {
        for b in s.utf8 { add(UInt64(b)) }
        add(UInt64(0xFF))
    }
}

/// up to 32 evenly spaced values of a tensor, as f32 bit patterns
func samples(_ t: Tensor) -> [UInt32] {
    let n = t.numel
    guard n > 0, let flat = try? t.detach().reshape([n]) else { return [] }
    let step = max(1, n / 32)
    return stride(from: 0, to: n, by: step).prefix(32).map { Float((try? flat.element([$0])) ?? 0).bitPattern }
}

public final class SparseDiff {
    /// sparse deltas by parameter name
    public let parameters: [String: ParameterDiff]
    /// dense tensors (absolute values, not deltas) copied into the model when applied with the head
    public let heads: [String: Tensor]
    public let base: BaseIdentity
    public let kind: SparseDiffKind
    /// the number of entries the diff was allowed to change (nnz ≤ k)
    public let k: Int
    /// entries it was chosen from (the maskable parameters' size): density = nnz / maskableCount
    public let maskableCount: Int
    /// how it was made (method, steps, lr, ...), shown and saved as text
    public let training: [String: String]
    /// what the last apply to each model overwrote, so that revert can restore it bitwise
    private var applied: [ObjectIdentifier: AppliedState] = [:]

    public init(
        parameters: [String: ParameterDiff], heads: [String: Tensor] = [:], base: BaseIdentity, kind: SparseDiffKind = .other,
        k: Int? = nil, maskableCount: Int? = nil, training: [String: String] = [:]
    ) throws {
        for name in heads.keys where parameters[name] != nil {
            throw TensorError("SparseDiff", "'\(name)' cannot be both a sparse parameter and a head")
        }
        let nnz = parameters.values.reduce(0) { $0 + $1.indices.count }
        self.parameters = parameters
        self.heads = heads
        self.base = base
        self.kind = kind
        self.k = k ?? nnz
        self.maskableCount = maskableCount ?? parameters.values.reduce(0) { $0 + $1.numel }
        self.training = training
    }

    /// parameter names of the sparse part, sorted
    public var names: [String] { parameters.keys.sorted() }

    /// number of stored deltas
    public var nnz: Int { parameters.values.reduce(0) { $0 + $1.indices.count } }

    /// nnz / maskableCount
    public var density: Double { maskableCount == 0 ? 0 : Double(nnz) / Double(maskableCount) }

    // MARK: - applying

    /// Adds the deltas to `model`'s parameters (and copies the heads in when `withHead`).
    /// Checks everything before changing anything: every name must exist with the same shape,
    /// and (unless `checkBase` is false) the model must hold the base (BaseIdentity).
    public func apply(to model: Module, withHead: Bool = true, checkBase: Bool = true) throws {
        let targets = try checkedTargets(model, op: "apply", withHead: withHead, checkBase: checkBase)
        let state = AppliedState(model)
        try noGrad {
            for (name, p) in targets.sparse {
                let d = parameters[name]!
                if p.dtype == .f32 { state.originals[name] = gather(p, d.indices) }
                try scatterAdd(p, d, negate: false)
            }
            if withHead {
                for (name, p) in targets.heads {
                    state.heads[name] = try p.detach().clone()
                    _ = try p.copy_(heads[name]!)
                }
            }
        }
        applied[ObjectIdentifier(model)] = state
    }

    /// Takes the diff back out of `model`: an entry that still holds exactly what apply wrote
    /// gets its old value back (bitwise); one that changed since (training, another diff on
    /// the same entry) has the delta subtracted. Heads that apply replaced are put back.
    public func revert(from model: Module) throws {
        let targets = try checkedTargets(model, op: "revert", withHead: false)
        let key = ObjectIdentifier(model)
        let state = applied[key].flatMap { $0.model === model ? $0 : nil }
        applied[key] = nil
        try noGrad {
            for (name, p) in targets.sparse {
                if let originals = state?.originals[name] {
                    restoreOrSubtract(p, parameters[name]!, originals)
                } else {
                    try scatterAdd(p, parameters[name]!, negate: true)
                }
            }
            guard let state, !state.heads.isEmpty else { return }
            let params = Dictionary(model.namedParameters().map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
            for (name, t) in state.heads { _ = try params[name]?.copy_(t) }
        }
    }

    private func checkedTargets(_ model: Module, op: String, withHead: Bool, checkBase: Bool = false) throws -> (
        sparse: [(String, Tensor)], heads: [(String, Tensor)]
    ) {
        let own = model.namedParameters() + model.namedBuffers()
        let tensors = Dictionary(own.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        func target(_ name: String, _ shape: [Int], _ what: String) throws -> Tensor {
            guard let p = tensors[name] else {
                throw TensorError(op, "the model has no parameter '\(name)' (this \(what) was made for \(base.name))")
            }
            guard p.shape == shape else {
                throw TensorError(
                    op,
                    "'\(name)' has shape \(shape.map(String.init).joined(separator: "x")) in the diff but \(p.shape.map(String.init).joined(separator: "x")) in the model (the diff was made for \(base.name))"
                )
            }
            guard p.isContiguous, p.dtype == .f32 || p.dtype == .f64 else {
                throw TensorError(op, "'\(name)' must be a contiguous f32 or f64 parameter, it is \(p.dtype)")
            }
            return p
        }
        let sparse = try names.map { ($0, try target($0, parameters[$0]!.shape, "diff")) }
        let head = withHead ? try heads.keys.sorted().map { ($0, try target($0, heads[$0]!.shape, "head")) } : []
        if checkBase, let fraction = base.matchFraction(tensors), fraction < 0.5 {
            throw TensorError(
                op,
                "wrong base model: only \(Int(fraction * 100))% of the sampled base weights match the model this diff was trained on (\(base.name), base hash \(hex(base.hash))); pass check_base = false to apply it anyway"
            )
        }
        return (sparse, head)
    }

    // MARK: - algebra

    /// The sum of two diffs: union of positions, deltas added where both change an entry; the
    /// heads of both (a parameter may have a head in only one of them).
    public static func + (a: SparseDiff, b: SparseDiff) throws -> SparseDiff {
        var fingerprint = a.base.fingerprint
        let shared = b.base.fingerprint.filter { fingerprint[$0.key] != nil }
        if let fraction = BaseIdentity(name: b.base.name, fingerprint: shared).matchFraction(sampled: a.base.fingerprint), fraction < 0.5 {
            throw TensorError("add", "the diffs were trained on different base models (\(a.base.name) and \(b.base.name))")
        }
        fingerprint.merge(b.base.fingerprint) { mine, _ in mine }
        var params = a.parameters
        for (name, d) in b.parameters {
            guard let mine = params[name] else { params[name] = d; continue }
            guard mine.shape == d.shape else {
                throw TensorError("add", "'\(name)' has shape \(mine.shape) in one diff and \(d.shape) in the other")
            }
            params[name] = merged(mine, d)
        }
        var heads = a.heads
        for (name, t) in b.heads {
            guard heads[name] == nil else { throw TensorError("add", "both diffs carry a head for '\(name)'") }
            heads[name] = t
        }
        let name = a.base.name == b.base.name ? a.base.name : a.base.name + " / " + b.base.name
        return try SparseDiff(
            parameters: params, heads: heads, base: BaseIdentity(name: name, fingerprint: fingerprint),
            kind: a.kind == b.kind ? a.kind : .other, k: a.k + b.k, maskableCount: max(a.maskableCount, b.maskableCount),
            training: ["method": "sum", "of": "\(a.summary) + \(b.summary)"])
    }

    /// Every delta times `s` (heads are absolute values and stay as they are).
    public func scaled(_ s: Double) throws -> SparseDiff {
        let f = Float(s)
        return try SparseDiff(
            parameters: parameters.mapValues { ParameterDiff(unchecked: $0.shape, $0.indices, $0.values.map { $0 * f }) },
            heads: heads, base: base, kind: kind, k: k, maskableCount: maskableCount,
            training: training.merging(["scaled": "\(s)"]) { _, new in new })
    }

    /// The `count` largest deltas by magnitude over all parameters jointly (ties to the lower
    /// position, parameters in name order); heads are kept.
    public func topK(_ count: Int) throws -> SparseDiff {
        guard count >= 0 else { throw TensorError("top_k", "k must be non-negative, got \(count)") }
        let order = names
        // every parameter's values side by side in one buffer, one selection segment each
        let all = order.flatMap { parameters[$0]!.values }
        let kept: [[Int64]] = try all.withUnsafeBufferPointer { buf in
            var start = 0
            var keys: [MagnitudeKeys] = []
            for name in order {
                let n = parameters[name]!.values.count
                keys.append(MagnitudeKeys((buf.baseAddress ?? UnsafePointer(bitPattern: 64)!) + start, count: n))
                start += n
            }
            return try selectLargest(keys, k: min(count, nnz), op: "top_k")
        }
        var params: [String: ParameterDiff] = [:]
        for (name, positions) in zip(order, kept) {
            let d = parameters[name]!
            params[name] = ParameterDiff(unchecked: d.shape, positions.map { d.indices[Int($0)] }, positions.map { d.values[Int($0)] })
        }
        return try SparseDiff(
            parameters: params, heads: heads, base: base, kind: kind, k: min(count, nnz), maskableCount: maskableCount,
            training: training.merging(["pruned_to": "\(count)"]) { _, new in new })
    }

    /// Shared positions with `other`, and the cosine between the two diffs' values on them.
    public func overlap(_ other: SparseDiff) -> DiffOverlap {
        var result = DiffOverlap(nnzSelf: nnz, nnzOther: other.nnz)
        var dot = 0.0, na = 0.0, nb = 0.0
        for name in names {
            guard let a = parameters[name], let b = other.parameters[name] else { continue }
            var i = 0, j = 0, shared = 0
            var pdot = 0.0, pa = 0.0, pb = 0.0
            while i < a.indices.count && j < b.indices.count {
                if a.indices[i] < b.indices[j] {
                    i += 1
                } else if a.indices[i] > b.indices[j] {
                    j += 1
                } else {
                    let x = Double(a.values[i]), y = Double(b.values[j])
                    pdot += x * y; pa += x * x; pb += y * y
                    shared += 1; i += 1; j += 1
                }
            }
            if shared > 0 { result.perParameter.append((name, shared, cosine(pdot, pa, pb))) }
            result.shared += shared
            dot += pdot; na += pa; nb += pb
        }
        result.cosine = cosine(dot, na, nb)
        return result
    }

    // MARK: - inspection

    /// Per-parameter nnz and norm, in name order.
    public func stats() -> [(name: String, shape: [Int], nnz: Int, density: Double, norm: Double)] {
        names.map { name in
            let d = parameters[name]!
            return (name, d.shape, d.indices.count, d.numel == 0 ? 0 : Double(d.indices.count) / Double(d.numel), d.norm)
        }
    }

    /// nnz and norm per layer: parameters grouped by the path up to their layer number
    /// (`bert.encoder.layer.3`), or by their module path when they have none (`bert.embeddings`).
    public func layerStats() -> [(layer: String, nnz: Int, numel: Int, norm: Double)] {
        var order: [String] = []
        var acc: [String: (nnz: Int, numel: Int, sq: Double)] = [:]
        for s in stats() {
            let layer = layerName(s.name)
            if acc[layer] == nil { order.append(layer) }
            let a = acc[layer] ?? (0, 0, 0)
            acc[layer] = (a.nnz + s.nnz, a.numel + s.shape.reduce(1, *), a.sq + s.norm * s.norm)
        }
        return order.map { ($0, acc[$0]!.nnz, acc[$0]!.numel, acc[$0]!.sq.squareRoot()) }
    }

    /// The deltas as dense tensors (zeros elsewhere), by name.
    public func denseDeltas() throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (name, d) in parameters {
            let t = try Tensor.zeros(d.shape)
            let p = t.mutablePointer(Float.self)
            for (i, v) in zip(d.indices, d.values) { p[Int(i)] = v }
            out[name] = t
        }
        return out
    }

    /// `SparseDiff(task, 1234 of 5678 entries (21.7%), 12 params, head: 2, base bert (9f3a...))`
    public var summary: String {
        "\(kind.rawValue) diff, \(nnz) entries (\(percent(density)) of \(maskableCount))"
    }

    public var description: String {
        "SparseDiff(\(summary), \(parameters.count) params\(heads.isEmpty ? "" : ", head: " + heads.keys.sorted().joined(separator: ", ")), base \(base.name) \(hex(base.hash)))"
    }
}

/// What two diffs share.
public struct DiffOverlap {
    public var nnzSelf: Int
    public var nnzOther: Int
    /// positions both change
    public var shared = 0
    /// cosine between the two diffs' deltas on the shared positions (0 when none)
    public var cosine = 0.0
    public var perParameter: [(name: String, shared: Int, cosine: Double)] = []

    init(nnzSelf: Int, nnzOther: Int) { (self.nnzSelf, self.nnzOther) = (nnzSelf, nnzOther) }
}

private func cosine(_ dot: Double, _ a: Double, _ b: Double) -> Double {
    a > 0 && b > 0 ? dot / (a.squareRoot() * b.squareRoot()) : 0
}

/// a and b merged by position, deltas added where both have one
private func merged(_ a: ParameterDiff, _ b: ParameterDiff) -> ParameterDiff {
    var idx: [Int64] = [], val: [Float] = []
    idx.reserveCapacity(a.indices.count + b.indices.count)
    val.reserveCapacity(a.indices.count + b.indices.count)
    var i = 0, j = 0
    while i < a.indices.count || j < b.indices.count {
        if j == b.indices.count || (i < a.indices.count && a.indices[i] < b.indices[j]) {
            idx.append(a.indices[i]); val.append(a.values[i]); i += 1
        } else if i == a.indices.count || b.indices[j] < a.indices[i] {
            idx.append(b.indices[j]); val.append(b.values[j]); j += 1
        } else {
            idx.append(a.indices[i]); val.append(a.values[i] + b.values[j]); i += 1; j += 1
        }
    }
    return ParameterDiff(unchecked: a.shape, idx, val)
}

/// What one apply overwrote in one model.
private final class AppliedState {
    weak var model: Module?
    /// f32 parameter name -> its values at the diff's positions before the apply
    var originals: [String: [Float]] = [:]
    /// head name -> the values the head replaced
    var heads: [String: Tensor] = [:]

    init(_ model: Module) { self.model = model }
}

/// p (f32) at `indices`
private func gather(_ p: Tensor, _ indices: [Int64]) -> [Float] {
    let pp = p.pointer(Float.self)
    return indices.map { pp[Int($0)] }
}

/// Per entry: the saved value when p still holds saved + delta (exactly what apply wrote),
/// else p - delta.
private func restoreOrSubtract(_ p: Tensor, _ d: ParameterDiff, _ saved: [Float]) {
    let pp = p.mutablePointer(Float.self)
    d.indices.withUnsafeBufferPointer { ib in
        d.values.withUnsafeBufferPointer { vb in
            saved.withUnsafeBufferPointer { sb in
                guard let idx = ib.baseAddress, let val = vb.baseAddress, let old = sb.baseAddress else { return }
                Parallel.forRanges(ib.count, grain: 1 << 15) { r in
                    for j in r {
                        let i = Int(idx[j])
                        let now = pp[i]
                        pp[i] = now.bitPattern == (old[j] + val[j]).bitPattern ? old[j] : now - val[j]
                    }
                }
            }
        }
    }
}

/// p[indices] += values (or -=), split over the cores: the positions are distinct, so the pieces
/// never write the same element.
func scatterAdd(_ p: Tensor, _ d: ParameterDiff, negate: Bool) throws {
    let n = d.indices.count
    d.indices.withUnsafeBufferPointer { ib in
        d.values.withUnsafeBufferPointer { vb in
            guard let idx = ib.baseAddress, let val = vb.baseAddress else { return }
            if p.dtype == .f32 {
                let pp = p.mutablePointer(Float.self)
                Parallel.forRanges(n, grain: 1 << 15) { r in
                    if negate {
                        for i in r { pp[Int(idx[i])] -= val[i] }
                    } else {
                        for i in r { pp[Int(idx[i])] += val[i] }
                    }
                }
            } else {
                let pp = p.mutablePointer(Double.self)
                Parallel.forRanges(n, grain: 1 << 15) { r in
                    for i in r { pp[Int(idx[i])] += negate ? -Double(val[i]) : Double(val[i]) }
                }
            }
        }
    }
}

/// the path up to a parameter's first numeric component (its layer), else its module path
func layerName(_ name: String) -> String {
    let parts = name.split(separator: ".")
    if let i = parts.firstIndex(where: { Int($0) != nil }) { return parts[...i].joined(separator: ".") }
    return parts.dropLast().joined(separator: ".")
}

func hex(_ x: UInt64) -> String {
    let s = String(x, radix: 16)
    return String(repeating: "0", count: max(0, 16 - s.count)) + s
}

func percent(_ x: Double) -> String {
    let p = (x * 1000).rounded() / 10
    return p == p.rounded() && p >= 1 ? "\(Int(p))%" : "\(p)%"
}
