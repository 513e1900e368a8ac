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
            if act is SiLU && act.forwardHooks.isEmpty {
                h = try swiGLU(gate(x), up(x))
            } else {
                h = try act(gate(x)).mul(up(x))
            }
        } else {
            h = try act(up(x))
        }
        h = try down(h)
        return try dropout.map { try $0(h) } ?? h
    }

    public override var extraDescription: String { "\(dim) -> \(hidden), \(kind.rawValue)" }
}

/// silu(g) · u as one op (LLaMA's SwiGLU), the same arithmetic as x.silu().mul(u) bit for bit but
/// one pass, and only g and u kept for backward (silu(g) is recomputed there rather than saved:
/// a (tokens, hidden) tensor less per layer).
func swiGLU(_ g: Tensor, _ u: Tensor) throws -> Tensor {
    guard g.shape == u.shape, g.dtype == u.dtype, g.dtype == .f32 || g.dtype == .f64 else {
        return try g.silu().mul(u)
    }
    let (gc, uc) = (try g.detach().contiguous(), try u.detach().contiguous())
    let h = try Tensor.empty(g.shape, dtype: g.dtype, op: "swiglu")
    if g.dtype == .f32 { swiGLUForward(gc, uc, h, Float.self) } else { swiGLUForward(gc, uc, h, Double.self) }
    return h.withGradient(from: [g, u], op: "swiglu") { go in
        let goc = try go.contiguous()
        let dg = try Tensor.empty(g.shape, dtype: g.dtype, op: "swiglu")
        let du = try Tensor.empty(g.shape, dtype: g.dtype, op: "swiglu")
        if g.dtype == .f32 { swiGLUBackward(gc, uc, goc, dg, du, Float.self) } else { swiGLUBackward(gc, uc, goc, dg, du, Double.self) }
        return [dg, du]
    }
}

@inline(__always)
private func swiGLUForward<T: FloatMath>(_ g: Tensor, _ u: Tensor, _ h: Tensor, _: T.Type) {
    let (pg, pu, ph) = (g.pointer(T.self), u.pointer(T.self), h.mutablePointer(T.self))
    Parallel.forRanges(g.numel, grain: 1 << 13) { r in
        for i in r {
            let v = pg[i]
            ph[i] = v / (1 + T.exp(-v)) * pu[i]
        }
    }
}

/// dg = (go·u)·σ(g)·(1 + g(1 − σ(g))) (silu's derivative, as SiluGradK), du = go·silu(g)
@inline(__always)
private func swiGLUBackward<T: FloatMath>(_ g: Tensor, _ u: Tensor, _ go: Tensor, _ dg: Tensor, _ du: Tensor, _: T.Type) {
    let (pg, pu, pgo) = (g.pointer(T.self), u.pointer(T.self), go.pointer(T.self))
    let (pdg, pdu) = (dg.mutablePointer(T.self), du.mutablePointer(T.self))
    Parallel.forRanges(g.numel, grain: 1 << 13) { r in
        for i in r {
            let x = pg[i]
            let e = T.exp(-x)
            let s = 1 / (1 + e)
            pdg[i] = pgo[i] * pu[i] * s * (1 + x * (1 - s))
            pdu[i] = pgo[i] * (x / (1 + e))
        }
    }
}
