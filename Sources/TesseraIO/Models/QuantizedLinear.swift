// QuantizedLinear: a Linear layer whose weight stays in its GGUF blocks (4-, 5-, 6- or 8-bit) and is
// dequantised a tile of rows at a time inside each product (QuantizedMatrix), so a 4-bit model
// never holds an f32 copy of its matrices. The weight is frozen (QLoRA and SpIEL train other
// tensors); gradients flow to the input, and to the bias when it is trainable.

import TesseraNN
import TesseraTensor

public final class QuantizedLinear: Module {
    /// (out, in) in its quantised blocks
    public let quantizedWeight: QuantizedMatrix
    public var inFeatures: Int { quantizedWeight.columns }
    public var outFeatures: Int { quantizedWeight.rows }

    public init(_ weight: QuantizedMatrix, bias: Tensor? = nil) throws {
        if let bias, bias.shape != [weight.rows] {
            throw TensorError("QuantizedLinear", "bias has shape \(bias.shape), expected [\(weight.rows)]")
        }
        quantizedWeight = weight
        super.init()
        if let bias { try registerParameter("bias", bias) }
    }

    public var bias: Tensor? { parameter("bias") }

    /// x (..., in) -> x Wᵀ + b (..., out)
    public override func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1, x.shape[x.rank - 1] == inFeatures else {
            throw TensorError("QuantizedLinear", "expects input (..., \(inFeatures)), got \(x.shape)")
        }
        let w = quantizedWeight
        let y = try w.matmulTransposed(x).withGradient(from: [x], op: "QuantizedLinear") { g in
            [try w.matmul(g)]
        }
        return try bias.map { try y.add($0) } ?? y
    }

    /// The weight dequantised to f32 (for inspection or to make an ordinary Linear).
    public func dequantizedWeight() throws -> Tensor { try quantizedWeight.dequantized() }

    public override var extraDescription: String {
        "\(inFeatures) -> \(outFeatures), \(quantizedWeight.type.name), \(quantizedWeight.byteCount) bytes\(bias == nil ? ", bias: false" : "")"
    }
}
