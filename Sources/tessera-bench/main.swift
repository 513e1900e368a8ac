// tessera-bench: timings of the tensor engine, printed as JSON lines for scripts/bench, which runs
// the same workloads in numpy and prints both side by side. Release builds only.

import CBLAS
import Foundation
import TesseraNN
import TesseraTensor
#if canImport(Glibc)
    import Glibc
#endif

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// median seconds of `body` over repeats chosen to fill about `budget` seconds (after a warm-up)
func time(budget: Double = 0.4, _ body: () throws -> Void) rethrows -> Double {
    try body()
    let t0 = now()
    try body()
    let once = max(now() - t0, 1e-7)
    let reps = max(3, min(200, Int(budget / once)))
    var samples: [Double] = []
    for _ in 0..<reps {
        let s = now()
        try body()
        samples.append(now() - s)
    }
    samples.sort()
    return samples[samples.count / 2]
}

func emit(_ group: String, _ name: String, _ value: Double, _ unit: String, raw: Double? = nil) {
    var line = "{\"group\":\"\(group)\",\"name\":\"\(name)\",\"value\":\(value),\"unit\":\"\(unit)\""
    if let raw { line += ",\"raw\":\(raw)" }
    print(line + "}")
    fflush(stdout)
}

/// seconds of one raw cblas_sgemm, row-major, no transposes: C (m,n) = A (m,k) B (k,n)
func rawSgemm(_ m: Int, _ n: Int, _ k: Int, batch: Int = 1) throws -> Double {
    let a = try Tensor.randn([batch, m, k]), b = try Tensor.randn([batch, k, n]), c = try Tensor.zeros([batch, m, n])
    let pa = a.pointer(Float.self), pb = b.pointer(Float.self), pc = c.mutablePointer(Float.self)
    return time {
        for p in 0..<batch {
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                pa + p * m * k, Int32(k), pb + p * k * n, Int32(n), 0, pc + p * m * n, Int32(n))
        }
    }
}

func benchMatmul() throws {
    for s in [256, 512, 1024, 2048] {
        let a = try Tensor.randn([s, s]), b = try Tensor.randn([s, s])
        let t = try time { _ = try a.matmul(b) }
        let flops = 2.0 * Double(s * s * s)
        emit("matmul", "matmul \(s)x\(s)x\(s)", flops / t / 1e9, "GFLOPS", raw: flops / (try rawSgemm(s, s, s)) / 1e9)
    }
    // a transposed operand goes to BLAS as a flag, not a copy
    let a = try Tensor.randn([1024, 1024]), b = try Tensor.randn([1024, 1024])
    let tt = try time { _ = try a.matmul(b.t()) }
    emit(
        "matmul", "matmul 1024 (B transposed view)", 2e9 * 1.073741824 / tt / 1e9, "GFLOPS",
        raw: 2.0 * 1073741824 / (try rawSgemm(1024, 1024, 1024)) / 1e9)
    // transformer shapes: a linear layer over (16,128,384) and batched per-sequence products
    let x = try Tensor.randn([16, 128, 384]), w = try Tensor.randn([384, 384])
    let tl = try time { _ = try x.matmul(w) }
    let fl = 2.0 * 16 * 128 * 384 * 384
    emit("matmul", "linear (16,128,384)@(384,384)", fl / tl / 1e9, "GFLOPS", raw: fl / (try rawSgemm(2048, 384, 384)) / 1e9)
    let y = try Tensor.randn([16, 384, 128])
    let tb = try time { _ = try x.matmul(y) }
    let fb = 2.0 * 16 * 128 * 128 * 384
    emit("matmul", "batched (16,128,384)@(16,384,128)", fb / tb / 1e9, "GFLOPS", raw: fb / (try rawSgemm(128, 128, 384, batch: 16)) / 1e9)
    let q = try Tensor.randn([16, 6, 128, 64]), kT = try Tensor.randn([16, 6, 64, 128])
    let th = try time { _ = try q.matmul(kT) }
    let fh = 2.0 * 96 * 128 * 128 * 64
    emit("matmul", "heads (16,6,128,64)@(16,6,64,128)", fh / th / 1e9, "GFLOPS", raw: fh / (try rawSgemm(128, 128, 64, batch: 96)) / 1e9)
}

func benchElementwise() throws {
    for n in [1 << 20, 1 << 24] {
        let label = n == 1 << 20 ? "1M" : "16M"
        let a = try Tensor.randn([n]), b = try Tensor.randn([n])
        let bytes2 = 8.0 * Double(n), bytes3 = 12.0 * Double(n)
        emit("elementwise", "add \(label)", bytes3 / (try time { _ = try a.add(b) }) / 1e9, "GB/s")
        emit("elementwise", "mul \(label)", bytes3 / (try time { _ = try a.mul(b) }) / 1e9, "GB/s")
        emit("elementwise", "exp \(label)", bytes2 / (try time { _ = try a.exp() }) / 1e9, "GB/s")
        emit("elementwise", "gelu \(label)", bytes2 / (try time { _ = try a.gelu() }) / 1e9, "GB/s")
        let rows = try a.view([n / 1024, 1024])
        emit("elementwise", "softmax rows of 1024, \(label)", bytes2 / (try time { _ = try rows.softmax(-1) }) / 1e9, "GB/s")
        emit("elementwise", "layernorm rows of 1024, \(label)", bytes2 / (try time { _ = try rows.layerNorm(weight: nil, bias: nil) }) / 1e9, "GB/s")
        emit("elementwise", "sum \(label)", 4.0 * Double(n) / (try time { _ = try a.sum() }) / 1e9, "GB/s")
        // sampling: output bytes per second (numpy: Generator.standard_normal, float32)
        emit("elementwise", "randn \(label)", 4.0 * Double(n) / (try time { _ = try Tensor.randn([n]) }) / 1e9, "GB/s")
    }
}

func benchAutograd() throws {
    // 3-layer MLP, 1024 wide, batch 64: forward + backward vs the time of its 9 matmuls alone
    let x = try Tensor.randn([64, 1024])
    let ws = try (0..<3).map { _ in try Tensor.randn([1024, 1024], std: 0.03).requiresGrad(true) }
    let bs = try (0..<3).map { _ in try Tensor.zeros([1024]).requiresGrad(true) }
    let step = {
        var h = x
        for l in 0..<3 {
            h = try h.matmul(ws[l]).add(bs[l])
            if l < 2 { h = try h.relu() }
        }
        try h.square().mean().backward()
        for p in ws + bs { p.grad = nil }
    }
    let t = try time(budget: 1.0, step)
    // forward: (64,1024)@(1024,1024) x3; backward: dX = g W^T (x2, first layer's input needs none)
    // and dW = X^T g (x3)
    let fwd = try rawSgemm(64, 1024, 1024)
    let dW = try rawSgemm(1024, 1024, 64)
    let matmuls = 3 * fwd + 2 * fwd + 3 * dW
    emit("autograd", "MLP 3x1024, batch 64: step ms", t * 1e3, "ms", raw: matmuls * 1e3)
}

BLASKernels.restartWithBetterSettingsIfNeeded()
fputs("OpenBLAS kernels: \(BLASKernels.coreName)\n", stderr)
/// One training step of an encoder on random tokens (batch 16 x seq 128), AdamW over all
/// parameters: ms/step, tokens/s, and effective GFLOPS (6 x parameters-in-matmuls x tokens, plus
/// attention), the shapes; PyTorch 2.15 on the project's Zen 4 reference: BERT-mini MLM
/// 619 ms, MiniLM classification 1196 ms.
func benchTrain(_ which: Set<String>) throws {
    let (batch, seq) = (16, 128)
    for (key, name, layers, hidden, heads, ffn, vocab, mlm) in [
        ("bert", "BERT-mini MLM (4L, H256, V8000)", 4, 256, 4, 1024, 8000, true),
        ("minilm", "MiniLM-L6 classification (6L, H384, V30522)", 6, 384, 12, 1536, 30522, false),
    ] where which.contains(key) {
        let config = try EncoderConfig(
            vocabSize: vocab, hiddenSize: hidden, numHiddenLayers: layers, numAttentionHeads: heads,
            intermediateSize: ffn, maxPositionEmbeddings: 512)
        let g = Generator(seed: 1)
        let ids = try Tensor.randint(0, vocab, [batch, seq], generator: g)
        let step: () throws -> Void
        if mlm {
            let model = try EncoderForMaskedLM(config, generator: g)
            let labels = try Tensor.randint(0, vocab, [batch, seq], generator: g)
            let opt = try AdamW(model.trainableParameters(), lr: 1e-4)
            step = {
                let (logits, _) = try model(ids)
                try logits.reshape([-1, vocab]).crossEntropy(labels.reshape([-1])).backward()
                try opt.step()
                opt.zeroGrad()
            }
        } else {
            let model = try EncoderForSequenceClassification(config, numLabels: 2, generator: g)
            let labels = try Tensor.randint(0, 2, [batch], generator: g)
            let opt = try AdamW(model.trainableParameters(), lr: 1e-4)
            step = {
                let (logits, _) = try model(ids)
                try logits.crossEntropy(labels).backward()
                try opt.step()
                opt.zeroGrad()
            }
        }
        let t = try time(budget: 3, step)
        let tokens = Double(batch * seq)
        let perLayer = 4.0 * Double(hidden * hidden) + 2.0 * Double(hidden * ffn)
        let matmulParams = Double(layers) * perLayer + (mlm ? Double(hidden * vocab + hidden * hidden) : 0)
        let attention = Double(layers) * 2 * 2 * Double(seq) * Double(hidden)  // QK^T and PV, per token
        let flops = 3 * 2 * tokens * (matmulParams + attention)
        emit("train", "\(name): ms/step", t * 1e3, "ms")
        emit("train", "\(name): tokens/s", tokens / t, "tok/s")
        emit("train", "\(name): effective GFLOPS", flops / t / 1e9, "GFLOPS")
        emitPeakMemory(name)
    }
    if which.contains("decoder") { try benchDecoderTrain() }
}

/// The process's peak resident memory so far: run one training row per process to compare it.
func emitPeakMemory(_ name: String) {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    emit("train", "\(name): peak RSS", Double(usage.ru_maxrss) / 1024, "MB")
}

/// One causal-LM training step of a SmolLM2-135M-shaped decoder (30 layers, hidden 576, 9 query and
/// 3 key/value heads, SwiGLU 1536, vocabulary 49152, tied embeddings) at batch 4 x seq 128, AdamW
/// over all parameters.
func benchDecoderTrain() throws {
    let (batch, seq, vocab) = (4, 128, 49152)
    let config = try DecoderConfig(
        vocabSize: vocab, hiddenSize: 576, numHiddenLayers: 30, numAttentionHeads: 9, numKeyValueHeads: 3,
        intermediateSize: 1536, maxPositionEmbeddings: 2048, tieWordEmbeddings: true)
    let g = Generator(seed: 1)
    let model = try DecoderForCausalLM(config, generator: g)
    let ids = try Tensor.randint(0, vocab, [batch, seq], generator: g)
    let labels = try Tensor.randint(0, vocab, [batch * seq], generator: g)
    let opt = try AdamW(model.trainableParameters(), lr: 1e-4)
    if ProcessInfo.processInfo.environment["TESSERA_BENCH_MEMORY"] != nil {
        // where the bytes are: live tensors after each phase of two steps, and the peak
        func mb(_ b: Int) -> String { String(format: "%.0f MB", Double(b) / 1e6) }
        for s in 1...2 {
            let (logits, _) = try model(ids)
            let loss = try logits.reshape([-1, vocab]).crossEntropy(labels)
            fputs("step \(s): after forward \(mb(Storage.liveBytes)), peak \(mb(Storage.peakLiveBytes))\n", stderr)
            try loss.backward()
            fputs("step \(s): after backward \(mb(Storage.liveBytes)), peak \(mb(Storage.peakLiveBytes))\n", stderr)
            try opt.step()
            opt.zeroGrad()
            fputs("step \(s): after step \(mb(Storage.liveBytes)), peak \(mb(Storage.peakLiveBytes))\n", stderr)
        }
    }
    let t = try time(budget: 3) {
        let (logits, _) = try model(ids)
        try logits.reshape([-1, vocab]).crossEntropy(labels).backward()
        try opt.step()
        opt.zeroGrad()
    }
    let name = "SmolLM2-135M-shaped decoder (30L, H576, GQA 9/3, V49152)"
    let tokens = Double(batch * seq)
    let kvDim = 3 * 64
    let perLayer = Double(576 * 576 * 2 + 576 * kvDim * 2 + 3 * 576 * 1536)
    let matmulParams = 30 * perLayer + Double(576 * vocab)
    let attention = 30 * 2 * 2 * Double(seq) * 576 / 2  // causal: half of QK^T and PV
    let flops = 3 * 2 * tokens * (matmulParams + attention)
    emit("train", "\(name): ms/step", t * 1e3, "ms")
    emit("train", "\(name): tokens/s", tokens / t, "tok/s")
    emit("train", "\(name): effective GFLOPS", flops / t / 1e9, "GFLOPS")
    emitPeakMemory(name)
}

let groups = CommandLine.arguments.dropFirst()
let all = groups.isEmpty
do {
    manualSeed(0)
    if all || groups.contains("matmul") { try benchMatmul() }
    if all || groups.contains("elementwise") { try benchElementwise() }
    if all || groups.contains("autograd") { try benchAutograd() }
    if groups.contains("io") { try benchIO() }
    if groups.contains("tokenize") { try benchTokenize() }
    if groups.contains("models") { try benchModels() }
    if groups.contains("sft") { try benchSFT() }
    if groups.contains("spiel") { try benchSpiel() }
    for g in groups where g.hasPrefix("spiel-profile-") { try benchSpielProfile(String(g.dropFirst(14))) }
    // train (all three rows) or train-bert, train-minilm, train-decoder (one row, for peak memory)
    let trainRows = Set(groups.compactMap { g in g == "train" ? "all" : g.hasPrefix("train-") ? String(g.dropFirst(6)) : nil })
    if !trainRows.isEmpty { try benchTrain(trainRows.contains("all") ? ["bert", "minilm", "decoder"] : trainRows) }
} catch {
    fputs("tessera-bench: \(error)\n", stderr)
    exit(1)
}
