// WeightInit: Hugging Face's `_init_weights` for BERT and LLaMA, applied to a whole module tree:
// Linear weights and embedding tables N(0, std²), Linear biases zero, padding rows zero. Norms
// keep their ones and zeros. Models trained from scratch start where transformers would.

import TesseraTensor

extension Module {
    /// Re-initialises every Linear and Embedding of the tree. Embeddings come last, so a table a
    /// Linear shares (a tied decoder) ends with its padding row zero.
    public func initializeWeights(std: Double, generator: Generator = .shared) throws {
        let modules = namedModules().map(\.module)
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
