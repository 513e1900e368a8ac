// EdgeTests: the numeric conventions at the edges: dtype promotion, integer division, IEEE
// division by zero and NaN propagation, saturating conversions, extreme magnitudes, printing.

import Testing
@testable import TesseraTensor
import TesseraTestSupport

@Suite struct EdgeTests {
    @Test func integerDivisionGivesFloat() throws {
        let q = try i64([7, -7, 1, 0]).div(i64([2, 2, 3, 5]))
        #expect(q.dtype == .f32)
        expectClose(q.toDoubles(), [3.5, -3.5, 1.0 / 3, 0])
        #expect(try i64([7]).div(2).toDoubles() == [3.5])
        #expect(try Tensor.from([9] as [Int32]).rdiv(3).toDoubles() == [Double(Float(1.0 / 3))])
        // integer division by zero follows float rules
        let z = try i64([1, -1, 0]).div(i64([0])).toDoubles()
        #expect(z[0] == .infinity && z[1] == -.infinity && z[2].isNaN)
        #expect(try i64([2]).pow(i64([-1])).toDoubles() == [0.5])
    }

    @Test func floatDivisionByZeroIsIEEE() throws {
        for dtype in [DType.f32, .f64] {
            let q = try f64([1, -1, 0]).to(dtype).div(0).toDoubles()
            #expect(q[0] == .infinity && q[1] == -.infinity && q[2].isNaN)
            #expect(try f64([1]).to(dtype).div(f64([-0.0]).to(dtype)).item() == -.infinity)
            #expect(try f64([0]).to(dtype).log().item() == -.infinity)
            #expect(try f64([-1]).to(dtype).sqrt().item().isNaN)
        }
    }

    @Test func promotionAndIntegerArithmetic() throws {
        #expect(try i64([1]).add(f32([0.5])).dtype == .f32)
        #expect(try f32([1]).add(f64([0.5])).dtype == .f64)
        #expect(try Tensor.from([1] as [Int32]).add(i64([1])).dtype == .i64)
        #expect(try bools([true, true]).add(bools([true, false])).toDoubles() == [2, 1])
        #expect(try i64([3]).add(0.5).toDoubles() == [3.5])
        #expect(try i64([3]).mul(2).dtype == .i64)
        // wrapping, not trapping, on overflow
        #expect(try i64([Int64.max]).add(1).toArray(Int64.self) == [Int64.min])
        #expect(try Tensor.from([Int32.min] as [Int32]).abs().toArray(Int32.self) == [Int32.min])
        #expect(try i64([-3, 4]).neg().relu().toDoubles() == [3, 0])
        #expect(try i64([2, 3]).sum().dtype == .i64)
        #expect(try bools([true, false, true]).sum().item() == 2)
        #expect(try i64([1, 2]).mean().dtype == .f32)
        #expect(try i64([1, 2]).exp().dtype == .f32)
        #expect(try i64([1, 5, 9]).clamp(min: 2, max: 8).toArray(Int64.self) == [2, 5, 8])
        #expect(try i64([1, 2, 3]).cumsum(0).toArray(Int64.self) == [1, 3, 6])
        #expect(try Tensor.zeros([0]).mean().item().isNaN)
    }

    @Test func conversionsSaturateAndTruncate() throws {
        let v = try f64([2.9, -2.9, 1e20, -1e20, .nan, .infinity])
        #expect(try v.to(.i32).toArray(Int32.self) == [2, -2, .max, .min, 0, .max])
        #expect(try v.to(.i64).toArray(Int64.self) == [2, -2, .max, .min, 0, .max])
        #expect(try v.to(.bool).toArray(Bool.self) == [true, true, true, true, true, true])
        #expect(try f64([1e39]).to(.f32).item() == .infinity)
        #expect(try v.t().to(.f32).dtype == .f32)
        // strided and expanded sources
        #expect(try f32([1, 2, 3, 4], [2, 2]).t().to(.i64).toDoubles() == [1, 3, 2, 4])
        #expect(try f32([1, 2], [2, 1]).expand([2, 3]).to(.f64).toDoubles() == [1, 1, 1, 2, 2, 2])
    }

    @Test func nanPropagates() throws {
        let x = try f32([1, .nan, 3])
        #expect(try x.sum().item().isNaN)
        #expect(try x.max().item().isNaN)
        #expect(try x.min().item().isNaN)
        #expect(try x.maximum(f32([5])).toDoubles()[1].isNaN)
        #expect(try x.relu().toDoubles()[1].isNaN)
        #expect(try x.softmax(0).toDoubles().allSatisfy(\.isNaN))
        #expect(try x.clamp(min: 0, max: 2).toDoubles()[1].isNaN)
        #expect(try x.eq(x).toDoubles() == [1, 0, 1])
    }

    @Test func extremeMagnitudes() throws {
        let x = try f32([1000, -1000, 0, 88, -88, 100])
        let s = try x.sigmoid().toDoubles()
        #expect(s[0] == 1 && s[1] == 0 && s[2] == 0.5)
        #expect(try x.tanh().toDoubles().prefix(2) == [1, -1])
        #expect(try x.exp().toDoubles()[0] == .infinity && x.exp().toDoubles()[1] == 0)
        let e = try x.exp().toDoubles()
        #expect(e[3].isFinite && e[3] > 1e38)
        #expect(try x.silu().toDoubles().prefix(2) == [1000, -0.0])
        #expect(try x.gelu().toDoubles().prefix(3) == [1000, -0.0, 0])
        #expect(try x.geluTanh().toDoubles().prefix(2) == [1000, -0.0])
        // softmax and logsumexp of large values stay finite
        #expect(try f32([1000, 1000]).softmax(0).toDoubles() == [0.5, 0.5])
        expectClose(try f32([1000, 1000]).logsumexp(dims: [0]).toDoubles(), [1000 + 0.6931471805599453])
        #expect(try f32([-.infinity, -.infinity]).logsumexp(dims: [0]).item() == -.infinity)
        #expect(try f32([.infinity, 0]).logsumexp(dims: [0]).item() == .infinity)
        // a long f32 sum keeps its accuracy (lanes within blocks, blocks in Double): a naive
        // running f32 sum of 2^20 tenths is off by ~1%
        expectClose(try Tensor.full([1 << 20], 0.1).sum().toDoubles(), [Double(Float(0.1)) * Double(1 << 20)], rtol: 1e-5, atol: 0)
    }

    @Test func creation() throws {
        #expect(try Tensor.arange(0, 5).toDoubles() == [0, 1, 2, 3, 4])
        #expect(try Tensor.arange(1, 0, step: -0.25).toDoubles() == [1, 0.75, 0.5, 0.25])
        #expect(try Tensor.arange(5, 0).shape == [0])
        #expect(try Tensor.linspace(0, 1, count: 5).toDoubles() == [0, 0.25, 0.5, 0.75, 1])
        #expect(try Tensor.linspace(3, 7, count: 1).toDoubles() == [3])
        #expect(try Tensor.eye(2, 3).toDoubles() == [1, 0, 0, 0, 1, 0])
        #expect(try Tensor.full([2], 7, dtype: .i32).toArray(Int32.self) == [7, 7])
        #expect(try Tensor.zeros([0]).shape == [0])
        #expect(try Tensor.scalar(2.5).shape == [])
        #expect(try f32([]).shape == [0])
    }

    @Test func printing() throws {
        #expect(try f32([1, 2.5, -3]).description == "[ 1.0000,  2.5000, -3.0000]\n[f32 tensor of shape 3]")
        #expect(try i64([1, 20], [2, 1]).format() == "[[ 1],\n [20]]\n[i64 tensor of shape 2x1]")
        #expect(try Tensor.scalar(0.5).format() == "0.5000\n[f32 tensor of shape scalar]")
        #expect(try bools([true]).format().hasPrefix("[true]"))
        #expect(try f32([.nan, .infinity, -.infinity]).format().hasPrefix("[ nan,  inf, -inf]"))
        // one style per tensor: tiny or huge magnitudes switch the whole tensor to scientific
        #expect(try f32([1e-5]).format().hasPrefix("[1.0000e-05]"))
        #expect(try f32([3e9]).format().hasPrefix("[3.0000e+09]"))
        #expect(try f64([1e-5, 1]).format().hasPrefix("[1.0000e-05, 1.0000e+00]"))
        #expect(try f32([0.054, 0.78351]).format().hasPrefix("[0.0540, 0.7835]"))
        #expect(try f32([]).format() == "[]\n[f32 tensor of shape 0]")
        let big = try Tensor.arange(0, 2000).format()
        #expect(big.hasPrefix("[   0.,    1.,    2., ..., 1997., 1998., 1999.]"))
        #expect(try f64([1]).requiresGrad(true).format().hasSuffix("requires grad]"))
        #expect(
            try Tensor.arange(0, 8).view([2, 2, 2]).format()
                == "[[[0., 1.],\n  [2., 3.]],\n\n [[4., 5.],\n  [6., 7.]]]\n[f32 tensor of shape 2x2x2]")
        #expect(
            try Tensor.arange(0, 1400).view([2, 700]).format(edgeItems: 2)
                == "[[   0.,    1., ...,  698.,  699.],\n [ 700.,  701., ..., 1398., 1399.]]\n[f32 tensor of shape 2x700]")
        #expect(try f32([0.12345678, -1234.5, 0.001]).format().hasPrefix("[    0.1235, -1234.5000,     0.0010]"))
    }
}
