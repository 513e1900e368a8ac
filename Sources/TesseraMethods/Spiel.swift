// Spiel: puts SpIEL's sparse deltas on a model (Ansell et al. 2024, spec §1.1-1.2): the target
// linear layers become SparseDeltaLinear with k_m = int(N · numel_m / Σ numel) entries drawn
// uniformly without replacement; everything else is frozen. The adapted model is an ordinary
// Module; this handle lists its deltas, exports them as a SparseDiff and merges them.

import Foundation
import TesseraIO
import TesseraNN
import TesseraTensor

/// How many deltas in total (N), spread over the targets in proportion to their size.
public enum SpielBudget: Sendable {
    /// N = int(density · every parameter of the model, quantised weights at their original numel)
    case density(Double)
    /// N given directly (SftConfig.num_tunable_weights)
    case count(Int)
    /// N = r · Σ_targets (in + out): LoRA rank r's trainable count (sft-llm's PARAMS_PER_RANK)
    case matchLoRARank(Int)
}

public final class SpielModel {
    public let model: Module
    /// the adapted layers by path, depth first
    public let layers: [(path: String, layer: SparseDeltaLinear)]
    public let budget: SpielBudget

    /// Wraps the `targets` of `model` (Linear, QuantizedLinear or NF4Linear) in sparse deltas.
    public init(wrapping model: Module, budget: SpielBudget, targets: TargetModules = .llama, generator: Generator = .shared) throws {
        let selected = targets.select(in: model).filter { SparseDeltaLinear.features(of: $0.module) != nil }
        guard !selected.isEmpty else {
            throw TensorError("spiel.wrap", "no Linear layer matches the targets \(targets.names)")
        }
        let sizes = selected.map { SparseDeltaLinear.features(of: $0.module)! }
        let targetNumel = sizes.reduce(0) { $0 + $1.0 * $1.1 }
        let total: Int
        switch budget {
        case .density(let d):
            guard d > 0, d <= 1 else { throw TensorError("spiel.wrap", "density must lie in (0, 1], got \(d)") }
            total = Int(Double(SpielModel.fullParameterCount(model)) * d)
        case .count(let n):
            guard n > 0 else { throw TensorError("spiel.wrap", "the number of tunable weights must be positive, got \(n)") }
            total = n
        case .matchLoRARank(let r):
            guard r > 0 else { throw TensorError("spiel.wrap", "the LoRA rank to match must be positive, got \(r)") }
            total = r * sizes.reduce(0) { $0 + $1.0 + $1.1 }
        }
        guard total <= targetNumel else {
            throw TensorError("spiel.wrap", "\(total) deltas do not fit in the \(targetNumel) entries of the targets")
        }
        _ = try model.freeze()
        var layers: [(String, SparseDeltaLinear)] = []
        for ((path, base), (outF, inF)) in zip(selected, sizes) {
            let numel = outF * inF
            let k = Int(Double(total) * Double(numel) / Double(targetNumel))
            let layer = try SparseDeltaLinear(base: base, indices: randomSubset(k, of: numel, generator: generator))
            try model.replaceModule(at: path, with: layer)
            layers.append((path, layer))
        }
        (self.model, self.layers, self.budget) = (model, layers, budget)
    }

    /// An existing adapted model's deltas (found by type).
    public init(adapted model: Module) throws {
        layers = model.namedModules().compactMap { m in (m.module as? SparseDeltaLinear).map { (m.name, $0) } }
        guard !layers.isEmpty else { throw TensorError("spiel", "the model has no sparse deltas") }
        (self.model, self.budget) = (model, .count(layers.reduce(0) { $0 + $1.layer.k }))
    }

    /// every parameter's numel, plus out·in for each quantised linear (whose blocks are no parameter)
    static func fullParameterCount(_ model: Module) -> Int {
        let quantised = model.namedModules().reduce(0) { n, m in
            (m.module is QuantizedLinear || m.module is NF4Linear) ? n + SparseDeltaLinear.features(of: m.module).map { $0.0 * $0.1 }! : n
        }
        return model.parameterCount + quantised
    }

    /// Σ k_m: the trainable count
    public var k: Int { layers.reduce(0) { $0 + $1.layer.k } }
    /// Σ out·in over the adapted layers
    public var targetNumel: Int { layers.reduce(0) { $0 + $1.layer.numel } }

    /// The deltas as a SparseDiff on the base weights `<path>.weight` (sorted indices, zeros kept).
    public func diff(training: [String: String] = [:]) throws -> SparseDiff {
        var parameters: [String: ParameterDiff] = [:]
        for (path, layer) in layers {
            let idx = layer.indexArray(), vals = try layer.values.toArray(Float.self)
            let order = idx.indices.sorted { idx[$0] < idx[$1] }
            parameters[path + ".weight"] = try ParameterDiff(
                shape: [layer.outFeatures, layer.inFeatures], indices: order.map { idx[$0] }, values: order.map { vals[$0] }, op: "spiel.diff")
        }
        return try SparseDiff(
            parameters: parameters, base: BaseIdentity(name: "spiel", fingerprint: [:]), kind: .task, k: k, maskableCount: targetNumel,
            training: training.merging(["method": "SpIEL"]) { a, _ in a })
    }

    /// Replaces every delta layer by a plain Linear holding W0 + Δ (quantised bases are
    /// dequantised: the spec advises against re-quantising). Returns the model.
    @discardableResult
    public func mergeAndUnload() throws -> Module {
        for (path, layer) in layers {
            let bias = noGrad { (layer.base as? Linear)?.bias ?? (layer.base as? QuantizedLinear)?.bias ?? (layer.base as? NF4Linear)?.bias }
            try model.replaceModule(at: path, with: Linear(weight: layer.mergedWeight(), bias: bias?.detach()))
        }
        return model
    }

    /// Per-layer (path, k, numel, density, mean |value|).
    public func stats() throws -> [(path: String, k: Int, numel: Int, density: Double, meanAbs: Double)] {
        try layers.map { path, l in
            let v = try l.values.toArray(Float.self)
            let mean = v.isEmpty ? 0 : v.reduce(0.0) { $0 + Double(Swift.abs($1)) } / Double(v.count)
            return (path, l.k, l.numel, Double(l.k) / Double(l.numel), mean)
        }
    }
}

/// k distinct positions of 0..<n drawn uniformly, sorted (the reference's top-k of rand(shape)).
public func randomSubset(_ k: Int, of n: Int, generator: Generator) -> [Int64] {
    if k * 3 > n {
        // partial Fisher-Yates over the whole range
        var all = (0..<Int64(n)).map { $0 }
        for i in 0..<k { all.swapAt(i, i + Int(generator.nextInt(below: UInt64(n - i)))) }
        return all[0..<k].sorted()
    }
    var chosen = Set<Int64>(minimumCapacity: k)
    while chosen.count < k { chosen.insert(Int64(generator.nextInt(below: UInt64(n)))) }
    return chosen.sorted()
}

// MARK: - files

extension SpielModel {
    public static let formatName = "tessera.spiel"

    /// Writes every delta as `<path>.values` (f32) and `<path>.indices` (i64, slot order) to a
    /// safetensors file (temporary name, then renamed), with the format in its metadata.
    public func save(to path: String, notes: [String: String] = [:]) throws {
        var tensors: [String: Tensor] = [:]
        for (p, l) in layers {
            tensors[p + ".values"] = l.values.detach()
            tensors[p + ".indices"] = l.indices
        }
        let metadata = notes.merging(["format": SpielModel.formatName, "version": "1"]) { _, b in b }
        try Safetensors.save(tensors, metadata: metadata, to: path + ".tmp")
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: path + ".tmp", toPath: path)
    }

    /// Puts the deltas of a saved file on `model` (at the same paths) and freezes the rest.
    public convenience init(loading path: String, into model: Module) throws {
        let file = try SafetensorsFile(path: path)
        guard file.metadata["format"] == SpielModel.formatName else {
            throw TensorError("spiel.load", "\(path) is not a SpIEL delta file (format \(file.metadata["format"] ?? "missing"))")
        }
        let paths = file.names.filter { $0.hasSuffix(".values") }.map { String($0.dropLast(".values".count)) }.sorted()
        _ = try model.freeze()
        for p in paths {
            guard let base = model.module(at: p), SparseDeltaLinear.features(of: base) != nil else {
                throw TensorError("spiel.load", "the model has no linear layer '\(p)' for the file's delta")
            }
            let values = try file.tensor(p + ".values").to(.f32)
            let indices = try file.tensor(p + ".indices").to(.i64).toArray(Int64.self)
            guard values.numel == indices.count else {
                throw TensorError("spiel.load", "'\(p)' has \(values.numel) values and \(indices.count) indices")
            }
            let layer = try SparseDeltaLinear(base: base, indices: indices)
            _ = try noGrad { try layer.values.copy_(values.reshape([indices.count])) }
            try model.replaceModule(at: p, with: layer)
        }
        try self.init(adapted: model)
    }
}
