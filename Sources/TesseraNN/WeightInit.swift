// WeightInit: Hugging Face's `_init_weights` for BERT and LLaMA, applied to a whole module tree:
// Linear weights and embedding tables N(0, std²), Linear biases zero, padding rows zero. Norms
// keep their ones and zeros. Models trained from scratch start where transformers would.

import TesseraTensor

/// Whether layers being built skip their random initialisation (their weights are left
/// uninitialised, not even zeroed: pages a checkpoint overwrites or a quantised layer replaces
/// are never touched): set while a checkpoint's model is built.
nonisolated(unsafe) var skipsInitialization = false

extension Module {
    /// Builds modules whose Linear and Embedding weights are left uninitialised instead of random,
    /// and whose initializeWeights does nothing: for models about to load a checkpoint (random
    /// numbers for 135 M parameters cost more than reading them). Every such weight must then be
    /// loaded, replaced, or initialised with initializeWeights(std:only:) (the loaders do this
    /// for whatever the checkpoint lacked).
    public static func withoutInitialization<R>(_ body: () throws -> R) rethrows -> R {
        let old = skipsInitialization
        skipsInitialization = true
        defer { skipsInitialization = old }
        return try body()
    }

    /// Re-initialises every Linear and Embedding of the tree. Embeddings come last, so a table a
    /// Linear shares (a tied decoder) ends with its padding row zero. `only`: parameter names
    /// (`classifier.weight`); the layers owning them are initialised, the others left alone.
    public func initializeWeights(std: Double, generator: Generator = .shared, only: Set<String>? = nil) throws {
        if skipsInitialization { return }
        let modules = namedModules().filter { m in
            only.map { names in m.module.namedParameters().contains { names.contains(m.name.isEmpty ? $0.name : m.name + "." + $0.name) } } ?? true
        }.map(\.module)
        try noGrad {
            for linear in modules.compactMap({ $0 as? Linear }) {
                try fillNormal(linear.weight, std, generator)
                _ = linear.bias?.zero_()
            }
            for embedding in modules.compactMap({ $0 as? Embedding }) {
                let w = try embedding.weight
                try fillNormal(w, std, generator)
                if let p = embedding.paddingIndex { _ = try w.select(0, p).zero_() }
            }
        }
    }
}

private func fillNormal(_ t: Tensor, _ std: Double, _ generator: Generator) throws {
    _ = try t.copy_(Tensor.randn(t.shape, std: std, dtype: t.dtype, generator: generator))
}
