// Copy: materialising views (contiguous), dtype conversion (to), and in-place copy/fill.

#if canImport(Glibc)
    import Glibc
#endif

extension Tensor {
    /// This tensor if it is already contiguous, else a row-major copy (same graph position).
    public func contiguous() throws -> Tensor {
        if isContiguous { return self }
        let out = try Tensor.empty(shape, dtype: dtype, op: "contiguous")
        copyElements(from: self, to: out)
        return out.recordGrad("contiguous", [self]) { g in [g] }
    }

    /// A copy that owns its memory, contiguous.
    public func clone() throws -> Tensor {
        let out = try Tensor.empty(shape, dtype: dtype, op: "clone")
        copyElements(from: self, to: out)
        return out.recordGrad("clone", [self]) { g in [g] }
    }

    /// This tensor converted to `dtype` (itself when it already has it). Float -> int truncates
    /// toward zero and saturates; NaN becomes 0.
    public func to(_ dtype: DType) throws -> Tensor {
        if dtype == self.dtype { return self }
        let out = try Tensor.empty(shape, dtype: dtype, op: "to")
        let loop = StridedLoop(shape: shape, strides: [out.strides, strides], offsets: [0, offset])
        let ob = out.storage.base
        let ib = storage.base
        let src = self.dtype
        loop.parallelRows { offs, n in
            for i in 0..<n {
                let v = Tensor.readRaw(ib, src, offs[1] + i * loop.strides[1].last!)
                Tensor.writeRaw(ob, dtype, offs[0] + i, v)
            }
        }
        if dtype.isFloatingPoint && self.dtype.isFloatingPoint {
            let from = self.dtype
            return out.recordGrad("to", [self]) { g in [try g.to(from)] }
        }
        return out
    }

    @inline(__always)
    static func readRaw(_ b: UnsafeMutableRawPointer, _ dtype: DType, _ p: Int) -> Double {
        switch dtype {
        case .f32: return Double(b.assumingMemoryBound(to: Float.self)[p])
        case .f64: return b.assumingMemoryBound(to: Double.self)[p]
        case .i32: return Double(b.assumingMemoryBound(to: Int32.self)[p])
        case .i64: return Double(b.assumingMemoryBound(to: Int64.self)[p])
        case .bool: return b.assumingMemoryBound(to: Bool.self)[p] ? 1 : 0
        }
    }

    @inline(__always)
    static func writeRaw(_ b: UnsafeMutableRawPointer, _ dtype: DType, _ p: Int, _ v: Double) {
        switch dtype {
        case .f32: b.assumingMemoryBound(to: Float.self)[p] = Float(v)
        case .f64: b.assumingMemoryBound(to: Double.self)[p] = v
        case .i32: b.assumingMemoryBound(to: Int32.self)[p] = Int32(fromDouble: v)
        case .i64: b.assumingMemoryBound(to: Int64.self)[p] = Int64(fromDouble: v)
        case .bool: b.assumingMemoryBound(to: Bool.self)[p] = v != 0
        }
    }

    /// Copies `src`'s elements into this tensor in place (shapes must match after broadcasting
    /// `src`; dtypes convert). Not recorded by autograd: use it on leaves under `noGrad`.
    @discardableResult
    public func copy_(_ src: Tensor) throws -> Tensor {
        let target = try Shape.broadcast(shape, src.shape, op: "copy_")
        guard target == shape else {
            throw TensorError("copy_", "cannot copy a tensor of shape \(shapeString(src.shape)) into one of shape \(shapeString(shape))")
        }
        // every destination element must be written once: an expanded destination would race
        for d in 0..<rank where strides[d] == 0 && shape[d] > 1 {
            throw TensorError("copy_", "cannot copy into an expanded tensor (dimension \(d) has stride 0); clone it first")
        }
        // overlapping source and destination (shifting within one storage) copy through a clone
        var s = try src.to(dtype)
        if s.storage === storage { s = try s.detach().clone() }
        let view = Tensor(
            storage: s.storage, dtype: dtype, shape: shape,
            strides: Shape.broadcastStrides(shape: s.shape, strides: s.strides, to: shape), offset: s.offset)
        copyElements(from: view, to: self)
        return self
    }

    /// Sets every element to `value` in place.
    @discardableResult
    public func fill_(_ value: Double) -> Tensor {
        let loop = StridedLoop(shape: shape, strides: [strides], offsets: [offset])
        switch dtype {
        case .f32: Tensor.fillRows(loop, storage.base.assumingMemoryBound(to: Float.self), Float(value))
        case .f64: Tensor.fillRows(loop, storage.base.assumingMemoryBound(to: Double.self), value)
        case .i32: Tensor.fillRows(loop, storage.base.assumingMemoryBound(to: Int32.self), Int32(fromDouble: value))
        case .i64: Tensor.fillRows(loop, storage.base.assumingMemoryBound(to: Int64.self), Int64(fromDouble: value))
        case .bool: Tensor.fillRows(loop, storage.base.assumingMemoryBound(to: Bool.self), value != 0)
        }
        return self
    }

    /// Sets every element to zero in place.
    @discardableResult
    public func zero_() -> Tensor { fill_(0) }

    @inline(__always)
    static func fillRows<T>(_ loop: StridedLoop, _ base: UnsafeMutablePointer<T>, _ v: T) {
        let s = loop.strides[0].last!
        loop.parallelRows { offs, n in
            let p = base + offs[0]
            if s == 1 {
                for i in 0..<n { p[i] = v }
            } else {
                for i in 0..<n { p[i * s] = v }
            }
        }
    }
}

/// Copies elements between same-shape, same-dtype tensors of any strides.
func copyElements(from src: Tensor, to dst: Tensor) {
    if src.isContiguous && dst.isContiguous {
        let bytes = src.numel * src.dtype.size
        let s = src.storage.base + src.offset * src.dtype.size
        let d = dst.storage.base + dst.offset * dst.dtype.size
        Parallel.forRanges(bytes, grain: 1 << 20) { r in memcpy(d + r.lowerBound, s + r.lowerBound, r.count) }
        return
    }
    let loop = StridedLoop(shape: src.shape, strides: [dst.strides, src.strides], offsets: [dst.offset, src.offset])
    switch src.dtype {
    case .f32, .i32: copyRows(loop, dst.storage.base.assumingMemoryBound(to: UInt32.self), src.storage.base.assumingMemoryBound(to: UInt32.self))
    case .f64, .i64: copyRows(loop, dst.storage.base.assumingMemoryBound(to: UInt64.self), src.storage.base.assumingMemoryBound(to: UInt64.self))
    case .bool: copyRows(loop, dst.storage.base.assumingMemoryBound(to: UInt8.self), src.storage.base.assumingMemoryBound(to: UInt8.self))
    }
}

@inline(__always)
private func copyRows<T>(_ loop: StridedLoop, _ d: UnsafeMutablePointer<T>, _ s: UnsafeMutablePointer<T>) {
    let ds = loop.strides[0].last!
    let ss = loop.strides[1].last!
    loop.parallelRows(grain: 1 << 17) { offs, n in
        let dp = d + offs[0]
        let sp = s + offs[1]
        if ds == 1 && ss == 1 {
            dp.update(from: sp, count: n)
        } else {
            for i in 0..<n { dp[i * ds] = sp[i * ss] }
        }
    }
}
