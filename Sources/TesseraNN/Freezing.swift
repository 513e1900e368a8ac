// Freezing: which parameters train. A frozen parameter does not require grad, so backward skips
// it and optimizers never see it; adapters and sparse fine-tuning freeze the base and unfreeze
// their own tensors (mlx-swift's freeze/unfreeze, selected by name pattern).

import TesseraTensor

extension Module {
    /// Freezes the parameters selected by `pattern` (all by default); returns their names.
    /// A pattern that selects nothing is an error: it is almost always a misspelt name.
    @discardableResult
    public func freeze(_ pattern: String = "*") throws -> [String] {
        try setTrainable(false, pattern, op: "freeze")
    }

    /// Unfreezes the parameters selected by `pattern` (all by default); returns their names.
    @discardableResult
    public func unfreeze(_ pattern: String = "*") throws -> [String] {
        try setTrainable(true, pattern, op: "unfreeze")
    }

    private func setTrainable(_ on: Bool, _ pattern: String, op: String) throws -> [String] {
        let p = NamePattern(pattern)
        let selected = namedParameters().filter { p.selects($0.name) }
        guard !selected.isEmpty else {
            throw TensorError(op, "no parameter matches '\(pattern)'")
        }
        for (_, t) in selected { try t.requiresGrad(on) }
        return selected.map(\.name)
    }

    /// Number of parameter elements in the tree.
    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.tensor.numel } }

    /// Number of parameter elements that train.
    public var trainableParameterCount: Int { trainableParameters().reduce(0) { $0 + $1.tensor.numel } }
}
