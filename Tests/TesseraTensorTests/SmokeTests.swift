import Testing
@testable import TesseraTensor

@Test func smoke() throws {
    let a = try Tensor.from([1, 2, 3, 4] as [Float], shape: [2, 2])
    #expect(try a.matmul(a).toArray(Float.self) == [7, 10, 15, 22])
}
