import XCTest

@testable import TesseraIO

final class CoNLLUReaderTests: XCTestCase {
    // a sentence with a multiword token (2-3) and an empty node (4.1), then one with a CRLF line
    let sample = """
        # sent_id = s1
        # text = I don't know.
        1\tI\tI\tPRON\tPRP\tCase=Nom|Number=Sing|Person=1\t4\tnsubj\t4:nsubj\t_
        2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_
        2\tdo\tdo\tAUX\tVBP\tMood=Ind\t4\taux\t_\t_
        3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t_\t_
        4\tknow\tknow\tVERB\tVB\tVerbForm=Inf\t0\troot\t0:root\tSpaceAfter=No
        4.1\tknows\tknow\tVERB\tVB\t_\t_\t_\t4:conj\t_
        5\t.\t.\tPUNCT\t.\t_\t4\tpunct\t4:punct\t_

        # sent_id = s2
        1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_\r

        """

    func testSentencesWordsAndSpecialRows() throws {
        let r = CoNLLUReader(text: sample, name: "sample.conllu")
        let s1 = try XCTUnwrap(try r.next())
        XCTAssertEqual(s1.sentID, "s1")
        XCTAssertEqual(s1.text, "I don't know.")
        XCTAssertEqual(s1.line, 1)
        XCTAssertEqual(s1.words.map(\.form), ["I", "do", "n't", "know", "."])
        XCTAssertEqual(s1.words.map(\.head), [4, 4, 4, 0, 4])
        XCTAssertEqual(s1.words[0].features.map(\.key), ["Case", "Number", "Person"])
        XCTAssertEqual(s1.words[0].features.map(\.value), ["Nom", "Sing", "1"])
        XCTAssertEqual(s1.words[0].deps, "4:nsubj")
        XCTAssertEqual(s1.multiwordTokens.count, 1)
        XCTAssertEqual(s1.multiwordTokens[0].id, .range(first: 2, last: 3))
        XCTAssertEqual(s1.multiwordTokens[0].form, "don't")
        XCTAssertEqual(s1.emptyNodes.map(\.id), [.empty(after: 4, index: 1)])
        XCTAssertEqual(s1.emptyNodes[0].id.description, "4.1")
        XCTAssertNil(s1.emptyNodes[0].head)
        let s2 = try XCTUnwrap(try r.next())
        XCTAssertEqual(s2.words.map(\.misc), ["_"], "the \\r of a CRLF line is not part of MISC")
        XCTAssertEqual(s2.line, 11)
        XCTAssertNil(try r.next())
    }

    /// Each malformed input throws file:line: what.
    func testMalformedLinesNameFileAndLine() {
        let row = "1\ta\ta\tX\t_\t_\t0\troot\t_\t_"
        let cases: [(String, Int, String)] = [
            ("1\ta\ta\tX\t_\t_\t0\troot\t_", 1, "expected 10 tab-separated columns, found 9"),
            ("\(row)\nx\ta\ta\tX\t_\t_\t1\tdep\t_\t_", 2, "ID 'x' is not a word ID"),
            ("\(row)\n3\ta\ta\tX\t_\t_\t1\tdep\t_\t_", 2, "word ID 3 out of order (expected 2)"),
            ("\(row)\n2\ta\ta\tX\t_\t_\t7\tdep\t_\t_", 2, "HEAD 7 is not a word of this sentence"),
            ("1\ta\ta\tX\t_\t_\tx\troot\t_\t_", 1, "HEAD 'x' is not a word ID or _"),
            ("1\ta\ta\tX\t_\tCase\t0\troot\t_\t_", 1, "FEATS entry 'Case' is not Key=Value"),
            ("1\ta\ta\tX\t_\tA=B|\t0\troot\t_\t_", 1, "FEATS entry '' is not Key=Value"),
            ("1\t\ta\tX\t_\t_\t0\troot\t_\t_", 1, "column 2 (FORM) is empty"),
            ("\(row)\n# late comment", 2, "comment line inside a sentence"),
            ("# only a comment\n\n", 1, "sentence has no words"),
            ("2-1\ta\t_\t_\t_\t_\t_\t_\t_\t_\n\(row)", 1, "multiword range 2-1"),
            ("1-2\tab\t_\t_\t_\t_\t_\t_\t_\t_\n\(row)", 1, "reaches past the last word"),
            ("\(row)\n1.2\ta\ta\tX\t_\t_\t_\t_\t_\t_", 2, "empty node 1.2 out of order (expected 1.1)"),
            ("1\ta\ta\tX\t_\t_\t1\troot\t_\t_", 1, "word 1 is its own HEAD"),
        ]
        for (text, line, message) in cases {
            XCTAssertThrowsError(try CoNLLUReader.readAll(text: text)) { error in
                guard let e = error as? DataError else { return XCTFail("not a DataError: \(error)") }
                XCTAssertEqual(e.file, "bad.conllu")
                XCTAssertEqual(e.line, line, "line of: \(message)")
                XCTAssertTrue(e.description.hasPrefix("bad.conllu:\(line): "), e.description)
                XCTAssertTrue(e.message.contains(message), "\(e.message) does not contain \(message)")
            }
        }
    }

    func testChunkBoundariesDoNotChangeTheResult() throws {
        let path = NSTemporaryDirectory() + "tessera-chunks-\(getpid()).conllu"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = String(repeating: sample + "\n", count: 50)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let whole = try CoNLLUReader.readAll(text: text)
        for chunk in [16, 37, 4096] {
            let r = try CoNLLUReader(path: path, chunkSize: chunk)
            var got: [CoNLLUSentence] = []
            while let s = try r.next() { got.append(s) }
            XCTAssertEqual(got.map(\.words), whole.map(\.words), "chunk size \(chunk)")
            XCTAssertEqual(got.count, 100)
            XCTAssertEqual(r.bytesRead, text.utf8.count)
        }
    }

    func testMissingFile() {
        XCTAssertThrowsError(try CoNLLUReader.read(path: "/no/such/file.conllu")) { error in
            XCTAssertTrue("\(error)".hasPrefix("/no/such/file.conllu: cannot open"), "\(error)")
        }
    }
}

extension CoNLLUReader {
    static func readAll(text: String) throws -> [CoNLLUSentence] {
        let r = CoNLLUReader(text: text, name: "bad.conllu")
        var out: [CoNLLUSentence] = []
        while let s = try r.next() { out.append(s) }
        return out
    }
}
