// TrainingTests: a tiny encoder trained from scratch on a synthetic task that needs attention
// (classify a sequence by its second token, read from the first position), reaching a known
// accuracy, and bit-for-bit the same losses when trained twice with the same seed.

import Testing
@testable import TesseraTensor
@testable import TesseraNN

/// [CLS] x₁ … x₅ with xᵢ in 2..<8; the label is x₁ - 2 (six classes, chance 1/6).
/// -> ids (n, 6), labels (n)
private func copyTask(_ n: Int, _ g: Generator) throws -> (ids: Tensor, labels: Tensor) {
    let body = try Tensor.randint(2, 8, [n, 5], generator: g)
    let ids = try Tensor.cat([Tensor.ones([n, 1], dtype: .i64), body], dim: 1)
    return (ids, try body.select(1, 0).sub(2))
}

/// Trains for `steps` AdamW steps from `seed`; returns every step's loss and the held-out accuracy.
private func trainCopyTask(seed: UInt64, steps: Int = 120) throws -> (losses: [Double], accuracy: Double) {
    let g = Generator(seed: seed)
    let config = try EncoderConfig(
        vocabSize: 8, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2,
        intermediateSize: 32, maxPositionEmbeddings: 8, layerNormEps: 1e-5,
        initializerRange: 0.1)
    let model = try EncoderForSequenceClassification(config, numLabels: 6, usePooler: false, generator: g)
    let opt = try AdamW(model.trainableParameters(), lr: 1e-2, weightDecay: 0.01)
    var losses: [Double] = []
    for _ in 0..<steps {
        let (ids, labels) = try copyTask(32, g)
        let loss = try crossEntropy(model(ids), labels)
        opt.zeroGrad()
        try loss.backward()
        try opt.step()
        losses.append(try loss.item())
    }
    model.eval()
    let (ids, labels) = try copyTask(200, g)
    let predicted = try noGrad { try model(ids).argmax(dim: -1) }
    let accuracy = try predicted.eq(labels).to(.f64).mean().item()
    return (losses, accuracy)
}

@Suite struct TrainingTests {
    @Test func tinyEncoderLearnsAndRepeats() throws {
        let first = try trainCopyTask(seed: 7)
        #expect(first.accuracy >= 0.95, "accuracy \(first.accuracy)")
        #expect(first.losses.last! < 0.1 && first.losses.first! > 1.5, "losses \(first.losses.first!) -> \(first.losses.last!)")
        let again = try trainCopyTask(seed: 7)
        #expect(again.losses == first.losses)
        #expect(again.accuracy == first.accuracy)
    }
}
