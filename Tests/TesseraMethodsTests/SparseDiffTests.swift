// SparseDiffTests: apply∘revert, composition (commutes, equals the dense sum), save/load bitwise
// with a 3-D tensor, joint top-K (exact K, ties to the lower position), extraction, overlap,
// and the errors for a wrong model or base.

import Foundation
import Testing

@testable import TesseraMethods
@testable import TesseraNN
@testable import TesseraTensor

/// a module holding the given parameters (any shapes)
final class Holder: Module {
    init(_ params: [(String, Tensor)]) throws {
        super.init()
        for (name, t) in params { try registerParameter(name, t) }
    }
}

func holder(seed: UInt64) throws -> Holder {
    let g = Generator(seed: seed)
    return try Holder([
        ("cube", Tensor.randn([3, 4, 5], generator: g)), ("matrix", Tensor.randn([6, 7], generator: g)),
        ("norm", Tensor.randn([7], generator: g)),
    ])
}

/// a diff of `nnz` random entries per sparse parameter (cube, matrix), fingerprinting `norm`
func randomDiff(_ m: Holder, seed: UInt64, nnz: Int, kind: SparseDiffKind = .other) throws -> SparseDiff {
    let g = Generator(seed: seed)
    var params: [String: ParameterDiff] = [:]
    for (name, t) in m.namedParameters() where name != "norm" {
        let positions = try Tensor.randperm(t.numel, generator: g).toDoubles().prefix(nnz).map { Int64($0) }.sorted()
        params[name] = try ParameterDiff(shape: t.shape, indices: positions, values: positions.map { _ in Float(g.nextNormal()) })
    }
    let untouched = m.namedParameters().filter { $0.name == "norm" }
    return try SparseDiff(parameters: params, base: BaseIdentity(name: "holder", fingerprint: BaseIdentity.fingerprint(of: untouched)), kind: kind)
}

@Suite struct SparseDiffTests {
    @Test func applyThenRevertIsIdentity() throws {
        let m = try holder(seed: 1)
        let before = try copies(m)
        let d = try randomDiff(m, seed: 2, nnz: 9)
        try d.apply(to: m)
        let cube = m.namedParameters().first { $0.name == "cube" }!.tensor
        let idx = d.parameters["cube"]!.indices
        #expect(try cube.reshape([60]).element([Int(idx[0])]) != before["cube"]!.reshape([60]).element([Int(idx[0])]))
        try d.revert(from: m)
        for (name, t) in m.namedParameters() { #expect(try bitwiseEqual(t, before[name]!), "\(name) not restored bitwise") }
        // stacked diffs reverted in reverse order come back bitwise; in any order within an ulp
        let other = try randomDiff(m, seed: 3, nnz: 25)
        try d.apply(to: m); try other.apply(to: m)
        try other.revert(from: m); try d.revert(from: m)
        for (name, t) in m.namedParameters() { #expect(try bitwiseEqual(t, before[name]!), "\(name) after two diffs") }
        try d.apply(to: m); try other.apply(to: m)
        try d.revert(from: m); try other.revert(from: m)
        for (name, t) in m.namedParameters() {
            #expect(try t.sub(before[name]!).abs().max().item() <= 1e-6, "\(name) after two diffs reverted in order")
        }
        // a diff never applied to this model is subtracted
        let fresh = try holder(seed: 1)
        try d.revert(from: fresh)
        #expect(try !bitwiseEqual(fresh.namedParameters()[0].tensor, before["cube"]!))
    }

    @Test func compositionCommutesAndEqualsTheDenseSum() throws {
        let a = try holder(seed: 1), b = try holder(seed: 1)
        let theta0 = try copies(a)
        let lang = try randomDiff(a, seed: 3, nnz: 20, kind: .language), task = try randomDiff(a, seed: 4, nnz: 20, kind: .task)
        try lang.apply(to: a); try task.apply(to: a)
        try task.apply(to: b); try lang.apply(to: b)
        let sum = try lang + task
        let dl = try lang.denseDeltas(), dt = try task.denseDeltas(), ds = try sum.denseDeltas()
        let pa = Dictionary(uniqueKeysWithValues: a.namedParameters().map { ($0.name, $0.tensor) })
        let pb = Dictionary(uniqueKeysWithValues: b.namedParameters().map { ($0.name, $0.tensor) })
        for name in ["cube", "matrix"] {
            let dense = try theta0[name]!.add(dl[name]!).add(dt[name]!)
            #expect(try pa[name]!.sub(pb[name]!).abs().max().item() <= 1e-6)
            #expect(try pa[name]!.sub(dense).abs().max().item() <= 1e-6)
            #expect(try ds[name]!.sub(dl[name]!.add(dt[name]!)).abs().max().item() <= 1e-6)
        }
        let shared = lang.overlap(task).shared
        #expect(sum.nnz == lang.nnz + task.nnz - shared)
        #expect(lang.overlap(lang).cosine > 0.999999 && lang.overlap(lang).shared == lang.nnz)
        #expect(sum.kind == .other)
    }

    @Test func saveLoadRoundTripIsBitwiseWith3DTensors() throws {
        let m = try holder(seed: 5)
        let d = try SparseDiff(
            parameters: try randomDiff(m, seed: 6, nnz: 11).parameters, heads: ["norm": Tensor.randn([7])],
            base: BaseIdentity(name: "holder", fingerprint: ["x": [42, 7]]), kind: .task, k: 30, maskableCount: 102,
            training: ["lr": "0.01"])
        let path = NSTemporaryDirectory() + "sft-roundtrip-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try d.save(to: path)
        let e = try SparseDiff.load(from: path)
        #expect(e.parameters == d.parameters)
        #expect(e.parameters["cube"]!.shape == [3, 4, 5])
        #expect(try bitwiseEqual(e.heads["norm"]!, d.heads["norm"]!))
        #expect(e.base == d.base && e.kind == .task && e.k == 30 && e.maskableCount == 102 && e.training == d.training)
        // the 3-D positions land where they should: dense deltas agree entry by entry
        #expect(try bitwiseEqual(e.denseDeltas()["cube"]!, d.denseDeltas()["cube"]!))
    }

    @Test func jointTopKIsExactWithTiesToTheLowerPosition() throws {
        let a: [Float] = [3, 1, 5, 5, 0, 5], b: [Float] = [5, 2, -5, 7]
        let chosen = try a.withUnsafeBufferPointer { pa in
            try b.withUnsafeBufferPointer { pb in
                try selectLargest([MagnitudeKeys(pa.baseAddress!, count: 6), MagnitudeKeys(pb.baseAddress!, count: 4)], k: 5)
            }
        }
        // 7 first, then the 5s in concatenation order: a[2], a[3], a[5], b[0] (b[2] loses the tie)
        #expect(chosen == [[2, 3, 5], [0, 3]])
        let g = Generator(seed: 9)
        let big = (0..<300_000).map { _ in Float(Int(g.nextInt(below: 1000))) }
        let picked = try big.withUnsafeBufferPointer { try selectLargest([MagnitudeKeys($0.baseAddress!, count: big.count)], k: 12_345) }
        #expect(picked[0].count == 12_345)
        let reference = big.indices.sorted { (big[$0], -$0) > (big[$1], -$1) }.prefix(12_345).sorted().map(Int64.init)
        #expect(picked[0] == reference)
        #expect(throws: TensorError.self) { try big.withUnsafeBufferPointer { try selectLargest([MagnitudeKeys($0.baseAddress!, count: 3)], k: 4) } }
    }

    @Test func extractTopKAndPrune() throws {
        let base = try holder(seed: 1), tuned = try holder(seed: 1)
        let d = try randomDiff(base, seed: 2, nnz: 15)
        try d.apply(to: tuned)
        let all = try SparseDiff.extract(base: base.stateDict(), tuned: tuned.stateDict())
        #expect(all.nnz == 30)
        #expect(all.base.fingerprint.keys.sorted() == ["cube", "matrix", "norm"])
        let top = try SparseDiff.extract(base: base.stateDict(), tuned: tuned.stateDict(), k: 7)
        #expect(top.nnz == 7 && top.k == 7)
        #expect(try d.topK(7).nnz == 7)
        let kept = try d.topK(7)
        let smallestKept = kept.parameters.values.flatMap(\.values).map(abs).min()!
        let largestDropped = d.parameters.values.flatMap(\.values).map(abs).filter { $0 < smallestKept }.max() ?? 0
        #expect(largestDropped <= smallestKept)
        #expect(try d.scaled(2).parameters["cube"]!.values == d.parameters["cube"]!.values.map { $0 * 2 })
    }

    @Test func wrongModelOrBaseIsAClearError() throws {
        let m = try holder(seed: 1)
        let d = try randomDiff(m, seed: 2, nnz: 5)
        let other = try holder(seed: 7)
        #expect {
            try d.apply(to: other)
        } throws: { error in
            String(describing: error).contains("wrong base model")
        }
        let misShaped = try Holder([("cube", Tensor.zeros([3, 4, 6])), ("matrix", Tensor.zeros([6, 7]))])
        #expect {
            try d.apply(to: misShaped)
        } throws: { error in
            String(describing: error).contains("shape")
        }
        let missing = try Holder([("matrix", Tensor.zeros([6, 7]))])
        #expect(throws: TensorError.self) { try d.apply(to: missing) }
        // nothing was changed by a failed apply
        #expect(try misShaped.namedParameters().allSatisfy { try $0.tensor.abs().max().item() == 0 })
    }
}
