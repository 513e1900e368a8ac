// Tensor: a strided view of a Storage, with the autograd fields that make it a graph node.

public final class Tensor {
    /// the memory this tensor views (shared by every view of it)
    public let storage: Storage
    /// element type
    public let dtype: DType
    /// size of each dimension, outermost first
    public let shape: [Int]
    /// elements to step in storage per index step of each dimension (0 on expanded dims)
    public let strides: [Int]
    /// index of element [0, 0, ...] in storage, in elements
    public let offset: Int
    /// number of elements (the product of `shape`)
    public let numel: Int

    /// whether gradients flow to this tensor; set on leaves by users, propagated by ops
    public var requiresGrad: Bool
    /// accumulated gradient of a leaf after `backward()`
    public var grad: Tensor?
    /// the op that produced this tensor, while the graph is alive (nil for leaves)
    var gradNode: GradNode?

    init(storage: Storage, dtype: DType, shape: [Int], strides: [Int], offset: Int, requiresGrad: Bool = false) {
        self.storage = storage
        self.dtype = dtype
        self.shape = shape
        self.strides = strides
        self.offset = offset
        self.numel = shape.reduce(1, *)
        self.requiresGrad = requiresGrad
    }

    /// An uninitialised contiguous tensor (kernels fill it); `zeroed` clears it.
    public static func empty(_ shape: [Int], dtype: DType = .f32, zeroed: Bool = false, op: String = "empty") throws -> Tensor {
        try empty(shape, strides: nil, dtype: dtype, zeroed: zeroed, op: op)
    }

    /// `strides`, when given, must be the contiguous strides of `shape`: passing a live tensor's
    /// array shares it instead of computing a new one (small ops are dominated by allocations).
    static func empty(_ shape: [Int], strides: [Int]?, dtype: DType, zeroed: Bool = false, op: String) throws -> Tensor {
        // every op allocates its result here: the one place to notice Ctrl-C between kernels
        try Cancellation.check(op)
        let n = try Shape.numel(shape, op: op)
        let (bytes, overflow) = n.multipliedReportingOverflow(by: dtype.size)
        guard !overflow else { throw TensorError(op, "shape \(shapeString(shape)) has too many elements") }
        let storage = try Storage(byteCount: bytes, zeroed: zeroed, op: op)
        return Tensor(storage: storage, dtype: dtype, shape: shape, strides: strides ?? Shape.contiguousStrides(shape), offset: 0)
    }

    /// this tensor's strides when they are the canonical contiguous ones for its shape
    var canonicalStrides: [Int]? {
        var expected = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            if strides[i] != expected { return nil }
            expected *= Swift.max(shape[i], 1)
        }
        return strides
    }

    /// A tensor holding `values` (row-major) with `shape` (default: 1-D).
    public static func from<T: TensorElement>(_ values: [T], shape: [Int]? = nil) throws -> Tensor {
        let shape = shape ?? [values.count]
        let n = try Shape.numel(shape, op: "from")
        guard n == values.count else {
            throw TensorError("from", "\(values.count) values do not fill shape \(shapeString(shape)) (\(n) elements)")
        }
        let t = try empty(shape, dtype: T.dtype, op: "from")
        values.withUnsafeBufferPointer { src in
            t.mutablePointer(T.self).update(from: src.baseAddress!, count: n)
        }
        return t
    }

    /// A 0-d tensor holding `value`.
    public static func scalar(_ value: Double, dtype: DType = .f32) throws -> Tensor {
        let t = try empty([], dtype: dtype, op: "scalar")
        t.setFlat(0, value)
        return t
    }

    public var rank: Int { shape.count }

    /// whether elements sit in row-major order with no gaps (offset may be non-zero)
    public var isContiguous: Bool {
        var expected = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) where shape[i] != 1 {
            if strides[i] != expected { return false }
            expected *= shape[i]
        }
        return true
    }

    /// whether gradients are recorded for ops on this tensor
    public var isLeaf: Bool { gradNode == nil }

    /// pointer to element [0, 0, ...] (typed as `T`, which must match `dtype`)
    @inline(__always)
    public func mutablePointer<T>(_: T.Type) -> UnsafeMutablePointer<T> {
        storage.base.assumingMemoryBound(to: T.self) + offset
    }

    @inline(__always)
    public func pointer<T>(_: T.Type) -> UnsafePointer<T> { UnsafePointer(mutablePointer(T.self)) }

    /// storage position of the element at a 0-based multi-index
    func storageIndex(_ index: [Int]) -> Int {
        var p = offset
        for (i, s) in zip(index, strides) { p += i * s }
        return p
    }

    /// element at a storage position, as a Double
    func read(storageIndex p: Int) -> Double { Tensor.readRaw(storage.base, dtype, p) }

    func write(storageIndex p: Int, _ v: Double) { Tensor.writeRaw(storage.base, dtype, p, v) }

    /// element `i` in row-major order of a contiguous tensor
    public func setFlat(_ i: Int, _ v: Double) { write(storageIndex: offset + i, v) }

    /// The element at a 0-based multi-index (negative indices count from the end).
    public func element(_ index: [Int]) throws -> Double {
        read(storageIndex: try checkedStorageIndex(index))
    }

    /// Sets the element at a 0-based multi-index.
    public func setElement(_ index: [Int], _ value: Double) throws {
        write(storageIndex: try checkedStorageIndex(index), value)
    }

    /// the storage position of a multi-index, after checking it against the shape
    private func checkedStorageIndex(_ index: [Int]) throws -> Int {
        guard index.count == rank else {
            throw TensorError("index", "\(index.count) indices for a tensor with \(rank) dimension(s)")
        }
        var p = offset
        for d in 0..<rank {
            let i = index[d] < 0 ? index[d] + shape[d] : index[d]
            guard i >= 0 && i < shape[d] else {
                throw TensorError("index", "index \(index[d]) out of range for dimension \(d) of size \(shape[d])")
            }
            p += i * strides[d]
        }
        return p
    }

    /// The value of a one-element tensor.
    public func item() throws -> Double {
        guard numel == 1 else {
            throw TensorError("item", "only a one-element tensor has an item, this one has shape \(shapeString(shape))")
        }
        return read(storageIndex: offset)
    }

    /// All elements in row-major order, as Doubles.
    public func toDoubles() -> [Double] {
        var out = [Double]()
        out.reserveCapacity(numel)
        forEachStorageIndex { out.append(read(storageIndex: $0)) }
        return out
    }

    /// All elements in row-major order as `T` (which must match `dtype`).
    public func toArray<T: TensorElement>(_: T.Type = T.self) throws -> [T] {
        guard T.dtype == dtype else { throw TensorError("toArray", "tensor is \(dtype), asked for \(T.dtype)") }
        let c = try contiguous()
        return Array(UnsafeBufferPointer(start: c.pointer(T.self), count: numel))
    }

    /// Visits the storage position of every element in row-major order.
    func forEachStorageIndex(_ body: (Int) -> Void) {
        if numel == 0 { return }
        if rank == 0 { body(offset); return }
        var idx = [Int](repeating: 0, count: rank)
        var p = offset
        let last = rank - 1
        while true {
            for i in 0..<shape[last] { body(p + i * strides[last]) }
            var d = last - 1
            while d >= 0 {
                idx[d] += 1
                p += strides[d]
                if idx[d] < shape[d] { break }
                p -= strides[d] * shape[d]
                idx[d] = 0
                d -= 1
            }
            if d < 0 { return }
        }
    }
}
