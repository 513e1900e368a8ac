// SpielSelector: SpIEL's update/prune/regrow cycle (spec §1.3-1.6). step() follows each optimizer
// update: a phase begins when t % R == 0 (and at construction), and ends with a selection when
// t % R == A, so every window holds A updates (the reference begins at (t+1) % R == 0, which the
// spec names an off-by-one: its later windows hold A + 1 updates). The first selection replaces
// every delta (rate 1), later ones a fraction 0.2·(1 - t/T) (linear) or 0.2·(1 + cos(πt/T))/2 (cosine); none once t > T. Pruning drops the
// smallest |δ|; AG regrows the largest |Σg| among the window's candidates that are not remaining,
// with seeded Adam state; MA regrows the largest outer(row, col) SM3 score among entries inactive
// before the drop. After each selection every delta holds exactly k distinct in-range indices
// (checked, and a violation throws); the base weights are never touched.

import Foundation
import TesseraNN
import TesseraTensor

public final class SpielSelector {
    public enum Regrowth: String, Sendable {
        /// SpIEL-AG: accumulated gradients of a window of updates (optimizer SftAdamW)
        case gradient
        /// SpIEL-MA: SM3's row and column accumulators (optimizer SftSM3)
        case momentum
    }

    public enum RatePolicy: String, Sendable { case linear, cosine }

    /// One selection, summed over the layers.
    public struct Event: Sendable {
        public var step: Int
        /// the drop fraction p
        public var rate: Double
        /// Σ int(k·p): slots planned to change
        public var planned: Int
        /// indices actually replaced (dropped and regrown)
        public var replaced: Int
        /// indices both dropped and regrown, which keep their value and state
        public var collisions: Int
        /// per layer: replaced / k
        public var turnover: [Double]

        public var summary: String {
            "selection at update \(step): rate \(String(format: "%.3f", rate)), \(replaced) dropped and regrown of \(planned) planned, \(collisions) collisions"
        }
    }

    public let spiel: SpielModel
    public let regrowth: Regrowth
    public let reselectionSteps: Int
    public let accumulationSteps: Int
    public let initialRate: Double
    public let policy: RatePolicy
    /// T: updates of the whole run (no selection after it)
    public let totalUpdateSteps: Int
    /// micro-batches per update (seeds the age of regrown entries as samples / this)
    public let gradientAccumulationSteps: Int
    let adam: SftAdamW?
    let sm3: SftSM3?
    public private(set) var completedSteps = 0
    public private(set) var events: [Event] = []
    /// called with each event (a log line, a progress bar)
    public var onSelection: ((Event) -> Void)?

    public init(
        _ spiel: SpielModel, regrowth: Regrowth, optimizer: Optimizer, totalUpdateSteps: Int, reselectionSteps: Int = 20,
        accumulationSteps: Int = 5, initialRate: Double = 0.2, policy: RatePolicy = .linear, gradientAccumulationSteps: Int = 1
    ) throws {
        guard reselectionSteps > 0, (1...reselectionSteps).contains(accumulationSteps) || accumulationSteps == reselectionSteps else {
            throw TensorError("spiel.selector", "needs 1 <= accumulation steps (\(accumulationSteps)) <= reselection steps (\(reselectionSteps))")
        }
        guard totalUpdateSteps > 0, gradientAccumulationSteps > 0, (0...1).contains(initialRate) else {
            throw TensorError("spiel.selector", "total steps and accumulation must be positive and the rate lie in [0, 1]")
        }
        (adam, sm3) = (optimizer as? SftAdamW, optimizer as? SftSM3)
        switch regrowth {
        case .gradient where adam == nil: throw TensorError("spiel.selector", "SpIEL-AG (regrow by gradient) needs an SftAdamW optimizer")
        case .momentum where sm3 == nil: throw TensorError("spiel.selector", "SpIEL-MA (regrow by momentum) needs an SftSM3 optimizer")
        default: break
        }
        (self.spiel, self.regrowth, self.totalUpdateSteps) = (spiel, regrowth, totalUpdateSteps)
        (self.reselectionSteps, self.accumulationSteps, self.initialRate) = (reselectionSteps, accumulationSteps, initialRate)
        (self.policy, self.gradientAccumulationSteps) = (policy, gradientAccumulationSteps)
        beginPhase()
    }

    /// Whether backward passes currently feed a selection window (AG's dense-gradient updates).
    public var inSelectionPhase: Bool { spiel.layers.contains { $0.layer.gradientWindow != nil } }

    /// After each optimizer update.
    @discardableResult
    public func step() throws -> Event? {
        completedSteps += 1
        var event: Event?
        if completedSteps % reselectionSteps == accumulationSteps % reselectionSteps { event = try endPhase() }
        if completedSteps % reselectionSteps == 0 { beginPhase() }
        return event
    }

    private func beginPhase() {
        guard regrowth == .gradient else { return }
        for (_, l) in spiel.layers { l.gradientWindow = GradientWindow() }
    }

    /// The drop fraction at the current step (1 at the first selection).
    public var rate: Double {
        let t = Double(completedSteps), T = Double(totalUpdateSteps)
        if completedSteps == accumulationSteps { return 1 }
        switch policy {
        case .linear: return initialRate * (1 - t / T)
        case .cosine: return initialRate * (1 + cos(Double.pi * t / T)) / 2
        }
    }

    private func endPhase() throws -> Event? {
        defer { for (_, l) in spiel.layers { l.gradientWindow = nil } }
        guard completedSteps <= totalUpdateSteps else { return nil }
        let p = rate
        var event = Event(step: completedSteps, rate: p, planned: 0, replaced: 0, collisions: 0, turnover: [])
        for (path, layer) in spiel.layers {
            let n = Int(Double(layer.k) * p)
            let (replaced, collisions) = try regrowth == .gradient ? selectByGradient(layer, n) : selectByMomentum(layer, n)
            try SpielSelector.checkInvariants(layer, path)
            event.planned += n
            event.replaced += replaced
            event.collisions += collisions
            event.turnover.append(Double(replaced) / Double(max(1, layer.k)))
        }
        events.append(event)
        onSelection?(event)
        return event
    }

    /// The n slots with the smallest |value|, smallest first (spec §1.4).
    static func smallestSlots(_ layer: SparseDeltaLinear, _ n: Int) throws -> [Int] {
        guard n > 0 else { return [] }
        let (_, slots) = try noGrad { try layer.values.detach().abs().topk(n, largest: false, sorted: true) }
        return try slots.to(.i64).toArray(Int64.self).map { Int($0) }
    }

    /// SpIEL-AG (spec §1.5); returns (replaced, collisions).
    private func selectByGradient(_ layer: SparseDeltaLinear, _ n: Int) throws -> (Int, Int) {
        guard n > 0, let window = layer.gradientWindow, window.samples > 0, let adam else { return (0, 0) }
        var changing = try SpielSelector.smallestSlots(layer, n)
        var indices = layer.indexArray()
        let outgoing = Set(changing.map { indices[$0] })
        let remaining = Set(indices).subtracting(outgoing)
        // candidates not remaining, by |Σg| descending (a dropped index may come back)
        let valid = window.candidates.indices.filter { !remaining.contains(window.candidates[$0]) }
        let ranked = valid.sorted { (Swift.abs(window.sum[$0]), window.candidates[$1]) > (Swift.abs(window.sum[$1]), window.candidates[$0]) }
        var incoming = Array(ranked.prefix(n))
        // collisions keep their slot, value and state
        let incomingIndices = Set(incoming.map { window.candidates[$0] })
        let collided = outgoing.intersection(incomingIndices)
        changing.removeAll { collided.contains(indices[$0]) }
        incoming.removeAll { collided.contains(window.candidates[$0]) }
        changing = Array(changing.prefix(incoming.count))
        let (age, m, v) = try adam.moments(for: layer.values)
        let options = adam.groups[0].options
        let s = Float(window.samples), a = s / Float(gradientAccumulationSteps)
        let (c1, c2) = (1 - pow(Float(options.beta1), a), 1 - pow(Float(options.beta2), a))
        let pv = layer.values.mutablePointer(Float.self)
        let (pa, pm, ps) = (age.mutablePointer(Float.self), m.mutablePointer(Float.self), v.mutablePointer(Float.self))
        for (slot, c) in zip(changing, incoming) {
            indices[slot] = window.candidates[c]
            pv[slot] = 0
            pm[slot] = window.sum[c] / s * c1
            ps[slot] = window.sumOfSquares[c] / s * c2
            pa[slot] = a
        }
        try layer.setIndices(indices)
        return (changing.count, collided.count)
    }

    /// SpIEL-MA (spec §1.6); returns (replaced, 0): dropped entries cannot return.
    private func selectByMomentum(_ layer: SparseDeltaLinear, _ n: Int) throws -> (Int, Int) {
        guard n > 0, let sm3 else { return (0, 0) }
        let changing = try SpielSelector.smallestSlots(layer, n)
        var indices = layer.indexArray()
        let (row, col) = sm3.accumulators(of: layer)
        // the transient dense score outer(row, col), active entries excluded
        let score = try Tensor.empty([layer.numel], dtype: .f32, op: "spiel.select")
        let ps = score.mutablePointer(Float.self)
        for r in 0..<layer.outFeatures {
            for c in 0..<layer.inFeatures { ps[r * layer.inFeatures + c] = row[r] * col[c] }
        }
        for i in indices { ps[Int(i)] = -.infinity }
        let available = layer.numel - layer.k
        let count = min(changing.count, available)
        guard count > 0 else { return (0, 0) }
        let (_, top) = try noGrad { try score.topk(count) }
        let incoming = try top.to(.i64).toArray(Int64.self)
        let pv = layer.values.mutablePointer(Float.self)
        for (slot, i) in zip(changing, incoming) {
            indices[slot] = i
            pv[slot] = 0
        }
        try layer.setIndices(indices)
        return (count, 0)
    }

    /// exactly k distinct indices in 0..<numel
    static func checkInvariants(_ layer: SparseDeltaLinear, _ path: String) throws {
        let idx = layer.indexArray()
        guard idx.count == layer.k, layer.values.numel == layer.k, Set(idx).count == idx.count,
            idx.allSatisfy({ $0 >= 0 && $0 < Int64(layer.numel) })
        else {
            throw TensorError("spiel.selector", "invariant broken at '\(path)': indices are not \(layer.k) distinct positions in range")
        }
    }
}
