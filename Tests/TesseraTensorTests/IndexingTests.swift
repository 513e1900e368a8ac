// IndexingTests: gather, scatter, scatter_add, index_select, index_add, masked_fill, masked_select
// and one_hot against values worked out by hand (indices are 0-based on the Swift side).

import Testing
@testable import TesseraTensor
import TesseraTestSupport

@Suite struct IndexingTests {
    let x = try! f32([0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23], [3, 4])

    @Test func gatherAlongEachDim() throws {
        expectTensor(try x.gather(1, i64([3, 0, 1, 1, 2, 0], [3, 2])), [3, 2], [3, 0, 11, 11, 22, 20])
        expectTensor(try x.gather(0, i64([2, 0, 1, 0], [1, 4])), [1, 4], [20, 1, 12, 3])
        // negative indices count from the end; i32 indices work too
        expectTensor(try x.gather(1, i64([-1, -4, 0], [3, 1])), [3, 1], [3, 10, 20])
        expectTensor(try x.gather(1, Tensor.from([2, 2, 2] as [Int32], shape: [3, 1])), [3, 1], [2, 12, 22])
        // from a strided view
        expectTensor(try x.t().gather(1, i64([2, 0], [2, 1])), [2, 1], [20, 1])
    }

    @Test func scatterWritesACopy() throws {
        let out = try x.scatter(1, i64([0, 3, 1, 1], [2, 2]), f32([-1, -2, -3, -4], [2, 2]))
        // repeated positions: the last write wins
        expectTensor(out, [3, 4], [-1, 1, 2, -2, 10, -4, 12, 13, 20, 21, 22, 23])
        #expect(try x.element([0, 0]) == 0)
        expectTensor(try x.scatter(0, i64([2, 1], [1, 2]), value: 7), [3, 4], [0, 1, 2, 3, 10, 7, 12, 13, 7, 21, 22, 23])
        // the source may be larger than the index
        expectTensor(try Tensor.zeros([2, 2]).scatter(1, i64([1, 0], [2, 1]), f32([5, 6, 7, 8], [2, 2])), [2, 2], [0, 5, 7, 0])
    }

    @Test func scatterAddAccumulatesRepeats() throws {
        let out = try Tensor.zeros([2, 3]).scatterAdd(1, i64([0, 0, 2, 1, 1, 1], [2, 3]), f32([1, 2, 3, 4, 5, 6], [2, 3]))
        expectTensor(out, [2, 3], [3, 0, 3, 0, 15, 0])
        let ints = try Tensor.zeros([3], dtype: .i64).scatterAdd(0, i64([2, 2, 0]), i64([1, 1, 1]))
        #expect(ints.dtype == .i64 && ints.toDoubles() == [1, 0, 2])
    }

    @Test func indexSelectAndIndexAdd() throws {
        expectTensor(try x.indexSelect(0, i64([2, 0, 2])), [3, 4], [20, 21, 22, 23, 0, 1, 2, 3, 20, 21, 22, 23])
        expectTensor(try x.indexSelect(1, i64([-1, 1])), [3, 2], [3, 1, 13, 11, 23, 21])
        expectTensor(try x.indexSelect(1, i64([])), [3, 0], [])
        let added = try Tensor.zeros([2, 4]).indexAdd(1, i64([0, 3, 0]), f32([1, 2, 3, 4, 5, 6], [2, 3]))
        expectTensor(added, [2, 4], [4, 0, 0, 2, 10, 0, 0, 5])
    }

    @Test func maskedFillAndSelect() throws {
        let mask = try bools([true, false, false, true], [4])
        expectTensor(try x.maskedFill(mask, -1), [3, 4], [-1, 1, 2, -1, -1, 11, 12, -1, -1, 21, 22, -1])
        let m2 = try x.gt(11.5)
        expectTensor(try x.maskedSelect(m2), [6], [12, 13, 20, 21, 22, 23])
        // broadcasting the tensor to the mask, and row-major order on a transposed view
        expectTensor(try f32([1, 2]).maskedSelect(bools([true, false, false, true], [2, 2])), [2], [1, 2])
        expectTensor(try x.t().maskedSelect(x.t().lt(2)), [2], [0, 1])
        expectTensor(try x.maskedSelect(bools([false], [1])), [0], [])
    }

    @Test func oneHot() throws {
        let h = try i64([2, 0, 1, 2], [2, 2]).oneHot(3)
        #expect(h.shape == [2, 2, 3] && h.dtype == .i64)
        #expect(h.toDoubles() == [0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1])
    }

    @Test func whereAndComparisons() throws {
        let c = try x.ge(12)
        #expect(c.dtype == .bool)
        expectTensor(try Tensor.where(c, x, f32([-1])), [3, 4], [-1, -1, -1, -1, -1, -1, 12, 13, 20, 21, 22, 23])
        expectTensor(try x.clamp(min: 2, max: 12), [3, 4], [2, 2, 2, 3, 10, 11, 12, 12, 12, 12, 12, 12])
        // comparisons promote: an i64 tensor against a fractional scalar
        #expect(try i64([1, 2, 3]).gt(1.5).toDoubles() == [0, 1, 1])
        #expect(try f32([0.5, 0, 2]).logicalAnd(f32([1, 1, 0.25])).toDoubles() == [1, 0, 1])
        #expect(try f32([0.5, 0, 0]).logicalOr(bools([false, false, true])).toDoubles() == [1, 0, 1])
        #expect(try f32([0.5, 0]).logicalNot().toDoubles() == [0, 1])
    }
}
