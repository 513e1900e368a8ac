// GoldenTests: f32 results against NumPy references in Golden/tensor.json, which
// scripts/golden/make_tensor_golden.py writes (inputs included, so no generator has to match).

import Foundation
import Testing
@testable import TesseraTensor
import TesseraTestSupport

/// The cases of Golden/tensor.json, loaded once.
enum Golden {
    nonisolated(unsafe) static let cases: [String: [String: Any]] = {
        guard let url = Bundle.module.url(forResource: "tensor", withExtension: "json", subdirectory: "Golden"),
            let data = try? Data(contentsOf: url),
            let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let list = root["cases"] as? [[String: Any]]
        else { return [:] }
        return Dictionary(uniqueKeysWithValues: list.map { ($0["name"] as! String, $0) })
    }()

    static var names: [String] { cases.keys.sorted() }

    /// a JSON number, or one of the strings "inf", "-inf", "nan"
    static func number(_ v: Any) -> Double {
        switch v as? String {
        case "inf": return .infinity
        case "-inf": return -.infinity
        case "nan": return .nan
        default: return (v as? NSNumber)?.doubleValue ?? .nan
        }
    }

    /// a stored tensor: f32 (or i64) values with the case's view steps applied
    static func tensor(_ spec: [String: Any]) throws -> Tensor {
        let shape = spec["shape"] as! [Int]
        let values = (spec["data"] as! [Any]).map(number)
        var t =
            spec["dtype"] as? String == "i64"
            ? try Tensor.from(values.map { Int64($0) }, shape: shape)
            : try Tensor.from(values.map { Float($0) }, shape: shape)
        for step in spec["view"] as? [String] ?? [] {
            let s = t.shape
            switch step {
            case "t": t = try t.transpose(-1, -2)
            // x[..., ::2]: split the last dim into (n/2, 2), keep entry 0 of each pair
            case "cols2": t = try t.view(s.dropLast() + [s[s.count - 1] / 2, 2]).select(-1, 0)
            case "rows2": t = try t.view(s.dropLast(2) + [s[s.count - 2] / 2, 2, s[s.count - 1]]).select(-2, 0)
            default: throw TensorError("golden", "unknown view step \(step)")
            }
        }
        return t
    }
}

@Suite struct GoldenTests {
    @Test func fileLoads() {
        #expect(Golden.cases.count > 100)
    }

    @Test(arguments: Golden.names)
    func golden(_ name: String) throws {
        let c = try #require(Golden.cases[name])
        let args = c["args"] as? [String: Any] ?? [:]
        let inputs = try (c["inputs"] as! [[String: Any]]).map(Golden.tensor)
        let expected = c["expected"] as! [[String: Any]]
        let outputs = try run(c["op"] as! String, args, inputs)
        try #require(outputs.count == expected.count, "\(name): \(outputs.count) outputs, expected \(expected.count)")
        let rtol = Golden.number(c["rtol"] as Any), atol = Golden.number(c["atol"] as Any)
        for (k, (out, want)) in zip(outputs, expected).enumerated() {
            #expect(out.shape == want["shape"] as! [Int], "\(name) output \(k): shape \(out.shape)")
            let values = (want["data"] as! [Any]).map(Golden.number)
            if want["dtype"] as? String == "i64" {
                #expect(out.dtype == .i64)
                #expect(out.toDoubles() == values, "\(name) output \(k)")
            } else {
                #expect(out.dtype == .f32)
                expectClose(out.toDoubles(), values, rtol: rtol, atol: atol, "\(name) output \(k)")
            }
        }
    }

    /// Runs the engine's version of a golden case's op.
    private func run(_ op: String, _ args: [String: Any], _ x: [Tensor]) throws -> [Tensor] {
        let dims = args["dims"] as? [Int]
        let keep = args["keepDim"] as? Bool ?? false
        let dim = args["dim"] as? Int
        switch op {
        case "sum": return [try x[0].sum(dims: dims, keepDim: keep)]
        case "mean": return [try x[0].mean(dims: dims, keepDim: keep)]
        case "var": return [try x[0].variance(dims: dims, correction: args["correction"] as! Int, keepDim: keep)]
        case "max_dim":
            let r = try x[0].max(dim: dim!, keepDim: keep)
            return [r.values, r.indices]
        case "min_dim":
            let r = try x[0].min(dim: dim!, keepDim: keep)
            return [r.values, r.indices]
        case "argmax": return [try x[0].argmax(dim: dim, keepDim: keep)]
        case "argmin": return [try x[0].argmin(dim: dim, keepDim: keep)]
        case "cumsum": return [try x[0].cumsum(dim!)]
        case "softmax": return [try x[0].softmax(dim!)]
        case "log_softmax": return [try x[0].logSoftmax(dim!)]
        case "logsumexp": return [try x[0].logsumexp(dims: dims!, keepDim: keep)]
        case "matmul": return [try x[0].matmul(x[1])]
        case "add_scalar": return [try x[0].add(Golden.number(args["value"]!))]
        case "topk":
            let r = try x[0].topk(args["k"] as! Int, dim: dim!, largest: args["largest"] as! Bool)
            return [r.values, r.indices]
        case "sort":
            let r = try x[0].sort(dim: dim!, descending: args["descending"] as! Bool)
            return [r.values, r.indices]
        case "kthvalue":
            let r = try x[0].kthvalue(args["k"] as! Int, dim: dim!)
            return [r.values, r.indices]
        case "layer_norm":
            let w = args["weight"] as? Bool == true ? x[1] : nil
            let b = args["bias"] as? Bool == true ? x[w == nil ? 1 : 2] : nil
            return [try x[0].layerNorm(weight: w, bias: b, eps: Golden.number(args["eps"]!))]
        default:
            if let b = BinaryOp(rawValue: op) { return [try x[0].binary(b, x[1])] }
            if let u = UnaryOp(rawValue: op) { return [try x[0].unary(u)] }
            throw TensorError("golden", "no engine op for '\(op)'")
        }
    }
}
