// The SWORD zText reader on the KJV and Reina-Valera 1909 modules that scripts/fetch-assets
// unpacks into assets/bible (skipped when they are absent), and its markup cleaning.

import XCTest

@testable import TesseraIO

final class SwordZTextTests: XCTestCase {
    func bible() throws -> String {
        let dir = UDDataTests.assets + "/bible"
        guard FileManager.default.fileExists(atPath: dir + "/kjv/ot.bzz") else {
            throw XCTSkip("\(dir) is absent: run scripts/fetch-assets to fetch the SWORD modules")
        }
        return dir
    }

    /// One test reads both modules once (debug builds take seconds per module).
    func testKJVAndReinaValera() throws {
        let dir = try bible()
        let verses = try SwordZText.verses(folder: dir + "/kjv")
        // KJV versification: 23,145 Old and 7,957 New Testament verses in 1,189 chapters of 66 books
        XCTAssertEqual(verses.count, 31_102)
        XCTAssertEqual(Set(verses.map { $0.reference.split(separator: ".")[0] }).count, 66)
        XCTAssertEqual(Set(verses.map { $0.reference.split(separator: ".").dropLast().joined(separator: ".") }).count, 1_189)
        XCTAssertEqual(verses[0].reference, "Gen.1.1")
        XCTAssertEqual(verses[0].text, "In the beginning God created the heaven and the earth.")
        XCTAssertEqual(verses.last?.reference, "Rev.22.21")
        XCTAssertTrue(verses.allSatisfy { !$0.text.contains("<") }, "no markup left")
        let john = try XCTUnwrap(verses.first { $0.reference == "John.3.16" })
        XCTAssertTrue(john.text.hasPrefix("¶ For God so loved the world"), john.text)
        let spanish = try SwordZText.verses(folder: dir + "/sparv")
        XCTAssertEqual(spanish.map(\.reference), verses.map(\.reference), "both use the KJV versification")
        let pairs = SwordZText.aligned(verses, spanish)
        XCTAssertEqual(pairs.count, spanish.filter { !$0.text.isEmpty }.count)
        XCTAssertGreaterThan(pairs.count, 31_000)
        XCTAssertEqual(pairs[0].reference, "Gen.1.1")
        XCTAssertEqual(pairs[0].target, "EN el principio crió Dios los cielos y la tierra.")
    }

    func testPlainTextDropsNotesAndKeepsCanonicalTitles() {
        let markup =
            #"<title canonical="true" type="psalm">A <w lemma="x">Psalm</w>.</title> <w>light</w>.<note placement="foot">a <note>nested</note> note</note> &amp; <title type="x">Heading</title>end"#
        XCTAssertEqual(SwordZText.plainText(Array(markup.utf8)), "A Psalm. light. & end")
    }

    func testMissingModule() {
        XCTAssertThrowsError(try SwordZText.verses(folder: "/no/such/module")) { e in
            XCTAssertTrue("\(e)".contains("/no/such/module/ot.bzs"), "\(e)")
        }
    }
}
