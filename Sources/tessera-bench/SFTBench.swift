// SFTBench: the `sft` group: LT-SFT's sparse-phase training step against a full fine-tuning step
// of the same model (target ≤ 1.05×), exact top-K over 10^8 values (scripts/bench_reference.py
// times numpy's argpartition on the same task), and applying / reverting a 1%-density diff on a
// 100M-parameter model.

import TesseraMethods
import TesseraNN
import TesseraTensor

func benchSFT() throws {
    try benchSparsePhaseStep()
    try benchTopK()
    try benchApplyRevert()
}

/// One training step of a BERT-base-shaped tagger (6 layers, hidden 768, batch 8 x 128): phase 1
/// (AdamW over everything), phase 2 (8% of the encoder's entries free, the reference's task
/// density), and TesseraNN's AdamW for comparison. Steps alternate, best of rounds.
func benchSparsePhaseStep() throws {
    let (batch, seq, vocab) = (8, 128, 30522)
    let config = try EncoderConfig(
        vocabSize: vocab, hiddenSize: 768, numHiddenLayers: 6, numAttentionHeads: 12, intermediateSize: 3072,
        hiddenDropoutProb: 0, attentionProbsDropoutProb: 0)
    let g = Generator(seed: 3)
    let model = try EncoderForTokenClassification(config, numLabels: 17, generator: g)
    let ids = try Tensor.randint(0, vocab - 1, [batch, seq], generator: g)
    let labels = try Tensor.randint(0, 16, [batch, seq], generator: g)
    var options = LotteryTicketOptions()
    (options.density, options.lr) = (0.08, 1e-4)
    let trainer = try LotteryTicketTrainer(model: model, options: options)
    defer { trainer.restoreTrainability() }
    let full = try trainer.fullPhaseOptimizer()
    let plain = try AdamW(model.trainableParameters(), lr: 1e-4, weightDecay: 0)
    func step(_ opt: Optimizer) throws {
        let (logits, _) = try model(ids)
        try logits.crossEntropy(labels).backward()
        try opt.step()
        opt.zeroGrad()
    }
    try step(full)
    try trainer.select(trainer.k)
    let sparse = try trainer.sparsePhaseOptimizer()
    var best = (full: Double.infinity, sparse: Double.infinity, plain: Double.infinity)
    for _ in 0..<3 {
        best.full = min(best.full, try time(budget: 2) { try step(full) })
        best.sparse = min(best.sparse, try time(budget: 2) { try step(sparse) })
        best.plain = min(best.plain, try time(budget: 2) { try step(plain) })
    }
    let name = "BERT-base-shaped tagger (6L, H768, 8x128)"
    emit("sft", "\(name): full fine-tuning step (phase 1)", best.full * 1e3, "ms", raw: best.plain * 1e3)
    emit("sft", "\(name): sparse step, 8% of entries (phase 2)", best.sparse * 1e3, "ms")
    emit("sft", "\(name): sparse / full step time", best.sparse / best.full, "x")
}

/// Exactly K = 10^6 largest |x| of 10^8 standard normal values.
func benchTopK() throws {
    let n = 100_000_000, k = 1_000_000
    let x = try Tensor.randn([n], generator: Generator(seed: 7))
    let keys = [MagnitudeKeys(x.pointer(Float.self), count: n)]
    var chosen = 0
    let t = try time(budget: 3) { chosen = try selectLargest(keys, k: k)[0].count }
    guard chosen == k else { throw TensorError("bench", "top-K chose \(chosen), not \(k)") }
    emit("sft", "exact top-K (K = 1e6) of |x| over 1e8 values", t * 1e3, "ms")
}

/// A 1%-density diff over 100M parameters (100 matrices of 1000 x 1000) applied and reverted.
func benchApplyRevert() throws {
    let g = Generator(seed: 11)
    let model = try BenchParameters((0..<100).map { ("w\($0)", try Tensor.randn([1000, 1000], generator: g)) })
    let tuned = try BenchParameters(model.namedParameters().map { ($0.name, try $0.tensor.detach().clone()) })
    try noGrad {
        for (_, t) in tuned.namedParameters() { _ = try t.copy_(t.add(Tensor.randn(t.shape, generator: g).mul(1e-3))) }
    }
    let diff = try SparseDiff.extract(base: model.stateDict(), tuned: tuned.stateDict(), density: 0.01)
    var applied: [Double] = [], reverted: [Double] = []
    for _ in 0..<7 {
        let t0 = now()
        try diff.apply(to: model)
        let t1 = now()
        try diff.revert(from: model)
        applied.append(t1 - t0)
        reverted.append(now() - t1)
    }
    let name = "1% diff (\(diff.nnz / 1_000_000)e6 entries) on 1e8 parameters"
    emit("sft", "apply \(name)", applied.sorted()[3] * 1e3, "ms")
    emit("sft", "revert \(name)", reverted.sorted()[3] * 1e3, "ms")
}

/// a module holding the given tensors as parameters
final class BenchParameters: Module {
    init(_ params: [(String, Tensor)]) throws {
        super.init()
        for (name, t) in params { try registerParameter(name, t) }
    }
}
