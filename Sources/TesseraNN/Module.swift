// Module: the node of a model tree. Parameters, buffers and child modules are registered by name
// (no reflection), so every tensor has a stable dotted name such as `encoder.layer.3.ffn.up.weight`
// that freezing, state dicts, optimizers and adapters all agree on.

import TesseraTensor

open class Module: CustomStringConvertible {
    /// this module's own parameters, in registration order (children's are reached through them)
    var ownParameters: [(name: String, tensor: Tensor)] = []
    /// this module's own buffers: state that is saved but not trained (e.g. running statistics)
    var ownBuffers: [(name: String, tensor: Tensor)] = []
    /// child modules, in registration order
    var ownChildren: [(name: String, module: Module)] = []
    /// hooks called with (qualified name, output) after each forward pass
    var forwardHooks: [ForwardHook] = []
    /// whether the module is in training mode (dropout active); set through train() / eval()
    public private(set) var training = true

    public init() {}

    // MARK: - registration

    /// Adds a trainable parameter (a floating-point leaf; it is made to require grad).
    @discardableResult
    public func registerParameter(_ name: String, _ tensor: Tensor) throws -> Tensor {
        try checkNewName(name, op: "register_parameter")
        guard tensor.isLeaf, tensor.dtype.isFloatingPoint else {
            throw TensorError(
                "register_parameter",
                "'\(name)' must be a floating-point leaf tensor, got \(tensor.dtype)\(tensor.isLeaf ? "" : " with grad history")")
        }
        try tensor.requiresGrad(true)
        ownParameters.append((name, tensor))
        return tensor
    }

    /// Adds a buffer: state saved in the state dict but never trained.
    @discardableResult
    public func registerBuffer(_ name: String, _ tensor: Tensor) throws -> Tensor {
        try checkNewName(name, op: "register_buffer")
        ownBuffers.append((name, tensor))
        return tensor
    }

    /// Adds a child module; its tensors are named `name.<their names>`.
    @discardableResult
    public func registerModule<M: Module>(_ name: String, _ module: M) throws -> M {
        try checkNewName(name, op: "register_module")
        guard !module.contains(self) else {
            throw TensorError("register_module", "'\(name)' would make the module tree a cycle")
        }
        ownChildren.append((name, module))
        return module
    }

    private func checkNewName(_ name: String, op: String) throws {
        guard !name.isEmpty, !name.contains(".") else {
            throw TensorError(op, "name '\(name)' must be non-empty and contain no '.'")
        }
        let taken =
            ownParameters.contains { $0.name == name } || ownBuffers.contains { $0.name == name }
            || ownChildren.contains { $0.name == name }
        guard !taken else { throw TensorError(op, "'\(name)' is already registered in \(typeName)") }
    }

    private func contains(_ other: Module) -> Bool {
        self === other || ownChildren.contains { $0.module.contains(other) }
    }

    // MARK: - own tensors (what layers read in forward)

    /// This module's own parameter `name` (not a child's).
    public func parameter(_ name: String) -> Tensor? { ownParameters.first { $0.name == name }?.tensor }

    /// This module's own buffer `name`.
    public func buffer(_ name: String) -> Tensor? { ownBuffers.first { $0.name == name }?.tensor }

    /// The parameter a layer registered itself: a missing one is a bug in the layer, reported as an error.
    public func requiredParameter(_ name: String) throws -> Tensor {
        guard let t = parameter(name) else { throw TensorError(typeName, "has no parameter '\(name)'") }
        return t
    }

    /// Replaces own parameter or buffer `name` by a new tensor (dtype conversion, re-initialisation).
    func replaceTensor(_ name: String, _ tensor: Tensor) {
        if let i = ownParameters.firstIndex(where: { $0.name == name }) { ownParameters[i].tensor = tensor }
        if let i = ownBuffers.firstIndex(where: { $0.name == name }) { ownBuffers[i].tensor = tensor }
    }

    // MARK: - the tree

    /// Direct children with their names.
    public var children: [(name: String, module: Module)] { ownChildren }

    /// This module (named "") and every descendant, depth first, with dotted names.
    public func namedModules() -> [(name: String, module: Module)] {
        var out: [(String, Module)] = [("", self)]
        for (name, child) in ownChildren {
            out += child.namedModules().map { (join(name, $0.name), $0.module) }
        }
        return out
    }

    /// Every parameter of the tree with its dotted name (a tensor shared by two modules appears once).
    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        collect { $0.ownParameters }
    }

    /// Every buffer of the tree with its dotted name.
    public func namedBuffers() -> [(name: String, tensor: Tensor)] {
        collect { $0.ownBuffers }
    }

    /// Parameters that require grad (not frozen): what an optimizer should update.
    public func trainableParameters() -> [(name: String, tensor: Tensor)] {
        namedParameters().filter { $0.tensor.requiresGrad }
    }

    private func collect(_ own: (Module) -> [(name: String, tensor: Tensor)]) -> [(name: String, tensor: Tensor)] {
        var seen = Set<ObjectIdentifier>()
        var out: [(name: String, tensor: Tensor)] = []
        for (prefix, module) in namedModules() {
            for (name, t) in own(module) where seen.insert(ObjectIdentifier(t)).inserted {
                out.append((join(prefix, name), t))
            }
        }
        return out
    }

    /// The descendant at a dotted path ("" is this module).
    public func module(at path: String) -> Module? {
        if path.isEmpty { return self }
        var node: Module = self
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard let next = node.ownChildren.first(where: { $0.name == part })?.module else { return nil }
            node = next
        }
        return node
    }

    /// Puts `replacement` where the descendant at `path` was (how LoRA and adapters wrap a layer);
    /// returns the module it replaced.
    @discardableResult
    public func replaceModule(at path: String, with replacement: Module) throws -> Module {
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let last = parts.last, !path.isEmpty else {
            throw TensorError("replace_module", "needs the path of a descendant, got '\(path)'")
        }
        let parentPath = parts.dropLast().joined(separator: ".")
        guard let parent = module(at: parentPath),
            let i = parent.ownChildren.firstIndex(where: { $0.name == last })
        else {
            throw TensorError("replace_module", "no submodule '\(path)' in \(typeName)")
        }
        let old = parent.ownChildren[i].module
        // the replacement may hold the old module (a wrapper): only a cycle through the parent is wrong
        guard !replacement.contains(parent) else {
            throw TensorError("replace_module", "'\(path)' would make the module tree a cycle")
        }
        parent.ownChildren[i].module = replacement
        parent.childReplaced(last, old: old, new: replacement)
        return old
    }

    /// Called after child `name` was replaced, for layers that keep a typed reference to it.
    open func childReplaced(_ name: String, old: Module, new: Module) {}

    // MARK: - modes

    /// Sets training mode on the whole tree (dropout is active only in training).
    public func train(_ on: Bool = true) {
        for (_, m) in namedModules() { m.training = on }
    }

    /// Evaluation mode: train(false).
    public func eval() { train(false) }

    /// Converts every parameter and buffer of the tree to `dtype` (f64 for gradient checks);
    /// frozen parameters stay frozen, and a tensor two modules share (tied embeddings) stays
    /// shared. Integer buffers keep their dtype.
    public func to(_ dtype: DType) throws {
        // the old tensor is kept with its conversion so its identifier cannot be reused meanwhile
        var converted: [ObjectIdentifier: (old: Tensor, new: Tensor)] = [:]
        func convert(_ t: Tensor, _ make: () throws -> Tensor) rethrows -> Tensor {
            if let done = converted[ObjectIdentifier(t)] { return done.new }
            let c = try make()
            converted[ObjectIdentifier(t)] = (t, c)
            return c
        }
        for (_, m) in namedModules() {
            for (name, t) in m.ownParameters where t.dtype != dtype {
                m.replaceTensor(name, try convert(t) { try t.detach().to(dtype).requiresGrad(t.requiresGrad) })
            }
            for (name, t) in m.ownBuffers where t.dtype != dtype && t.dtype.isFloatingPoint {
                m.replaceTensor(name, try convert(t) { try t.to(dtype) })
            }
        }
    }

    /// Clears every parameter's gradient (torch's zero_grad with set_to_none).
    public func zeroGrad() {
        for (_, t) in namedParameters() { t.grad = nil }
    }

    // MARK: - forward

    /// The layer's computation on one input. Layers with other inputs (masks, targets) add their
    /// own call methods and pass the result through `runForwardHooks`.
    open func forward(_ x: Tensor) throws -> Tensor {
        throw TensorError(typeName, "has no single-input forward")
    }

    /// forward(x), then the forward hooks.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try runForwardHooks(forward(x))
    }

    // MARK: - description

    /// The class name users see (`Linear`).
    open var typeName: String { String(describing: type(of: self)) }

    /// The arguments shown in the one-line description: `384 -> 1536` for a Linear.
    open var extraDescription: String { "" }

    /// One line such as `Linear(384 -> 1536)`.
    public var layerDescription: String { "\(typeName)(\(extraDescription))" }

    public var description: String { treeDescription() }
}

/// "a.b" from "a" and "b"; either may be empty.
func join(_ prefix: String, _ name: String) -> String {
    prefix.isEmpty ? name : name.isEmpty ? prefix : prefix + "." + name
}
