// Reductions: sum, mean, var, max, min, argmax, argmin over any dimensions (keepDim or not),
// cumsum, and sumTo (the gradient of broadcasting). Every kernel sees its input as (O, R, I):
// O outer rows, R reduced entries, I inner entries, contiguous.

extension Tensor {
    /// normalised, sorted, unique 0-based dims (all dims when nil)
    func reductionDims(_ dims: [Int]?, op: String) throws -> [Int] {
        guard let dims else { return Array(0..<rank) }
        let ds = Array(Set(try dims.map { try Shape.dim($0, rank: rank, op: op) })).sorted()
        // a 0-d tensor accepts dim 0 or -1, as in torch, but has no dimension to reduce
        return rank == 0 ? [] : ds
    }

    /// (O, R, I) for reducing the consecutive dims lo...hi of a contiguous tensor
    func ori(_ lo: Int, _ hi: Int) -> (Int, Int, Int) {
        (shape[..<lo].reduce(1, *), shape[lo...hi].reduce(1, *), shape[(hi + 1)...].reduce(1, *))
    }

    /// Sum over `dims` (all when nil). Integer and bool tensors sum in i64.
    public func sum(dims: [Int]? = nil, keepDim: Bool = false) throws -> Tensor {
        let ds = try reductionDims(dims, op: "sum")
        var x = dtype.isFloatingPoint || dtype == .i64 ? self : try to(.i64)
        if rank == 0 { return try x.clone() }
        let inShape = x.shape
        let src = x
        x = try x.contiguous()
        // reduce each run of consecutive dims, last run first, keeping dims until the end
        var runs: [(Int, Int)] = []
        for d in ds {
            if let last = runs.last, last.1 == d - 1 { runs[runs.count - 1].1 = d } else { runs.append((d, d)) }
        }
        var y = x.detach()
        for (lo, hi) in runs.reversed() {
            let (o, r, i) = y.ori(lo, hi)
            var sh = y.shape
            for d in lo...hi { sh[d] = 1 }
            let out = try Tensor.empty(sh, dtype: y.dtype, op: "sum")
            switch y.dtype {
            case .f32: sumKernel(y.pointer(Float.self), out.mutablePointer(Float.self), o, r, i)
            case .f64: sumKernel(y.pointer(Double.self), out.mutablePointer(Double.self), o, r, i)
            default: sumIntKernel(y.pointer(Int64.self), out.mutablePointer(Int64.self), o, r, i)
            }
            y = out
        }
        let keptShape = y.shape
        if !keepDim {
            let squeezed = keptShape.enumerated().filter { !ds.contains($0.offset) }.map(\.element)
            y = y.makeView(squeezed, Shape.contiguousStrides(squeezed), y.offset)
        }
        guard src.dtype.isFloatingPoint else { return y }
        return y.recordGrad("sum", [src]) { g in [try g.reshape(keptShape).expand(inShape)] }
    }

    /// Mean over `dims` (all when nil); integers give f32.
    public func mean(dims: [Int]? = nil, keepDim: Bool = false) throws -> Tensor {
        let ds = try reductionDims(dims, op: "mean")
        let count = ds.reduce(1) { $0 * shape[$1] }
        let x = dtype.isFloatingPoint ? self : try to(.f32)
        return try x.sum(dims: ds, keepDim: keepDim).div(Double(Swift.max(count, 0)))
    }

    /// Variance over `dims` with `correction` (1: unbiased, as torch.var; 0: population, as numpy).
    public func variance(dims: [Int]? = nil, correction: Int = 1, keepDim: Bool = false) throws -> Tensor {
        let ds = try reductionDims(dims, op: "var")
        let count = ds.reduce(1) { $0 * shape[$1] }
        let x = dtype.isFloatingPoint ? self : try to(.f32)
        let centred = try x.sub(x.mean(dims: ds, keepDim: true))
        return try centred.square().sum(dims: ds, keepDim: keepDim).div(Double(count) - Double(correction))
    }

    /// The gradient `self` (broadcast from `shape`) reduced back to `shape`.
    public func sumTo(_ shape: [Int]) throws -> Tensor {
        if self.shape == shape { return self }
        let lead = rank - shape.count
        guard lead >= 0 else { throw TensorError("sumTo", "cannot reduce shape \(shapeString(self.shape)) to \(shapeString(shape))") }
        var dims = Array(0..<lead)
        for i in 0..<shape.count where shape[i] == 1 && self.shape[lead + i] != 1 { dims.append(lead + i) }
        let s = try sum(dims: dims, keepDim: true)
        return try s.reshape(shape)
    }

    /// Largest value and its index along `dim` (first index on ties; NaN counts as largest).
    public func max(dim: Int, keepDim: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        try extremum(dim: dim, keepDim: keepDim, largest: true, op: "max")
    }

    /// Smallest value and its index along `dim`.
    public func min(dim: Int, keepDim: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        try extremum(dim: dim, keepDim: keepDim, largest: false, op: "min")
    }

    /// Largest element (0-d).
    public func max() throws -> Tensor { try flatten().max(dim: 0).values }
    /// Smallest element (0-d).
    public func min() throws -> Tensor { try flatten().min(dim: 0).values }

    /// Index of the largest value along `dim` (over all elements, flattened, when nil), as i64.
    public func argmax(dim: Int? = nil, keepDim: Bool = false) throws -> Tensor {
        guard let dim else { return try flatten().max(dim: 0).indices }
        return try max(dim: dim, keepDim: keepDim).indices
    }

    public func argmin(dim: Int? = nil, keepDim: Bool = false) throws -> Tensor {
        guard let dim else { return try flatten().min(dim: 0).indices }
        return try min(dim: dim, keepDim: keepDim).indices
    }

    private func extremum(dim: Int, keepDim: Bool, largest: Bool, op: String) throws -> (values: Tensor, indices: Tensor) {
        let x0 = rank == 0 ? try reshape([1]) : self
        let d = try Shape.dim(dim, rank: x0.rank, op: op)
        guard x0.shape[d] > 0 else { throw TensorError(op, "cannot take the \(op) over a dimension of size 0") }
        let x = try (x0.dtype == .bool ? x0.to(.i32) : x0).contiguous()
        let (o, r, i) = x.ori(d, d)
        var sh = x.shape
        sh[d] = 1
        let values = try Tensor.empty(sh, dtype: x.dtype, op: op)
        let indices = try Tensor.empty(sh, dtype: .i64, op: op)
        let ip = indices.mutablePointer(Int64.self)
        switch x.dtype {
        case .f32: extremumKernel(x.pointer(Float.self), values.mutablePointer(Float.self), ip, o, r, i, largest)
        case .f64: extremumKernel(x.pointer(Double.self), values.mutablePointer(Double.self), ip, o, r, i, largest)
        case .i32: extremumKernel(x.pointer(Int32.self), values.mutablePointer(Int32.self), ip, o, r, i, largest)
        default: extremumKernel(x.pointer(Int64.self), values.mutablePointer(Int64.self), ip, o, r, i, largest)
        }
        var outShape = sh
        if !keepDim { outShape.remove(at: d) }
        if rank == 0 { outShape = [] }
        let v = try values.reshape(outShape), ix = try indices.reshape(outShape)
        guard x.dtype.isFloatingPoint else { return (v, ix) }
        let inShape = x.shape
        let src = x
        v.recordGrad(op, [src]) { g in
            let full = try Tensor.zeros(inShape, dtype: g.dtype)
            return [try full.scatter(d, indices, g.reshape(sh))]
        }
        return (v, ix)
    }

    /// Running sum along `dim`.
    public func cumsum(_ dim: Int) throws -> Tensor {
        try scan(dim, reverse: false)
    }

    func scan(_ dim: Int, reverse: Bool) throws -> Tensor {
        if rank == 0 { return try clone() }
        let d = try Shape.dim(dim, rank: rank, op: "cumsum")
        let x = try (dtype.isFloatingPoint ? self : to(.i64)).contiguous()
        let out = try Tensor.empty(x.shape, dtype: x.dtype, op: "cumsum")
        let (o, r, i) = x.ori(d, d)
        switch x.dtype {
        case .f32: scanKernel(x.pointer(Float.self), out.mutablePointer(Float.self), o, r, i, reverse, +)
        case .f64: scanKernel(x.pointer(Double.self), out.mutablePointer(Double.self), o, r, i, reverse, +)
        default: scanKernel(x.pointer(Int64.self), out.mutablePointer(Int64.self), o, r, i, reverse, &+)
        }
        guard x.dtype.isFloatingPoint else { return out }
        return out.recordGrad("cumsum", [x]) { g in [try g.scan(d, reverse: !reverse)] }
    }
}

// MARK: - kernels

/// x (O, R, I) -> out (O, 1, I): sum over R. Rows of floats accumulate in SIMD lanes per block,
/// blocks in Double, so long sums keep their accuracy.
@inline(__always)
func sumKernel<T: FloatMath>(_ x: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>, _ o: Int, _ r: Int, _ i: Int) {
    if i == 1 {
        if o == 1 {
            // one long row: split it over the cores, combine in Double
            let chunks = Swift.max(1, Swift.min(Parallel.cores, r >> 18))
            var partial = [Double](repeating: 0, count: chunks)
            partial.withUnsafeMutableBufferPointer { pb in
                let per = (r + chunks - 1) / chunks
                Parallel.forRanges(chunks, grain: 1) { cr in
                    for c in cr {
                        let lo = c * per, hi = Swift.min(r, lo + per)
                        pb[c] = hi > lo ? rowSum(x + lo, hi - lo) : 0
                    }
                }
            }
            out[0] = T(partial.reduce(0, +))
            return
        }
        Parallel.forRanges(o, grain: Swift.max(1, (1 << 16) / Swift.max(r, 1))) { rows in
            for row in rows { out[row] = T(rowSum(x + row * r, r)) }
        }
        return
    }
    // I > 1: add whole rows of I, vectorised over I
    Parallel.forRanges(o * i, grain: Swift.max(1, (1 << 16) / Swift.max(r, 1))) { range in
        var p = range.lowerBound
        while p < range.upperBound {
            let oi = p / i, start = p % i
            let end = Swift.min(i, start + (range.upperBound - p))
            let dst = out + oi * i
            let src = x + oi * r * i
            // an empty R has no first row to start from (src may be a zero-byte block)
            for j in start..<end { dst[j] = r == 0 ? 0 : src[j] }
            for k in 1..<Swift.max(r, 1) {
                let row = src + k * i
                for j in start..<end { dst[j] += row[j] }
            }
            p += end - start
        }
    }
}

/// Sum of n contiguous values: 16 lanes within blocks of 4096, blocks accumulated in Double.
@inline(__always)
func rowSum<T: FloatMath>(_ x: UnsafePointer<T>, _ n: Int) -> Double { blockedSum(x, n, squared: false) }

/// Σ x² of n contiguous values, accumulated like rowSum (norms, gradient clipping).
@inline(__always)
public func rowSumOfSquares<T: FloatMath>(_ x: UnsafePointer<T>, _ n: Int) -> Double { blockedSum(x, n, squared: true) }

@inline(__always)
private func blockedSum<T: FloatMath>(_ x: UnsafePointer<T>, _ n: Int, squared: Bool) -> Double {
    var total = 0.0
    var start = 0
    let raw = UnsafeRawPointer(x)
    while start < n {
        let end = Swift.min(n, start + 4096)
        var acc = SIMD16<T>()
        var j = start
        while j + 16 <= end {
            let v = raw.loadUnaligned(fromByteOffset: j * MemoryLayout<T>.stride, as: SIMD16<T>.self)
            acc += squared ? v * v : v
            j += 16
        }
        var s = acc.sum()
        while j < end { s += squared ? x[j] * x[j] : x[j]; j += 1 }
        total += Double(s)
        start = end
    }
    return total
}

@inline(__always)
func sumIntKernel(_ x: UnsafePointer<Int64>, _ out: UnsafeMutablePointer<Int64>, _ o: Int, _ r: Int, _ i: Int) {
    for a in 0..<o {
        for c in 0..<i {
            var s: Int64 = 0
            for k in 0..<r { s &+= x[(a * r + k) * i + c] }
            out[a * i + c] = s
        }
    }
}

/// x (O, R, I) -> values, indices (O, 1, I): the first extreme entry along R (NaN wins).
@inline(__always)
func extremumKernel<T: Comparable>(
    _ x: UnsafePointer<T>, _ v: UnsafeMutablePointer<T>, _ ix: UnsafeMutablePointer<Int64>,
    _ o: Int, _ r: Int, _ i: Int, _ largest: Bool
) {
    Parallel.forRanges(o * i, grain: Swift.max(1, (1 << 15) / Swift.max(r, 1))) { range in
        for p in range {
            let a = p / i, c = p % i
            let base = x + a * r * i + c
            var best = base[0]
            var bi = 0
            if best == best {
                for k in 1..<r {
                    let e = base[k * i]
                    if e != e { best = e; bi = k; break }
                    if largest ? e > best : e < best { best = e; bi = k }
                }
            }
            v[p] = best
            ix[p] = Int64(bi)
        }
    }
}

/// x (O, R, I) -> out (O, R, I): running sum along R (from the end when `reverse`); integers wrap.
@inline(__always)
func scanKernel<T: Numeric>(
    _ x: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>, _ o: Int, _ r: Int, _ i: Int, _ reverse: Bool,
    _ plus: (T, T) -> T
) {
    for a in 0..<o {
        let src = x + a * r * i, dst = out + a * r * i
        for c in 0..<i {
            var s: T = 0
            for k0 in 0..<r {
                let k = reverse ? r - 1 - k0 : k0
                s = plus(s, src[k * i + c])
                dst[k * i + c] = s
            }
        }
    }
}
