// AutogradTests: the tape itself: accumulation, retained and freed graphs, seeds, noGrad, detach,
// leaves, and grad mode being per thread.

import Foundation
import Testing
@testable import TesseraTensor
import TesseraTestSupport

@Suite struct AutogradTests {
    @Test func gradientsAccumulateOverBackwardCalls() throws {
        let x = try f64([1, -2, 3]).requiresGrad(true)
        try x.mul(x).sum().backward()
        expectTensor(try #require(x.grad), [3], [2, -4, 6])
        try x.mul(3).sum().backward()
        expectTensor(try #require(x.grad), [3], [5, -1, 9])
    }

    @Test func backwardReleasesEachIntermediateOnceItsNodeHasRun() throws {
        // x -> a (a custom op that looks back) -> b -> c: when a's node runs, last, b and the
        // tensors its node kept must already be gone, as torch frees saved activations layer by layer
        let x = try f64([1, 2, 3]).requiresGrad(true)
        weak var weakB: Tensor?
        var bAliveInA: Bool?
        let a = try x.mul(1).detach().withGradient(from: [x], op: "probe") { g in
            bAliveInA = weakB != nil
            return [g]
        }
        var c: Tensor
        do {
            let b = try a.mul(2)
            weakB = b
            c = try b.mul(3).sum()
        }
        try c.backward()
        #expect(bAliveInA == false)
        expectTensor(try #require(x.grad), [3], [6, 6, 6])
    }

    @Test func sharedInputsAndSubexpressionsSumTheirGradients() throws {
        let x = try f64([2, 5]).requiresGrad(true)
        let h = try x.mul(x)
        // y = h + h·x = x² + x³
        try h.add(h.mul(x)).sum().backward()
        expectTensor(try #require(x.grad), [2], [2 * 2 + 3 * 4, 2 * 5 + 3 * 25])
    }

    @Test func retainGraphAllowsASecondBackward() throws {
        let x = try f64([1, 2]).requiresGrad(true)
        let y = try x.exp().sum()
        try y.backward(retainGraph: true)
        try y.backward()
        expectTensor(try #require(x.grad), [2], [2 * Foundation.exp(1.0), 2 * Foundation.exp(2.0)], rtol: 1e-12)
    }

    @Test func secondBackwardWithoutRetainGraphThrows() throws {
        let x = try f64([1, 2]).requiresGrad(true)
        let y = try x.exp().sum()
        try y.backward()
        expectTensorError("backward") { try y.backward() }
        // the leaf keeps the gradient of the first call
        expectTensor(try #require(x.grad), [2], [Foundation.exp(1.0), Foundation.exp(2.0)], rtol: 1e-12)
    }

    @Test func nonScalarBackwardNeedsAGradientOfItsShape() throws {
        let x = try f64([1, 2, 3, 4], [2, 2]).requiresGrad(true)
        let y = try x.mul(2)
        expectTensorError("backward") { try y.backward() }
        expectTensorError("backward") { try y.backward(f64([1, 1])) }
        try y.backward(f64([1, 0, 0.5, -1], [2, 2]))
        expectTensor(try #require(x.grad), [2, 2], [2, 0, 1, -2])
    }

    @Test func backwardSeedInAnotherDtypeIsConverted() throws {
        let x = try f64([1, 2]).requiresGrad(true)
        try x.mul(x).backward(f32([1, 1]))
        #expect(x.grad?.dtype == .f64)
        expectTensor(try #require(x.grad), [2], [2, 4])
    }

    @Test func backwardWithoutHistoryThrows() throws {
        expectTensorError("backward") { try f64([1, 2]).sum().backward() }
    }

    @Test func noGradRecordsNothing() throws {
        let x = try f64([1, 2]).requiresGrad(true)
        let y = try noGrad { try x.mul(2).exp() }
        #expect(!y.requiresGrad)
        #expect(y.isLeaf)
        #expect(GradMode.isEnabled)
        let z = try x.mul(2)
        #expect(z.requiresGrad && !z.isLeaf)
    }

    @Test func noGradRestoresModeAfterAThrow() throws {
        #expect(throws: TensorError.self) { try noGrad { try f64([1, 2]).add(f64([1, 2, 3])) } }
        #expect(GradMode.isEnabled)
    }

    @Test func gradModeIsPerThread() throws {
        // another thread records while this one is inside noGrad (backward runs under noGrad too)
        var recorded = false
        noGrad {
            let done = DispatchSemaphore(value: 0)
            let thread = Thread {
                recorded = (try? f64([1]).requiresGrad(true).mul(2).requiresGrad) ?? false
                done.signal()
            }
            thread.start()
            done.wait()
        }
        #expect(recorded)
    }

    @Test func detachSharesStorageButNotHistory() throws {
        let x = try f64([1, 2, 3]).requiresGrad(true)
        let y = try x.mul(2)
        let d = y.detach()
        #expect(!d.requiresGrad && d.isLeaf)
        #expect(d.storage === y.storage)
        try d.mul(x).sum().backward()
        expectTensor(try #require(x.grad), [3], [2, 4, 6])
    }

    @Test func leavesAndNonLeaves() throws {
        let x = try f64([1, 2]).requiresGrad(true)
        let y = try x.mul(x)
        #expect(x.isLeaf && !y.isLeaf)
        #expect(y.requiresGrad)
        expectTensorError("requires_grad") { try y.requiresGrad(false) }
        expectTensorError("requires_grad") { try i64([1, 2]).requiresGrad(true) }
        try y.sum().backward()
        #expect(y.grad == nil)
        #expect(x.grad != nil)
        // a leaf that does not require grad gets no gradient
        let c = try f64([3, 4])
        try x.mul(c).sum().backward()
        #expect(c.grad == nil)
    }

    @Test func integerResultsCarryNoHistory() throws {
        let x = try f64([0.5, 2.5]).requiresGrad(true)
        #expect(!(try x.gt(1).requiresGrad))
        #expect(!(try x.argmax().requiresGrad))
        #expect(!(try x.to(.i64).requiresGrad))
    }

    @Test func mixedDtypeInputsGetGradientsInTheirOwnDtype() throws {
        let a = try f32([1, 2]).requiresGrad(true)
        let b = try f64([3]).requiresGrad(true)
        try Tensor.cat([a, b]).mul(f64([1, 2, 3])).sum().backward()
        #expect(a.grad?.dtype == .f32 && b.grad?.dtype == .f64)
        expectTensor(try #require(a.grad), [2], [1, 2])
        expectTensor(try #require(b.grad), [1], [3])

        let x = try f64([1, 2, 4, 3, 0, -1], [2, 3]).requiresGrad(true)
        let w = try f32([1, 2, 3]).requiresGrad(true)
        try x.layerNorm(weight: w, bias: nil).sum().backward()
        #expect(w.grad?.dtype == .f32)
    }

    @Test func tiesSplitTheGradientOfMaximumAndMinimum() throws {
        let a = try f64([1, 2, 3]).requiresGrad(true), b = try f64([1, 5, 0]).requiresGrad(true)
        try a.maximum(b).sum().backward()
        expectTensor(try #require(a.grad), [3], [0.5, 0, 1])
        expectTensor(try #require(b.grad), [3], [0.5, 1, 0])
    }

    @Test func gradCheckCatchesAWrongGradient() throws {
        // detach hides one factor from backward: d(x·x)/dx is 2x, backward sees x
        let mismatch = try gradMismatch({ try $0[0].detach().mul($0[0]) }, [leaf([3], seed: 401)], atol: 1e-6, rtol: 1e-5, eps: 1e-6)
        #expect(mismatch?.hasPrefix("input 0 element 0") == true)
        #expect(try gradMismatch({ try $0[0].mul($0[0]) }, [leaf([3], seed: 401)], atol: 1e-6, rtol: 1e-5, eps: 1e-6) == nil)
    }

    @Test func f32GradientsMatchF64() throws {
        let x64 = try leaf([3, 5], seed: 400)
        let x32 = try x64.detach().to(.f32).requiresGrad(true)
        for x in [x64, x32] { try x.softmax(-1).mul(x.tanh()).sum().backward() }
        expectClose(try #require(x32.grad).toDoubles(), try #require(x64.grad).toDoubles(), rtol: 1e-4, atol: 1e-6)
    }
}

@Suite struct GraphLifetimeTests {
    /// A graph that backward() never consumes (evaluation without noGrad) must be freed with its
    /// result: gradient closures get the op's output as an argument instead of capturing it.
    @Test func anUnusedGraphIsFreedWithItsResult() throws {
        let w = try leaf([4, 4], seed: 3)
        weak var weakOut: Tensor?
        weak var weakInner: Tensor?
        do {
            let inner = try w.exp().tanh()
            let out = try inner.softmax(-1).div(inner.add(2)).sigmoid().sum()
            weakOut = out
            weakInner = inner
            #expect(weakOut != nil && weakInner != nil)
        }
        #expect(weakOut == nil, "the result of an unused graph leaked")
        #expect(weakInner == nil, "an intermediate of an unused graph leaked")
    }
}
