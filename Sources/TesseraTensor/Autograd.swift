// Autograd: a dynamic tape. Each op that sees an input requiring grad records a GradNode whose
// closure maps the output's gradient to its inputs' gradients; backward() walks them in reverse.

#if canImport(Glibc)
    import Glibc
#endif

/// One recorded op: its inputs and the closure that turns d(out) into d(input) for each input.
final class GradNode {
    /// the op's name, for error messages and graph printing
    let op: String
    /// the op's tensor inputs (released after backward unless the graph is retained)
    var inputs: [Tensor]
    /// (d(out), out) -> d(inputs), one entry per input (nil where no gradient flows). The output
    /// is passed in, never captured: it owns this node, so capturing it would be a retain cycle
    /// that leaks every graph not consumed by backward().
    var backward: ((Tensor, Tensor) throws -> [Tensor?])?

    init(op: String, inputs: [Tensor], backward: @escaping (Tensor, Tensor) throws -> [Tensor?]) {
        self.op = op
        self.inputs = inputs
        self.backward = backward
    }
}

/// Whether ops record gradients; `noGrad` turns it off for a block. Per thread, as in torch:
/// backward() runs under noGrad, and that must not stop another thread's ops from recording.
public enum GradMode {
    public static var isEnabled: Bool {
        get { pthread_getspecific(disabledKey) == nil }
        set { pthread_setspecific(disabledKey, newValue ? nil : UnsafeRawPointer(bitPattern: 1)) }
    }

    /// the thread's flag: any non-nil value means disabled, so every thread starts enabled
    private static let disabledKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()
}

/// Runs `body` without recording gradients (inference, optimizer updates, evaluation).
public func noGrad<R>(_ body: () throws -> R) rethrows -> R {
    let saved = GradMode.isEnabled
    GradMode.isEnabled = false
    defer { GradMode.isEnabled = saved }
    return try body()
}

extension Tensor {
    /// Marks the output of an op as differentiable when grad mode is on and an input requires grad.
    @discardableResult
    func recordGrad(_ op: String, _ inputs: [Tensor], _ backward: @escaping (Tensor) throws -> [Tensor?]) -> Tensor {
        recordGrad(op, inputs, withOutput: { g, _ in try backward(g) })
    }

    /// recordGrad for gradients that need the op's output (exp, tanh, softmax, division...):
    /// the closure gets it as its second argument and must not capture it.
    @discardableResult
    func recordGrad(_ op: String, _ inputs: [Tensor], withOutput backward: @escaping (Tensor, Tensor) throws -> [Tensor?]) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) else { return self }
        requiresGrad = true
        gradNode = GradNode(op: op, inputs: inputs, backward: backward)
        return self
    }

    /// Makes this tensor, computed from `inputs` outside the engine's ops (a kernel of another
    /// layer, e.g. a product with quantised weights), differentiable: `backward(grad)` returns
    /// one gradient per input (nil for none), as the engine's own ops do. Nothing is recorded
    /// when grad mode is off or no input requires grad. Returns self.
    @discardableResult
    public func withGradient(from inputs: [Tensor], op: String, _ backward: @escaping (Tensor) throws -> [Tensor?]) -> Tensor {
        recordGrad(op, inputs, backward)
    }

    /// Sets `requiresGrad` on a leaf; returns self so it chains after a constructor.
    @discardableResult
    public func requiresGrad(_ flag: Bool) throws -> Tensor {
        guard isLeaf else {
            throw TensorError("requires_grad", "can only be set on a leaf tensor; use detach() to get one")
        }
        guard !flag || dtype.isFloatingPoint else {
            throw TensorError("requires_grad", "only floating-point tensors can require gradients, this one is \(dtype)")
        }
        requiresGrad = flag
        return self
    }

    /// A tensor sharing this one's storage but cut from the graph.
    public func detach() -> Tensor {
        Tensor(storage: storage, dtype: dtype, shape: shape, strides: strides, offset: offset)
    }

    /// Reverse-mode differentiation from this tensor. A scalar needs no `gradient`; any other
    /// tensor needs one of its shape. Leaves accumulate into `.grad`; the graph is freed unless
    /// `retainGraph`.
    public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false) throws {
        guard requiresGrad else {
            throw TensorError("backward", "tensor does not require grad and has no grad history")
        }
        let seed: Tensor
        if let g = gradient {
            guard g.shape == shape else {
                throw TensorError("backward", "gradient shape \(shapeString(g.shape)) does not match tensor shape \(shapeString(shape))")
            }
            seed = g.dtype == dtype ? g : try g.to(dtype)
        } else {
            guard numel == 1 else {
                throw TensorError(
                    "backward",
                    "grad can be implicitly created only for a one-element tensor, this one has shape \(shapeString(shape)); pass a gradient")
            }
            seed = try Tensor.full(shape, 1, dtype: dtype)
        }
        // popped as they are processed: an intermediate result is released as soon as its own
        // node has run (unless something else holds it), as torch frees saved activations layer
        // by layer; iterating over a kept array would hold every activation to the end
        var order = topologicalOrder()
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
        // storages already handed to a leaf (or the caller's seed): a leaf's .grad must own its
        // memory, or an in-place update of one .grad (clipping, zero_) would change another
        var handedOut: Set<ObjectIdentifier> = [ObjectIdentifier(seed.storage)]
        try noGrad {
            while let t = order.popLast() {
                guard let g = grads.removeValue(forKey: ObjectIdentifier(t)) else { continue }
                guard let node = t.gradNode else {
                    if let existing = t.grad {
                        t.grad = try existing.add(g)
                    } else {
                        let owned = g.isContiguous && g.offset == 0 && g.numel * g.dtype.size == g.storage.byteCount
                        let fresh = owned && handedOut.insert(ObjectIdentifier(g.storage)).inserted
                        t.grad = fresh ? g : try g.clone()
                    }
                    continue
                }
                guard let fn = node.backward else {
                    throw TensorError(
                        "backward",
                        "the graph through '\(node.op)' was already freed; keep it with the first backward (retainGraph in Swift, {retain_graph = true} in Lua)"
                    )
                }
                let inputGrads = try fn(g, t)
                for (input, ig) in zip(node.inputs, inputGrads) where input.requiresGrad {
                    guard var ig else { continue }
                    // ops on mixed dtypes (cat, scatter's source, layer_norm's weight) compute
                    // gradients in the result's dtype; each input gets them in its own
                    if ig.dtype != input.dtype { ig = try ig.to(input.dtype) }
                    guard ig.shape == input.shape else {
                        throw TensorError(
                            "backward",
                            "internal: '\(node.op)' produced a gradient of shape \(shapeString(ig.shape)) for an input of shape \(shapeString(input.shape))"
                        )
                    }
                    let key = ObjectIdentifier(input)
                    grads[key] = try grads[key].map { try $0.add(ig) } ?? ig
                }
                if !retainGraph {
                    node.backward = nil
                    node.inputs = []
                }
            }
        }
    }

    /// Tensors reachable through grad nodes, each after all of its inputs.
    private func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (t, expanded) = stack.popLast() {
            if expanded { order.append(t); continue }
            guard visited.insert(ObjectIdentifier(t)).inserted else { continue }
            stack.append((t, true))
            for input in t.gradNode?.inputs ?? [] where input.requiresGrad && !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
        return order
    }
}
