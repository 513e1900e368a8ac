// TargetModules: which linear layers an adapter (SpIEL delta, LoRA) is put on, as peft names
// them: a plain name selects every module whose path ends in it (`q_proj` selects
// `model.layers.3.self_attn.q_proj`); a name with `*` or `?` is a glob over the whole path.

import TesseraNN

public struct TargetModules: Sendable {
    public let names: [String]

    /// the seven LLaMA projections the SpIEL and LoRA papers adapt
    public static let llama = TargetModules(["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])

    public init(_ names: [String]) { self.names = names }

    public func selects(_ path: String) -> Bool {
        names.contains { name in
            if name.contains("*") || name.contains("?") { return NamePattern(name).selects(path) }
            return path == name || path.hasSuffix("." + name)
        }
    }

    /// (path, module) of every module of `model` selected, depth first
    public func select(in model: Module) -> [(path: String, module: Module)] {
        model.namedModules().filter { !$0.name.isEmpty && selects($0.name) }.map { ($0.name, $0.module) }
    }
}
