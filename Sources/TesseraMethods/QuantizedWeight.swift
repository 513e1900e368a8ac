// QuantizedWeight: a frozen (out, in) matrix kept in blocks (GGUF Q4_0/Q4_1/Q8_0… as loaded, or
// NF4) that adapted layers multiply with a tile of rows dequantised at a time, so no layer ever
// holds a dense f32 copy of its base weight.

import CBLAS
import TesseraIO
import TesseraTensor

public protocol QuantizedWeight: AnyObject {
    /// output features
    var rows: Int { get }
    /// input features
    var columns: Int { get }
    /// bytes held
    var byteCount: Int { get }
    /// "Q4_1", "NF4", …
    var formatName: String { get }
    /// rows [range] as f32 at dst, `columns` floats a row
    func dequantizeRows(_ range: Range<Int>, into dst: UnsafeMutablePointer<Float>) throws
    /// x (..., columns) -> x Wᵀ (..., rows)
    func matmulTransposed(_ x: Tensor, tileRows: Int?) throws -> Tensor
    /// g (..., rows) -> g W (..., columns)
    func matmul(_ g: Tensor, tileRows: Int?) throws -> Tensor
    /// W as f32 (rows, columns)
    func dequantized() throws -> Tensor
}

extension QuantizedMatrix: QuantizedWeight {
    public var formatName: String { type.name }
    public func dequantizeRows(_ range: Range<Int>, into dst: UnsafeMutablePointer<Float>) throws {
        try dequantize(rows: range, into: dst, parallel: false)
    }
}

extension QuantizedWeight {
    /// rows per dequantised tile: about 1 MB of f32, at least 128 rows (see QuantizedMatrix)
    func tileRowCount(_ requested: Int?) -> Int {
        max(1, min(rows, requested ?? weightTileRows(rows: rows, columns: columns)))
    }

    /// x (m, columns) -> (m, rows), one sgemm per tile of rows of W
    public func matmulTransposed(_ x: Tensor, tileRows: Int?) throws -> Tensor {
        guard x.rank >= 1, x.shape[x.rank - 1] == columns else {
            throw TensorError("quantized_matmul", "input of shape \(x.shape) does not end in the weight's \(columns) input features")
        }
        let a = try x.to(.f32).contiguous()
        let out = try Tensor.empty(Array(x.shape.dropLast()) + [rows], dtype: .f32, zeroed: true, op: "quantized_matmul")
        try tiledWeightProduct(
            rows: rows, columns: columns, tileRows: tileRowCount(tileRows), a: a.pointer(Float.self), m: a.numel / max(1, columns),
            transposed: true, into: out.mutablePointer(Float.self), op: "quantized_matmul", fill: dequantizeRows)
        return out
    }

    /// g (m, rows) -> (m, columns): y += g[:, tile] @ tile for each tile of rows of W
    public func matmul(_ g: Tensor, tileRows: Int?) throws -> Tensor {
        guard g.rank >= 1, g.shape[g.rank - 1] == rows else {
            throw TensorError("quantized_matmul", "input of shape \(g.shape) does not end in the weight's \(rows) output features")
        }
        let a = try g.to(.f32).contiguous()
        let out = try Tensor.empty(Array(g.shape.dropLast()) + [columns], dtype: .f32, zeroed: true, op: "quantized_matmul")
        try tiledWeightProduct(
            rows: rows, columns: columns, tileRows: tileRowCount(tileRows), a: a.pointer(Float.self), m: a.numel / max(1, rows),
            transposed: false, into: out.mutablePointer(Float.self), op: "quantized_matmul", fill: dequantizeRows)
        return out
    }
}

/// Products with W0 + Δ, a tile of rows at a time: `fill(rows, dst)` writes rows of W0 (a copy or a
/// dequantisation), Δ's entries in those rows are added (`layout` is sorted by flat index, so
/// they are one run), and one sgemm uses the tile. Only a tile of the merged weight ever exists.
///   transposed: y (m, rows) = a (m, columns) @ (W0 + Δ)ᵀ
///   otherwise:  y (m, columns) = a (m, rows) @ (W0 + Δ)
func mergedTiledProduct(
    rows: Int, columns: Int, tileRows: Int, fill: (Range<Int>, UnsafeMutablePointer<Float>) throws -> Void, layout: SparseDeltaLayout,
    values: UnsafePointer<Float>, a: UnsafePointer<Float>, m: Int, transposed: Bool, into out: UnsafeMutablePointer<Float>
) throws {
    var j = 0
    try layout.rows.withUnsafeBufferPointer { rp in
        try layout.columns.withUnsafeBufferPointer { cp in
            try layout.slots.withUnsafeBufferPointer { sp in
                try tiledWeightProduct(
                    rows: rows, columns: columns, tileRows: tileRows, a: a, m: m, transposed: transposed, into: out, op: "SparseDeltaLinear"
                ) { range, scratch in
                    try fill(range, scratch)
                    while j < rp.count && Int(rp[j]) < range.upperBound {
                        scratch[(Int(rp[j]) - range.lowerBound) * columns + Int(cp[j])] += values[Int(sp[j])]
                        j += 1
                    }
                }
            }
        }
    }
}
