// ErrorTests: every bad input throws a TensorError naming the op; nothing traps, not even sizes
// that overflow Int or requests for more memory than the machine has.

import Testing
@testable import TesseraTensor
import TesseraTestSupport

@Suite struct ErrorTests {
    let x = try! Tensor.ones([2, 3])

    @Test func shapeMismatches() throws {
        expectTensorError("add") { try x.add(Tensor.ones([4])) }
        expectTensorError("mul") { try x.mul(Tensor.ones([3, 3])) }
        expectTensorError("matmul") { try x.matmul(Tensor.ones([2, 3])) }
        expectTensorError("matmul") { try Tensor.ones([2, 2, 3]).matmul(Tensor.ones([3, 3, 4])) }
        expectTensorError("matmul") { try Tensor.scalar(1).matmul(x) }
        expectTensorError("matmul") { try i64([1, 2]).matmul(i64([1, 2])) }
        expectTensorError("where") { try Tensor.where(bools([true, false]), x, x) }
        expectTensorError("where") { try Tensor.where(x, x, x) }
        expectTensorError("cat") { try Tensor.cat([x, Tensor.ones([2, 2])], dim: 0) }
        expectTensorError("cat") { try Tensor.cat([x, Tensor.ones([6])]) }
        expectTensorError("cat") { try Tensor.cat([]) }
        expectTensorError("cat") { try Tensor.cat([Tensor.scalar(1), Tensor.scalar(2)]) }
        expectTensorError("stack") { try Tensor.stack([x, x.t()]) }
        expectTensorError("stack") { try Tensor.stack([]) }
        expectTensorError("copy_") { try x.copy_(Tensor.ones([2])) }
        expectTensorError("layer_norm") { try x.layerNorm(weight: Tensor.ones([2]), bias: nil) }
        expectTensorError("layer_norm") { try i64([1, 2]).layerNorm(weight: nil, bias: nil) }
        expectTensorError("index_add") { try x.indexAdd(1, i64([0]), Tensor.ones([2, 2])) }
        expectTensorError("masked_fill") { try x.maskedFill(bools([true, false, true, false], [2, 2]), 0) }
        expectTensorError("masked_fill") { try x.maskedFill(Tensor.ones([3]), 0) }
        expectTensorError("masked_select") { try x.maskedSelect(bools([true, false])) }
        expectTensorError("gather") { try x.gather(1, i64([0, 1, 2, 0, 1, 2, 0, 1, 2], [3, 3])) }
        expectTensorError("gather") { try x.gather(1, i64([0])) }
        expectTensorError("scatter") { try x.scatter(1, i64([0, 1], [2, 1]), Tensor.ones([1, 1])) }
        expectTensorError("from") { try f32([1, 2, 3], [2, 2]) }
        expectTensorError("item") { try x.item() }
        expectTensorError("toArray") { try x.toArray(Double.self) }
        expectTensorError("backward") { try x.mul(2).backward() }
    }

    @Test func badDims() throws {
        expectTensorError("sum") { try x.sum(dims: [2]) }
        expectTensorError("mean") { try x.mean(dims: [-3]) }
        expectTensorError("var") { try x.variance(dims: [5]) }
        expectTensorError("max") { try x.max(dim: 2) }
        expectTensorError("max") { try Tensor.zeros([0]).max() }
        expectTensorError("min") { try Tensor.zeros([3, 0]).min(dim: 1) }
        expectTensorError("cumsum") { try x.cumsum(2) }
        expectTensorError("softmax") { try x.softmax(2) }
        expectTensorError("log_softmax") { try x.logSoftmax(-3) }
        expectTensorError("logsumexp") { try x.logsumexp(dims: [3]) }
        expectTensorError("transpose") { try x.transpose(0, 2) }
        expectTensorError("t") { try Tensor.ones([2, 2, 2]).t() }
        expectTensorError("permute") { try x.permute([0, 0]) }
        expectTensorError("permute") { try x.permute([0]) }
        expectTensorError("flatten") { try Tensor.ones([2, 3, 4]).flatten(2, 1) }
        expectTensorError("squeeze") { try x.squeeze(2) }
        expectTensorError("unsqueeze") { try x.unsqueeze(4) }
        expectTensorError("expand") { try x.expand([3, 3]) }
        expectTensorError("expand") { try x.expand([3]) }
        expectTensorError("expand") { try Tensor.ones([3, 1]).expand([-1, -2]) }
        expectTensorError("sort") { try x.sort(dim: 2) }
        expectTensorError("split") { try x.split(0) }
        expectTensorError("split") { try x.split(sizes: [1, 1], dim: 1) }
        expectTensorError("split") { try x.split(sizes: [4, -1], dim: 1) }
        expectTensorError("chunk") { try x.chunk(0) }
        expectTensorError("cat") { try Tensor.cat([x, x], dim: 2) }
        expectTensorError("stack") { try Tensor.stack([x, x], dim: 3) }
    }

    @Test func zeroDimTensorsHaveNoDimensionToIndex() throws {
        let s = try Tensor.scalar(2)
        let i = try Tensor.scalar(0, dtype: .i64)
        expectTensorError("gather") { try s.gather(0, i) }
        expectTensorError("scatter") { try s.scatter(0, i, s) }
        expectTensorError("scatter_add") { try s.scatterAdd(0, i, s) }
        expectTensorError("index_add") { try s.indexAdd(0, i, s) }
        expectTensorError("split") { try s.split(1) }
        expectTensorError("split") { try s.split(sizes: [1]) }
        expectTensorError("chunk") { try s.chunk(1) }
        expectTensorError("narrow") { try s.narrow(0, 0, 1) }
        expectTensorError("select") { try s.select(0, 0) }
        // what a 0-d tensor does accept: dim 0 or -1 in reductions, as torch
        #expect(try s.sum(dims: [0]).item() == 2)
        #expect(try s.mean(dims: [-1]).item() == 2)
        #expect(try s.variance(dims: [0], correction: 0).item() == 0)
        #expect(try s.logsumexp(dims: [0]).item() == 2)
        #expect(try s.softmax(0).item() == 1)
        #expect(try s.cumsum(0).item() == 2)
        #expect(try s.max(dim: 0).indices.item() == 0)
        #expect(try s.indexSelect(0, i).shape == [1])
    }

    @Test func outOfRangeIndices() throws {
        expectTensorError("gather") { try x.gather(1, i64([3, 0], [2, 1])) }
        expectTensorError("gather") { try x.gather(1, i64([-4, 0], [2, 1])) }
        expectTensorError("gather") { try x.gather(1, f32([0, 0], [2, 1])) }
        expectTensorError("scatter") { try x.scatter(0, i64([2, 0, 0], [1, 3]), x) }
        expectTensorError("scatter_add") { try x.scatterAdd(0, i64([0, -3, 0], [1, 3]), x) }
        expectTensorError("scatter_add") { try bools([true]).scatterAdd(0, i64([0]), bools([true])) }
        expectTensorError("index_select") { try x.indexSelect(1, i64([0, 3])) }
        expectTensorError("index_select") { try x.indexSelect(1, i64([0, 1], [1, 2])) }
        expectTensorError("index_add") { try x.indexAdd(0, i64([2]), Tensor.ones([1, 3])) }
        expectTensorError("one_hot") { try i64([0, 3]).oneHot(3) }
        expectTensorError("one_hot") { try i64([0]).oneHot(0) }
        expectTensorError("one_hot") { try f32([0]).oneHot(2) }
        expectTensorError("narrow") { try x.narrow(1, 2, 2) }
        expectTensorError("narrow") { try x.narrow(1, 4, 0) }
        expectTensorError("narrow") { try x.narrow(1, -4, 1) }
        expectTensorError("narrow") { try x.narrow(1, 1, -1) }
        expectTensorError("narrow") { try x.narrow(1, 1, Int.max) }
        expectTensorError("narrow") { try x.narrow(1, Int.min, 1) }
        expectTensorError("select") { try x.select(0, 2) }
        expectTensorError("select") { try x.select(0, -3) }
        expectTensorError("select") { try x.select(0, Int.min) }
        expectTensorError("index") { try x.element([2, 0]) }
        expectTensorError("index") { try x.element([0]) }
        expectTensorError("index") { try x.setElement([0, -4], 1) }
    }

    @Test func hugeAndOverflowingSizes() throws {
        let trillions = 10_000_000_000_000
        expectTensorError("zeros") { try Tensor.zeros([trillions]) }
        expectTensorError("full") { try Tensor.ones([trillions]) }
        expectTensorError("empty") { try Tensor.empty([trillions], dtype: .bool) }
        expectTensorError("randn") { try Tensor.randn([trillions]) }
        expectTensorError("rand") { try Tensor.rand([100_000, 100_000, 1000]) }
        // products that overflow Int, and element counts whose byte size overflows
        expectTensorError("zeros") { try Tensor.zeros([1 << 32, 1 << 32]) }
        expectTensorError("zeros") { try Tensor.zeros([Int.max, 2]) }
        expectTensorError("empty") { try Tensor.empty([1 << 62], dtype: .f64) }
        expectTensorError("zeros") { try Tensor.zeros([3, -1]) }
        expectTensorError("expand") { try Tensor.ones([1, 1]).expand([1 << 40, 1 << 40]) }
        expectTensorError("view") { try x.view([1 << 32, 1 << 32]) }
        expectTensorError("reshape") { try x.reshape([-1, 0]) }
        expectTensorError("view") { try x.view([-1, -1]) }
        expectTensorError("view") { try x.view([4, -1]) }
        expectTensorError("arange") { try Tensor.arange(0, 1e300) }
        expectTensorError("arange") { try Tensor.arange(0, 1, step: 1e-300) }
        expectTensorError("arange") { try Tensor.arange(0, 1e13) }
        expectTensorError("arange") { try Tensor.arange(0, 1, step: 0) }
        expectTensorError("arange") { try Tensor.arange(0, .infinity) }
        expectTensorError("linspace") { try Tensor.linspace(0, 1, count: -1) }
        expectTensorError("linspace") { try Tensor.linspace(0, 1, count: trillions) }
        expectTensorError("zeros") { try Tensor.eye(Int.max) }
        expectTensorError("zeros") { try i64([1]).oneHot(trillions) }
        expectTensorError("randperm") { try Tensor.randperm(-1) }
        expectTensorError("arange") { try Tensor.randperm(trillions) }
        expectTensorError("multinomial") { try f32([1, 1]).multinomial(trillions, replacement: true) }
        expectTensorError("matmul") { try Tensor.ones([1, 1]).expand([100_000, 1]).matmul(Tensor.ones([1, 1]).expand([1, 100_000_000])) }
    }

    @Test func viewOnNonViewableStrides() throws {
        let base = try Tensor.ones([4, 6])
        expectTensorError("view") { try base.t().view([24]) }
        expectTensorError("view") { try base.narrow(1, 0, 3).view([12]) }
        expectTensorError("view") { try base.expand([2, 4, 6]).view([48]) }
        expectTensorError("view") { try base.view([4, 6, 1]).expand([4, 6, 2]).view([48]) }
        // reshape copies instead
        #expect(try base.t().reshape([24]).shape == [24])
    }

    @Test func selectionAndSamplingArguments() throws {
        let v = try f32([3, 1, 2])
        expectTensorError("topk") { try v.topk(4) }
        expectTensorError("topk") { try v.topk(-1) }
        expectTensorError("topk") { try v.topk(1, dim: 1) }
        expectTensorError("kthvalue") { try v.kthvalue(0) }
        expectTensorError("kthvalue") { try v.kthvalue(4) }
        expectTensorError("multinomial") { try v.multinomial(4) }
        expectTensorError("multinomial") { try v.multinomial(-1) }
        expectTensorError("multinomial") { try f32([1, -1]).multinomial(1) }
        expectTensorError("multinomial") { try f32([1, .nan]).multinomial(1) }
        expectTensorError("multinomial") { try f32([1, .infinity]).multinomial(1) }
        expectTensorError("multinomial") { try f32([0, 0]).multinomial(1) }
        expectTensorError("multinomial") { try Tensor.ones([2, 2, 2]).multinomial(1) }
        expectTensorError("multinomial") { try Tensor.scalar(1).multinomial(1) }
        expectTensorError("bernoulli") { try f32([0.5, 1.5]).bernoulli() }
        expectTensorError("bernoulli") { try f32([.nan]).bernoulli() }
        expectTensorError("bernoulli") { try Tensor.bernoulli([2], p: -0.1) }
        expectTensorError("bernoulli") { try Tensor.bernoulli([2], p: .nan) }
        expectTensorError("dropout") { try v.dropout(1.5) }
        expectTensorError("dropout") { try v.dropout(.nan) }
        expectTensorError("randint") { try Tensor.randint(3, 3, [2]) }
        expectTensorError("rand") { try Tensor.rand([2], dtype: .i64) }
        expectTensorError("randn") { try Tensor.randn([2], dtype: .bool) }
        expectTensorError("requires_grad") { try i64([1]).requiresGrad(true) }
    }
}
