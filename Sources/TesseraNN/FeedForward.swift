// FeedForward: the position-wise block of a transformer layer. `gelu` (BERT): down(act(up(x)));
// `swiGLU` (LLaMA): down(silu(gate(x)) · up(x)), no biases.

import TesseraTensor

public final class FeedForward: Module {
    public enum Kind: String, Sendable { case gelu, swiGLU }
    public let kind: Kind
    public let dim: Int
    public let hidden: Int
    private var up: Module
    private var down: Module
    private var gate: Module?
    private var act: Module
    private let dropout: Dropout?

    /// up (dim -> hidden), down (hidden -> dim), and gate (dim -> hidden) for SwiGLU
    public init(
        _ dim: Int, hidden: Int, kind: Kind = .gelu, activation: Module? = nil, bias: Bool? = nil,
        dropout: Double = 0, generator: Generator = .shared
    ) throws {
        self.kind = kind
        self.dim = dim
        self.hidden = hidden
        let useBias = bias ?? (kind == .gelu)
        up = try Linear(dim, hidden, bias: useBias, generator: generator)
        down = try Linear(hidden, dim, bias: useBias, generator: generator)
        gate = kind == .swiGLU ? try Linear(dim, hidden, bias: useBias, generator: generator) : nil
        act = activation ?? (kind == .gelu ? GELU() : SiLU())
        self.dropout = dropout > 0 ? try Dropout(dropout, generator: generator) : nil
        super.init()
        if let gate { try registerModule("gate", gate) }
        try registerModule("up", up)
        try registerModule("act", act)
        try registerModule("down", down)
        if let d = self.dropout { try registerModule("dropout", d) }
    }

    public override func childReplaced(_ name: String, old: Module, new: Module) {
        switch name {
        case "up": up = new
        case "down": down = new
        case "gate": gate = new
        case "act": act = new
        default: break
        }
    }

    /// x (..., dim) -> (..., dim)
    public override func forward(_ x: Tensor) throws -> Tensor {
        var h: Tensor
        if let gate {
            h = try gatedActivation(act, gate(x), up(x))
        } else {
            h = try act(up(x))
        }
        h = try down(h)
        return try dropout.map { try $0(h) } ?? h
    }

    public override var extraDescription: String { "\(dim) -> \(hidden), \(kind.rawValue)" }
}

/// act(gate) · up; for SiLU without hooks the fused swiGLU (the same bits, one saved tensor less)
func gatedActivation(_ act: Module, _ gate: Tensor, _ up: Tensor) throws -> Tensor {
    act is SiLU && act.forwardHooks.isEmpty ? try swiGLU(gate, up) : try act(gate).mul(up)
}
