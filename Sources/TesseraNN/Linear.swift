// Linear: y = x Wᵀ + b, initialised as torch.nn.Linear (Kaiming-uniform with a = √5, which gives
// U(-1/√in, 1/√in) for the weight, and the same bound for the bias).

import TesseraTensor

public final class Linear: Module {
    public let inFeatures: Int
    public let outFeatures: Int

    /// weight (out, in); bias (out) unless `bias: false`
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, generator: Generator = .shared) throws {
        guard inFeatures > 0, outFeatures > 0 else {
            throw TensorError("Linear", "feature counts must be positive, got \(inFeatures) -> \(outFeatures)")
        }
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        super.init()
        let bound = 1 / Double(inFeatures).squareRoot()
        func initial(_ shape: [Int]) throws -> Tensor {
            skipsInitialization ? try Tensor.empty(shape, op: "Linear") : try Tensor.rand(shape, low: -bound, high: bound, generator: generator)
        }
        try registerParameter("weight", initial([outFeatures, inFeatures]))
        if bias { try registerParameter("bias", initial([outFeatures])) }
    }

    /// A layer around existing tensors: weight (out, in), bias (out). A tensor that another module
    /// also holds is shared, not copied (tied embeddings).
    public init(weight: Tensor, bias: Tensor? = nil) throws {
        guard weight.rank == 2, bias.map({ $0.shape == [weight.shape[0]] }) ?? true else {
            throw TensorError(
                "Linear", "needs weight (out, in) and bias (out), got \(dimsString(weight.shape)) and \(bias.map { dimsString($0.shape) } ?? "none")")
        }
        (inFeatures, outFeatures) = (weight.shape[1], weight.shape[0])
        super.init()
        try registerParameter("weight", weight)
        if let bias { try registerParameter("bias", bias) }
    }

    public var weight: Tensor { get throws { try requiredParameter("weight") } }
    public var bias: Tensor? { parameter("bias") }

    /// x (..., in) @ Wᵀ (in, out) + b (out) -> (..., out)
    public override func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1, x.shape[x.rank - 1] == inFeatures else {
            throw TensorError("Linear", "expects input (..., \(inFeatures)), got \(dimsString(x.shape))")
        }
        let y = try x.matmul(weight.t())
        return try bias.map { try y.add($0) } ?? y
    }

    public override var extraDescription: String {
        "\(inFeatures) -> \(outFeatures)\(bias == nil ? ", bias: false" : "")"
    }
}
