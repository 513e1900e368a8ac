// LoRALinear: y = base(x) + B (A (dropout(x))) · scaling (Hu et al. 2021; huggingface/peft
// lora/layer.py). The base (Linear, GGUF QuantizedLinear or NF4Linear: QLoRA) stays frozen as
// child `base_layer`; lora_A (r, in) starts Kaiming-uniform with a = √5, i.e. U(±1/√in), lora_B
// (out, r) at zero, so the wrapped model starts equal to the base. scaling = alpha / r, or
// alpha / √r with rsLoRA.

import TesseraIO
import TesseraNN
import TesseraTensor

public final class LoRALinear: Module {
    public let inFeatures: Int
    public let outFeatures: Int
    public let rank: Int
    public let alpha: Double
    public let useRSLoRA: Bool
    /// whether B A · scaling has been added into a dense base weight
    public private(set) var merged = false

    public init(
        base: Module, rank: Int, alpha: Double, dropout: Double = 0, useRSLoRA: Bool = false, generator: Generator = .shared
    ) throws {
        guard let (outF, inF) = SparseDeltaLinear.features(of: base) else {
            throw TensorError("lora.wrap", "can only adapt Linear, QuantizedLinear or NF4Linear layers, not \(base.typeName)")
        }
        guard rank > 0 else { throw TensorError("lora.wrap", "rank must be positive, got \(rank)") }
        guard (0..<1).contains(dropout) else { throw TensorError("lora.wrap", "dropout must lie in [0, 1), got \(dropout)") }
        (inFeatures, outFeatures, self.rank, self.alpha, self.useRSLoRA) = (inF, outF, rank, alpha, useRSLoRA)
        super.init()
        try registerModule("base_layer", base)
        try registerModule("lora_dropout", Dropout(dropout, generator: generator))
        try registerModule("lora_A", Linear(inF, rank, bias: false, generator: generator))
        let b = try registerModule("lora_B", Linear(rank, outF, bias: false, generator: generator))
        _ = try b.weight.zero_()
    }

    public var base: Module { children[0].module }
    public var loraA: Linear { get throws { try adapter("lora_A") } }
    public var loraB: Linear { get throws { try adapter("lora_B") } }

    private func adapter(_ name: String) throws -> Linear {
        guard let l = children.first(where: { $0.name == name })?.module as? Linear else {
            throw TensorError("LoRALinear", "'\(name)' must be a Linear, it was replaced")
        }
        return l
    }
    public var scaling: Double { useRSLoRA ? alpha / Double(rank).squareRoot() : alpha / Double(rank) }

    /// x (..., in) -> (..., out)
    public override func forward(_ x: Tensor) throws -> Tensor {
        let y = try base(x)
        if merged { return y }
        let update = try loraB(loraA(children[1].module(x)))
        return try y.add(update.mul(scaling))
    }

    /// B A · scaling (out, in)
    public func deltaWeight() throws -> Tensor {
        try noGrad { try loraB.weight.matmul(loraA.weight).mul(scaling) }
    }

    /// Adds B A · scaling into a dense base weight (forward then skips the adapter).
    public func merge() throws {
        guard !merged else { return }
        guard let l = base as? Linear else {
            throw TensorError("merge", "a quantised base is not merged in place; merge_and_unload gives a dense copy")
        }
        let w = try l.weight
        _ = try noGrad { try w.copy_(w.add(deltaWeight())) }
        merged = true
    }

    /// Subtracts what merge() added.
    public func unmerge() throws {
        guard merged, let l = base as? Linear else { return }
        let w = try l.weight
        _ = try noGrad { try w.copy_(w.sub(deltaWeight())) }
        merged = false
    }

    /// W0 + B A · scaling as f32 (quantised bases dequantised).
    public func mergedWeight() throws -> Tensor {
        let w0: Tensor = try noGrad {
            if let l = base as? Linear { return try l.weight.detach().clone() }
            if let q = base as? QuantizedLinear { return try q.dequantizedWeight() }
            guard let n = base as? NF4Linear else { throw TensorError("merge", "unsupported base \(base.typeName)") }
            return try n.weight.dequantized()
        }
        return merged ? w0 : try w0.add(deltaWeight())
    }

    public override var extraDescription: String {
        "\(inFeatures) -> \(outFeatures), r: \(rank), alpha: \(alpha)\(useRSLoRA ? ", rsLoRA" : "")\(merged ? ", merged" : "")"
    }
}
