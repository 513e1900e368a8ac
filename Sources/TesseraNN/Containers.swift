// Containers: Sequential (children applied in order) and ModuleList (numbered children, as in
// `encoder.layer.3`, applied by their owner).

import TesseraTensor

/// Applies its children in order.
public final class Sequential: Module {
    public init(_ layers: [Module]) throws {
        super.init()
        for (i, m) in layers.enumerated() { try registerModule(String(i), m) }
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        var h = x
        for (_, m) in children { h = try m(h) }
        return h
    }

    public override var extraDescription: String { "\(children.count) layers" }
}

/// Numbered children, indexed from 0.
public final class ModuleList: Module {
    public init(_ modules: [Module]) throws {
        super.init()
        for (i, m) in modules.enumerated() { try registerModule(String(i), m) }
    }

    public var count: Int { children.count }

    /// child i, or nil past the end
    public subscript(i: Int) -> Module? { children.indices.contains(i) ? children[i].module : nil }

    public override var extraDescription: String { "\(children.count)" }
}
