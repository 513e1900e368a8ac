// TestSupport: tensor builders, closeness checks, the TensorError check and the gradient check
// that every differentiable op is tested with; shared by the test targets.

import Testing
import TesseraTensor

// MARK: - building tensors

public func f32(_ values: [Float], _ shape: [Int]? = nil) throws -> Tensor { try Tensor.from(values, shape: shape) }
public func f64(_ values: [Double], _ shape: [Int]? = nil) throws -> Tensor { try Tensor.from(values, shape: shape) }
public func i64(_ values: [Int64], _ shape: [Int]? = nil) throws -> Tensor { try Tensor.from(values, shape: shape) }
public func bools(_ values: [Bool], _ shape: [Int]? = nil) throws -> Tensor { try Tensor.from(values, shape: shape) }

/// A gradient-check input: an f64 leaf that requires grad, standard normal, or uniform in
/// [low, high) when bounds are given. Each test names its seed, so every run sees the same values.
public func leaf(_ shape: [Int], seed: UInt64, low: Double? = nil, high: Double? = nil) throws -> Tensor {
    let g = Generator(seed: seed)
    let t =
        if let low, let high {
            try Tensor.rand(shape, low: low, high: high, dtype: .f64, generator: g)
        } else {
            try Tensor.randn(shape, dtype: .f64, generator: g)
        }
    return try t.requiresGrad(true)
}

// MARK: - checks

/// Whether `a` is within `atol + rtol·|b|` of `b`; NaN matches NaN and an infinity matches itself.
public func isClose(_ a: Double, _ b: Double, rtol: Double, atol: Double) -> Bool {
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
    if a.isInfinite || b.isInfinite { return a == b }
    return Swift.abs(a - b) <= atol + rtol * Swift.abs(b)
}

/// Expects `actual` to match `expected` elementwise (same count), reporting the first mismatch.
public func expectClose(
    _ actual: [Double], _ expected: [Double], rtol: Double = 1e-5, atol: Double = 1e-6,
    _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation
) {
    guard actual.count == expected.count else {
        Issue.record("\(what) has \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    for j in 0..<actual.count where !isClose(actual[j], expected[j], rtol: rtol, atol: atol) {
        Issue.record("\(what) element \(j): \(actual[j]), expected \(expected[j])", sourceLocation: sourceLocation)
        return
    }
}

/// Expects `t` to have `shape` and values close to `expected`.
public func expectTensor(
    _ t: Tensor, _ shape: [Int], _ expected: [Double], rtol: Double = 1e-5, atol: Double = 1e-6,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(t.shape == shape, sourceLocation: sourceLocation)
    expectClose(t.toDoubles(), expected, rtol: rtol, atol: atol, "tensor", sourceLocation: sourceLocation)
}

/// Expects `body` to throw a TensorError (from `op`, when given): bad input must never trap.
public func expectTensorError(_ op: String? = nil, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Any) {
    do {
        let result = try body()
        Issue.record("expected a TensorError\(op.map { " from \($0)" } ?? ""), got \(result)", sourceLocation: sourceLocation)
    } catch let error as TensorError {
        if let op { #expect(error.op == op, "\(error)", sourceLocation: sourceLocation) }
        #expect(!error.message.isEmpty, sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a TensorError, got \(error)", sourceLocation: sourceLocation)
    }
}

// MARK: - gradient check

/// Checks backward() of `f` against central finite differences, in Float64. `inputs` are
/// contiguous f64 leaves that require grad; the checked scalar is sum(f(inputs) · w) for fixed
/// random weights w, so every output element's gradient matters with its own weight.
public func gradCheck(
    _ f: ([Tensor]) throws -> Tensor, _ inputs: [Tensor], atol: Double = 1e-6, rtol: Double = 1e-5,
    eps: Double = 1e-6, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    if let mismatch = try gradMismatch(f, inputs, atol: atol, rtol: rtol, eps: eps) {
        Issue.record(Comment(rawValue: mismatch), sourceLocation: sourceLocation)
    }
}

/// The first disagreement between backward() and finite differences, or nil (gradCheck's work).
public func gradMismatch(_ f: ([Tensor]) throws -> Tensor, _ inputs: [Tensor], atol: Double, rtol: Double, eps: Double) throws -> String? {
    for x in inputs {
        guard x.dtype == .f64 && x.requiresGrad && x.isLeaf && x.isContiguous else {
            return "gradCheck inputs are contiguous f64 leaves that require grad"
        }
        x.grad = nil
    }
    let out = try f(inputs)
    guard out.dtype == .f64 && out.requiresGrad else { return "f gives a \(out.dtype) result without grad history" }
    let weights = try Tensor.randn(out.shape, dtype: .f64, generator: Generator(seed: 0xC0FFEE))
    try out.mul(weights).sum().backward()
    func loss() throws -> Double { try noGrad { try f(inputs).mul(weights).sum().item() } }

    for (n, x) in inputs.enumerated() {
        if let g = x.grad, g.shape != x.shape || g.dtype != .f64 {
            return "gradient of input \(n) has shape \(g.shape) and dtype \(g.dtype)"
        }
        let analytic = x.grad?.toDoubles() ?? [Double](repeating: 0, count: x.numel)
        for j in 0..<x.numel {
            let v = try x.element(unflatten(j, x.shape))
            x.setFlat(j, v + eps)
            let up = try loss()
            x.setFlat(j, v - eps)
            let down = try loss()
            x.setFlat(j, v)
            let numeric = (up - down) / (2 * eps)
            if !isClose(analytic[j], numeric, rtol: rtol, atol: atol) {
                return "input \(n) element \(j): backward gives \(analytic[j]), finite differences \(numeric)"
            }
        }
    }
    return nil
}

/// the multi-index of row-major position j in `shape`
func unflatten(_ j: Int, _ shape: [Int]) -> [Int] {
    var rem = j
    var idx = [Int](repeating: 0, count: shape.count)
    for d in stride(from: shape.count - 1, through: 0, by: -1) {
        idx[d] = rem % shape[d]
        rem /= shape[d]
    }
    return idx
}
