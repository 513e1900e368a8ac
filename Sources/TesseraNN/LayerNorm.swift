// LayerNorm: normalisation over the last dimension with a learned scale (ones) and shift (zeros).

import TesseraTensor

public final class LayerNorm: Module {
    public let dim: Int
    public let eps: Double

    /// weight (dim), bias (dim); `affine: false` has neither
    public init(_ dim: Int, eps: Double = 1e-5, affine: Bool = true, bias: Bool = true) throws {
        guard dim > 0 else { throw TensorError("LayerNorm", "dimension must be positive, got \(dim)") }
        self.dim = dim
        self.eps = eps
        super.init()
        if affine {
            try registerParameter("weight", Tensor.ones([dim]))
            if bias { try registerParameter("bias", Tensor.zeros([dim])) }
        }
    }

    /// x (..., dim) -> (..., dim)
    public override func forward(_ x: Tensor) throws -> Tensor {
        try x.layerNorm(weight: parameter("weight"), bias: parameter("bias"), eps: eps)
    }

    public override var extraDescription: String { "\(dim), eps: \(eps)" }
}
