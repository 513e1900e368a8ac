// SftSM3: sparse SM3 over SpIEL deltas (SpIEL-MA's optimizer, spec §1.6). Each delta keeps f32
// accumulators row (out) and col (in), zero at first and never decreasing; for an active entry
// with gradient g at (r, c):
//   ν = min(row[r], col[c]) + g²;  row[r] = max(row[r], ν);  col[c] = max(col[c], ν)
//   p -= lr · g / √(ν + ε);  p -= lr · wd · p
// (every ν of a step is computed from the accumulators before the step, as the reference's
// scatter_reduce does). With every entry active this is dense SM3-II. Momentum is not supported
// (the paper's runs use 0). The accumulators are the regrowth score of SpIEL-MA: outer(row, col).
// They are optimizer state of other shapes than the values (out and in): stateDict and
// loadStateDict save and restore them as `<values name>.row` and `.col` (f32) beside the step.

import TesseraNN
import TesseraTensor

public final class SftSM3: Optimizer {
    /// values identity -> its layer
    private let layers: [ObjectIdentifier: SparseDeltaLinear]
    /// values identity -> (row (out), col (in))
    private var accumulators: [ObjectIdentifier: (row: [Float], col: [Float])] = [:]

    /// `names` name each delta's values in the state dict (default "delta<i>.values").
    public init(_ deltas: [SparseDeltaLinear], names: [String]? = nil, lr: Double = 0.1, eps: Double = 1e-8, weightDecay: Double = 0) throws {
        guard eps >= 0, weightDecay >= 0 else { throw TensorError("SftSM3", "eps and weight decay must be non-negative") }
        guard names == nil || names?.count == deltas.count else { throw TensorError("SftSM3", "needs one name per delta") }
        var map: [ObjectIdentifier: SparseDeltaLinear] = [:]
        for d in deltas { map[ObjectIdentifier(d.values)] = d }
        layers = map
        let params = deltas.enumerated().map { (name: names?[$0.offset] ?? "delta\($0.offset).values", tensor: $0.element.values) }
        try super.init(groups: [ParameterGroup(params, OptimizerOptions(lr: lr, weightDecay: weightDecay, eps: eps))])
    }

    /// (row, col) accumulators of a delta (zeros before its first update)
    public func accumulators(of delta: SparseDeltaLinear) -> (row: [Float], col: [Float]) {
        accumulators[ObjectIdentifier(delta.values)]
            ?? ([Float](repeating: 0, count: delta.outFeatures), [Float](repeating: 0, count: delta.inFeatures))
    }

    public override func update(_ p: Tensor, grad: Tensor, state: inout [String: Tensor], options o: OptimizerOptions, lr: Double) throws {
        guard let layer = layers[ObjectIdentifier(p)] else {
            throw TensorError("SftSM3", "a parameter of shape \(p.shape) is not the values of a sparse delta")
        }
        var (row, col) = accumulators(of: layer)
        let idx = layer.indexArray(), gp = grad.pointer(Float.self), pp = p.mutablePointer(Float.self)
        let inF = Int64(layer.inFeatures)
        let (eps, step, keep) = (Float(o.eps), Float(lr), Float(1 - lr * o.weightDecay))
        var nu = [Float](repeating: 0, count: layer.k)
        for n in 0..<layer.k {
            let (r, c) = (Int(idx[n] / inF), Int(idx[n] % inF))
            nu[n] = min(row[r], col[c]) + gp[n] * gp[n]
        }
        for n in 0..<layer.k {
            let (r, c) = (Int(idx[n] / inF), Int(idx[n] % inF))
            row[r] = max(row[r], nu[n])
            col[c] = max(col[c], nu[n])
            pp[n] = keep * (pp[n] - step * gp[n] / (nu[n] + eps).squareRoot())
        }
        accumulators[ObjectIdentifier(p)] = (row, col)
    }

    /// The step and every delta's accumulators as `<name>.row` (out) and `<name>.col` (in).
    public override func stateDict() throws -> [String: Tensor] {
        var out = try super.stateDict()
        for (name, p) in groups.flatMap(\.parameters) {
            guard let (row, col) = accumulators[ObjectIdentifier(p)] else { continue }
            out[name + ".row"] = try Tensor.from(row, shape: [row.count])
            out[name + ".col"] = try Tensor.from(col, shape: [col.count])
        }
        return out
    }

    /// Restores a stateDict() of an SftSM3 over deltas of the same shapes: the accumulators (a
    /// delta with neither starts from zeros) and the step.
    public override func loadStateDict(_ dict: [String: Tensor]) throws {
        var rest = dict
        var loaded: [ObjectIdentifier: (row: [Float], col: [Float])] = [:]
        for (name, p) in groups.flatMap(\.parameters) {
            guard let layer = layers[ObjectIdentifier(p)] else { continue }
            let (row, col) = (rest.removeValue(forKey: name + ".row"), rest.removeValue(forKey: name + ".col"))
            if row == nil && col == nil { continue }
            guard let row, let col else { throw TensorError("optimizer_load", "state of '\(name)' has only one of 'row' and 'col'") }
            guard row.shape == [layer.outFeatures], col.shape == [layer.inFeatures] else {
                throw TensorError(
                    "optimizer_load",
                    "'\(name)' accumulators have shapes \(row.shape) and \(col.shape), expected [\(layer.outFeatures)] and [\(layer.inFeatures)]"
                )
            }
            loaded[ObjectIdentifier(p)] = (try row.to(.f32).contiguous().toArray(Float.self), try col.to(.f32).contiguous().toArray(Float.self))
        }
        try super.loadStateDict(rest)
        accumulators = loaded
    }
}
