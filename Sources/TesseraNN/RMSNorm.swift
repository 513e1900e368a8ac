// RMSNorm: x / rms(x) · weight over the last dimension (LLaMA); weight starts at ones.

import TesseraTensor

public final class RMSNorm: Module {
    public let dim: Int
    public let eps: Double

    /// weight (dim)
    public init(_ dim: Int, eps: Double = 1e-6) throws {
        guard dim > 0 else { throw TensorError("RMSNorm", "dimension must be positive, got \(dim)") }
        self.dim = dim
        self.eps = eps
        super.init()
        try registerParameter("weight", Tensor.ones([dim]))
    }

    /// x (..., dim) -> (..., dim)
    public override func forward(_ x: Tensor) throws -> Tensor {
        try x.rmsNorm(weight: parameter("weight"), eps: eps)
    }

    public override var extraDescription: String { "\(dim), eps: \(eps)" }
}
