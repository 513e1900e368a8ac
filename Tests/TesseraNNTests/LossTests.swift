// LossTests: fused cross-entropy (ignore index, label smoothing, reductions), MSE, and the
// distillation losses; values from NumPy (quoted) and Float64 gradient checks.

import Testing
@testable import TesseraTensor
@testable import TesseraNN

@Suite struct LossTests {
    let logits: [Double] = [1, 2, 0.5, 0, -1, 3, 2, 2, 2, 0.3, 0.1, -0.2]
    let targets: [Int64] = [1, 2, -100, 0]

    @Test func crossEntropyValues() throws {
        let x = try f32(logits.map { Float($0) }, [4, 3]), t = try i64(targets)
        // numpy: mean over the 3 counted rows of -log_softmax(x)[t]
        expectTensor(try crossEntropy(x, t), [], [0.4720640018446099], rtol: 1e-5)
        expectTensor(try crossEntropy(x, t, reduction: .sum), [], [1.4161920055338297], rtol: 1e-5)
        expectTensor(try crossEntropy(x, t, reduction: .none), [4], [0.4643687841079449, 0.06588390375742911, 0, 0.8859393176684557], rtol: 1e-5)
        // label smoothing 0.1: -(0.9·logp[t] + 0.1·mean(logp))
        expectTensor(try crossEntropy(x, t, labelSmoothing: 0.1), [], [0.5853973351779432], rtol: 1e-5)
        // leading dims flatten: (2, 2, 3) logits with (2, 2) targets
        expectTensor(try crossEntropy(x.reshape([2, 2, 3]), t.reshape([2, 2])), [], [0.4720640018446099], rtol: 1e-5)
        // nothing counted: NaN, as torch
        #expect(try crossEntropy(x, i64([-100, -100, -100, -100])).item().isNaN)
    }

    @Test func crossEntropyGradients() throws {
        let t = try i64(targets)
        for smoothing in [0, 0.2] {
            for reduction in [LossReduction.mean, .sum, .none] {
                try gradCheck({ try crossEntropy($0[0], t, labelSmoothing: smoothing, reduction: reduction) }, [leaf([4, 3], seed: 20)])
            }
        }
        // the gradient is softmax - onehot, divided by the count
        let x = try f64(logits, [4, 3]).requiresGrad(true)
        try crossEntropy(x, t).backward()
        let expected = try x.detach().softmax(-1).sub(t.clamp(min: 0).oneHot(3).to(.f64)).div(3)
            .mul(f64([1, 1, 0, 1], [4, 1]))
        expectTensor(try #require(x.grad), [4, 3], expected.toDoubles(), rtol: 1e-12, atol: 1e-15)
        // a wide row exercises the 16-lane sums
        try gradCheck({ try crossEntropy($0[0], i64([3, 40]), labelSmoothing: 0.1) }, [leaf([2, 41], seed: 21)])
    }

    @Test func crossEntropyErrors() throws {
        let x = try Tensor.zeros([2, 3])
        expectTensorError("cross_entropy") { try crossEntropy(x, i64([0, 3])) }
        expectTensorError("cross_entropy") { try crossEntropy(x, i64([0, 1, 2])) }
        expectTensorError("cross_entropy") { try crossEntropy(x, f32([0, 1])) }
        expectTensorError("cross_entropy") { try crossEntropy(x, i64([0, 1]), labelSmoothing: 2) }
        expectTensorError("cross_entropy") { try crossEntropy(x, i64([0, -100]), ignoreIndex: nil) }
    }

    @Test func mse() throws {
        expectTensor(try mseLoss(f32([1, 2, 3]), f32([1, 0, 0])), [], [13.0 / 3], rtol: 1e-6)
        expectTensor(try mseLoss(f32([1, 2, 3]), f32([1, 0, 0]), reduction: .sum), [], [13])
        try gradCheck({ try mseLoss($0[0], $0[1]) }, [leaf([2, 3], seed: 22), leaf([2, 3], seed: 23)])
        expectTensorError("mse_loss") { try mseLoss(f32([1]), f32([1, 2])) }
    }

    @Test func distillationLosses() throws {
        let s = try f64([1, 2, 0.5, 0, -1, 3], [2, 3]), te = try f64([0.5, 1.5, 0, 1, 0, 2], [2, 3])
        // numpy, T = 2: kl_div(log_softmax(s/T), softmax(t/T), 'batchmean')·T², and -Σ p_t log p_s / rows · T²
        expectTensor(try klDivergence(student: s, teacher: te, temperature: 2), [], [0.2392113010635158], rtol: 1e-10)
        expectTensor(try softCrossEntropy(student: s, teacher: te, temperature: 2), [], [4.3758547313615], rtol: 1e-10)
        #expect(try klDivergence(student: s, teacher: s).item().magnitude < 1e-12)
        let teacher = try leaf([3, 4], seed: 24)
        try gradCheck({ try klDivergence(student: $0[0], teacher: teacher, temperature: 3) }, [leaf([3, 4], seed: 25)])
        try gradCheck({ try softCrossEntropy(student: $0[0], teacher: teacher, temperature: 0.5) }, [leaf([3, 4], seed: 26)])
        // the teacher gets no gradient
        let st = try leaf([3, 4], seed: 27)
        teacher.grad = nil
        try klDivergence(student: st, teacher: teacher).backward()
        #expect(teacher.grad == nil && st.grad != nil)
        expectTensorError("kl_div") { try klDivergence(student: s, teacher: te, temperature: 0) }
        expectTensorError("soft_cross_entropy") { try softCrossEntropy(student: s, teacher: te.t()) }
    }
}
