// Shape arithmetic: element counts, strides, broadcasting and dimension normalisation.

enum Shape {
    /// number of elements, throwing on overflow or negative sizes (user input can be absurd)
    static func numel(_ shape: [Int], op: String) throws -> Int {
        var n = 1
        // the product of the sizes with 0 counted as 1 bounds every stride: [0, 2^40, 2^40] has
        // no elements, but its strides would still overflow
        var strideBound = 1
        for s in shape {
            guard s >= 0 else { throw TensorError(op, "negative size \(s) in shape \(shape)") }
            let (p, overflow) = n.multipliedReportingOverflow(by: s)
            let (b, boundOverflow) = strideBound.multipliedReportingOverflow(by: Swift.max(s, 1))
            guard !overflow, !boundOverflow else { throw TensorError(op, "shape \(shapeString(shape)) has too many elements") }
            n = p
            strideBound = b
        }
        return n
    }

    /// row-major strides of a contiguous tensor of `shape`
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = acc
            acc *= max(shape[i], 1)
        }
        return strides
    }

    /// the shape two operands broadcast to (numpy's rule, aligned at the trailing dimension)
    static func broadcast(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
        if a == b { return a }  // the common case shares the array instead of building one
        let n = max(a.count, b.count)
        var out = [Int](repeating: 1, count: n)
        for i in 0..<n {
            let da = i < n - a.count ? 1 : a[i - (n - a.count)]
            let db = i < n - b.count ? 1 : b[i - (n - b.count)]
            guard da == db || da == 1 || db == 1 else {
                throw TensorError(op, "shapes \(shapeString(a)) and \(shapeString(b)) cannot be broadcast together")
            }
            out[i] = da == 1 ? db : da
        }
        return out
    }

    /// strides that read a tensor of (shape, strides) as if it had `target` shape (0 on broadcast dims)
    static func broadcastStrides(shape: [Int], strides: [Int], to target: [Int]) -> [Int] {
        var out = [Int](repeating: 0, count: target.count)
        let lead = target.count - shape.count
        for i in 0..<shape.count where shape[i] != 1 || target[lead + i] == 1 {
            out[lead + i] = shape[i] == 1 ? 0 : strides[i]
        }
        return out
    }

    /// a 0-based dimension from a possibly negative one (-1 is the last); `rank` dims exist
    static func dim(_ d: Int, rank: Int, op: String) throws -> Int {
        let r = max(rank, 1)
        guard d >= -r && d < r else {
            throw TensorError(op, "dimension \(d) out of range for a tensor with \(rank) dimension(s)")
        }
        return d < 0 ? d + r : d
    }
}
