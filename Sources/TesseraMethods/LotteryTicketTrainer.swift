// LotteryTicketTrainer: LT-SFT (Ansell et al. 2022; ../shared/methods/lt-sft-and-bistil.md §1).
// θ0 is what the model holds when the trainer is made (with a source-language SFT applied, for
// a task SFT). Each iteration: snapshot, full fine-tuning (phase 1), choose the K entries of the
// maskable parameters that moved most, jointly over all of them (exactly K, ties to the lower
// position), rewind every parameter to the snapshot, head included, bitwise, then train again
// with only the chosen entries free (phase 2, a fresh optimizer). The diff is θ - θ0 on the
// chosen entries, plus the dense head for a task SFT. The phases' loops are the caller's
// (nn.fit from Lua); `train` is the plain loop for Swift callers.

import TesseraNN
import TesseraTensor

public struct LotteryTicketOptions {
    public enum Selection: String, CaseIterable, Sendable {
        /// the K entries that changed most in phase 1
        case lotteryTicket = "lottery_ticket"
        /// K entries drawn uniformly: the control the reference declares but never implemented
        case random
    }

    /// entries to train (exactly); or `density` times the maskable size (default 0.01, the reference's)
    public var k: Int?
    public var density: Double?
    /// name patterns of the maskable parameters; nil: the base model's (`bert`, `model`, else all)
    public var maskable: [String]?
    /// name patterns frozen while training; nil: LayerNorms (and a language SFT's MLM decoder)
    public var freeze: [String]?
    public var selection = Selection.lotteryTicket
    /// nil: language for a masked-LM model, task otherwise
    public var kind: SparseDiffKind?
    /// AdamW settings of both phases (weight decay 0 as in the reference)
    public var lr = 5e-5
    public var weightDecay = 0.0
    public var beta1 = 0.9, beta2 = 0.999, eps = 1e-8
    /// λ of the pull toward θ0, λ·Σ|θ - θ0| / (number of model parameters), per phase
    public var l1Full = 0.0, l1Sparse = 0.0
    public var iterations = 1
    /// whether the diff carries the dense head; nil: yes except for language SFTs
    public var keepHead: Bool?
    /// seeds random selection
    public var seed: UInt64 = 0
    /// shown as the base's name; nil: the model's type
    public var baseName: String?
    /// deltas of at most this magnitude are dropped from the diff (the reference's 1e-7)
    public var dropBelow = 1e-7

    public init() {}
}

public final class LotteryTicketTrainer {
    public let model: Module
    public let options: LotteryTicketOptions
    public let kind: SparseDiffKind
    /// parameters whose entries are selected, in name order
    public let maskable: [(name: String, tensor: Tensor)]
    /// trainable parameters that are not maskable (the head), trained densely
    public let dense: [(name: String, tensor: Tensor)]
    /// the total budget of entries
    public let k: Int
    /// θ0 of every trainable parameter, by identity
    let theta0: [ObjectIdentifier: Tensor]
    /// chosen positions of each maskable parameter (by name), increasing
    public private(set) var masks: [String: [Int64]] = [:]
    public let base: BaseIdentity
    /// trainability to restore when done
    private var previousTrainability: [(Tensor, Bool)] = []
    private let totalParameters: Int

    public init(model: Module, options: LotteryTicketOptions = LotteryTicketOptions()) throws {
        let op = "sft.train"
        self.model = model
        self.options = options
        let kind = options.kind ?? (model is EncoderForMaskedLM ? .language : .task)
        self.kind = kind
        guard options.iterations >= 1 else { throw TensorError(op, "iterations must be at least 1, got \(options.iterations)") }
        if kind == .language { try untieDecoder(model) }
        var frozen = options.freeze ?? ["*LayerNorm*", "*layernorm*"]
        if options.freeze == nil && kind == .language && model.module(at: "cls.predictions.decoder") != nil {
            frozen.append("cls.predictions.decoder")
        }
        let freezePatterns = frozen.map(NamePattern.init)
        let previous = model.namedParameters().map { ($0.tensor, $0.tensor.requiresGrad) }
        previousTrainability = previous
        // an invalid option leaves the model as it was
        func failure(_ message: String) -> TensorError {
            for (t, flag) in previous { _ = try? t.requiresGrad(flag) }
            return TensorError(op, message)
        }
        for (name, t) in model.namedParameters() where freezePatterns.contains(where: { $0.selects(name) }) {
            try t.requiresGrad(false)
        }
        let trainable = model.trainableParameters()
        let patterns = (options.maskable ?? defaultMaskable(model)).map(NamePattern.init)
        let chosen = trainable.filter { p in patterns.contains { $0.selects(p.name) } }.sorted { $0.name < $1.name }
        maskable = chosen
        let chosenNames = Set(chosen.map(\.name))
        dense = trainable.filter { !chosenNames.contains($0.name) }
        let maskableCount = chosen.reduce(0) { $0 + $1.tensor.numel }
        guard maskableCount > 0 else {
            throw failure("no trainable parameter matches the maskable patterns \(patterns.map(\.pattern))")
        }
        if let requested = options.k {
            guard requested >= 1, requested <= maskableCount else {
                throw failure("k = \(requested) must lie in 1...\(maskableCount) (the maskable entries)")
            }
            k = requested
        } else {
            let density = options.density ?? 0.01
            guard density > 0, density <= 1 else {
                throw failure("density must lie in (0, 1], got \(density)")
            }
            k = max(1, Int(density * Double(maskableCount)))
        }
        for (name, t) in chosen where t.dtype != .f32 || !t.isContiguous {
            throw failure("sparse fine-tuning needs contiguous f32 parameters, '\(name)' is \(t.dtype)")
        }
        var snapshot: [ObjectIdentifier: Tensor] = [:]
        for (_, t) in trainable { snapshot[ObjectIdentifier(t)] = try t.detach().clone() }
        theta0 = snapshot
        totalParameters = model.parameterCount
        // the base: frozen and maskable parameters (a head is new, not part of it)
        let baseTensors = model.namedParameters().filter { !$0.tensor.requiresGrad || chosenNames.contains($0.name) }
        base = BaseIdentity(name: options.baseName ?? model.typeName, fingerprint: BaseIdentity.fingerprint(of: baseTensors))
    }

    /// number of maskable entries (the density's denominator)
    public var maskableCount: Int { maskable.reduce(0) { $0 + $1.tensor.numel } }

    /// entries chosen so far
    public var selectedCount: Int { masks.values.reduce(0) { $0 + $1.count } }

    /// the budget of iteration `i` (0-based): K split evenly, the last taking the remainder
    public func budget(iteration i: Int) -> Int {
        let each = k / options.iterations
        return i == options.iterations - 1 ? k - each * (options.iterations - 1) : each
    }

    /// Copies of every trainable parameter, head included, to rewind to.
    public func snapshot() throws -> [Tensor] {
        try (maskable + dense).map { try $0.tensor.detach().clone() }
    }

    /// Copies a snapshot() back into the parameters (bitwise) and clears their gradients.
    public func rewind(to snapshot: [Tensor]) throws {
        try noGrad {
            for ((_, t), saved) in zip(maskable + dense, snapshot) {
                _ = try t.copy_(saved)
                t.grad = nil
            }
        }
    }

    /// Phase 1's optimizer: AdamW over every trainable parameter, with the phase's L1 pull.
    public func fullPhaseOptimizer() throws -> MaskedAdamW {
        try optimizer(active: [:], l1: options.l1Full)
    }

    /// Phase 2's optimizer (fresh state): the maskable parameters move only at chosen positions.
    public func sparsePhaseOptimizer() throws -> MaskedAdamW {
        var active: [ObjectIdentifier: [Int64]] = [:]
        for (name, t) in maskable { active[ObjectIdentifier(t)] = masks[name] ?? [] }
        return try optimizer(active: active, l1: options.l1Sparse)
    }

    private func optimizer(active: [ObjectIdentifier: [Int64]], l1: Double) throws -> MaskedAdamW {
        try MaskedAdamW(
            maskable + dense, lr: options.lr, beta1: options.beta1, beta2: options.beta2, eps: options.eps,
            weightDecay: options.weightDecay, active: active, reference: theta0, l1: l1 / Double(max(totalParameters, 1)))
    }

    /// Adds `count` entries to the masks: the most changed since θ0 (or random ones), among
    /// those not chosen yet, jointly over every maskable parameter.
    public func select(_ count: Int) throws {
        let excluded = maskable.map { name, t in
            var bytes = [UInt8](repeating: 0, count: t.numel)
            for i in masks[name] ?? [] { bytes[Int(i)] = 1 }
            return bytes
        }
        let chosen: [[Int64]]
        switch options.selection {
        case .lotteryTicket:
            chosen = try withKeys(excluded) { try selectLargest($0, k: count, op: "sft.train") }
        case .random:
            // one uniform draw per entry, largest win: a uniform K-subset of the eligible entries
            let g = Generator(seed: options.seed &+ UInt64(selectedCount))
            let draws = excluded.map { ex in ex.map { $0 != 0 ? UInt32(0) : UInt32(truncatingIfNeeded: g.next() >> 33) &+ 1 } }
            chosen = try withStoredKeys(draws) { try selectLargest($0, k: count, op: "sft.train") }
        }
        for ((name, _), positions) in zip(maskable, chosen) where !positions.isEmpty {
            masks[name] = ((masks[name] ?? []) + positions).sorted()
        }
    }

    private func withKeys<R>(_ excluded: [[UInt8]], _ body: ([ChangeKeys]) throws -> R) throws -> R {
        var keys: [ChangeKeys] = []
        for ((_, t), ex) in zip(maskable, excluded) {
            guard let start = theta0[ObjectIdentifier(t)] else { throw TensorError("sft.train", "θ0 is missing a parameter") }
            ex.withUnsafeBufferPointer { e in
                keys.append(ChangeKeys(t.pointer(Float.self), start.pointer(Float.self), count: t.numel, excluded: e.baseAddress))
            }
        }
        // the byte masks are alive (held by `excluded`) for the whole call
        return try withExtendedLifetime(excluded) { try body(keys) }
    }

    private func withStoredKeys<R>(_ draws: [[UInt32]], _ body: ([StoredKeys]) throws -> R) rethrows -> R {
        let keys = draws.map { d in d.withUnsafeBufferPointer { StoredKeys($0.baseAddress ?? UnsafePointer(bitPattern: 64)!, count: d.count) } }
        return try withExtendedLifetime(draws) { try body(keys) }
    }

    /// The trained SFT: θ - θ0 at the chosen positions (deltas above `dropBelow`), and the
    /// dense head unless this is a language SFT. `notes` add to its training record.
    public func diff(notes: [String: String] = [:]) throws -> SparseDiff {
        var params: [String: ParameterDiff] = [:]
        for (name, t) in maskable {
            guard let start = theta0[ObjectIdentifier(t)] else { continue }
            let p = t.pointer(Float.self), p0 = start.pointer(Float.self)
            var idx: [Int64] = [], val: [Float] = []
            for i in masks[name] ?? [] {
                let d = p[Int(i)] - p0[Int(i)]
                if Double(abs(d)) > options.dropBelow {
                    idx.append(i)
                    val.append(d)
                }
            }
            params[name] = ParameterDiff(unchecked: t.shape, idx, val)
        }
        var heads: [String: Tensor] = [:]
        if options.keepHead ?? (kind != .language) {
            for (name, t) in dense { heads[name] = try t.detach().clone() }
        }
        let o = options
        var training = [
            "method": o.selection == .random ? "random-mask sft" : "lt-sft", "lr": "\(o.lr)", "weight_decay": "\(o.weightDecay)",
            "l1_full": "\(o.l1Full)", "l1_sparse": "\(o.l1Sparse)", "iterations": "\(o.iterations)",
        ]
        training.merge(notes) { _, note in note }
        return try SparseDiff(
            parameters: params, heads: heads, base: base, kind: kind, k: k, maskableCount: maskableCount, training: training)
    }

    /// Gives every parameter back the trainability it had before the trainer froze some.
    public func restoreTrainability() {
        for (t, flag) in previousTrainability { _ = try? t.requiresGrad(flag) }
    }

    /// The whole method with a plain loop: `loss(phase, step)` returns the loss of one batch
    /// (phase 1 full, 2 sparse; steps count from 1 in each phase).
    public func train(fullSteps: Int, sparseSteps: Int, loss: (Int, Int) throws -> Tensor) throws -> SparseDiff {
        defer { restoreTrainability() }
        for i in 0..<options.iterations {
            let saved = try snapshot()
            try run(try fullPhaseOptimizer(), steps: fullSteps) { try loss(1, $0) }
            try select(budget(iteration: i))
            try rewind(to: saved)
            try run(try sparsePhaseOptimizer(), steps: sparseSteps) { try loss(2, $0) }
        }
        return try diff()
    }

    private func run(_ optimizer: Optimizer, steps: Int, _ loss: (Int) throws -> Tensor) throws {
        model.train()
        for step in stride(from: 1, through: steps, by: 1) {
            try loss(step).backward()
            try optimizer.step()
            optimizer.zeroGrad()
        }
    }
}

/// The base model's parameters: under `bert` (encoders) or `model` (decoders), else everything.
func defaultMaskable(_ model: Module) -> [String] {
    for prefix in ["bert", "model", "encoder"] where model.module(at: prefix) != nil { return [prefix] }
    return ["*"]
}

/// A language SFT trains the word embeddings but keeps the MLM decoder fixed: a decoder tied
/// to the embeddings gets its own copy (frozen by the trainer), as the reference's --freeze_decoder.
func untieDecoder(_ model: Module) throws {
    guard let decoder = model.module(at: "cls.predictions.decoder") as? Linear else { return }
    let w = try decoder.weight
    let owner = model.namedParameters().first { $0.tensor === w }?.name
    guard let owner, owner != "cls.predictions.decoder.weight" else { return }
    let copy = try w.detach().clone()
    try model.replaceModule(at: "cls.predictions.decoder", with: Linear(weight: copy, bias: decoder.bias))
}
