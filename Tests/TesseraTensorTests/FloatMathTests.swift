// FloatMathTests: the branch-free f32 exp, tanh and erfc against libm's f64 versions.

import Foundation
import Testing
@testable import TesseraTensor
import TesseraTestSupport

@Suite struct FloatMathTests {
    /// max relative error of f over x in [lo, hi] against the f64 reference
    func maxRelativeError(_ lo: Double, _ hi: Double, _ f: (Float) -> Float, _ ref: (Double) -> Double) -> Double {
        var worst = 0.0
        for i in 0...20_000 {
            let x = Float(lo + (hi - lo) * Double(i) / 20_000)
            let want = ref(Double(x))
            guard want != 0, want.isFinite, want.magnitude > 1e-37 else { continue }
            worst = max(worst, abs(Double(f(x)) - want) / abs(want))
        }
        return worst
    }

    @Test func expIsAccurateToAFewUlp() {
        #expect(maxRelativeError(-87, 88, Float.exp, Foundation.exp) < 3e-7)
        #expect(Float.exp(-.infinity) == 0 && Float.exp(-100) == 0)
        #expect(Float.exp(.infinity) == .infinity && Float.exp(100) == .infinity)
        #expect(Float.exp(.nan).isNaN)
    }

    @Test func tanhKeepsRelativeAccuracyNearZero() {
        #expect(maxRelativeError(-1e-3, 1e-3, Float.tanh, Foundation.tanh) < 3e-7)
        #expect(maxRelativeError(-20, 20, Float.tanh, Foundation.tanh) < 1e-6)
    }

    @Test func erfcIsAccurateInRelativeTermsIntoTheTail() {
        #expect(maxRelativeError(-4, 4, Float.erfc, Foundation.erfc) < 2e-6)
        // beyond, rounding x² to f32 inside exp(-x²) dominates: still ~1e-5 where erfc is 1e-37
        #expect(maxRelativeError(4, 9, Float.erfc, Foundation.erfc) < 2e-5)
    }
}

@Suite struct NormalSamplingTests {
    @Test func logAndSinCosKernelsAreAccurate() {
        var worstLog = 0.0, worstTrig = 0.0
        for i in 1...20_000 {
            let u = Float(i) / 20_000
            worstLog = max(worstLog, abs(Double(logUnit(u)) - Foundation.log(Double(u))))
            let (s, c) = sinCosTurns(u - 1.0 / 20_000)
            let angle = 2 * Double.pi * Double(u - 1.0 / 20_000)
            worstTrig = max(worstTrig, abs(Double(s) - Foundation.sin(angle)), abs(Double(c) - Foundation.cos(angle)))
        }
        #expect(worstLog < 5e-7)
        #expect(worstTrig < 1e-6)
        #expect(logUnit(Float.leastNormalMagnitude).isFinite)
    }

    @Test func f32NormalsHaveTheRightMomentsAndTails() throws {
        let x = try Tensor.randn([200_001], generator: Generator(seed: 11))
        let v = try x.toArray(Float.self).map(Double.init)
        let mean = v.reduce(0, +) / Double(v.count)
        let variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count - 1)
        let beyond2 = Double(v.filter { abs($0) > 2 }.count) / Double(v.count)
        #expect(abs(mean) < 0.01 && abs(variance - 1) < 0.02)
        #expect(abs(beyond2 - 0.0455) < 0.003, "P(|z| > 2) = \(beyond2)")
    }
}
