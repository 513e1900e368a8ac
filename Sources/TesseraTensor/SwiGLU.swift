// SwiGLU: LLaMA's gated activation silu(g) · u as one op. It lives beside the other kernels so
// that exp inlines and the loops vectorise (across modules it would be a call per element).

/// silu(g) · u as one op (LLaMA's SwiGLU), the same arithmetic as x.silu().mul(u) bit for bit but
/// one pass, and only g and u kept for backward (silu(g) is recomputed there rather than saved:
/// a (tokens, hidden) tensor less per layer).
public func swiGLU(_ g: Tensor, _ u: Tensor) throws -> Tensor {
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
        for i in r { ph[i] = SiluK<T>.apply(pg[i]) * pu[i] }
    }
}

/// dg = silu'(g)·(go·u), du = go·silu(g): the kernels of silu's own forward and backward
@inline(__always)
private func swiGLUBackward<T: FloatMath>(_ g: Tensor, _ u: Tensor, _ go: Tensor, _ dg: Tensor, _ du: Tensor, _: T.Type) {
    let (pg, pu, pgo) = (g.pointer(T.self), u.pointer(T.self), go.pointer(T.self))
    let (pdg, pdu) = (dg.mutablePointer(T.self), du.mutablePointer(T.self))
    Parallel.forRanges(g.numel, grain: 1 << 13) { r in
        for i in r {
            pdg[i] = SiluGradK<T>.apply(pg[i], pgo[i] * pu[i])
            pdu[i] = pgo[i] * SiluK<T>.apply(pg[i])
        }
    }
}
