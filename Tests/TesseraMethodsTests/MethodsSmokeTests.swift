import Testing

@testable import TesseraMethods

@Suite struct MethodsSmokeTests {
    @Test func targetLinks() { #expect(Bool(true)) }
}
