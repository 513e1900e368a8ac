// ViewTests: views share storage and get the right shapes, strides and offsets; reshape copies only
// when it must; joining and splitting.

import Testing
@testable import TesseraTensor
import TesseraTestSupport

@Suite struct ViewTests {
    /// 0, 1, ..., n-1 as f32 of `shape`
    func iota(_ shape: [Int]) throws -> Tensor {
        try f32((0..<shape.reduce(1, *)).map(Float.init), shape)
    }

    @Test func viewSharesStorage() throws {
        let x = try iota([2, 3])
        let v = try x.view([3, 2])
        #expect(v.storage === x.storage && v.strides == [2, 1])
        try v.setElement([2, 1], 50)
        #expect(try x.element([1, 2]) == 50)
    }

    @Test func transposeAndPermuteSwapStrides() throws {
        let x = try iota([2, 3, 4])
        let t = try x.transpose(0, 2)
        #expect(t.shape == [4, 3, 2] && t.strides == [1, 4, 12] && !t.isContiguous)
        #expect(try t.element([3, 1, 1]) == 12 + 4 + 3)
        let p = try x.permute([1, 2, 0])
        #expect(p.shape == [3, 4, 2] && p.strides == [4, 1, 12])
        #expect(try x.transpose(-1, -2).shape == [2, 4, 3])
        #expect(try iota([3]).t().shape == [3])
    }

    @Test func narrowAndSelectMoveTheOffset() throws {
        let x = try iota([3, 4])
        let n = try x.narrow(1, 1, 2)
        #expect(n.shape == [3, 2] && n.offset == 1 && n.strides == [4, 1])
        #expect(n.toDoubles() == [1, 2, 5, 6, 9, 10])
        #expect(try x.narrow(0, -1, 1).toDoubles() == [8, 9, 10, 11])
        #expect(try x.narrow(1, 4, 0).shape == [3, 0])
        let s = try x.select(1, -1)
        #expect(s.shape == [3] && s.toDoubles() == [3, 7, 11])
    }

    @Test func expandUsesZeroStrides() throws {
        let x = try iota([3, 1])
        let e = try x.expand([2, 3, 4])
        #expect(e.strides == [0, 1, 0] && e.storage === x.storage)
        #expect(e.toDoubles() == (0..<2).flatMap { _ in (0..<3).flatMap { i in Array(repeating: Double(i), count: 4) } })
        #expect(try x.expand([-1, 5]).shape == [3, 5])
        // a copy materialises it; a view of it is impossible only where sizes were merged
        #expect(try e.contiguous().isContiguous)
        #expect(try e.reshape([6, 4]).toDoubles() == e.toDoubles())
    }

    @Test func squeezeUnsqueezeFlatten() throws {
        let x = try iota([3, 1, 4, 1])
        #expect(try x.squeeze().shape == [3, 4])
        #expect(try x.squeeze(1).shape == [3, 4, 1])
        #expect(try x.squeeze(0).shape == [3, 1, 4, 1])
        #expect(try x.unsqueeze(0).shape == [1, 3, 1, 4, 1])
        #expect(try x.unsqueeze(-1).shape == [3, 1, 4, 1, 1])
        #expect(try iota([2, 3, 4]).flatten(1).shape == [2, 12])
        #expect(try iota([2, 3, 4]).flatten(0, 1).shape == [6, 4])
        #expect(try Tensor.scalar(5).flatten().shape == [1])
        #expect(try Tensor.scalar(5).unsqueeze(0).shape == [1])
    }

    @Test func reshapeCopiesOnlyWhenNoViewExists() throws {
        let x = try iota([3, 4])
        #expect(try x.reshape([4, 3]).storage === x.storage)
        #expect(try x.reshape([2, -1]).shape == [2, 6])
        let t = try x.t()
        let r = try t.reshape([12])
        #expect(r.storage !== x.storage)
        #expect(r.toDoubles() == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
        expectTensorError("view") { try t.view([12]) }
        // splitting one strided dimension is still a view
        let v = try t.view([2, 2, 3])
        #expect(v.storage === x.storage && v.strides == [2, 1, 4])
        // a narrowed tensor can split its rows but not merge them
        let n = try iota([4, 6]).narrow(1, 0, 4)
        expectTensorError("view") { try n.view([8, 2]) }
        #expect(try n.view([4, 2, 2]).strides == [6, 2, 1])
    }

    @Test func inPlaceWritesThroughViews() throws {
        let x = try iota([3, 4])
        try x.narrow(1, 1, 2).fill_(-1)
        #expect(x.toDoubles() == [0, -1, -1, 3, 4, -1, -1, 7, 8, -1, -1, 11])
        try x.t().select(0, 0).copy_(f32([7]))
        #expect(x.toDoubles() == [7, -1, -1, 3, 7, -1, -1, 7, 7, -1, -1, 11])
        try x.select(0, 1).copy_(i64([1, 2, 3, 4]))
        #expect(try x.select(0, 1).toDoubles() == [1, 2, 3, 4])
        x.zero_()
        #expect(try x.sum().item() == 0)
    }

    @Test func opsReadOffsetAndStridedViewsLikeTheirCopies() throws {
        // a view with an offset, gaps between rows, and (transposed) a non-unit inner stride
        let base = try Tensor.randn([5, 7], generator: Generator(seed: 11))
        for v in [try base.narrow(1, 2, 4).narrow(0, 1, 3), try base.narrow(0, 1, 4).narrow(1, 3, 3).t()] {
            let c = try v.contiguous()
            #expect(!v.isContiguous && v.offset > 0)
            let ops: [(String, (Tensor) throws -> Tensor)] = [
                ("to", { try $0.to(.f64) }), ("exp", { try $0.exp() }), ("add", { try $0.add($0.mul(2)) }),
                ("where", { try Tensor.where($0.gt(0), $0, f32([-1])) }), ("sum", { try $0.sum(dims: [0]) }),
                ("softmax", { try $0.softmax(0) }), ("logsumexp", { try $0.logsumexp(dims: [1]) }),
                ("max", { try $0.max(dim: 1).values }), ("cumsum", { try $0.cumsum(1) }),
                ("topk", { try $0.topk(2).values }), ("sort", { try $0.sort(dim: 0).indices }),
                ("index_select", { try $0.indexSelect(1, i64([2, 0])) }), ("gather", { try $0.gather(1, i64([2, 0, 1], [3, 1])) }),
                ("masked_select", { try $0.maskedSelect($0.gt(0)) }), ("layer_norm", { try $0.layerNorm(weight: nil, bias: nil) }),
                ("cat", { try Tensor.cat([$0, $0], dim: 1) }), ("matmul", { try $0.matmul($0.t()) }),
            ]
            // close rather than equal: BLAS may order a transposed operand's sums differently
            for (name, f) in ops {
                expectClose(try f(v).toDoubles(), try f(c).toDoubles(), rtol: 1e-6, atol: 1e-6, name)
            }
        }
    }

    @Test func contiguousReturnsSelfWhenAlreadyContiguous() throws {
        let x = try iota([2, 3])
        #expect(try x.contiguous() === x)
        #expect(try x.clone() !== x)
        #expect(try x.narrow(0, 1, 1).isContiguous)
        #expect(try x.narrow(1, 1, 1).isContiguous == false)
    }

    @Test func catStackSplitChunk() throws {
        let a = try iota([2, 3]), b = try iota([2, 2]).add(100)
        let c = try Tensor.cat([a, b], dim: 1)
        #expect(c.shape == [2, 5] && c.toDoubles() == [0, 1, 2, 100, 101, 3, 4, 5, 102, 103])
        let s = try Tensor.stack([a, a.mul(2)], dim: 1)
        #expect(s.shape == [2, 2, 3] && s.toDoubles() == [0, 1, 2, 0, 2, 4, 3, 4, 5, 6, 8, 10])
        // mixed dtypes promote
        #expect(try Tensor.cat([i64([1, 2]), f32([0.5])]).dtype == .f32)

        let x = try iota([10])
        #expect(try x.split(4).map(\.shape) == [[4], [4], [2]])
        #expect(try x.split(4)[2].toDoubles() == [8, 9])
        #expect(try x.split(sizes: [3, 0, 7]).map(\.shape) == [[3], [0], [7]])
        #expect(try x.chunk(3).map(\.shape) == [[4], [4], [2]])
        #expect(try x.chunk(20).count == 10)
        #expect(try x.chunk(Int.max).count == 10)
        #expect(try iota([0]).split(2).map(\.shape) == [[0]])
        // pieces are views
        #expect(try x.split(4)[1].storage === x.storage)
    }

    @Test func zeroSizedTensors() throws {
        let e = try Tensor.zeros([0, 3])
        #expect(e.numel == 0 && e.toDoubles().isEmpty)
        #expect(try e.sum(dims: [0]).toDoubles() == [0, 0, 0])
        #expect(try e.sum().item() == 0)
        #expect(try e.transpose(0, 1).reshape([0]).shape == [0])
        #expect(try Tensor.cat([e, Tensor.ones([2, 3])]).shape == [2, 3])
        #expect(try e.softmax(0).shape == [0, 3])
        #expect(try Tensor.zeros([2, 0]).softmax(0).shape == [2, 0])
        #expect(try Tensor.zeros([3, 0, 20]).softmax(1).shape == [3, 0, 20])
        #expect(try Tensor.zeros([3, 0, 20]).sum(dims: [1]).toDoubles() == Array(repeating: 0, count: 60))
    }
}
