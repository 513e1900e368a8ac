// SafetyTests: inputs that once trapped or silently misbehaved (found in code review) now throw
// or give the right answer.

import Testing
#if canImport(Glibc)
    import Glibc
#endif
@testable import TesseraTensor
import TesseraTestSupport

@Suite struct SafetyTests {
    @Test func zeroSizedShapeWithHugeOtherSizesThrows() {
        expectTensorError { try Tensor.zeros([0, 1 << 40, 1 << 40]) }
    }

    @Test func allocationBeyondMachineMemoryThrows() {
        expectTensorError { try Tensor.empty([1 << 40], dtype: .f64) }
    }

    @Test func varianceWithAbsurdCorrectionDoesNotTrap() throws {
        let v = try f32([1, 2, 3]).variance(correction: Int.min)
        #expect(try v.item().isFinite)
    }

    @Test func formattingExtremeIntegersDoesNotTrap() throws {
        let t = try Tensor.full([2], 1e19, dtype: .i64)
        #expect(t.description.contains(String(Int64.max)))
        #expect(!t.format(threshold: 0, edgeItems: -1).isEmpty)
        #expect(!t.format(threshold: 0, edgeItems: Int.max).isEmpty)
    }

    @Test func integerTensorKeepsOnlyScalarsItHolds() throws {
        let b = try bools([true, false])
        #expect(try b.add(2).toDoubles() == [3, 2])
        #expect(try b.eq(2).toDoubles() == [0, 0])
        let i = try Tensor.from([1, 2] as [Int32])
        #expect(try i.add(3e9).toDoubles() == [3_000_000_001, 3_000_000_002])
    }

    @Test func copyIntoOverlappingViewShifts() throws {
        let x = try f32([1, 2, 3, 4, 5])
        try x.narrow(0, 1, 4).copy_(x.narrow(0, 0, 4))
        #expect(try x.toArray(Float.self) == [1, 1, 2, 3, 4])
    }

    @Test func copyIntoExpandedTensorThrows() throws {
        let x = try f32([1, 2, 3])
        expectTensorError("copy_") { try x.expand([4, 3]).copy_(try Tensor.ones([4, 3])) }
    }

    @Test func leafGradientsOwnTheirMemory() throws {
        let a = try leaf([3], seed: 1), b = try leaf([3], seed: 2)
        let seed = try Tensor.ones([3], dtype: .f64)
        try a.add(b).backward(seed)
        let ga = try #require(a.grad), gb = try #require(b.grad)
        #expect(ga.storage !== gb.storage && ga.storage !== seed.storage)
        ga.fill_(7)
        #expect(try gb.toDoubles() == [1, 1, 1] && seed.toDoubles() == [1, 1, 1])
    }
}

@Suite struct HalfPrecisionTests {
    @Test func halfFormatsRoundTripExactlyRepresentableValues() throws {
        let values: [Float] = [0, -0.0, 1, -2.5, 65504, 6.103515625e-05, 5.960464477539063e-08, .infinity]
        for format in [HalfFormat.f16, .bf16] {
            let x = try f32(format == .f16 ? values : [0, 1, -2.5, 3.3895313892515355e38, .infinity, -1.1754943508222875e-38])
            let bits = try x.toHalf(format)
            let back = try bits.withUnsafeBufferPointer { try Tensor.fromHalf($0, format: format, shape: x.shape) }
            #expect(try back.toArray(Float.self) == x.toArray(Float.self), "\(format)")
        }
    }

    @Test func halfRoundsToNearestEvenAndKnownBitPatterns() throws {
        #expect(halfBits(1.0) == 0x3C00)
        #expect(halfBits(1.0 + 1.0 / 2048) == 0x3C00)  // halfway: ties to even
        #expect(halfBits(1e6) == 0x7C00)  // overflow to infinity
        #expect(bfloat16Bits(1.0) == 0x3F80)
        #expect(floatFromHalfBits(0x0001) == 5.960464477539063e-08)
        #expect(floatFromHalfBits(0x7E00).isNaN)
    }

    @Test func wrongCountThrows() {
        let bits: [UInt16] = [0, 0, 0]
        expectTensorError("from_half") { try bits.withUnsafeBufferPointer { try Tensor.fromHalf($0, format: .f16, shape: [2, 2]) } }
    }
}

@Suite struct BLASKernelTests {
    @Test func kernelsAreNotGenericWhenTheCPUHasBetter() {
        // either OpenBLAS chose well, or it is told which kernels to use (scripts/test passes on
        // the tessera binary's choice), or this CPU has no AVX2 at all
        let flags = BLASKernels.cpuFlags()
        if flags.contains("avx2") && flags.contains("fma") && getenv("OPENBLAS_CORETYPE") == nil {
            #expect(BLASKernels.coreName != "Prescott" || BLASKernels.betterCoreType() != nil)
        }
        #expect(!BLASKernels.coreName.isEmpty)
    }
}

@Suite struct EmbeddingIdTests {
    @Test func negativeIdsAreErrorsNotCountsFromTheEnd() throws {
        let table = try Tensor.randn([10, 4])
        expectTensorError("embedding") { try table.embedding(try i64([2, -1])) }
        #expect(try table.embedding(try i64([9])).shape == [1, 4])
    }
}
