// StridedLoop: walks several same-shaped strided operands row by row (the innermost dimension
// is the row), after merging dimensions that are contiguous in every operand.

struct StridedLoop {
    /// coalesced shape, outermost first; never empty
    let shape: [Int]
    /// per operand, its coalesced strides (in elements)
    let strides: [[Int]]
    /// per operand, its storage offset
    let offsets: [Int]

    /// `strides[k]` describe operand k over `shape` (already broadcast: 0 on expanded dims).
    init(shape: [Int], strides: [[Int]], offsets: [Int]) {
        var dims: [Int] = []
        var st: [[Int]] = Array(repeating: [], count: strides.count)
        for d in 0..<shape.count where shape[d] != 1 {
            if let last = dims.last,
                (0..<strides.count).allSatisfy({ st[$0].last! == strides[$0][d] * shape[d] })
            {
                dims[dims.count - 1] = last * shape[d]
                for k in 0..<strides.count { st[k][st[k].count - 1] = strides[k][d] }
            } else {
                dims.append(shape[d])
                for k in 0..<strides.count { st[k].append(strides[k][d]) }
            }
        }
        if dims.isEmpty {
            dims = [1]
            for k in 0..<strides.count { st[k] = [0] }
        }
        self.shape = dims
        self.strides = st
        self.offsets = offsets
    }

    /// length of one row
    var inner: Int { shape[shape.count - 1] }
    /// number of rows
    var rows: Int { shape.dropLast().reduce(1, *) }

    /// Calls `body(offs, count)` for rows in `range`; `offs[k]` is operand k's storage offset of
    /// the row's first element. Rows go in row-major order.
    @inline(__always)
    func forEachRow(in range: Range<Int>, _ body: (UnsafePointer<Int>, Int) -> Void) {
        let nOps = strides.count
        let outer = shape.count - 1
        let inner = self.inner
        withUnsafeTemporaryAllocation(of: Int.self, capacity: nOps + outer) { buf in
            let offs = buf.baseAddress!
            let idx = offs + nOps
            // the multi-index of the first row
            var r = range.lowerBound
            for d in stride(from: outer - 1, through: 0, by: -1) {
                idx[d] = r % shape[d]
                r /= shape[d]
            }
            for k in 0..<nOps {
                var o = offsets[k]
                for d in 0..<outer { o += idx[d] * strides[k][d] }
                offs[k] = o
            }
            for _ in range {
                body(UnsafePointer(offs), inner)
                var d = outer - 1
                while d >= 0 {
                    idx[d] += 1
                    for k in 0..<nOps { offs[k] += strides[k][d] }
                    if idx[d] < shape[d] { break }
                    for k in 0..<nOps { offs[k] -= strides[k][d] * shape[d] }
                    idx[d] = 0
                    d -= 1
                }
            }
        }
    }

    /// Runs rows in parallel when the whole loop is large.
    @inline(__always)
    func parallelRows(grain: Int = 1 << 16, _ body: (UnsafePointer<Int>, Int) -> Void) {
        let rowGrain = max(1, grain / max(inner, 1))
        Parallel.forRanges(rows, grain: rowGrain) { range in forEachRow(in: range, body) }
    }
}
