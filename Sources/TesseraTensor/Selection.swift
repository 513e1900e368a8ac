// Selection: sort, argsort, topk and kthvalue along a dimension. topk and kthvalue select in
// O(n) (three-way quickselect, so the many equal values of a sparse diff cost nothing extra);
// ties are broken by the lower index, so results are exact and deterministic. NaN sorts as the
// largest value, as in torch.

extension Tensor {
    /// Values sorted along `dim` and their original indices (stable: ties keep index order).
    public func sort(dim: Int = -1, descending: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        let d = try Shape.dim(dim, rank: rank, op: "sort")
        let n = rank == 0 ? 1 : shape[d]
        return try selectAlong(d, count: n, op: "sort") { row, n, out in
            out.initialize(repeating: 0, count: n)
            for j in 0..<n { out[j] = Int64(j) }
            sortIndices(row, out, n, descending: descending)
        }
    }

    /// Indices that sort along `dim`.
    public func argsort(dim: Int = -1, descending: Bool = false) throws -> Tensor {
        try sort(dim: dim, descending: descending).indices
    }

    /// The k largest (or smallest) values along `dim` and their indices: exactly k, ties to the
    /// lower index; sorted by value (then index) unless `sorted` is false, when they keep index order.
    public func topk(_ k: Int, dim: Int = -1, largest: Bool = true, sorted: Bool = true) throws -> (values: Tensor, indices: Tensor) {
        let d = try Shape.dim(dim, rank: rank, op: "topk")
        let n = rank == 0 ? 1 : shape[d]
        guard k >= 0 && k <= n else { throw TensorError("topk", "k = \(k) is out of range for dimension \(d) of size \(n)") }
        return try selectAlong(d, count: k, op: "topk") { row, n, out in
            selectTop(row, n, k, largest: largest, into: out)
            if sorted { sortIndices(row, out, k, descending: largest) }
        }
    }

    /// The k-th smallest value along `dim` (k counts from 1, as torch.kthvalue) and its index.
    public func kthvalue(_ k: Int, dim: Int = -1, keepDim: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        let d = try Shape.dim(dim, rank: rank, op: "kthvalue")
        let n = rank == 0 ? 1 : shape[d]
        guard k >= 1 && k <= n else { throw TensorError("kthvalue", "k = \(k) is out of range for dimension \(d) of size \(n) (k counts from 1)") }
        let (v, i) = try selectAlong(d, count: 1, op: "kthvalue") { row, n, out in
            // the k smallest, sorted: the last is the k-th
            let buf = UnsafeMutablePointer<Int64>.allocate(capacity: k)
            defer { buf.deallocate() }
            selectTop(row, n, k, largest: false, into: buf)
            sortIndices(row, buf, k, descending: false)
            out[0] = buf[k - 1]
        }
        if keepDim || rank == 0 { return (v, i) }
        return (try v.squeeze(d), try i.squeeze(d))
    }

    /// Runs `pick(row, n, out)` on every row along dim `d` (rows copied contiguous, typed as a
    /// comparable key), which writes `count` indices into `out`; gathers the values.
    private func selectAlong(
        _ d: Int, count: Int, op: String,
        _ pick: (SelectionRow, Int, UnsafeMutablePointer<Int64>) -> Void
    ) throws -> (values: Tensor, indices: Tensor) {
        // a 0-d tensor is selected from as one element; values are gathered from `src` so that
        // gradients reach self
        let src = rank == 0 ? try reshape([1]) : self
        let x = src.detach()
        let moved = try x.transpose(d, x.rank - 1).contiguous()
        let n = moved.shape.last!
        let rows = n == 0 ? 0 : moved.numel / n
        var outShape = moved.shape
        outShape[outShape.count - 1] = count
        let idx = try Tensor.empty(outShape, dtype: .i64, op: op)
        let ip = idx.mutablePointer(Int64.self)
        Parallel.forRanges(rows, grain: Swift.max(1, (1 << 15) / Swift.max(n, 1))) { range in
            for r in range {
                let row = SelectionRow(moved, r * n)
                pick(row, n, ip + r * count)
            }
        }
        let indices = try idx.transpose(d, x.rank - 1).contiguous()
        let finalIdx = rank == 0 ? try indices.reshape([]) : indices
        let values = try src.gather(d, indices)
        return (rank == 0 ? try values.reshape([]) : values, finalIdx)
    }
}

/// One contiguous row to select from, compared as Double keys; NaN ranks with +inf (ties then
/// go by index). Integers beyond 2^53 compare by their nearest Double.
struct SelectionRow {
    let base: UnsafeRawPointer
    let dtype: DType

    init(_ t: Tensor, _ start: Int) {
        base = UnsafeRawPointer(t.storage.base + (t.offset + start) * t.dtype.size)
        dtype = t.dtype
    }

    /// the sort key of element j: NaN maps above +inf
    @inline(__always)
    func key(_ j: Int64) -> Double {
        let v: Double
        switch dtype {
        case .f32: v = Double(base.load(fromByteOffset: Int(j) * 4, as: Float.self))
        case .f64: v = base.load(fromByteOffset: Int(j) * 8, as: Double.self)
        case .i32: v = Double(base.load(fromByteOffset: Int(j) * 4, as: Int32.self))
        case .i64: v = Double(base.load(fromByteOffset: Int(j) * 8, as: Int64.self))
        case .bool: v = base.load(fromByteOffset: Int(j), as: Bool.self) ? 1 : 0
        }
        return v.isNaN ? .infinity : v
    }
}

/// Sorts idx[0..<n] by (key, index), descending keys first when `descending`: a total order,
/// so the result equals a stable sort.
func sortIndices(_ row: SelectionRow, _ idx: UnsafeMutablePointer<Int64>, _ n: Int, descending: Bool) {
    let buf = UnsafeMutableBufferPointer(start: idx, count: n)
    var keyed = buf.map { (row.key($0), $0) }
    if descending {
        keyed.sort { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
    } else {
        keyed.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
    }
    for j in 0..<n { idx[j] = keyed[j].1 }
}

/// Writes the indices of the k largest (smallest) of n keys into `out`, in increasing index
/// order: exactly k, and among equal keys at the boundary the lowest indices. Expected O(n).
func selectTop(_ row: SelectionRow, _ n: Int, _ k: Int, largest: Bool, into out: UnsafeMutablePointer<Int64>) {
    if k == 0 { return }
    // keys, negated for "largest" so that we always look for the k smallest
    var keys = [Double](repeating: 0, count: n)
    for j in 0..<n { keys[j] = largest ? -row.key(Int64(j)) : row.key(Int64(j)) }
    // quickselect reorders what it is given: keep `keys` in index order for the pass below
    var scratch = keys
    let threshold = scratch.withUnsafeMutableBufferPointer { kthSmallest($0, k) }
    var below = 0
    for j in 0..<n where keys[j] < threshold { below += 1 }
    var ties = k - below
    var w = 0
    for j in 0..<n {
        let v = keys[j]
        if v < threshold || (v == threshold && ties > 0) {
            if v == threshold { ties -= 1 }
            out[w] = Int64(j)
            w += 1
        }
    }
}

/// The k-th smallest (1-based) of the buffer, reordering it: iterative quickselect with a
/// three-way partition (runs of equal values are settled in one pass) and median-of-three pivots.
func kthSmallest(_ a: UnsafeMutableBufferPointer<Double>, _ k: Int) -> Double {
    var lo = 0, hi = a.count - 1
    let target = k - 1
    while lo < hi {
        let mid = lo + (hi - lo) / 2
        let x = a[lo], y = a[mid], z = a[hi]
        let pivot = Swift.max(Swift.min(x, y), Swift.min(Swift.max(x, y), z))
        // [lo, lt) < pivot, [lt, i) == pivot, (gt, hi] > pivot
        var lt = lo, i = lo, gt = hi
        while i <= gt {
            let v = a[i]
            if v < pivot {
                a.swapAt(lt, i); lt += 1; i += 1
            } else if v > pivot {
                a.swapAt(i, gt); gt -= 1
            } else {
                i += 1
            }
        }
        if target < lt { hi = lt - 1 } else if target > gt { lo = gt + 1 } else { return pivot }
    }
    return a[target]
}
