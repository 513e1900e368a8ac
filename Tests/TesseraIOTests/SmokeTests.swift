import TesseraTensor
import XCTest

@testable import TesseraIO

final class TesseraIOSmokeTests: XCTestCase {
    func testFormatVersion() throws {
        XCTAssertEqual(tesseraFormatVersion, "1")
        XCTAssertEqual(try Tensor.zeros([2]).shape, [2])
    }
}
