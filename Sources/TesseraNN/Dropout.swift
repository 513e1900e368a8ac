// Dropout: zeroes elements with probability p in training (scaling the rest by 1/(1-p)); the
// identity in evaluation mode.

import TesseraTensor

public final class Dropout: Module {
    public let p: Double
    /// the generator masks are drawn from (seeded runs repeat)
    public let generator: Generator

    public init(_ p: Double = 0.1, generator: Generator = .shared) throws {
        guard p >= 0 && p <= 1 else { throw TensorError("Dropout", "probability must lie in [0, 1], got \(p)") }
        self.p = p
        self.generator = generator
        super.init()
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        try x.dropout(p, training: training, generator: generator)
    }

    public override var extraDescription: String { "p: \(p)" }
}
