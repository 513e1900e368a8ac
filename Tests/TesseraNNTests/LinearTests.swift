// LinearTests: values, torch's initialisation bounds, gradients, shape errors.

import Testing
@testable import TesseraTensor
@testable import TesseraNN

@Suite struct LinearTests {
    @Test func valuesByHand() throws {
        let l = try Linear(2, 3)
        try noGrad {
            try l.weight.copy_(f32([1, 2, 3, 4, 5, 6], [3, 2]))
            try l.bias!.copy_(f32([0.5, -0.5, 1]))
        }
        // [1, -1] · rows (1,2) (3,4) (5,6) = -1, -1, -1; plus bias
        expectTensor(try l(f32([1, -1], [1, 2])), [1, 3], [-0.5, -1.5, 0])
        expectTensor(try l(f32([1, 0, 0, 1, 1, 1, 2, 2], [2, 2, 2])), [2, 2, 3], [1.5, 2.5, 6, 2.5, 3.5, 7, 3.5, 6.5, 12, 6.5, 13.5, 23])
    }

    @Test func kaimingUniformBoundsAndSeeding() throws {
        let l = try Linear(16, 8, generator: Generator(seed: 3))
        let w = try l.weight.toDoubles()
        #expect(w.allSatisfy { abs($0) <= 0.25 } && w.contains { abs($0) > 0.2 })
        #expect(try l.bias!.toDoubles().allSatisfy { abs($0) <= 0.25 })
        #expect(try Linear(16, 8, generator: Generator(seed: 3)).weight.toDoubles() == w)
    }

    @Test func gradients() throws {
        let l = try Linear(3, 2, generator: Generator(seed: 4))
        try moduleGradCheck(l, [leaf([2, 2, 3], seed: 5)]) { try l($0[0]) }
        let nb = try Linear(3, 2, bias: false, generator: Generator(seed: 6))
        try moduleGradCheck(nb, [leaf([4, 3], seed: 7)]) { try nb($0[0]) }
    }

    @Test func errors() throws {
        expectTensorError("Linear") { try Linear(0, 3) }
        let l = try Linear(3, 2)
        expectTensorError("Linear") { try l(Tensor.zeros([2, 4])) }
    }
}
