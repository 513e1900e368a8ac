// SelectionTests: sort, argsort, topk and kthvalue are exact: exactly k results, ties to the lower
// index, the same as a full stable sort, on large inputs full of equal values.

import Testing
@testable import TesseraTensor
import TesseraTestSupport

@Suite struct SelectionTests {
    /// indices of `values` in a stable sort (descending keeps equal values in index order too)
    func stableOrder(_ values: [Double], descending: Bool) -> [Int] {
        values.indices.sorted { i, j in
            values[i] == values[j] ? i < j : (descending ? values[i] > values[j] : values[i] < values[j])
        }
    }

    /// `n` values from only `distinct` levels: almost every value has many equals
    func manyTies(_ n: Int, distinct: Int, seed: UInt64) throws -> Tensor {
        try Tensor.randint(0, distinct, [n], generator: Generator(seed: seed)).to(.f32).mul(0.25)
    }

    @Test func topkOverManyEqualValuesMatchesAStableSort() throws {
        let x = try manyTies(200_000, distinct: 50, seed: 1)
        let values = x.toDoubles()
        let k = 5_000
        let order = stableOrder(values, descending: true)
        let (v, i) = try x.topk(k)
        #expect(i.shape == [k] && v.shape == [k])
        #expect(i.toDoubles().map { Int($0) } == Array(order.prefix(k)))
        #expect(v.toDoubles() == order.prefix(k).map { values[$0] })
        // unsorted: the same set, in index order
        let unsorted = try x.topk(k, sorted: false).indices.toDoubles().map { Int($0) }
        #expect(unsorted == order.prefix(k).sorted())
        // smallest
        let ascending = stableOrder(values, descending: false)
        #expect(try x.topk(k, largest: false).indices.toDoubles().map { Int($0) } == Array(ascending.prefix(k)))
    }

    @Test func topkOfAllEqualValuesTakesTheFirstK() throws {
        let x = try Tensor.full([100_000], 3)
        let i = try x.topk(777).indices.toDoubles()
        #expect(i == (0..<777).map(Double.init))
        #expect(try x.topk(0).indices.shape == [0])
        #expect(try x.topk(100_000).indices.toDoubles() == (0..<100_000).map(Double.init))
    }

    @Test func kthvalueIsTheKthOfAStableSort() throws {
        let x = try manyTies(20_001, distinct: 37, seed: 2)
        let values = x.toDoubles()
        let order = stableOrder(values, descending: false)
        for k in [1, 2, 1_000, 10_001, 20_000, 20_001] {
            let (v, i) = try x.kthvalue(k)
            #expect(try v.item() == values[order[k - 1]], "k = \(k)")
            #expect(try i.item() == Double(order[k - 1]), "k = \(k)")
        }
    }

    @Test func sortIsStableBothWays() throws {
        let x = try f32([2, 1, 2, 0, 1, 2])
        let (v, i) = try x.sort()
        #expect(v.toDoubles() == [0, 1, 1, 2, 2, 2] && i.toDoubles() == [3, 1, 4, 0, 2, 5])
        let d = try x.sort(descending: true)
        #expect(d.values.toDoubles() == [2, 2, 2, 1, 1, 0] && d.indices.toDoubles() == [0, 2, 5, 1, 4, 3])
        #expect(try x.argsort().toDoubles() == [3, 1, 4, 0, 2, 5])
    }

    @Test func selectionAlongEveryDim() throws {
        let x = try f32([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8], [3, 4])
        let top0 = try x.topk(2, dim: 0)
        #expect(top0.values.shape == [2, 4])
        #expect(top0.values.toDoubles() == [5, 9, 5, 8, 5, 3, 4, 6])
        #expect(top0.indices.toDoubles() == [1, 1, 2, 2, 2, 2, 0, 1])
        let k1 = try x.kthvalue(2, dim: 1, keepDim: true)
        #expect(k1.values.shape == [3, 1] && k1.values.toDoubles() == [1, 5, 5])
        #expect(k1.indices.toDoubles() == [3, 0, 0])
        let s = try x.t().sort(dim: 0)
        #expect(s.values.toDoubles() == [1, 2, 3, 1, 5, 5, 3, 6, 5, 4, 9, 8])
    }

    @Test func nanSortsAsTheLargest() throws {
        let x = try f32([1, .nan, 3, .infinity, -1])
        #expect(try x.sort().indices.toDoubles() == [4, 0, 2, 1, 3])
        #expect(try x.topk(1).indices.toDoubles() == [1])
        #expect(try x.kthvalue(4).indices.item() == 1)
    }

    @Test func integerAndZeroDimInputs() throws {
        let x = try i64([5, -3, 9, 0])
        let (v, i) = try x.topk(2)
        #expect(v.dtype == .i64 && v.toDoubles() == [9, 5] && i.toDoubles() == [2, 0])
        let s = try Tensor.scalar(4)
        #expect(try s.sort().values.item() == 4)
        #expect(try s.topk(1).indices.item() == 0)
        #expect(try s.kthvalue(1).values.shape == [])
    }

    @Test func maxAndArgmaxTakeTheFirstOfEquals() throws {
        let x = try f32([1, 7, 7, 3, 7, 0], [2, 3])
        #expect(try x.argmax().item() == 1)
        #expect(try x.max(dim: 1).indices.toDoubles() == [1, 1])
        #expect(try x.argmin(dim: 0).toDoubles() == [0, 0, 1])
        #expect(try f32([1, .nan, 2, .nan]).argmax().item() == 1)
    }
}
