// SparseDeltaProducts: SpIEL's sampled product, the gradient of a sparse delta's values without
// forming the dense weight gradient goᵀx (out·in·T multiply-adds):
//   g[n] = Σ_t go[t, r_n] · x[t, c_n]           k·T multiply-adds
// x and go are transposed (OpenBLAS omatcopy) a block of up to 256 tokens at a time, so that each
// entry's work is one contiguous dot of the block's length; entries are visited in flat-index
// order, i.e. grouped by row, so one row of goᵀ stays in L1 while its entries' rows of xᵀ (a block
// of xᵀ fits in L2) are read. The cores take disjoint ranges of entries: no partial sums.

import CBLAS
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

/// Σ a[t] b[t] over n floats (n a multiple of 16) with four independent 16-lane accumulators
/// (one dependent chain would wait on every add: strict float order forbids the compiler to split it)
@inline(__always)
private func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    let (ra, rb) = (UnsafeRawPointer(a), UnsafeRawPointer(b))
    func load(_ r: UnsafeRawPointer, _ o: Int) -> SIMD16<Float> { r.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self) }
    var s0 = SIMD16<Float>(), s1 = SIMD16<Float>(), s2 = SIMD16<Float>(), s3 = SIMD16<Float>()
    var o = 0
    let bytes = n * 4
    while o + 256 <= bytes {
        s0.addProduct(load(ra, o), load(rb, o))
        s1.addProduct(load(ra, o + 64), load(rb, o + 64))
        s2.addProduct(load(ra, o + 128), load(rb, o + 128))
        s3.addProduct(load(ra, o + 192), load(rb, o + 192))
        o += 256
    }
    while o < bytes {
        s0.addProduct(load(ra, o), load(rb, o))
        o += 64
    }
    return ((s0 + s1) + (s2 + s3)).sum()
}

enum SparseDeltaProducts {
    /// tokens per transposed block
    static let block = 256

    /// dst (columns, rows) with rows `width` apart = src (rows, columns)ᵀ; the cores take column ranges
    private static func transpose(_ src: UnsafePointer<Float>, rows: Int, columns: Int, into dst: UnsafeMutablePointer<Float>, width: Int) {
        Parallel.forRanges(columns, grain: max(16, (1 << 15) / max(1, rows))) { r in
            cblas_somatcopy(
                CblasRowMajor, CblasTrans, Int32(rows), Int32(r.count), 1, src + r.lowerBound, Int32(columns), dst + r.lowerBound * width,
                Int32(width))
        }
    }

    /// g[n] = Σ_t go[t, r_n] x[t, c_n] for x (T, in), go (T, out); g (k) in slot order
    static func valueGradient(
        x: UnsafePointer<Float>, go: UnsafePointer<Float>, tokens: Int, inFeatures: Int, outFeatures: Int, layout: SparseDeltaLayout,
        into g: UnsafeMutablePointer<Float>
    ) {
        let k = layout.count
        g.update(repeating: 0, count: k)
        guard k > 0, tokens > 0 else { return }
        // a block's width rounded up to 16 floats; the padding columns stay zero
        let width = (min(block, tokens) + 15) / 16 * 16
        let xT = UnsafeMutablePointer<Float>.allocate(capacity: inFeatures * width)
        let goT = UnsafeMutablePointer<Float>.allocate(capacity: outFeatures * width)
        defer { xT.deallocate(); goT.deallocate() }
        layout.rows.withUnsafeBufferPointer { rp in
            layout.columns.withUnsafeBufferPointer { cp in
                layout.slots.withUnsafeBufferPointer { sp in
                    for t0 in stride(from: 0, to: tokens, by: block) {
                        let c = min(block, tokens - t0)
                        if c < width {
                            xT.update(repeating: 0, count: inFeatures * width)
                            goT.update(repeating: 0, count: outFeatures * width)
                        }
                        transpose(x + t0 * inFeatures, rows: c, columns: inFeatures, into: xT, width: width)
                        transpose(go + t0 * outFeatures, rows: c, columns: outFeatures, into: goT, width: width)
                        let n = (c + 15) / 16 * 16
                        Parallel.forRanges(k, grain: max(64, (1 << 16) / n)) { range in
                            for j in range {
                                g[Int(sp[j])] += dot(goT + Int(rp[j]) * width, xT + Int(cp[j]) * width, n)
                            }
                        }
                    }
                }
            }
        }
    }
}
