// Embedding: a table of vectors looked up by token id; initialised N(0, 1) as torch, with the
// padding row (if any) zeroed and kept out of the gradient.

import TesseraTensor

public final class Embedding: Module {
    public let count: Int
    public let dim: Int
    /// the id whose row stays zero and receives no gradient (nil: none)
    public let paddingIndex: Int?

    /// weight (count, dim)
    public init(_ count: Int, _ dim: Int, paddingIndex: Int? = nil, generator: Generator = .shared) throws {
        guard count > 0, dim > 0 else { throw TensorError("Embedding", "sizes must be positive, got \(count)x\(dim)") }
        if let p = paddingIndex, p < 0 || p >= count {
            throw TensorError("Embedding", "padding index \(p) out of range for \(count) embeddings")
        }
        self.count = count
        self.dim = dim
        self.paddingIndex = paddingIndex
        super.init()
        let w = skipsInitialization ? try Tensor.empty([count, dim], op: "Embedding") : try Tensor.randn([count, dim], generator: generator)
        if let p = paddingIndex { try w.select(0, p).zero_() }
        try registerParameter("weight", w)
    }

    public var weight: Tensor { get throws { try requiredParameter("weight") } }

    /// ids (...) -> (..., dim)
    public override func forward(_ ids: Tensor) throws -> Tensor {
        try weight.embedding(ids, paddingIndex: paddingIndex)
    }

    public override var extraDescription: String {
        "\(count), \(dim)\(paddingIndex.map { ", padding: \($0)" } ?? "")"
    }
}
