import Foundation
import XCTest

@testable import TesseraIO

/// Token ids compared with HF tokenizers' on a multilingual text (golden file written by
/// scripts/golden/make_tokenizer_golden.py), for each kind of tokenizer, from tokenizer.json
/// and from plain arrays; decoding, batches, errors. The real MiniLM / e5 / SmolLM2 files are
/// used when assets/ (or TESSERA_ASSETS) has them.
final class TokenizerTests: XCTestCase {
    struct Case: Decodable {
        let text: String
        let ids: [Int]
        let tokens: [String]
        let ids_with_special: [Int]
        let decoded: String
        let decoded_with_special: String
    }
    struct Batch: Decodable {
        let texts: [String]
        let padding: String
        let max_length: Int?
        let ids: [[Int]]
        let attention_mask: [[Int]]
    }
    struct Entry: Decodable {
        let file: String?
        let inputs: [Case]
        let batches: [Batch]?
    }

    static let golden: [String: Entry] = {
        guard let url = Bundle.module.url(forResource: "Golden/tokenizer_golden", withExtension: "json"),
            let data = try? Data(contentsOf: url), let g = try? JSONDecoder().decode([String: Entry].self, from: data)
        else { return [:] }
        return g
    }()

    func goldenURL(_ name: String) throws -> URL {
        try XCTUnwrap(Bundle.module.url(forResource: "Golden/" + name, withExtension: nil), "missing golden file \(name)")
    }

    func entry(_ kind: String) throws -> Entry { try XCTUnwrap(Self.golden[kind], "no golden entry \(kind)") }

    func goldenTokenizer(_ kind: String) throws -> Tokenizer {
        let file = try XCTUnwrap(try entry(kind).file)
        return try Tokenizer.load(path: try goldenURL(file).path)
    }

    /// ids (with and without special tokens), pieces and decoded text equal HF's for every input
    func assertMatchesGolden(
        _ tok: Tokenizer, _ kind: String, tokensAndDecode: Bool = true, only: (String) -> Bool = { _ in true }, file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        for c in try entry(kind).inputs where only(c.text) {
            let label = "\(kind): \(c.text.prefix(40).debugDescription)"
            XCTAssertEqual(try tok.encode(c.text, addSpecialTokens: false), c.ids, label, file: file, line: line)
            XCTAssertEqual(try tok.encode(c.text), c.ids_with_special, label, file: file, line: line)
            guard tokensAndDecode else { continue }
            XCTAssertEqual(try tok.tokens(c.text), c.tokens, label, file: file, line: line)
            XCTAssertEqual(try tok.decode(c.ids_with_special), c.decoded, label, file: file, line: line)
            XCTAssertEqual(try tok.decode(c.ids_with_special, skipSpecialTokens: false), c.decoded_with_special, label, file: file, line: line)
        }
    }

    func testWordPieceMatchesHF() throws {
        let tok = try goldenTokenizer("wordpiece")
        XCTAssertEqual(tok.kind, "WordPiece")
        try assertMatchesGolden(tok, "wordpiece")
        XCTAssertEqual(tok.specialTokens.cls, 101)
        XCTAssertEqual(tok.specialTokens.sep, 102)
        XCTAssertEqual(tok.specialTokens.pad, 0)
        XCTAssertEqual(tok.specialTokens.mask, 103)
    }

    func testUnigramMatchesHF() throws { try assertMatchesGolden(try goldenTokenizer("unigram"), "unigram") }

    func testUnigramByteFallbackMatchesHF() throws {
        try assertMatchesGolden(try goldenTokenizer("unigram_byte_fallback"), "unigram_byte_fallback")
    }

    func testByteLevelBPEMatchesHF() throws { try assertMatchesGolden(try goldenTokenizer("bpe"), "bpe") }

    func testLLaMA3RegexBPEMatchesHF() throws {
        let tok = try goldenTokenizer("bpe_llama3_regex")
        try assertMatchesGolden(tok, "bpe_llama3_regex")
        XCTAssertEqual(try tok.encode("hi").first, 1, "the template's BOS comes first")
    }

    func testBatchesMatchHF() throws {
        for kind in ["wordpiece", "unigram", "bpe"] {
            let tok = try goldenTokenizer(kind)
            for b in try XCTUnwrap(try entry(kind).batches) {
                let r = try tok.batch(b.texts, maxLength: b.max_length, padding: PaddingSide(rawValue: b.padding))
                XCTAssertEqual(r.ids, b.ids, "\(kind) \(b.padding) \(String(describing: b.max_length))")
                XCTAssertEqual(r.attentionMask, b.attention_mask, "\(kind) \(b.padding) \(String(describing: b.max_length))")
            }
        }
    }

    /// a vocab.txt (the reduced MiniLM vocabulary, gaps filled) gives the tokenizer.json's ids
    func testVocabTxtMatchesHF() throws {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: try goldenURL("wordpiece.tokenizer.json"))) as! [String: Any]
        let vocab = (json["model"] as! [String: Any])["vocab"] as! [String: Int]
        var lines = (0...vocab.values.max()!).map { "[unused\($0)]" }
        for (t, id) in vocab { lines[id] = t }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-vocab-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try (lines.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
        try assertMatchesGolden(try Tokenizer.load(path: dir.path), "wordpiece")
    }

    /// pieces/scores arrays (as the e5 file and GGUF give them) match the tokenizer.json's ids
    func testUnigramFromArraysMatchesHF() throws {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: try goldenURL("unigram.tokenizer.json"))) as! [String: Any]
        let vocab = (json["model"] as! [String: Any])["vocab"] as! [[Any]]
        let pieces = vocab.map { $0[0] as! String }, scores = vocab.map { ($0[1] as! NSNumber).doubleValue }
        let tok = try Tokenizer.unigram(
            pieces: pieces, scores: scores, unknownID: pieces.firstIndex(of: "<unk>"), bos: pieces.firstIndex(of: "<s>"),
            eos: pieces.firstIndex(of: "</s>"), pad: pieces.firstIndex(of: "<pad>"))
        try assertMatchesGolden(tok, "unigram")
    }

    /// tokens/merges arrays (GGUF's tokenizer.ggml.tokens/merges) match the tokenizer.json's ids
    func testBPEFromArraysMatchesHF() throws {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: try goldenURL("bpe.tokenizer.json"))) as! [String: Any]
        let model = json["model"] as! [String: Any]
        let vocab = model["vocab"] as! [String: Int]
        var tokens = (0...vocab.values.max()!).map { "<gap \($0)>" }
        for (t, id) in vocab { tokens[id] = t }
        let merges = (model["merges"] as! [[String]]).map { $0.joined(separator: " ") }
        let special = Set((json["added_tokens"] as! [[String: Any]]).map { $0["id"] as! Int })
        let types = tokens.indices.map { special.contains($0) ? TokenType.control.rawValue : TokenType.normal.rawValue }
        let tok = try Tokenizer.bytePairEncoding(tokens: tokens, merges: merges, types: types, preTokenizer: "smollm", bos: 1, eos: 2)
        try assertMatchesGolden(tok, "bpe", tokensAndDecode: false)
        XCTAssertEqual(try tok.encode("hi"), try tok.encode("hi", addSpecialTokens: false), "SmolLM2 adds no BOS")
    }

    func testDecodeRoundTrips() throws {
        let text = try String(contentsOf: try goldenURL("tokenizer_text.txt"), encoding: .utf8)
        for kind in ["bpe", "bpe_llama3_regex", "unigram_byte_fallback"] {
            let tok = try goldenTokenizer(kind)
            let decoded = try tok.decode(try tok.encode(text))
            // byte-level BPE is lossless; the unigram normalizes (NFKC, runs of spaces collapsed)
            let normalized = text.precomposedStringWithCompatibilityMapping.replacingOccurrences(of: "   ", with: " ")
            XCTAssertEqual(decoded, kind.hasPrefix("bpe") ? text : normalized, kind)
        }
        let wp = try goldenTokenizer("wordpiece")
        XCTAssertEqual(try wp.decode(try wp.encode("Hello, World! It's Grüße.")), "hello, world! it ' s gruße.", "HF's clean-up works token by token")
    }

    func testTruncationKeepsSpecialTokens() throws {
        let tok = try goldenTokenizer("wordpiece")
        let b = try tok.batch(["the quick brown fox jumps over the lazy dog", "a"], maxLength: 5, padding: .left)
        XCTAssertEqual(b.ids[0].count, 5)
        XCTAssertEqual(b.ids[0].first, 101)
        XCTAssertEqual(b.ids[0].last, 102)
        XCTAssertEqual(b.ids[1], [0, 0, 101, try tok.tokenToID("a")!, 102])
        XCTAssertEqual(b.attentionMask[1], [0, 0, 1, 1, 1])
        let fixed = try tok.batch(["a"], maxLength: 6, padding: .right, padToMaxLength: true)
        XCTAssertEqual(fixed.attentionMask, [[1, 1, 1, 0, 0, 0]])
        XCTAssertThrowsError(try tok.batch(["a", "a b"], padding: nil))
        XCTAssertThrowsError(try tok.batch(["a"], maxLength: 0))
        XCTAssertThrowsError(try tok.batch(["a"], maxLength: 1 << 40, padToMaxLength: true))
    }

    func testWordPieceDetails() throws {
        let tok = try Tokenizer.wordPiece(vocabulary: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "a", "!"])
        XCTAssertEqual(try tok.tokens("Unaffable!"), ["un", "##aff", "##able", "!"])
        XCTAssertEqual(try tok.tokens("unaffablex a"), ["[UNK]", "a"], "a word with an uncovered part is unknown")
        XCTAssertEqual(try tok.tokens(String(repeating: "a", count: 101)), ["[UNK]"], "longer than max_input_chars_per_word")
        XCTAssertEqual(try tok.encode("a [MASK] a"), [2, 8, 4, 8, 3], "added tokens are matched before the model")
        XCTAssertEqual(try tok.decode([2, 5, 6, 7, 9, 3]), "unaffable!")
        XCTAssertThrowsError(try tok.decode([99]))
    }

    func testMalformedFilesThrow() throws {
        func load(_ json: String) throws -> Tokenizer { try Tokenizer.fromJSON(Data(json.utf8)) }
        XCTAssertThrowsError(try load("{")) { XCTAssertTrue("\($0)".contains("not valid JSON"), "\($0)") }
        XCTAssertThrowsError(try load("[]"))
        XCTAssertThrowsError(try load(#"{"model": {"type": "WordLevel", "vocab": {}}}"#)) {
            XCTAssertTrue("\($0)".contains("WordLevel"), "\($0)")
        }
        XCTAssertThrowsError(try load(#"{"model": {"type": "WordPiece", "vocab": {"a": 0}, "unk_token": "[UNK]"}}"#)) {
            XCTAssertTrue("\($0)".contains("unknown token"), "\($0)")
        }
        XCTAssertThrowsError(try load(#"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}}"#)) {
            XCTAssertTrue("\($0)".contains("ab is not in the vocabulary"), "\($0)")
        }
        XCTAssertThrowsError(try load(#"{"model": {"type": "Unigram", "vocab": [["a", "x"]]}}"#))
        XCTAssertThrowsError(try load(#"{"model": {"type": "Unigram", "vocab": [["a", -1]], "unk_id": 5}}"#))
        XCTAssertThrowsError(try load(#"{"model": {"type": "BPE", "vocab": {"a": -3}, "merges": []}}"#))
        XCTAssertThrowsError(try load(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "normalizer": {"type": "Magic"}}"#))
        XCTAssertThrowsError(try load(#"{"model": {"type": "BPE", "vocab": {"a": 99999999999}, "merges": []}}"#))
        let bpe = #"{"type": "BPE", "vocab": {"a": 0}, "merges": []}"#
        XCTAssertThrowsError(try load(#"{"model": \#(bpe), "added_tokens": [{"id": 5000000000, "content": "x"}]}"#))
        XCTAssertThrowsError(try load(#"{"model": \#(bpe), "pre_tokenizer": {"type": "Metaspace", "replacement": ""}}"#))
        XCTAssertThrowsError(
            try load(
                #"{"model": \#(bpe), "post_processor": {"type": "BertProcessing", "cls": ["a", -1], "sep": ["a", 0]}}"#))
        XCTAssertThrowsError(try Tokenizer.load(path: "/nonexistent/tokenizer.json"))
        XCTAssertThrowsError(try Tokenizer.bytePairEncoding(tokens: ["a"], merges: ["ab"]))
        XCTAssertThrowsError(try Tokenizer.bytePairEncoding(tokens: ["a"], merges: [], preTokenizer: "mystery"))
        XCTAssertThrowsError(try Tokenizer.unigram(pieces: ["a"], scores: [0, 1]))
        // a Unigram model without an unknown token cannot encode an unseen character
        let noUnk = try load(#"{"model": {"type": "Unigram", "vocab": [["a", -1]]}}"#)
        XCTAssertThrowsError(try noUnk.encode("b"))
    }

    // MARK: real files (assets/)

    static func asset(_ relative: String) -> String? {
        let roots = [ProcessInfo.processInfo.environment["TESSERA_ASSETS"], packageRoot + "/assets"].compactMap { $0 }
        return roots.map { $0 + "/" + relative }.first { FileManager.default.fileExists(atPath: $0) }
    }
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    func testRealMiniLM() throws {
        guard let json = Self.asset("minilm/tokenizer.json"), let vocab = Self.asset("minilm/vocab.txt") else {
            throw XCTSkip("MiniLM tokenizer not found in assets/minilm (run scripts/fetch-assets or set TESSERA_ASSETS)")
        }
        try assertMatchesGolden(try Tokenizer.load(path: json), "minilm_full")
        try assertMatchesGolden(try Tokenizer.load(path: vocab), "minilm_full")
        XCTAssertEqual(try Tokenizer.load(path: json).vocabularySize, 30522)
    }

    func testRealE5Vocabulary() throws {
        guard let path = Self.asset("e5/e5-small-q4.bin") else {
            throw XCTSkip("e5 model file not found in assets/e5 (run scripts/fetch-assets or set TESSERA_ASSETS)")
        }
        let v = try E5File(path: path).vocabulary
        let tok = try Tokenizer.unigram(
            pieces: v.pieces, scores: v.scores.map(Double.init), unknownID: v.unkID, bos: v.bosID, eos: v.eosID, pad: v.padID)
        try assertMatchesGolden(tok, "e5_full", tokensAndDecode: false)
    }

    func testRealSmolLM2() throws {
        guard let path = Self.asset("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") else {
            throw XCTSkip("SmolLM2 GGUF not found in assets/smollm2 (run scripts/fetch-assets or set TESSERA_ASSETS)")
        }
        let m = try GGUFFile(path: path).metadata
        let tok = try Tokenizer.bytePairEncoding(
            tokens: try XCTUnwrap(m["tokenizer.ggml.tokens"]?.strings), merges: try XCTUnwrap(m["tokenizer.ggml.merges"]?.strings),
            types: m["tokenizer.ggml.token_type"]?.array?.compactMap(\.int), preTokenizer: m["tokenizer.ggml.pre"]?.string ?? "gpt2",
            bos: m["tokenizer.ggml.bos_token_id"]?.int, eos: m["tokenizer.ggml.eos_token_id"]?.int)
        try assertMatchesGolden(tok, "smollm2_full")
        try assertMatchesGolden(try Tokenizer.load(path: path), "smollm2_full")
    }

    /// the e5 file's own normalization map: the same ids as NFKC on the test text except where
    /// it turns tabs and newlines into spaces (as SentencePiece does)
    func testRealE5File() throws {
        guard let path = Self.asset("e5/e5-small-q4.bin") else {
            throw XCTSkip("e5 model file not found in assets/e5 (run scripts/fetch-assets or set TESSERA_ASSETS)")
        }
        let tok = try Tokenizer.load(path: path)
        XCTAssertEqual(tok.kind, "Unigram")
        XCTAssertEqual(try tok.encode("中文测试：我爱"), try tok.encode("中文测试:我爱"))
        XCTAssertEqual(try tok.encode("a\tb\nc"), try tok.encode("a b c"))
        try assertMatchesGolden(tok, "e5_full", tokensAndDecode: false) { !$0.contains("\t") && !$0.contains("\n") }
        // HF's Precompiled map, as Tessera reads it, gives the file's own normalization
        let sentencePiece = SentencePieceNormalizer()
        for text in ["tabs\there\n", "zero\u{200B}width\u{1}", "Ｆｕｌｌ：ｗｉｄｔｈ"] {
            XCTAssertEqual(
                sentencePiece.normalize(Array(text.utf8)),
                CharacterMapNormalizer(map: try E5File(path: path).vocabulary.normalization).normalize(Array(text.utf8)),
                text.debugDescription)
        }
    }
}
