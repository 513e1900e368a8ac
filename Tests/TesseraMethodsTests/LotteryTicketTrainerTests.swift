// LotteryTicketTrainerTests: the faithfulness checks of the LT-SFT spec (§6): exactly K entries,
// masked entries bitwise at θ0 after the sparse phase (weight decay included), the rewind
// bitwise (head included), the head only in task SFTs, random selection at equal K.

import Testing

@testable import TesseraMethods
@testable import TesseraNN
@testable import TesseraTensor

/// a 1-layer encoder small enough for debug builds
func tinyConfig() throws -> EncoderConfig {
    try EncoderConfig(
        vocabSize: 12, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16, maxPositionEmbeddings: 8,
        layerNormEps: 1e-5, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0, initializerRange: 0.2)
}

/// token tagging: the label of a token is its id mod 3
func taggingBatch(_ g: Generator, batch: Int = 8, length: Int = 6) throws -> (ids: Tensor, labels: Tensor) {
    let ids = try Tensor.randint(1, 12, [batch, length], generator: g)
    let labels = try Tensor.from(ids.toDoubles().map { Int64(Int($0) % 3) }, shape: [batch, length])
    return (ids, labels)
}

func copies(_ m: Module) throws -> [String: Tensor] {
    var out: [String: Tensor] = [:]
    for (name, t) in m.namedParameters() { out[name] = try t.detach().clone() }
    return out
}

func bitwiseEqual(_ a: Tensor, _ b: Tensor) throws -> Bool {
    try a.toArray(Float.self).map(\.bitPattern) == b.toArray(Float.self).map(\.bitPattern)
}

@Suite struct LotteryTicketTrainerTests {
    func trainTask(
        k: Int, selection: LotteryTicketOptions.Selection = .lotteryTicket, weightDecay: Double = 0, steps: Int = 4
    ) throws -> (model: EncoderForTokenClassification, theta0: [String: Tensor], diff: SparseDiff, trainer: LotteryTicketTrainer) {
        let g = Generator(seed: 3)
        let model = try EncoderForTokenClassification(try tinyConfig(), numLabels: 3, generator: g)
        let theta0 = try copies(model)
        var o = LotteryTicketOptions()
        (o.k, o.lr, o.selection, o.weightDecay) = (k, 1e-2, selection, weightDecay)
        let trainer = try LotteryTicketTrainer(model: model, options: o)
        let diff = try trainer.train(fullSteps: steps, sparseSteps: steps) { _, _ in
            let (ids, labels) = try taggingBatch(g)
            return try crossEntropy(model(ids).logits, labels)
        }
        return (model, theta0, diff, trainer)
    }

    @Test func exactlyKAndMaskedEntriesStayBitwise() throws {
        for wd in [0.0, 0.1] {
            let (model, theta0, diff, trainer) = try trainTask(k: 57, weightDecay: wd)
            #expect(trainer.selectedCount == 57)
            #expect(diff.nnz <= 57 && diff.nnz > 40, "nnz \(diff.nnz)")
            #expect(diff.kind == .task)
            for (name, t) in model.namedParameters() {
                let now = try t.toArray(Float.self), before = try theta0[name]!.toArray(Float.self)
                if name.contains("LayerNorm") {
                    #expect(now.map(\.bitPattern) == before.map(\.bitPattern), "frozen \(name) moved")
                } else if let positions = trainer.masks[name].map(Set.init) ?? (name.hasPrefix("bert") ? [] : nil) {
                    for i in now.indices where !positions.contains(Int64(i)) {
                        #expect(now[i].bitPattern == before[i].bitPattern, "\(name)[\(i)] moved (wd \(wd))")
                    }
                }
            }
            // the head is dense and carried by the task SFT
            #expect(diff.heads.keys.sorted() == ["classifier.bias", "classifier.weight"])
            #expect(diff.names.allSatisfy { $0.hasPrefix("bert.") && !$0.contains("LayerNorm") })
        }
    }

    @Test func trainedModelIsThetaZeroPlusDiff() throws {
        let (model, theta0, diff, _) = try trainTask(k: 40)
        let fresh = try EncoderForTokenClassification(try tinyConfig(), numLabels: 3, generator: Generator(seed: 99))
        try fresh.loadStateDict(theta0, strict: false)
        try diff.apply(to: fresh)
        let trained = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.tensor) })
        for (name, t) in fresh.namedParameters() {
            let d = try t.sub(trained[name]!).abs().max().item()
            #expect(d <= 1e-6, "\(name) differs by \(d)")
        }
    }

    @Test func rewindIsBitwiseHeadIncluded() throws {
        let g = Generator(seed: 5)
        let model = try EncoderForTokenClassification(try tinyConfig(), numLabels: 3, generator: g)
        var o = LotteryTicketOptions()
        (o.k, o.lr) = (30, 1e-2)
        let trainer = try LotteryTicketTrainer(model: model, options: o)
        defer { trainer.restoreTrainability() }
        let before = try copies(model)
        let saved = try trainer.snapshot()
        let opt = try trainer.fullPhaseOptimizer()
        for _ in 0..<3 {
            let (ids, labels) = try taggingBatch(g)
            try crossEntropy(model(ids).logits, labels).backward()
            try opt.step()
            opt.zeroGrad()
        }
        #expect(try !bitwiseEqual(model.namedParameters().first { $0.name == "classifier.weight" }!.tensor, before["classifier.weight"]!))
        try trainer.select(30)
        try trainer.rewind(to: saved)
        for (name, t) in model.namedParameters() { #expect(try bitwiseEqual(t, before[name]!), "\(name) not rewound") }
    }

    @Test func randomSelectionHasExactKAndDiffersFromLotteryTicket() throws {
        let lt = try trainTask(k: 50)
        let random = try trainTask(k: 50, selection: .random)
        #expect(random.trainer.selectedCount == 50)
        #expect(random.trainer.masks != lt.trainer.masks)
        #expect(random.diff.training["method"] == "random-mask sft")
    }

    @Test func languageSFTUntiesAndFreezesDecoderAndHasNoHead() throws {
        let g = Generator(seed: 8)
        let model = try EncoderForMaskedLM(try tinyConfig(), generator: g)
        let embeddings = try model.child("bert", as: EncoderModel.self).wordEmbeddings
        let before = try copies(model)
        var o = LotteryTicketOptions()
        (o.k, o.lr, o.l1Full, o.l1Sparse) = (25, 1e-2, 0.1, 0.1)
        let trainer = try LotteryTicketTrainer(model: model, options: o)
        #expect(trainer.kind == .language)
        let diff = try trainer.train(fullSteps: 3, sparseSteps: 3) { _, _ in
            let (ids, _) = try taggingBatch(g)
            return try crossEntropy(model(ids).logits, ids)
        }
        let decoder = try (model.module(at: "cls.predictions.decoder") as! Linear).weight
        #expect(decoder !== embeddings)
        #expect(try bitwiseEqual(decoder, before["bert.embeddings.word_embeddings.weight"]!))
        #expect(diff.heads.isEmpty)
        #expect(diff.nnz <= 25 && diff.kind == .language)
        #expect(decoder.requiresGrad, "trainability is restored after training")
    }

    @Test func badOptionsAreErrorsAndLeaveTheModel() throws {
        let model = try EncoderForTokenClassification(try tinyConfig(), numLabels: 3, generator: Generator(seed: 1))
        var o = LotteryTicketOptions()
        o.k = 10_000_000
        #expect(throws: TensorError.self) { try LotteryTicketTrainer(model: model, options: o) }
        o.k = nil
        o.maskable = ["nothing.here"]
        #expect(throws: TensorError.self) { try LotteryTicketTrainer(model: model, options: o) }
        #expect(model.namedParameters().allSatisfy { $0.tensor.requiresGrad })
    }
}
