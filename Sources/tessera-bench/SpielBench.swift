// SpielBench: the `spiel` group: one training update of SpIEL-AG (outside and inside a selection
// window), SpIEL-MA and LoRA at equal trainable count (LoRA rank 8 on the seven projections;
// SpIEL match_lora_rank 8) on the SmolLM2-135M-shaped decoder, batch 4 x 128, f32 base; the
// sampled value gradient against the dense GEMM + gather it replaces, on one FFN matrix; and the
// bytes of trainable state per trainable parameter. Updates alternate between methods, best of
// rounds (the cores are shared).

import TesseraMethods
import TesseraNN
import TesseraTensor

func benchSpielProfile(_ which: String) throws { try benchSpielSteps(profileOnly: which) }

func benchSpiel() throws {
    try benchSampledGradient()
    try benchSpielSteps()
}

private func smolConfig() throws -> DecoderConfig {
    try DecoderConfig(
        vocabSize: 49152, hiddenSize: 576, numHiddenLayers: 30, numAttentionHeads: 9, numKeyValueHeads: 3, intermediateSize: 1536,
        maxPositionEmbeddings: 2048, rmsNormEps: 1e-5, ropeTheta: 100_000, tieWordEmbeddings: true)
}

/// The value gradient of one up_proj-shaped delta (1536 x 576, rank-8-matched density) over 512
/// tokens: sampled product vs dense goᵀx then gather.
private func benchSampledGradient() throws {
    let (out, inF, tokens) = (1536, 576, 512)
    let k = 8 * (out + inF)
    let g = Generator(seed: 5)
    let sampled = try SparseDeltaLinear(base: Linear(inF, out, bias: false, generator: g), indices: randomSubset(k, of: out * inF, generator: g))
    let dense = try SparseDeltaLinear(base: Linear(inF, out, bias: false, generator: g), indices: sampled.indexArray())
    dense.sampledCost = Int.max / (out * inF)
    _ = try (sampled.base as! Linear).weight.requiresGrad(false)
    _ = try (dense.base as! Linear).weight.requiresGrad(false)
    let x = try Tensor.randn([tokens, inF], generator: g).requiresGrad(true)
    let go = try Tensor.randn([tokens, out], generator: g)
    let lora = try LoRALinear(base: Linear(inF, out, bias: false, generator: g), rank: 8, alpha: 16, generator: g)
    _ = try (lora.base as! Linear).weight.requiresGrad(false)
    let xl = try x.detach().requiresGrad(true)
    let ts = try time(budget: 1) { try sampled(x).backward(go) }
    let td = try time(budget: 1) { try dense(x).backward(go) }
    let tl = try time(budget: 1) { try lora(xl).backward(go) }
    guard dense.denseBackwards > 0, sampled.sampledBackwards > 0 else { throw TensorError("bench", "a gradient path was not taken") }
    let name = "delta 1536x576, k=\(k) (\(cFormatPercent(Double(k) / Double(out * inF)))), 512 tokens"
    emit("spiel", "\(name): forward+backward, sampled value gradient", ts * 1e3, "ms")
    emit("spiel", "\(name): forward+backward, dense GEMM + gather", td * 1e3, "ms")
    emit("spiel", "LoRA r=8 on the same matrix (same count), input gradient included: forward+backward", tl * 1e3, "ms")
}

private func cFormatPercent(_ x: Double) -> String { "\((x * 1000).rounded() / 10)%" }

private func benchSpielSteps(profileOnly: String? = nil) throws {
    let (batch, seq, rank) = (4, 128, 8)
    let config = try smolConfig()
    let ids = try Tensor.randint(0, config.vocabSize - 1, [batch, seq + 1], generator: Generator(seed: 1))
    let input = try ids.narrow(1, 0, seq).contiguous(), target = try ids.narrow(1, 1, seq).contiguous()
    func step(_ model: DecoderForCausalLM, _ opt: Optimizer, _ after: () throws -> Void = {}) throws {
        let (logits, _) = try model(input)
        try logits.crossEntropy(target).backward()
        try opt.step()
        opt.zeroGrad()
        try after()
    }
    // SpIEL-AG: windows closed by hand to time the sampled path, opened for the dense one
    let agModel = try DecoderForCausalLM(config, generator: Generator(seed: 2))
    let ag = try SpielModel(wrapping: agModel, budget: .matchLoRARank(rank), generator: Generator(seed: 3))
    let agOpt = try SftAdamW(ag.layers.map { ($0.path, $0.layer.values) }, lr: 1e-4)
    func setWindows(_ open: Bool) { for (_, l) in ag.layers { l.gradientWindow = open ? GradientWindow() : nil } }
    let maModel = try DecoderForCausalLM(config, generator: Generator(seed: 2))
    let ma = try SpielModel(wrapping: maModel, budget: .matchLoRARank(rank), generator: Generator(seed: 3))
    let maOpt = try SftSM3(ma.layers.map(\.layer), lr: 1e-3)
    let loraModel = try DecoderForCausalLM(config, generator: Generator(seed: 2))
    let lora = try LoRAModel(wrapping: loraModel, config: LoRAConfig(rank: rank, alpha: 16))
    let loraOpt = try AdamW(loraModel.trainableParameters(), lr: 1e-4, weightDecay: 0)
    // `spiel-profile-ag` / `spiel-profile-lora`: one method's steps for ~20 s, for perf
    if let which = profileOnly {
        let t = try time(budget: 20) { which == "ag" ? try step(agModel, agOpt) : try step(loraModel, loraOpt) }
        emit("spiel", "profile \(which) step", t * 1e3, "ms")
        return
    }
    var best = (ag: Double.infinity, agWindow: Double.infinity, agLater: Double.infinity, ma: Double.infinity, lora: Double.infinity)
    for _ in 0..<2 {
        setWindows(false)
        best.ag = min(best.ag, try time(budget: 4) { try step(agModel, agOpt) })
        best.agWindow = min(best.agWindow, try time(budget: 4) { try step(agModel, agOpt) { setWindows(true) } })
        // windows kept open: after the warm-up's first micro-batch, g at the candidates is sampled
        setWindows(true)
        best.agLater = min(best.agLater, try time(budget: 4) { try step(agModel, agOpt) })
        best.ma = min(best.ma, try time(budget: 4) { try step(maModel, maOpt) })
        best.lora = min(best.lora, try time(budget: 4) { try step(loraModel, loraOpt) })
    }
    setWindows(false)
    // the flagship setting: base projections kept 4-bit (NF4, block 64, double quantisation)
    var quantised = (ag: Double.infinity, qlora: Double.infinity)
    do {
        let agQ = try DecoderForCausalLM(config, generator: Generator(seed: 2))
        _ = try agQ.quantizeNF4(targets: .llama)
        let spielQ = try SpielModel(wrapping: agQ, budget: .matchLoRARank(rank), generator: Generator(seed: 3))
        let agQOpt = try SftAdamW(spielQ.layers.map { ($0.path, $0.layer.values) }, lr: 1e-4)
        let loraQ = try DecoderForCausalLM(config, generator: Generator(seed: 2))
        _ = try loraQ.quantizeNF4(targets: .llama)
        _ = try LoRAModel(wrapping: loraQ, config: LoRAConfig(rank: rank, alpha: 16))
        let loraQOpt = try AdamW(loraQ.trainableParameters(), lr: 1e-4, weightDecay: 0)
        for _ in 0..<2 {
            quantised.ag = min(quantised.ag, try time(budget: 4) { try step(agQ, agQOpt) })
            quantised.qlora = min(quantised.qlora, try time(budget: 4) { try step(loraQ, loraQOpt) })
        }
    }
    let name = "SmolLM2-135M-shaped decoder (30L, H576), 4x128, rank 8 budget"
    emit("spiel", "\(name): trainable count SpIEL / LoRA", Double(ag.k), "params", raw: Double(lora.trainableCount))
    emit("spiel", "\(name): LoRA r=8 step (AdamW)", best.lora * 1e3, "ms")
    emit("spiel", "\(name): SpIEL-AG step outside selection windows", best.ag * 1e3, "ms")
    emit("spiel", "\(name): SpIEL-AG first update of a selection window (dense gradients, candidates)", best.agWindow * 1e3, "ms")
    emit("spiel", "\(name): SpIEL-AG later update of a selection window (sampled at the candidates)", best.agLater * 1e3, "ms")
    emit("spiel", "\(name): SpIEL-MA step", best.ma * 1e3, "ms")
    emit("spiel", "\(name): SpIEL-AG / LoRA step time", best.ag / best.lora, "x")
    emit("spiel", "\(name): SpIEL-MA / LoRA step time", best.ma / best.lora, "x")
    emit("spiel", "\(name), NF4 base: QLoRA r=8 step (AdamW)", quantised.qlora * 1e3, "ms")
    emit("spiel", "\(name), NF4 base: SpIEL-AG step outside selection windows", quantised.ag * 1e3, "ms")
    emit("spiel", "\(name), NF4 base: SpIEL-AG / QLoRA step time", quantised.ag / quantised.qlora, "x")
    // values f32 + indices (i32) + SftAdamW age, m, v; MA: values, indices, SM3 accumulators
    let agBytes = 4 * ag.k + 4 * ag.k + 12 * ag.k
    let maBytes = 4 * ma.k + 4 * ma.k + 4 * ma.layers.reduce(0) { $0 + $1.layer.inFeatures + $1.layer.outFeatures }
    emit("spiel", "\(name): SpIEL-AG trainable state per parameter", Double(agBytes) / Double(ag.k), "B")
    emit("spiel", "\(name): SpIEL-MA trainable state per parameter", Double(maBytes) / Double(ma.k), "B")
    emit("spiel", "\(name): LoRA trainable state per parameter (weights + AdamW)", 12, "B")
}
