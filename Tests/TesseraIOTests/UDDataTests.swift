// Reads real treebanks: the UD files in ../shared/data (PUD in 20 languages, English LinES) and,
// when scripts/fetch-assets has run, the Turkish treebanks in assets/. Each test is skipped with
// a message when its folder is absent. TESSERA_SHARED_DATA and TESSERA_ASSETS override the paths.

import XCTest

@testable import TesseraIO

final class UDDataTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let sharedData = ProcessInfo.processInfo.environment["TESSERA_SHARED_DATA"] ?? root.appendingPathComponent("../shared/data").path
    static let assets = ProcessInfo.processInfo.environment["TESSERA_ASSETS"] ?? root.appendingPathComponent("assets").path

    func folder(_ path: String, _ what: String) throws -> String {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
            throw XCTSkip("\(path) is absent: \(what)")
        }
        return path
    }

    /// (sentences, words, bytes, seconds) of one file
    func read(_ path: String) throws -> (sentences: Int, words: Int, bytes: Int, seconds: Double) {
        let start = Date()
        let r = try CoNLLUReader(path: path)
        var sentences = 0, words = 0
        while let s = try r.next() {
            sentences += 1
            words += s.words.count
            XCTAssertFalse(s.words.isEmpty)
        }
        return (sentences, words, r.bytesRead, Date().timeIntervalSince(start))
    }

    /// Every PUD file against the sentence, word and byte counts its README table states.
    func testPUDCountsMatchTheREADME() throws {
        let dir = try folder(Self.sharedData + "/ud_pud", "the shared UD data is not on this machine")
        let readme = try String(contentsOfFile: dir + "/README.md", encoding: .utf8)
        var checked = 0
        var total = (sentences: 0, bytes: 0, seconds: 0.0)
        for row in readme.split(separator: "\n") where row.contains("-PUD/`") && row.hasPrefix("|") {
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let folderName = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`/"))
            let numbers = cells.compactMap { Int($0) }
            guard numbers.count >= 3 else { continue }
            let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/" + folderName).filter { $0.hasSuffix(".conllu") }
            XCTAssertEqual(files.count, 1, folderName)
            guard let file = files.first else { continue }
            let got = try read(dir + "/" + folderName + "/" + file)
            XCTAssertEqual(got.sentences, numbers[0], "\(file) sentences")
            XCTAssertEqual(got.words, numbers[1], "\(file) words")
            XCTAssertEqual(got.bytes, numbers[2], "\(file) bytes")
            total.sentences += got.sentences
            total.bytes += got.bytes
            total.seconds += got.seconds
            checked += 1
        }
        XCTAssertEqual(checked, 20, "PUD languages in the README")
        print(
            String(
                format: "PUD: %d files, %d sentences, %.1f MB in %.2f s (debug build)", checked, total.sentences, Double(total.bytes) / 1e6,
                total.seconds))
    }

    func testEnglishLinES() throws {
        let dir = try folder(Self.sharedData + "/ud_english_lines/UD_English-LinES", "the shared UD data is not on this machine")
        let expected = ["train": 3457, "dev": 1118, "test": 1121]
        for (split, count) in expected {
            XCTAssertEqual(try read(dir + "/en_lines-ud-\(split).conllu").sentences, count, split)
        }
        let dev = try CoNLLUReader.read(path: dir + "/en_lines-ud-dev.conllu")
        XCTAssertEqual(dev[0].sentID, "en_lines-ud-dev-doc1-3177")
        XCTAssertEqual(dev[0].words[3].form, "connects")
        XCTAssertEqual(dev[0].words[3].features.first?.key, "Mood")
        XCTAssertEqual(dev[0].words.filter { $0.head == 0 }.count, 1, "one root")
    }

    func testTurkishTreebanksFromAssets() throws {
        let dir = try folder(Self.assets + "/turkish-treebanks", "run scripts/fetch-assets to fetch the Turkish treebanks")
        for (file, count) in [("web.conllu", 2541), ("wiki.conllu", 2310)] {
            let got = try read(dir + "/" + file)
            XCTAssertEqual(got.sentences, count, file)
            print(String(format: "%@: %d sentences, %.1f MB in %.2f s (debug build)", file, got.sentences, Double(got.bytes) / 1e6, got.seconds))
        }
    }
}
