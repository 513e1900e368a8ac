// ForwardHooks: closures that see each selected module's output after its forward pass, with the
// module's dotted name: how distillation collects hidden states and how probes read activations.

import TesseraTensor

/// One registered hook: the name it reports and the closure.
struct ForwardHook {
    let id: Int
    let name: String
    let body: (String, Tensor) throws -> Void
}

/// Removes the hooks one addForwardHook call registered.
public final class ForwardHookHandle {
    private var targets: [(Module, Int)]

    init(targets: [(Module, Int)]) { self.targets = targets }

    /// how many modules the hook watches
    public var count: Int { targets.count }

    public func remove() {
        for (module, id) in targets { module.forwardHooks.removeAll { $0.id == id } }
        targets = []
    }
}

/// hook ids, unique per process
nonisolated(unsafe) private var nextHookID = 0

extension Module {
    /// Calls `hook(name, output)` after the forward pass of every module whose dotted name (from
    /// this module; "" is this module itself) matches `pattern` exactly as a glob.
    @discardableResult
    public func addForwardHook(_ pattern: String = "", _ hook: @escaping (String, Tensor) throws -> Void) throws -> ForwardHookHandle {
        let chars = Array(pattern)
        let selected = namedModules().filter { globMatch(chars, Array($0.name)[...]) }
        guard !selected.isEmpty else {
            throw TensorError("add_forward_hook", "no module matches '\(pattern)'")
        }
        nextHookID += 1
        let id = nextHookID
        for (name, module) in selected {
            module.forwardHooks.append(ForwardHook(id: id, name: name, body: hook))
        }
        return ForwardHookHandle(targets: selected.map { ($0.module, id) })
    }

    /// Passes `output` to this module's hooks and returns it.
    public func runForwardHooks(_ output: Tensor) throws -> Tensor {
        for h in forwardHooks { try h.body(h.name, output) }
        return output
    }
}
