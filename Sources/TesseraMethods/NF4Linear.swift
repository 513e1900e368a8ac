// NF4Linear: a frozen Linear whose weight is held in NF4 with double quantisation (QLoRA's
// storage), dequantised a tile of rows at a time inside its products; gradients flow to the
// input (and to a trainable bias). The base of QLoRA and qSpIEL on models built in f32.

import TesseraNN
import TesseraTensor

public final class NF4Linear: Module {
    /// (out, in) in NF4 blocks
    public let weight: NF4Matrix
    public var inFeatures: Int { weight.columns }
    public var outFeatures: Int { weight.rows }

    public init(_ weight: NF4Matrix, bias: Tensor? = nil) throws {
        if let bias, bias.shape != [weight.rows] {
            throw TensorError("NF4Linear", "bias has shape \(bias.shape), expected [\(weight.rows)]")
        }
        self.weight = weight
        super.init()
        if let bias { try registerParameter("bias", bias) }
    }

    /// Quantises a Linear's weight; its bias is kept (and frozen).
    public convenience init(quantizing linear: Linear) throws {
        try self.init(NF4Matrix(linear.weight.detach()), bias: linear.bias?.detach())
        try bias?.requiresGrad(false)
    }

    public var bias: Tensor? { parameter("bias") }

    /// x (..., in) -> x W̃ᵀ + b (..., out)
    public override func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1, x.shape[x.rank - 1] == inFeatures else {
            throw TensorError("NF4Linear", "expects input (..., \(inFeatures)), got \(x.shape)")
        }
        let w = weight
        let y = try w.matmulTransposed(x, tileRows: nil).withGradient(from: [x], op: "NF4Linear") { g in
            [try w.matmul(g, tileRows: nil)]
        }
        return try bias.map { try y.add($0) } ?? y
    }

    public override var extraDescription: String {
        "\(inFeatures) -> \(outFeatures), NF4, \(weight.byteCount) bytes\(bias == nil ? ", bias: false" : "")"
    }
}

extension Module {
    /// Replaces every Linear whose path `targets` selects by an NF4Linear (QLoRA's 4-bit base);
    /// returns the paths replaced.
    @discardableResult
    public func quantizeNF4(targets: TargetModules) throws -> [String] {
        var done: [String] = []
        for (path, m) in namedModules() where !path.isEmpty && targets.selects(path) {
            guard let l = m as? Linear else { continue }
            try replaceModule(at: path, with: NF4Linear(quantizing: l))
            done.append(path)
        }
        return done
    }
}
