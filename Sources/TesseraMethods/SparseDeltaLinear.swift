// SparseDeltaLinear: SpIEL's adapted linear layer, y = x (W0 + scatter(values at indices))ᵀ + b.
// The frozen base (a Linear, a GGUF QuantizedLinear or an NF4Linear, kept as child `base_layer`)
// is copied or dequantised a tile of rows at a time, the delta's entries in those rows added, and
// each tile multiplied (forward, and backward to the input), so at most one tile of the merged
// weight exists: never a layer's dense weight (the reference clones W0 whole). The gradient of the values is the sampled product
// g[n] = Σ_t go[t, r_n] x[t, c_n] (k·T work) unless the dense gradient goᵀx is cheaper or needed:
// during a SpIEL-AG selection window it is gathered and handed to the window's accumulator.

import Foundation
import TesseraIO
import TesseraNN
import TesseraTensor

/// What SpIEL-AG collects over a selection window (spec §1.5): on the first micro-batch the
/// top-k |g| positions of the whole dense gradient become the frozen candidate set; every
/// micro-batch adds g and g² at the candidates (f32, see the spec's note on bf16 counters). Only
/// the first micro-batch needs the dense gradient; later ones take g at the candidates by the
/// sampled product.
public struct GradientWindow {
    /// flat positions, k of them (or fewer for a matrix with fewer entries)
    public var candidates: [Int64] = []
    public var sum: [Float] = []
    public var sumOfSquares: [Float] = []
    public var samples = 0
    /// the candidates sorted for the sampled product, from the first micro-batch on
    var candidateLayout: SparseDeltaLayout?

    public init() {}
}

public final class SparseDeltaLinear: Module {
    public let inFeatures: Int
    public let outFeatures: Int
    /// entries sorted by flat index, rebuilt after the indices change
    private var cachedLayout: SparseDeltaLayout?
    /// SpIEL-AG: when non-nil, backward computes the dense weight gradient and accumulates here
    public var gradientWindow: GradientWindow?
    /// whether Δ has been added into a dense base weight (forward then skips the delta)
    public private(set) var merged = false
    /// the sampled value gradient is used while k·sampledCost < out·in (the dense gradient is a
    /// BLAS GEMM at several times the sampled loop's rate)
    public var sampledCost = 4
    /// how many backward passes took each path (for tests and stats)
    public private(set) var sampledBackwards = 0
    public private(set) var denseBackwards = 0

    /// Wraps `base` (Linear, QuantizedLinear or NF4Linear) with `indices` (flat positions into
    /// (out, in), distinct) and zero values.
    public init(base: Module, indices: [Int64]) throws {
        guard let (outF, inF) = SparseDeltaLinear.features(of: base) else {
            throw TensorError("spiel.wrap", "can only adapt Linear, QuantizedLinear or NF4Linear layers, not \(base.typeName)")
        }
        (inFeatures, outFeatures) = (inF, outF)
        super.init()
        try SparseDeltaLinear.checkIndices(indices, numel: inF * outF, op: "spiel.wrap")
        try registerModule("base_layer", base)
        try registerParameter("values", Tensor.zeros([indices.count]))
        // i32 while every position fits, as the reference does (4 bytes per delta instead of 8)
        let narrow = inF * outF <= Int(Int32.max)
        try registerBuffer("indices", narrow ? Tensor.from(indices.map { Int32($0) }) : Tensor.from(indices))
    }

    /// (out, in) of a linear base layer
    static func features(of m: Module) -> (Int, Int)? {
        if let l = m as? Linear { return (l.outFeatures, l.inFeatures) }
        if let q = m as? QuantizedLinear { return (q.outFeatures, q.inFeatures) }
        if let n = m as? NF4Linear { return (n.outFeatures, n.inFeatures) }
        return nil
    }

    static func checkIndices(_ indices: [Int64], numel: Int, op: String) throws {
        var seen = Set<Int64>(minimumCapacity: indices.count)
        for i in indices {
            guard i >= 0, i < numel else { throw TensorError(op, "index \(i) outside 0..<\(numel)") }
            guard seen.insert(i).inserted else { throw TensorError(op, "index \(i) appears twice") }
        }
    }

    public var base: Module { children[0].module }
    public var values: Tensor { parameter("values")! }
    /// flat row-major positions into (out, in) (k), i32 (or i64 for matrices of 2^31 entries and more)
    public var indices: Tensor { buffer("indices")! }
    public var k: Int { values.numel }
    public var numel: Int { inFeatures * outFeatures }

    /// The indices as an array (slot order).
    public func indexArray() -> [Int64] {
        if indices.dtype == .i32 {
            let p = indices.pointer(Int32.self)
            return (0..<k).map { Int64(p[$0]) }
        }
        let p = indices.pointer(Int64.self)
        return (0..<k).map { p[$0] }
    }

    /// Replaces the indices (checked: distinct, in range, k of them); values are kept.
    public func setIndices(_ new: [Int64]) throws {
        guard new.count == k else { throw TensorError("spiel", "expected \(k) indices, got \(new.count)") }
        try SparseDeltaLinear.checkIndices(new, numel: numel, op: "spiel")
        if indices.dtype == .i32 {
            let p = indices.mutablePointer(Int32.self)
            for (n, i) in new.enumerated() { p[n] = Int32(i) }
        } else {
            let p = indices.mutablePointer(Int64.self)
            for (n, i) in new.enumerated() { p[n] = i }
        }
        indicesChanged()
    }

    /// Call after writing `indices` in place.
    public func indicesChanged() { cachedLayout = nil }

    func layout() -> SparseDeltaLayout {
        if let l = cachedLayout { return l }
        let l = SparseDeltaLayout(indices: indexArray(), inFeatures: inFeatures)
        cachedLayout = l
        return l
    }

    /// rows of W0 (f32) for the merged products: a copy of a dense base's rows or a dequantisation
    private func baseRows() throws -> (Range<Int>, UnsafeMutablePointer<Float>) throws -> Void {
        let cols = inFeatures
        if let l = base as? Linear {
            let w = try l.weight.detach()
            guard w.dtype == .f32, w.isContiguous else {
                throw TensorError("SparseDeltaLinear", "needs a contiguous f32 base weight, got \(w.dtype)")
            }
            let p = w.pointer(Float.self)
            return { r, dst in dst.update(from: p + r.lowerBound * cols, count: r.count * cols) }
        }
        if let q = base as? QuantizedLinear {
            let m = q.quantizedWeight
            return { r, dst in try m.dequantize(rows: r, into: dst, parallel: false) }
        }
        guard let n = base as? NF4Linear else { throw TensorError("SparseDeltaLinear", "unsupported base \(base.typeName)") }
        let w = n.weight
        return { r, dst in try w.dequantize(rows: r, into: dst) }
    }

    private var baseBias: Tensor? { (base as? Linear)?.bias ?? (base as? QuantizedLinear)?.bias ?? (base as? NF4Linear)?.bias }

    /// rows per tile of the merged weight (a quantised base's rule)
    private var tileRows: Int { weightTileRows(rows: outFeatures, columns: inFeatures) }

    /// The product with W0 + Δ: (layout, values, a, m, transposed, out) computes
    ///   transposed: out (m, out) = a (m, in) (W0 + Δ)ᵀ;   otherwise: out (m, in) += a (m, out) (W0 + Δ)
    /// A dense f32 base takes Δ in place for the length of one sgemm: W0's k entries are saved,
    /// replaced by W0 + v, and written back bit for bit (no copy of W0, one sgemm on the whole
    /// weight; nothing else runs while it is merged). A quantised base is dequantised a tile of
    /// rows at a time with Δ added to the tile.
    private func mergedProduct() throws -> (SparseDeltaLayout, UnsafePointer<Float>, UnsafePointer<Float>, Int, Bool, UnsafeMutablePointer<Float>)
        throws -> Void
    {
        let (rows, cols) = (outFeatures, inFeatures)
        if let l = base as? Linear {
            let w = try l.weight.detach()
            guard w.dtype == .f32, w.isContiguous else {
                throw TensorError("SparseDeltaLinear", "needs a contiguous f32 base weight, got \(w.dtype)")
            }
            return { lay, v, a, m, transposed, out in
                guard m > 0 else { return }
                let pw = w.mutablePointer(Float.self)
                var saved = [Float](repeating: 0, count: lay.count)
                lay.rows.withUnsafeBufferPointer { rp in
                    lay.columns.withUnsafeBufferPointer { cp in
                        lay.slots.withUnsafeBufferPointer { sp in
                            saved.withUnsafeMutableBufferPointer { keep in
                                // entries are in flat order: the cores take disjoint ranges
                                Parallel.forRanges(lay.count, grain: 1 << 13) { range in
                                    for j in range {
                                        let at = Int(rp[j]) * cols + Int(cp[j])
                                        keep[j] = pw[at]
                                        pw[at] += v[Int(sp[j])]
                                    }
                                }
                                weightRowsProduct(pw, rows: 0..<rows, of: rows, columns: cols, a: a, m: m, transposed: transposed, into: out)
                                Parallel.forRanges(lay.count, grain: 1 << 13) { range in
                                    for j in range { pw[Int(rp[j]) * cols + Int(cp[j])] = keep[j] }
                                }
                            }
                        }
                    }
                }
            }
        }
        let (fill, tile) = (try baseRows(), tileRows)
        return { lay, v, a, m, transposed, out in
            try mergedTiledProduct(
                rows: rows, columns: cols, tileRows: tile, fill: fill, layout: lay, values: v, a: a, m: m, transposed: transposed, into: out)
        }
    }

    /// x (..., in) -> x (W0 + Δ)ᵀ + b (..., out); the merged weight exists a tile at a time
    public override func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1, x.shape[x.rank - 1] == inFeatures else {
            throw TensorError("SparseDeltaLinear", "expects input (..., \(inFeatures)), got \(x.shape)")
        }
        if merged || k == 0 { return try base(x) }
        guard x.dtype == .f32, values.dtype == .f32 else {
            throw TensorError("SparseDeltaLinear", "computes in f32, got input \(x.dtype) and values \(values.dtype)")
        }
        let xc = try x.detach().contiguous()
        let tokens = xc.numel / inFeatures
        let (lay, v, product) = (layout(), values.detach(), try mergedProduct())
        let y = try Tensor.empty(Array(x.shape.dropLast()) + [outFeatures], dtype: .f32, op: "SparseDeltaLinear")
        try product(lay, v.pointer(Float.self), xc.pointer(Float.self), tokens, true, y.mutablePointer(Float.self))
        let wantsValues = values.requiresGrad
        let out = y.withGradient(from: [x, values], op: "SparseDeltaLinear") { [unowned self] go in
            let go = try go.contiguous()
            var gx: Tensor?
            if x.requiresGrad {
                let g = try Tensor.empty(xc.shape, dtype: .f32, zeroed: true, op: "SparseDeltaLinear")
                try product(lay, v.pointer(Float.self), go.pointer(Float.self), tokens, false, g.mutablePointer(Float.self))
                gx = g
            }
            return [gx, wantsValues ? try self.valueGradient(go: go, x: xc, tokens: tokens, layout: lay) : nil]
        }
        return try baseBias.map { try out.add($0) } ?? out
    }

    /// The gradient of the values from go (..., out): the sampled product, or the dense goᵀx
    /// gathered when that is cheaper or an AG window needs it.
    private func valueGradient(go: Tensor, x: Tensor, tokens: Int, layout lay: SparseDeltaLayout) throws -> Tensor {
        let gv = try Tensor.empty([k], dtype: .f32, op: "SparseDeltaLinear")
        let sampled = k * sampledCost < numel
        func sample(_ l: SparseDeltaLayout, _ into: UnsafeMutablePointer<Float>) {
            SparseDeltaProducts.valueGradient(
                x: x.pointer(Float.self), go: go.pointer(Float.self), tokens: tokens, inFeatures: inFeatures, outFeatures: outFeatures, layout: l,
                into: into)
        }
        // a window past its first micro-batch needs g at the frozen candidates only
        if sampled, var w = gradientWindow, w.samples > 0, let cl = w.candidateLayout, cl.count > 0 {
            sample(lay, gv.mutablePointer(Float.self))
            var g = [Float](repeating: 0, count: cl.count)
            g.withUnsafeMutableBufferPointer { sample(cl, $0.baseAddress!) }
            for j in 0..<cl.count {
                w.sum[j] += g[j]
                w.sumOfSquares[j] += g[j] * g[j]
            }
            w.samples += 1
            gradientWindow = w
            sampledBackwards += 1
            return gv
        }
        guard gradientWindow != nil || !sampled else {
            sample(lay, gv.mutablePointer(Float.self))
            sampledBackwards += 1
            return gv
        }
        // gW (out, in) = goᵀ (out, T) @ x (T, in); one layer's transient
        let gW = try noGrad { try go.reshape([tokens, outFeatures]).t().matmul(x.reshape([tokens, inFeatures])).contiguous() }
        let pw = gW.pointer(Float.self), pi = indexArray(), pg = gv.mutablePointer(Float.self)
        for n in 0..<k { pg[n] = pw[Int(pi[n])] }
        if gradientWindow != nil { try accumulate(gW) }
        denseBackwards += 1
        return gv
    }

    /// Adds one micro-batch's dense gradient into the AG window (spec §1.5).
    private func accumulate(_ gW: Tensor) throws {
        guard var w = gradientWindow else { return }
        let pw = gW.pointer(Float.self)
        if w.samples == 0 {
            // exact top-k of |g| by radix select (ties to the lowest position), O(numel) on both cores
            w.candidates = try selectLargest([MagnitudeKeys(pw, count: numel)], k: min(k, numel), op: "spiel")[0]
            w.candidateLayout = SparseDeltaLayout(indices: w.candidates, inFeatures: inFeatures)
            w.sum = w.candidates.map { pw[Int($0)] }
            w.sumOfSquares = w.sum.map { $0 * $0 }
        } else {
            for (j, c) in w.candidates.enumerated() {
                let g = pw[Int(c)]
                w.sum[j] += g
                w.sumOfSquares[j] += g * g
            }
        }
        w.samples += 1
        gradientWindow = w
    }

    // MARK: - merging

    /// W0 + Δ as f32 (out, in) (dequantising a quantised base).
    public func mergedWeight() throws -> Tensor {
        let w = try noGrad { () throws -> Tensor in
            if let l = base as? Linear { return try l.weight.detach().clone() }
            if let q = base as? QuantizedLinear { return try q.dequantizedWeight() }
            guard let n = base as? NF4Linear else { throw TensorError("merge", "unsupported base \(base.typeName)") }
            return try n.weight.dequantized()
        }
        if !merged { scatterAdd(into: w, sign: 1) }
        return w
    }

    private func scatterAdd(into w: Tensor, sign: Float) {
        let pw = w.mutablePointer(Float.self), pi = indexArray(), pv = values.pointer(Float.self)
        for n in 0..<k { pw[Int(pi[n])] += sign * pv[n] }
    }

    /// Adds Δ into a dense base weight in place (forward then skips it); unmerge() subtracts it.
    public func merge() throws {
        guard !merged else { return }
        guard let l = base as? Linear, try l.weight.dtype == .f32 else {
            throw TensorError("merge", "a quantised base is not merged in place (spec §4.1); use merge_and_unload for a dense copy")
        }
        scatterAdd(into: try l.weight, sign: 1)
        merged = true
    }

    public func unmerge() throws {
        guard merged, let l = base as? Linear else { return }
        scatterAdd(into: try l.weight, sign: -1)
        merged = false
    }

    public override var extraDescription: String {
        "\(inFeatures) -> \(outFeatures), k: \(k) (\(String(format: "%.3g", 100 * Double(k) / Double(max(1, numel))))%)\(merged ? ", merged" : "")"
    }
}
