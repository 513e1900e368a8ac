// RotaryEmbedding: rotary position embeddings (RoPE) in the Hugging Face LLaMA convention: the
// head dimension is split in halves and rotate_half(x) = cat(-x₂, x₁), with
// x·cos + rotate_half(x)·sin, angle(pos, i) = pos · base^(-2i/headDim) for i < headDim/2.
// One fused op (forward and backward), not the six of the formula: nothing is saved for backward
// but the tables, which are computed once for a range of positions and kept.

import TesseraTensor

public final class RotaryEmbedding: Module {
    public let headDim: Int
    public let base: Double
    /// cos and sin for positions 0..<n, per dtype, grown (doubling) as longer inputs come
    private var cached: [DType: (cos: Tensor, sin: Tensor)] = [:]

    public init(headDim: Int, base: Double = 10_000) throws {
        guard headDim > 0, headDim % 2 == 0 else {
            throw TensorError("RotaryEmbedding", "head dimension must be positive and even, got \(headDim)")
        }
        self.headDim = headDim
        self.base = base
        super.init()
    }

    /// cos and sin tables for positions offset..<offset+count, each (count, headDim) in `dtype`
    public func tables(count: Int, offset: Int = 0, dtype: DType = .f32) throws -> (cos: Tensor, sin: Tensor) {
        let end = offset + count
        if let (c, s) = cached[dtype], c.shape[0] >= end {
            return (try c.narrow(0, offset, count), try s.narrow(0, offset, count))
        }
        var n = max(64, cached[dtype]?.cos.shape[0] ?? 0)
        while n < end { n *= 2 }
        let half = headDim / 2
        var angles = [Double](repeating: 0, count: n * headDim)
        for p in 0..<n {
            for i in 0..<half {
                let a = Double(p) * Foundation_pow(base, -2 * Double(i) / Double(headDim))
                angles[p * headDim + i] = a
                angles[p * headDim + i + half] = a
            }
        }
        let t = try Tensor.from(angles, shape: [n, headDim]).to(dtype)
        let tables = (cos: try t.cos(), sin: try t.sin())
        cached[dtype] = tables
        return (try tables.cos.narrow(0, offset, count), try tables.sin.narrow(0, offset, count))
    }

    /// x (..., T, headDim) -> the same shape (contiguous), position p of T rotated by angle(offset + p)
    public func apply(_ x: Tensor, offset: Int = 0) throws -> Tensor {
        guard x.rank >= 2, x.shape[x.rank - 1] == headDim else {
            throw TensorError("RotaryEmbedding", "expects (..., T, \(headDim)), got \(dimsString(x.shape))")
        }
        guard x.dtype == .f32 || x.dtype == .f64 else {
            throw TensorError("RotaryEmbedding", "expects f32 or f64 input, got \(x.dtype)")
        }
        let positions = x.shape[x.rank - 2]
        let (cos, sin) = try tables(count: positions, offset: offset, dtype: x.dtype)
        let xc = try x.detach().contiguous()
        let y = try Tensor.empty(x.shape, dtype: x.dtype, op: "RotaryEmbedding")
        RotaryEmbedding.rotate(xc, cos, sin, positions: positions, headDim: headDim, into: y, transposed: false)
        return y.withGradient(from: [x], op: "RotaryEmbedding") { [headDim] g in
            // the adjoint: gx = g·cos + (i < half ? g[i + half]·sin[i + half] : -g[i - half]·sin[i - half])
            let gc = try g.contiguous()
            let gx = try Tensor.empty(g.shape, dtype: g.dtype, op: "RotaryEmbedding")
            RotaryEmbedding.rotate(gc, cos, sin, positions: positions, headDim: headDim, into: gx, transposed: true)
            return [gx]
        }
    }

    /// y = x·cos + rotate_half(x)·sin (transposed: its adjoint) over contiguous rows of headDim
    static func rotate(_ x: Tensor, _ cos: Tensor, _ sin: Tensor, positions: Int, headDim: Int, into y: Tensor, transposed: Bool) {
        if x.dtype == .f32 {
            rotateRows(x, cos, sin, positions, headDim, y, transposed, Float.self)
        } else {
            rotateRows(x, cos, sin, positions, headDim, y, transposed, Double.self)
        }
    }

    @inline(__always)
    private static func rotateRows<T: BinaryFloatingPoint>(
        _ x: Tensor, _ cos: Tensor, _ sin: Tensor, _ positions: Int, _ hd: Int, _ y: Tensor, _ transposed: Bool, _: T.Type
    ) {
        let (px, pc, ps, py) = (x.pointer(T.self), cos.pointer(T.self), sin.pointer(T.self), y.mutablePointer(T.self))
        let half = hd / 2
        let rows = x.numel / hd
        Parallel.forRanges(rows, grain: max(1, (1 << 14) / hd)) { range in
            for r in range {
                let (xr, yr) = (px + r * hd, py + r * hd)
                let (c, s) = (pc + (r % positions) * hd, ps + (r % positions) * hd)
                if transposed {
                    for i in 0..<half { yr[i] = xr[i] * c[i] + xr[i + half] * s[i + half] }
                    for i in half..<hd { yr[i] = xr[i] * c[i] - xr[i - half] * s[i - half] }
                } else {
                    for i in 0..<half { yr[i] = xr[i] * c[i] - xr[i + half] * s[i] }
                    for i in half..<hd { yr[i] = xr[i] * c[i] + xr[i - half] * s[i] }
                }
            }
        }
    }

    public override func forward(_ x: Tensor) throws -> Tensor { try apply(x) }

    public override var extraDescription: String { "\(headDim), base: \(base)" }
}

#if canImport(Glibc)
    import Glibc
    /// libm's pow under a name that does not clash with Tensor.pow
    @inline(__always) func Foundation_pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
#endif
