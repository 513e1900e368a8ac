import XCTest

@testable import TesseraIO

final class JSONLReaderTests: XCTestCase {
    func testJSONLObjectsAndErrors() throws {
        let r = JSONLReader(text: "{\"q\": \"2+2\", \"a\": 4}\n\n[1]\n{\"q\": }", name: "x.jsonl")
        let first = try XCTUnwrap(try r.next())
        XCTAssertEqual(first.members.map(\.0), ["q", "a"])
        XCTAssertEqual(first.members[1].1, .number("4"))
        XCTAssertThrowsError(try r.next()) { e in XCTAssertEqual("\(e)", "x.jsonl:3: expected a JSON object, got an array") }
        XCTAssertThrowsError(try r.next()) { e in XCTAssertTrue("\(e)".hasPrefix("x.jsonl:4: invalid JSON at byte 6"), "\(e)") }
    }
}
