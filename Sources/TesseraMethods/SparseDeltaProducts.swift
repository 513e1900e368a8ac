// SparseDeltaProducts: SpIEL's sampled product, the gradient of a sparse delta's values without
// forming the dense weight gradient goᵀx (out·in·T multiply-adds):
//   g[n] = Σ_t go[t, r_n] · x[t, c_n]           k·T multiply-adds
// Tokens are taken in chunks of 64, transposed so that each entry's work is a contiguous 64-float
// dot; entries are visited in flat-index order, i.e. grouped by row, so one row of goᵀ stays in
// cache while its entries' columns of xᵀ are read. Chunks run on the cores, each with its own
// partial sums.

import Foundation
import TesseraTensor

/// The entries of a delta in flat-index order: row, column and slot (position in `values`).
struct SparseDeltaLayout {
    let rows: [Int32]
    let columns: [Int32]
    let slots: [Int32]

    /// indices: flat row-major positions into (out, in), any order, each in range
    init(indices: [Int64], inFeatures: Int) {
        let order = indices.indices.sorted { indices[$0] < indices[$1] }
        rows = order.map { Int32(indices[$0] / Int64(inFeatures)) }
        columns = order.map { Int32(indices[$0] % Int64(inFeatures)) }
        slots = order.map { Int32($0) }
    }
    var count: Int { slots.count }
}

/// Σ a[t] b[t] over 64 floats with four independent 16-lane accumulators (a scalar loop is one
/// dependent chain of 64 adds: strict float order forbids the compiler to split it)
@inline(__always)
private func dot64(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>) -> Float {
    let (ra, rb) = (UnsafeRawPointer(a), UnsafeRawPointer(b))
    func load(_ r: UnsafeRawPointer, _ o: Int) -> SIMD16<Float> { r.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self) }
    var s0 = load(ra, 0) * load(rb, 0)
    var s1 = load(ra, 64) * load(rb, 64)
    s0.addProduct(load(ra, 128), load(rb, 128))
    s1.addProduct(load(ra, 192), load(rb, 192))
    return (s0 + s1).sum()
}

enum SparseDeltaProducts {
    /// tokens per chunk; dot64 assumes 64
    static let chunk = 64

    /// dst (width, c) = src (c, width) transposed, rows t0..<t0+c of src (leading dim `width`),
    /// with dst rows `chunk` floats apart
    @inline(__always)
    private static func transposeChunk(_ src: UnsafePointer<Float>, _ width: Int, _ t0: Int, _ c: Int, _ dst: UnsafeMutablePointer<Float>) {
        for tt in 0..<c {
            let row = src + (t0 + tt) * width
            for j in 0..<width { dst[j * chunk + tt] = row[j] }
        }
    }

    /// g[n] = Σ_t go[t, r_n] x[t, c_n] for x (T, in), go (T, out); g (k) in slot order
    static func valueGradient(
        x: UnsafePointer<Float>, go: UnsafePointer<Float>, tokens: Int, inFeatures: Int, outFeatures: Int, layout: SparseDeltaLayout,
        into g: UnsafeMutablePointer<Float>
    ) {
        let k = layout.count
        g.update(repeating: 0, count: k)
        let chunks = (tokens + chunk - 1) / chunk
        let grain = max(1, (1 << 20) / max(1, (k + inFeatures + outFeatures) * chunk))
        let lock = NSLock()
        layout.rows.withUnsafeBufferPointer { rp in
            layout.columns.withUnsafeBufferPointer { cp in
                layout.slots.withUnsafeBufferPointer { sp in
                    Parallel.forRanges(chunks, grain: grain) { range in
                        let xT = UnsafeMutablePointer<Float>.allocate(capacity: inFeatures * chunk)
                        let goT = UnsafeMutablePointer<Float>.allocate(capacity: outFeatures * chunk)
                        let partial = UnsafeMutablePointer<Float>.allocate(capacity: max(1, k))
                        defer { xT.deallocate(); goT.deallocate(); partial.deallocate() }
                        partial.update(repeating: 0, count: k)
                        for ch in range {
                            let t0 = ch * chunk, c = min(chunk, tokens - t0)
                            // the tail of a short chunk stays zero so full-width dots add nothing
                            if c < chunk {
                                xT.update(repeating: 0, count: inFeatures * chunk)
                                goT.update(repeating: 0, count: outFeatures * chunk)
                            }
                            transposeChunk(go, outFeatures, t0, c, goT)
                            transposeChunk(x, inFeatures, t0, c, xT)
                            for j in 0..<k {
                                partial[Int(sp[j])] += dot64(goT + Int(rp[j]) * chunk, xT + Int(cp[j]) * chunk)
                            }
                        }
                        lock.lock()
                        for n in 0..<k { g[n] += partial[n] }
                        lock.unlock()
                    }
                }
            }
        }
    }
}
