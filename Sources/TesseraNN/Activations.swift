// Activations as modules, so they appear in a model's printed structure and can be swapped.

import TesseraTensor

/// GELU, exact (x·Φ(x)) or with the tanh approximation (GPT-2, `gelu_new`).
public final class GELU: Module {
    public enum Approximation: String, Sendable { case none, tanh }
    public let approximation: Approximation

    public init(approximation: Approximation = .none) {
        self.approximation = approximation
        super.init()
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        approximation == .tanh ? try x.geluTanh() : try x.gelu()
    }

    public override var extraDescription: String { approximation == .tanh ? "approximate: tanh" : "" }
}

public final class ReLU: Module {
    public override func forward(_ x: Tensor) throws -> Tensor { try x.relu() }
}

/// x·sigmoid(x) (swish)
public final class SiLU: Module {
    public override func forward(_ x: Tensor) throws -> Tensor { try x.silu() }
}

public final class Tanh: Module {
    public override func forward(_ x: Tensor) throws -> Tensor { try x.tanh() }
}

/// The activation a config names: gelu, gelu_new / gelu_tanh, relu, silu / swish, tanh.
public func activation(named name: String) throws -> Module {
    switch name.lowercased() {
    case "gelu": return GELU()
    case "gelu_new", "gelu_tanh", "gelu_pytorch_tanh": return GELU(approximation: .tanh)
    case "relu": return ReLU()
    case "silu", "swish": return SiLU()
    case "tanh": return Tanh()
    default: throw TensorError("activation", "unknown activation '\(name)' (gelu, gelu_new, relu, silu, tanh)")
    }
}
