import XCTest

@testable import TesseraIO

final class CorpusReaderTests: XCTestCase {
    func testLinesKeepBlankLinesAndParagraphsJoinLines() throws {
        let text = "one\r\ntwo\n\n\nthree a\nthree b\n  \nfour"
        var r = TextCorpusReader(text: text, unit: .lines)
        var lines: [String] = []
        while let l = try r.next() { lines.append(l.text) }
        XCTAssertEqual(lines, ["one", "two", "", "", "three a", "three b", "  ", "four"])
        r = TextCorpusReader(text: text, unit: .paragraphs)
        var paragraphs: [(Int, String)] = []
        while let p = try r.next() { paragraphs.append((p.line, p.text)) }
        XCTAssertEqual(paragraphs.map(\.1), ["one\ntwo", "three a\nthree b", "four"])
        XCTAssertEqual(paragraphs.map(\.0), [1, 5, 8])
    }

    func testTSVColumnsMustAgree() throws {
        let r = TSVReader(text: "a\tb\n\nc\td\ne\n", name: "pairs.tsv")
        XCTAssertEqual(try r.next()?.fields, ["a", "b"])
        XCTAssertEqual(try r.next()?.fields, ["c", "d"])
        XCTAssertThrowsError(try r.next()) { e in
            XCTAssertEqual("\(e)", "pairs.tsv:4: expected 2 tab-separated columns, found 1")
        }
    }

    func testBitextFromTwoFiles() throws {
        let dir = NSTemporaryDirectory() + "tessera-bitext-\(getpid())/"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "hello\nworld\n".write(toFile: dir + "en.txt", atomically: true, encoding: .utf8)
        try "hola\nmundo\n".write(toFile: dir + "es.txt", atomically: true, encoding: .utf8)
        try "hola\n".write(toFile: dir + "short.txt", atomically: true, encoding: .utf8)
        let pairs = try Bitext.read(source: dir + "en.txt", target: dir + "es.txt")
        XCTAssertEqual(pairs.map(\.source), ["hello", "world"])
        XCTAssertEqual(pairs.map(\.target), ["hola", "mundo"])
        XCTAssertThrowsError(try Bitext.read(source: dir + "en.txt", target: dir + "short.txt")) { e in
            XCTAssertEqual("\(e)", "\(dir)en.txt:2: \(dir)short.txt ends at line 1, the files are not aligned")
        }
    }

    func testShuffleIsSeededAndAPermutation() throws {
        let a = Batching.shuffled(count: 100, seed: 42)
        XCTAssertEqual(a, Batching.shuffled(count: 100, seed: 42))
        XCTAssertNotEqual(a, Batching.shuffled(count: 100, seed: 43))
        XCTAssertEqual(a.sorted(), Array(0..<100))
        XCTAssertNotEqual(a, Array(0..<100))
        // the stream is the engine's xoshiro256**: pinned so a change of generator is noticed
        XCTAssertEqual(Batching.shuffled(count: 8, seed: 1), [4, 7, 0, 2, 1, 6, 3, 5])
        XCTAssertEqual(Batching.shuffled(count: 0, seed: 1), [])
    }

    func testBatchesAndBuckets() throws {
        XCTAssertEqual(try Batching.batches([0, 1, 2, 3, 4], size: 2), [[0, 1], [2, 3], [4]])
        XCTAssertEqual(try Batching.batches([0, 1, 2, 3, 4], size: 2, dropLast: true), [[0, 1], [2, 3]])
        XCTAssertThrowsError(try Batching.batches([0], size: 0))
        let lengths = [5, 1, 3, 1, 9, 3]
        XCTAssertEqual(try Batching.bucketed(Array(0..<6), lengths: lengths, size: 2), [[1, 3], [2, 5], [0, 4]])
        let seeded = try Batching.bucketed(Array(0..<6), lengths: lengths, size: 2, seed: 7)
        XCTAssertEqual(seeded.sorted { $0[0] < $1[0] }, [[0, 4], [1, 3], [2, 5]])
        XCTAssertEqual(seeded, try Batching.bucketed(Array(0..<6), lengths: lengths, size: 2, seed: 7))
        // at most 6 tokens (longest x count) per batch: [1,1,3]? 3*3 = 9 > 6, so [1,1], [3,3], [5], [9]
        XCTAssertEqual(try Batching.bucketed(Array(0..<6), lengths: lengths, size: 100, maxTokens: 6), [[1, 3], [2, 5], [0], [4]])
    }
}
