// TokenizeBench: the `tokenize` group: single-thread tokens/s of MiniLM's WordPiece (and
// SmolLM2's byte-level BPE, e5's unigram when present) over the English and German fortunes
// (a few MB, one encode per fortune), the corpus scripts/bench_tokenize_reference.py gives HF
// tokenizers. Needs assets/ (scripts/fetch-assets) or $TESSERA_ASSETS.

import Foundation
import TesseraIO

/// The asset folder: $TESSERA_ASSETS, else ./assets.
func assetRoot() -> String { ProcessInfo.processInfo.environment["TESSERA_ASSETS"] ?? "assets" }

/// Fortunes of assets/fortunes/{en,de}, files in name order, split at "%" lines; empty ones dropped.
func fortuneTexts() -> [String] {
    var texts: [String] = []
    for language in ["en", "de"] {
        let dir = assetRoot() + "/fortunes/" + language
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { !$0.hasSuffix(".dat") && !$0.hasPrefix(".") }
            .sorted()
        for f in files {
            guard let data = FileManager.default.contents(atPath: dir + "/" + f) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            texts += text.components(separatedBy: "\n%\n").filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        }
    }
    return texts
}

func benchTokenize() throws {
    let texts = fortuneTexts()
    guard !texts.isEmpty else {
        fputs("tessera-bench tokenize: no fortunes under \(assetRoot())/fortunes (run scripts/fetch-assets)\n", stderr)
        return
    }
    let megabytes = Double(texts.reduce(0) { $0 + $1.utf8.count }) / 1e6
    fputs("tokenize: \(texts.count) fortunes, \(String(format: "%.1f", megabytes)) MB\n", stderr)
    var tokenizers: [(String, Tokenizer)] = []
    let root = assetRoot()
    if FileManager.default.fileExists(atPath: root + "/minilm/tokenizer.json") {
        tokenizers.append(("WordPiece (MiniLM)", try Tokenizer.load(path: root + "/minilm/tokenizer.json")))
    }
    let gguf = root + "/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    if FileManager.default.fileExists(atPath: gguf) {
        let m = try GGUFFile(path: gguf).metadata
        tokenizers.append(
            (
                "byte-level BPE (SmolLM2)",
                try Tokenizer.bytePairEncoding(
                    tokens: m["tokenizer.ggml.tokens"]?.strings ?? [], merges: m["tokenizer.ggml.merges"]?.strings ?? [],
                    types: m["tokenizer.ggml.token_type"]?.array?.compactMap(\.int), preTokenizer: m["tokenizer.ggml.pre"]?.string ?? "gpt2")
            ))
    }
    let e5 = root + "/e5/e5-small-q4.bin"
    if FileManager.default.fileExists(atPath: e5) {
        let v = try E5File(path: e5).vocabulary
        tokenizers.append(
            (
                "unigram (e5 / XLM-R)",
                try Tokenizer.unigram(pieces: v.pieces, scores: v.scores.map(Double.init), unknownID: v.unkID, bos: v.bosID, eos: v.eosID)
            ))
    }
    for (name, tok) in tokenizers {
        var count = 0
        let t = try time(budget: 3) {
            count = 0
            for text in texts { count += try tok.encodeIDs(text, addSpecialTokens: false).count }
        }
        emit("tokenize", "\(name): tokens/s, 1 thread", Double(count) / t, "tok/s")
        emit("tokenize", "\(name): MB/s, 1 thread", megabytes / t, "MB/s")
    }
}
