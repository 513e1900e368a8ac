// OptimizerTests: one or two steps of SGD, Adam and AdamW against torch's formulas (computed in
// NumPy, quoted), parameter groups, schedules, clipping, accumulation and state save/load.

import Foundation
import Testing
@testable import TesseraTensor
@testable import TesseraNN

/// a parameter with a fixed gradient
private func param(_ values: [Double], grad: [Double], dtype: DType = .f64) throws -> Tensor {
    let p = try Tensor.from(values).to(dtype).requiresGrad(true)
    p.grad = try Tensor.from(grad).to(dtype)
    return p
}

@Suite struct OptimizerTests {
    @Test func sgdMatchesTorch() throws {
        // p = [1, -2], grad = [0.5, 0.5], lr 0.1
        let a = try param([1, -2], grad: [0.5, 0.5])
        try SGD([("a", a)], lr: 0.1, weightDecay: 0.1).step()
        expectClose(a.toDoubles(), [0.94, -2.03], rtol: 1e-12)

        let b = try param([1, -2], grad: [0.5, 0.5])
        let nesterov = try SGD([("b", b)], lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.1)
        try nesterov.step(); try nesterov.step()
        expectClose(b.toDoubles(), [0.7255659999999999, -2.137217], rtol: 1e-12)

        // dampening applies from the second step on, as in torch
        let c = try param([1, -2], grad: [0.5, 0.5], dtype: .f32)
        let damped = try SGD([("c", c)], lr: 0.1, momentum: 0.9, dampening: 0.5)
        try damped.step(); try damped.step()
        expectClose(c.toDoubles(), [0.88, -2.12], rtol: 1e-6)
        expectTensorError("SGD") { try SGD([("c", c)], lr: 0.1, nesterov: true) }
    }

    @Test func adamAndDecoupledAdamW() throws {
        let a = try param([1, -2], grad: [0.5, -0.25])
        let adam = try Adam([("a", a)], lr: 0.1, weightDecay: 0.1)
        try adam.step(); try adam.step()
        expectClose(a.toDoubles(), [0.8000473404883315, -1.800064887431148], rtol: 1e-12)

        let w = try param([1, -2], grad: [0.5, -0.25], dtype: .f32)
        let adamw = try AdamW([("w", w)], lr: 0.1, weightDecay: 0.1)
        try adamw.step(); try adamw.step()
        expectClose(w.toDoubles(), [0.7811000039800006, -1.7612000079600003], rtol: 1e-6)

        // decoupled: with a zero gradient AdamW still shrinks the weight by lr·wd, Adam's L2 term
        // instead goes through the normalised update (a full lr-sized step)
        let z = try param([2], grad: [0])
        try AdamW([("z", z)], lr: 0.1, weightDecay: 0.5).step()
        expectClose(z.toDoubles(), [2 * (1 - 0.1 * 0.5)], rtol: 1e-12)
        let l2 = try param([2], grad: [0])
        try Adam([("l2", l2)], lr: 0.1, weightDecay: 0.5).step()
        expectClose(l2.toDoubles(), [2 - 0.1], rtol: 1e-6)
    }

    @Test func parameterGroupsAndSkippedParameters() throws {
        let a = try param([1], grad: [1]), b = try param([1], grad: [1])
        let idle = try Tensor.from([5.0]).requiresGrad(true)
        let opt = try SGD(groups: [
            ParameterGroup([("a", a), ("idle", idle)], OptimizerOptions(lr: 0.1)),
            ParameterGroup([("b", b)], OptimizerOptions(lr: 0.01)),
        ])
        try opt.step()
        expectClose(a.toDoubles() + b.toDoubles() + idle.toDoubles(), [0.9, 0.99, 5], rtol: 1e-12)
        opt.zeroGrad()
        #expect(a.grad == nil && b.grad == nil)
        expectTensorError("optimizer") { try SGD([("a", a), ("a", b)], lr: 0.1) }
    }

    @Test func schedules() throws {
        let lin = LRSchedule.linear(warmup: 2, total: 6)
        expectClose((0...7).map { lin.factor(at: $0) }, [0, 0.5, 1, 0.75, 0.5, 0.25, 0, 0], rtol: 1e-12)
        let cos = LRSchedule.cosine(warmup: 1, total: 5, minFactor: 0.1)
        expectClose(
            (0...6).map { cos.factor(at: $0) },
            [
                0, 1, 0.1 + 0.9 * 0.5 * (1 + Foundation.cos(Double.pi / 4)), 0.55,
                0.1 + 0.9 * 0.5 * (1 + Foundation.cos(3 * Double.pi / 4)), 0.1, 0.1,
            ], rtol: 1e-12)
        #expect(LRSchedule.constant(warmup: 4).factor(at: 1) == 0.25 && LRSchedule.constant().factor(at: 0) == 1)
        // the optimizer applies the factor of its step count
        let p = try param([0], grad: [1])
        let opt = try SGD([("p", p)], lr: 1)
        opt.schedule = .linear(warmup: 2, total: 4)
        for _ in 0..<4 { try opt.step() }
        expectClose(p.toDoubles(), [-(0 + 0.5 + 1 + 0.5)], rtol: 1e-12)
        #expect(opt.learningRate() == 0)
    }

    @Test func clippingScalesAllGradientsTogether() throws {
        let a = try param([0, 0], grad: [3, 0]), b = try param([0], grad: [4], dtype: .f32)
        let norm = try clipGradNorm([a, b], maxNorm: 1)
        #expect(abs(norm - 5) < 1e-12)
        expectClose(try a.grad!.toDoubles() + b.grad!.toDoubles(), [0.6, 0, 0.8], rtol: 1e-5)
        #expect(abs(try clipGradNorm([a, b], maxNorm: 10) - 1) < 1e-5)  // under the limit: unchanged
        expectClose(try a.grad!.toDoubles(), [0.6, 0], rtol: 1e-5)
    }

    @Test func gradientAccumulationIsSummedGradients() throws {
        // two backward passes before a step add up, so one step sees the sum
        let l = try Linear(2, 1, generator: Generator(seed: 40))
        let x1 = try f32([1, 2], [1, 2]), x2 = try f32([-1, 0.5], [1, 2])
        try l(x1).sum().backward()
        try l(x2).sum().backward()
        expectClose(try l.weight.grad!.toDoubles(), [0, 2.5], rtol: 1e-6)
    }

    @Test func stateSavesAndLoads() throws {
        let model = try Linear(3, 2, generator: Generator(seed: 41))
        let twin = try Linear(3, 2, generator: Generator(seed: 41))
        let x = try Tensor.randn([4, 3], generator: Generator(seed: 42))
        let opt = try AdamW(model.trainableParameters(), lr: 0.01)
        opt.schedule = .cosine(warmup: 1, total: 10)
        for _ in 0..<2 {
            opt.zeroGrad(); try model(x).square().sum().backward(); try opt.step()
        }
        let saved = try opt.stateDict()
        #expect(Set(saved.keys) == ["step", "weight.step", "weight.exp_avg", "weight.exp_avg_sq", "bias.step", "bias.exp_avg", "bias.exp_avg_sq"])
        // a fresh optimizer on a copy of the model continues exactly where the first left off
        try twin.loadStateDict(model.stateDict())
        let resumed = try AdamW(twin.trainableParameters(), lr: 0.01)
        resumed.schedule = .cosine(warmup: 1, total: 10)
        try resumed.loadStateDict(saved)
        for (m, o) in [(model, opt), (twin, resumed)] {
            o.zeroGrad(); try m(x).square().sum().backward(); try o.step()
        }
        #expect(try model.weight.toDoubles() == twin.weight.toDoubles())
        var bad = saved
        bad["weight.exp_avg"] = try Tensor.zeros([3])
        expectTensorError("optimizer_load") { try resumed.loadStateDict(bad) }
        bad = saved
        bad["other.exp_avg"] = try Tensor.zeros([3])
        expectTensorError("optimizer_load") { try resumed.loadStateDict(bad) }
    }

    @Test func aTinyModelLearns() throws {
        // y = 2x - 1 from four points: 300 AdamW steps with warm-up, linear decay and clipping
        let l = try Linear(1, 1, generator: Generator(seed: 43))
        let x = try f32([0, 1, 2, 3], [4, 1]), y = try f32([-1, 1, 3, 5], [4, 1])
        let opt = try AdamW(l.trainableParameters(), lr: 0.1, weightDecay: 0)
        opt.schedule = .linear(warmup: 5, total: 300)
        var loss = 0.0
        for _ in 0..<300 {
            opt.zeroGrad()
            let lv = try mseLoss(l(x), y)
            try lv.backward()
            try opt.clipGradNorm(maxNorm: 5)
            try opt.step()
            loss = try lv.item()
        }
        #expect(loss < 1e-3)
    }
}
