// SftSM3: sparse SM3 over SpIEL deltas (SpIEL-MA's optimizer, spec §1.6). Each delta keeps f32
// accumulators row (out) and col (in), zero at first and never decreasing; for an active entry
// with gradient g at (r, c):
//   ν = min(row[r], col[c]) + g²;  row[r] = max(row[r], ν);  col[c] = max(col[c], ν)
//   p -= lr · g / √(ν + ε);  p -= lr · wd · p
// (every ν of a step is computed from the accumulators before the step, as the reference's
// scatter_reduce does). With every entry active this is dense SM3-II. Momentum is not supported
// (the paper's runs use 0). The accumulators are the regrowth score of SpIEL-MA: outer(row, col).

import TesseraNN
import TesseraTensor

public final class SftSM3: Optimizer {
    /// values identity -> its layer
    private let layers: [ObjectIdentifier: SparseDeltaLinear]
    /// values identity -> (row (out), col (in))
    private var accumulators: [ObjectIdentifier: (row: [Float], col: [Float])] = [:]

    public init(_ deltas: [SparseDeltaLinear], lr: Double = 0.1, eps: Double = 1e-8, weightDecay: Double = 0) throws {
        guard eps >= 0, weightDecay >= 0 else { throw TensorError("SftSM3", "eps and weight decay must be non-negative") }
        var map: [ObjectIdentifier: SparseDeltaLinear] = [:]
        for d in deltas { map[ObjectIdentifier(d.values)] = d }
        layers = map
        let params = deltas.enumerated().map { (name: "delta\($0.offset).values", tensor: $0.element.values) }
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
}
