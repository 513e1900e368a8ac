// ChildLookup: composite layers find their children by name at call time, so a child that
// replaceModule swapped (a LoRA wrapper around `attention.self.query`) is the one that runs.

import TesseraTensor

extension Module {
    /// The direct child `name`; a missing one is a bug in the layer, reported as an error.
    func child(_ name: String) throws -> Module {
        guard let m = ownChildren.first(where: { $0.name == name })?.module else {
            throw TensorError(typeName, "has no submodule '\(name)'")
        }
        return m
    }

    /// The direct child `name` as the layer type a caller needs (one with a richer call than forward).
    func child<M: Module>(_ name: String, as _: M.Type) throws -> M {
        let m = try child(name)
        guard let typed = m as? M else {
            throw TensorError(typeName, "submodule '\(name)' is a \(m.typeName), expected \(String(describing: M.self))")
        }
        return typed
    }

    /// The parameter or buffer at a dotted path from this module.
    func requiredTensor(_ path: String) throws -> Tensor {
        let parts = path.split(separator: ".").map(String.init)
        guard let owner = module(at: parts.dropLast().joined(separator: ".")),
            let t = owner.parameter(parts.last ?? "") ?? owner.buffer(parts.last ?? "")
        else { throw TensorError(typeName, "has no tensor '\(path)'") }
        return t
    }
}
