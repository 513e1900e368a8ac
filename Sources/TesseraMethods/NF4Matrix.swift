// NF4Matrix: a weight matrix in QLoRA's 4-bit NormalFloat with double quantisation
// (bitsandbytes quantize_4bit, blocksize 64, compress_statistics): each block of 64 consecutive
// row-major elements stores the index of the code nearest to x / absmax, two per byte (first
// element in the high nibble, as bitsandbytes packs them); the per-block absmax are quantised
// again, `absmax - mean(absmax)` in blocks of 256 with bitsandbytes' signed 8-bit dynamic map
// and an f32 scale per 256 blocks. About 4.127 bits per parameter.

import TesseraTensor

public final class NF4Matrix {
    /// the 16 NormalFloat levels (bitsandbytes get_4bit_type("nf4"))
    public static let code: [Float] = [
        -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
        -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
        0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
    ]
    /// elements per 4-bit block, and 4-bit blocks per block of the second (8-bit) quantisation
    public static let blockSize = 64
    public static let statisticsBlockSize = 256

    public let rows: Int
    public let columns: Int
    /// ceil(numel / 2) bytes: element 2j in the high nibble of byte j, 2j+1 in the low one
    let packed: [UInt8]
    /// per 64-block: index into `dynamicMap` of (absmax - absmaxOffset) / absmaxScale[block / 256]
    let absmaxCodes: [UInt8]
    /// per 256 blocks of 64: the largest |absmax - offset| (f32)
    let absmaxScale: [Float]
    /// mean of the absmax over all blocks
    let absmaxOffset: Float

    public var numel: Int { rows * columns }
    /// bytes held: packed codes, absmax codes, second-level scales and the offset
    public var byteCount: Int { packed.count + absmaxCodes.count + 4 * absmaxScale.count + 4 }
    public var bitsPerParameter: Double { Double(8 * byteCount) / Double(max(1, numel)) }

    /// Quantises w (rows, columns), f32.
    public init(_ w: Tensor) throws {
        guard w.rank == 2, w.dtype.isFloatingPoint else {
            throw TensorError("nf4", "needs a floating-point matrix (out, in), got \(w.dtype) \(w.shape)")
        }
        let src = try w.to(.f32).contiguous()
        (rows, columns) = (w.shape[0], w.shape[1])
        let n = rows * columns, bs = NF4Matrix.blockSize
        let blocks = (n + bs - 1) / bs
        let p = src.pointer(Float.self)
        var absmax = [Float](repeating: 0, count: blocks)
        var packed = [UInt8](repeating: 0, count: (n + 1) / 2)
        for b in 0..<blocks {
            var m: Float = 0
            for i in (b * bs)..<min(n, (b + 1) * bs) { m = max(m, abs(p[i])) }
            guard m.isFinite else { throw TensorError("nf4", "the matrix holds a non-finite value in block \(b)") }
            absmax[b] = m
            let inv: Float = m > 0 ? 1 / m : 0
            for i in (b * bs)..<min(n, (b + 1) * bs) {
                let q = NF4Matrix.nearestCode(p[i] * inv)
                packed[i / 2] |= i % 2 == 0 ? q << 4 : q
            }
        }
        self.packed = packed
        // double quantisation of the absmax
        let offset = blocks > 0 ? absmax.reduce(0, +) / Float(blocks) : 0
        let sb = NF4Matrix.statisticsBlockSize
        var scales = [Float](repeating: 0, count: (blocks + sb - 1) / sb)
        var codes = [UInt8](repeating: 0, count: blocks)
        let map = NF4Matrix.dynamicMap
        for s in 0..<scales.count {
            let range = (s * sb)..<min(blocks, (s + 1) * sb)
            let scale = range.reduce(Float(0)) { max($0, abs(absmax[$1] - offset)) }
            scales[s] = scale
            for b in range { codes[b] = NF4Matrix.nearest(scale > 0 ? (absmax[b] - offset) / scale : 0, in: map) }
        }
        (absmaxCodes, absmaxScale, absmaxOffset) = (codes, scales, offset)
    }

    /// index of the NF4 level nearest to x in [-1, 1]
    @inline(__always)
    static func nearestCode(_ x: Float) -> UInt8 { nearest(x, in: code) }

    /// index of the entry of the sorted `table` nearest to x
    static func nearest(_ x: Float, in table: [Float]) -> UInt8 {
        var lo = 0, hi = table.count - 1
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if table[mid] <= x { lo = mid } else { hi = mid }
        }
        return UInt8(abs(table[lo] - x) <= abs(table[hi] - x) ? lo : hi)
    }

    /// bitsandbytes create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8), sorted:
    /// for i in 0..<7, 2^i means of linspace(0.1, 1, 2^i + 1) scaled by 10^(i-6), both signs,
    /// plus 0 and 1.
    static let dynamicMap: [Float] = {
        var data: [Float] = []
        for i in 0..<7 {
            let items = (1 << i) + 1
            let boundaries = (0..<items).map { 0.1 + 0.9 * Double($0) / Double(items - 1) }
            let scale = pow10(i - 6)
            for j in 0..<(items - 1) {
                let mean = (boundaries[j] + boundaries[j + 1]) / 2
                data.append(Float(scale * mean))
                data.append(Float(-scale * mean))
            }
        }
        data.append(0)
        data.append(1)
        return data.sorted()
    }()

    private static func pow10(_ e: Int) -> Double { e >= 0 ? (0..<e).reduce(1.0) { x, _ in x * 10 } : 1 / pow10(-e) }

    /// the dequantised absmax of 64-block b
    @inline(__always)
    func absmax(_ b: Int) -> Float {
        NF4Matrix.dynamicMap[Int(absmaxCodes[b])] * absmaxScale[b / NF4Matrix.statisticsBlockSize] + absmaxOffset
    }

    /// Dequantises rows [range] into dst (row-major, `columns` floats a row).
    public func dequantize(rows range: Range<Int>, into dst: UnsafeMutablePointer<Float>) throws {
        guard range.lowerBound >= 0, range.upperBound <= rows else {
            throw TensorError("nf4", "rows \(range) outside the \(rows)x\(columns) matrix")
        }
        let first = range.lowerBound * columns, end = range.upperBound * columns
        let code = NF4Matrix.code
        code.withUnsafeBufferPointer { c in
            packed.withUnsafeBufferPointer { q in
                var i = first
                while i < end {
                    let b = i / NF4Matrix.blockSize
                    let blockEnd = min(end, (b + 1) * NF4Matrix.blockSize)
                    let a = absmax(b)
                    while i < blockEnd {
                        let byte = q[i >> 1]
                        dst[i - first] = c[Int(i & 1 == 0 ? byte >> 4 : byte & 15)] * a
                        i += 1
                    }
                }
            }
        }
    }

    /// The whole matrix as f32 (rows, columns).
    public func dequantized() throws -> Tensor {
        let out = try Tensor.empty([rows, columns], dtype: .f32, op: "nf4")
        try dequantize(rows: 0..<rows, into: out.mutablePointer(Float.self))
        return out
    }
}

extension NF4Matrix: QuantizedWeight {
    public var formatName: String { "NF4" }
    public func dequantizeRows(_ range: Range<Int>, into dst: UnsafeMutablePointer<Float>) throws {
        try dequantize(rows: range, into: dst)
    }
}
