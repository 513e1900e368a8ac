// RotaryEmbedding: rotary position embeddings (RoPE) in the Hugging Face LLaMA convention: the
// head dimension is split in halves and rotate_half(x) = cat(-x₂, x₁), with
// x·cos + rotate_half(x)·sin, angle(pos, i) = pos · base^(-2i/headDim) for i < headDim/2.

import TesseraTensor

public final class RotaryEmbedding: Module {
    public let headDim: Int
    public let base: Double

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
        let half = headDim / 2
        var angles = [Double](repeating: 0, count: count * headDim)
        for p in 0..<count {
            for i in 0..<half {
                let a = Double(p + offset) * Foundation_pow(base, -2 * Double(i) / Double(headDim))
                angles[p * headDim + i] = a
                angles[p * headDim + i + half] = a
            }
        }
        let t = try Tensor.from(angles, shape: [count, headDim]).to(dtype)
        return (try t.cos(), try t.sin())
    }

    /// x (..., T, headDim) -> the same shape, position p of T rotated by angle(offset + p)
    public func apply(_ x: Tensor, offset: Int = 0) throws -> Tensor {
        guard x.rank >= 2, x.shape[x.rank - 1] == headDim else {
            throw TensorError("RotaryEmbedding", "expects (..., T, \(headDim)), got \(dimsString(x.shape))")
        }
        let (cos, sin) = try tables(count: x.shape[x.rank - 2], offset: offset, dtype: x.dtype)
        return try x.mul(cos).add(rotateHalf(x).mul(sin))
    }

    /// cat(-x[..., half:], x[..., :half])
    private func rotateHalf(_ x: Tensor) throws -> Tensor {
        let half = headDim / 2
        return try Tensor.cat([x.narrow(-1, half, half).neg(), x.narrow(-1, 0, half)], dim: -1)
    }

    public override func forward(_ x: Tensor) throws -> Tensor { try apply(x) }

    public override var extraDescription: String { "\(headDim), base: \(base)" }
}

#if canImport(Glibc)
    import Glibc
    /// libm's pow under a name that does not clash with Tensor.pow
    @inline(__always) func Foundation_pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
#endif
