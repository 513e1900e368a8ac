// QuantizedMatrix: a weight matrix kept in its ggml blocks (4-bit Q4_0 takes 1/7 of f32's memory),
// dequantised a tile of rows at a time into a small reused buffer inside its matrix products, so a
// quantised Linear never holds an f32 copy of itself (QLoRA and sparse fine-tuning on a 4-bit base).

import CBLAS
import TesseraTensor

public final class QuantizedMatrix {
    /// block format of the data
    public let type: GGMLType
    /// rows (output features of a Linear weight)
    public let rows: Int
    /// columns (input features); a whole number of blocks
    public let columns: Int
    /// bytes of one row
    public let rowBytes: Int
    /// rows·rowBytes bytes of blocks, row-major
    let data: UnsafeRawPointer
    /// keeps `data` alive: the mapped file it lies in, or an owned copy
    let owner: AnyObject

    public init(type: GGMLType, rows: Int, columns: Int, data: UnsafeRawPointer, owner: AnyObject) throws {
        guard type.canDequantize else { throw TensorError("QuantizedMatrix", "type \(type.name) cannot be dequantised") }
        guard rows >= 0, columns >= 0, let rowBytes = type.byteCount(elements: columns) else {
            throw TensorError("QuantizedMatrix", "rows of \(columns) elements are not whole \(type.name) blocks of \(type.blockElements)")
        }
        self.type = type
        self.rows = rows
        self.columns = columns
        self.rowBytes = rowBytes
        self.data = data
        self.owner = owner
    }

    /// A matrix from a copy of `bytes` (rows·columns elements of `type`, row-major blocks).
    public convenience init(type: GGMLType, rows: Int, columns: Int, bytes: [UInt8]) throws {
        let (n, o) = rows.multipliedReportingOverflow(by: columns)
        guard !o, let expected = type.byteCount(elements: n), expected == bytes.count else {
            throw TensorError("QuantizedMatrix", "\(bytes.count) bytes do not hold \(rows)x\(columns) \(type.name) elements")
        }
        let buffer = OwnedBytes(bytes)
        try self.init(type: type, rows: rows, columns: columns, data: buffer.base, owner: buffer)
    }

    /// bytes of quantised data
    public var byteCount: Int { rows * rowBytes }

    /// The raw blocks of the matrix (row-major).
    public var bytes: [UInt8] { Array(UnsafeRawBufferPointer(start: data, count: byteCount)) }

    /// Dequantises rows [rowRange] and columns [columnRange] (whole blocks) into dst, row r of the
    /// range at dst + (r - rowRange.lowerBound)·leadingDimension. Large ranges use both cores
    /// unless `parallel` is false.
    public func dequantize(
        rows rowRange: Range<Int>, columns columnRange: Range<Int>? = nil, into dst: UnsafeMutablePointer<Float>, leadingDimension: Int? = nil,
        parallel: Bool = true
    )
        throws
    {
        let cols = columnRange ?? 0..<columns
        let be = type.blockElements
        guard rowRange.lowerBound >= 0, rowRange.upperBound <= rows, cols.lowerBound >= 0, cols.upperBound <= columns else {
            throw TensorError("dequantize", "rows \(rowRange) / columns \(cols) outside the \(rows)x\(columns) matrix")
        }
        guard cols.lowerBound % be == 0, cols.upperBound % be == 0 else {
            throw TensorError("dequantize", "columns \(cols) do not start and end on \(type.name) block boundaries (\(be) elements)")
        }
        let ld = leadingDimension ?? cols.count
        guard ld >= cols.count else { throw TensorError("dequantize", "leading dimension \(ld) is shorter than \(cols.count) columns") }
        let (type, data, rowBytes, r0) = (type, data, rowBytes, rowRange.lowerBound)
        let firstBlock = cols.lowerBound / be, blocks = cols.count / be
        let grainRows = Swift.max(1, Dequantize.grain / Swift.max(1, cols.count))
        Parallel.forRanges(rowRange.count, grain: parallel ? grainRows : Int.max) { rr in
            for i in rr {
                let src = data + (r0 + i) * rowBytes + firstBlock * type.blockBytes
                Dequantize.blocksUnchecked(type, src, 0..<blocks, dst + i * ld)
            }
        }
    }

    /// The whole matrix as an f32 tensor (rows, columns).
    public func dequantized() throws -> Tensor {
        let out = try Tensor.empty([rows, columns], dtype: .f32, op: "dequantize")
        try dequantize(rows: 0..<rows, into: out.mutablePointer(Float.self))
        return out
    }

    /// rows per tile: about 1 MB of f32 (in cache between being written and read by sgemm), and at
    /// least 128 rows: narrower tiles make sgemm re-pack the input for each one (measured: 32-row
    /// tiles 1.5-1.7x slower than one sgemm on x (512, 1536) @ W^T (576, 1536); 128 and more
    /// within 10-20%)
    func defaultTileRows() -> Int { weightTileRows(rows: rows, columns: columns) }

    /// y = x W^T, the Linear product: x (..., columns) -> (..., rows). W is dequantised one tile of
    /// rows at a time into a reused buffer; each tile is one sgemm into its columns of y. Tiles
    /// dequantise on the calling thread: tens of microseconds, while sgemm's threads hold the cores.
    public func matmulTransposed(_ x: Tensor, tileRows: Int? = nil) throws -> Tensor {
        let fn = "quantized_matmul"
        guard x.rank >= 1, x.shape[x.rank - 1] == columns else {
            throw TensorError(fn, "input of shape \(x.shape) does not end in the weight's \(columns) input features")
        }
        let a = try x.to(.f32).contiguous()
        let m = a.numel / Swift.max(1, columns)
        let out = try Tensor.empty(Array(x.shape.dropLast()) + [rows], dtype: .f32, op: fn)
        guard m > 0, rows > 0 else { return out }
        guard columns > 0 else { _ = out.zero_(); return out }
        try checkBLASSize(m, fn)
        if m <= gemvRows && tileRows == nil {
            rowDots(a.pointer(Float.self), m, out.mutablePointer(Float.self))
            return out
        }
        try tiledWeightProduct(
            rows: rows, columns: columns, tileRows: tileRows ?? defaultTileRows(), a: a.pointer(Float.self), m: m, transposed: true,
            into: out.mutablePointer(Float.self), op: fn
        ) { try dequantize(rows: $0, into: $1, parallel: false) }
        return out
    }

    /// inputs of at most this many rows (decoding one token per sequence) take rowDots
    var gemvRows: Int { 8 }

    /// y (m, rows) = x (m, columns) W^T for a few input rows: each row of W is dequantised into a
    /// buffer that stays in L1 and dotted with every input row at once, rows of W split over the
    /// cores. Only the quantised bytes cross the memory bus (sgemm on dequantised tiles would
    /// write and read every weight as f32: 6x the traffic for 4-bit blocks).
    func rowDots(_ x: UnsafePointer<Float>, _ m: Int, _ y: UnsafeMutablePointer<Float>) {
        let (type, data, rowBytes, rows, columns) = (type, data, rowBytes, rows, columns)
        let blocks = columns / type.blockElements
        Parallel.forRanges(rows, grain: Swift.max(4, (1 << 15) / Swift.max(1, columns))) { range in
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: columns)
            defer { buffer.deallocate() }
            for r in range {
                Dequantize.blocksUnchecked(type, data + r * rowBytes, 0..<blocks, buffer)
                for i in 0..<m { y[i * rows + r] = dotProduct(x + i * columns, buffer, columns) }
            }
        }
    }

    /// y = g W: g (..., rows) -> (..., columns), the gradient of matmulTransposed with respect to
    /// its input. Tiles of rows of W each add their part: y += g[:, tile] @ tile.
    public func matmul(_ g: Tensor, tileRows: Int? = nil) throws -> Tensor {
        let fn = "quantized_matmul"
        guard g.rank >= 1, g.shape[g.rank - 1] == rows else {
            throw TensorError(fn, "input of shape \(g.shape) does not end in the weight's \(rows) output features")
        }
        let a = try g.to(.f32).contiguous()
        let m = a.numel / Swift.max(1, rows)
        let out = try Tensor.empty(Array(g.shape.dropLast()) + [columns], dtype: .f32, zeroed: true, op: fn)
        guard m > 0, rows > 0, columns > 0 else { return out }
        try checkBLASSize(m, fn)
        try tiledWeightProduct(
            rows: rows, columns: columns, tileRows: tileRows ?? defaultTileRows(), a: a.pointer(Float.self), m: m, transposed: false,
            into: out.mutablePointer(Float.self), op: fn
        ) { try dequantize(rows: $0, into: $1, parallel: false) }
        return out
    }

    private func checkBLASSize(_ m: Int, _ fn: String) throws {
        guard m < Int(Int32.max), rows < Int(Int32.max), columns < Int(Int32.max) else {
            throw TensorError(fn, "dimensions \(m)x\(columns) @ \(columns)x\(rows) are too large for BLAS")
        }
    }
}

/// A heap copy of some bytes, freed with its last reference.
final class OwnedBytes {
    let base: UnsafeRawPointer
    init(_ bytes: [UInt8]) {
        let p = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(1, bytes.count), alignment: 64)
        bytes.withUnsafeBytes { b in if let s = b.baseAddress { p.copyMemory(from: s, byteCount: b.count) } }
        base = UnsafeRawPointer(p)
    }
    deinit { UnsafeMutableRawPointer(mutating: base).deallocate() }
}

/// A product of activations with a weight W (rows, columns) that exists only a tile of rows at a
/// time: `fill(rows, dst)` writes those rows as f32 (a dequantisation, or a base plus a sparse
/// delta), then one sgemm uses the tile, so no dense copy of W is ever held.
///   transposed: out (m, rows) = a (m, columns) @ Wᵀ   (out need not be initialised)
///   otherwise:  out (m, columns) += a (m, rows) @ W    (out must start at zero)
/// `op` names the operation when Ctrl-C stops it between tiles.
public func tiledWeightProduct(
    rows: Int, columns: Int, tileRows: Int, a: UnsafePointer<Float>, m: Int, transposed: Bool,
    into out: UnsafeMutablePointer<Float>, op: String, fill: (Range<Int>, UnsafeMutablePointer<Float>) throws -> Void
) throws {
    guard m > 0, rows > 0, columns > 0 else { return }
    let tile = Swift.max(1, Swift.min(rows, tileRows))
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: tile * columns)
    defer { scratch.deallocate() }
    for r0 in stride(from: 0, to: rows, by: tile) {
        let t = Swift.min(tile, rows - r0)
        try fill(r0..<(r0 + t), scratch)
        weightRowsProduct(scratch, rows: r0..<(r0 + t), of: rows, columns: columns, a: a, m: m, transposed: transposed, into: out)
        try Cancellation.check(op)
    }
}

/// Rows per tile of a weight (rows, columns) made f32 for a product: about 1 MB, at least 128 rows
/// (fewer only for a smaller weight), a multiple of 16.
public func weightTileRows(rows: Int, columns: Int) -> Int {
    Swift.min(rows, Swift.max(128, (1 << 18) / Swift.max(1, columns)) / 16 * 16)
}

/// One sgemm with rows `r` of a weight W (rows, columns), held contiguously at `w` (r.count, columns):
///   transposed: out[:, r] (m, r.count) = a (m, columns) @ wᵀ   (out has `rows` columns)
///   otherwise:  out (m, columns) += a[:, r] (m, r.count) @ w    (a has `rows` columns)
public func weightRowsProduct(
    _ w: UnsafePointer<Float>, rows r: Range<Int>, of rows: Int, columns: Int, a: UnsafePointer<Float>, m: Int, transposed: Bool,
    into out: UnsafeMutablePointer<Float>
) {
    let t = r.count
    if transposed {
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(t), Int32(columns), 1, a, Int32(columns), w, Int32(columns), 0,
            out + r.lowerBound, Int32(rows))
    } else {
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(columns), Int32(t), 1, a + r.lowerBound, Int32(rows), w, Int32(columns), 1,
            out, Int32(columns))
    }
}

/// Σ a[j] b[j] over n floats, 16 lanes at a time (a function of its own, so it vectorises)
@inline(never)
func dotProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD16<Float>()
    var j = 0
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    while j + 16 <= n {
        let s = j * MemoryLayout<Float>.stride
        acc.addProduct(ra.loadUnaligned(fromByteOffset: s, as: SIMD16<Float>.self), rb.loadUnaligned(fromByteOffset: s, as: SIMD16<Float>.self))
        j += 16
    }
    var total = acc.sum()
    while j < n {
        total += a[j] * b[j]
        j += 1
    }
    return total
}
