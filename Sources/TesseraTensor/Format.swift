// Format: how tensors print. Small tensors print in full; large ones show edge items with `...`
// and format only what is shown; a footer names dtype and shape.

extension Tensor: CustomStringConvertible {
    public var description: String { format() }

    /// Text of the tensor: all elements up to `threshold`, else `edgeItems` at each end per dim.
    public func format(threshold: Int = 1000, edgeItems: Int = 3) -> String {
        let summarise = numel > threshold
        let footer = "[\(dtype) tensor of shape \(shapeString(shape))\(requiresGrad ? ", requires grad" : "")]"
        if numel == 0 { return "[]\n" + footer }
        if rank == 0 { return formatValue(read(storageIndex: offset)) + "\n" + footer }
        // the shown elements decide the column width
        var shown: [Double] = []
        collect([], summarise, edgeItems, &shown)
        let strings = shown.map(formatValue)
        let width = strings.map(\.count).max() ?? 1
        var it = strings.makeIterator()
        var out = ""
        render([], summarise, edgeItems, width, &it, &out, indent: 0)
        return out + "\n" + footer
    }

    private func positions(_ d: Int, _ summarise: Bool, _ edge: Int) -> [Int?] {
        let n = shape[d]
        let edge = Swift.max(0, Swift.min(edge, n))
        if !summarise || n <= 2 * edge { return Array(0..<n) }
        return Array(0..<edge) + [nil] + Array((n - edge)..<n)
    }

    private func collect(_ prefix: [Int], _ summarise: Bool, _ edge: Int, _ out: inout [Double]) {
        for p in positions(prefix.count, summarise, edge) {
            guard let p else { continue }
            if prefix.count + 1 == rank {
                out.append(read(storageIndex: storageIndex(prefix + [p])))
            } else {
                collect(prefix + [p], summarise, edge, &out)
            }
        }
    }

    private func render(_ prefix: [Int], _ summarise: Bool, _ edge: Int, _ width: Int,
                        _ it: inout IndexingIterator<[String]>, _ out: inout String, indent: Int) {
        let d = prefix.count
        out += "["
        var first = true
        for p in positions(d, summarise, edge) {
            if !first {
                out += d + 1 == rank ? ", " : "," + String(repeating: "\n", count: rank - d - 1) + String(repeating: " ", count: indent + 1)
            }
            first = false
            guard let p else { out += d + 1 == rank ? "..." : "..."; continue }
            if d + 1 == rank {
                let s = it.next() ?? ""
                out += String(repeating: " ", count: width - s.count) + s
            } else {
                render(prefix + [p], summarise, edge, width, &it, &out, indent: indent + 1)
            }
        }
        out += "]"
    }

    private func formatValue(_ v: Double) -> String {
        switch dtype {
        case .bool: return v != 0 ? "true" : "false"
        case .i32, .i64: return String(Int64(fromDouble: v))
        case .f32, .f64:
            if v.isNaN { return "nan" }
            if v.isInfinite { return v > 0 ? "inf" : "-inf" }
            if v == v.rounded() && Swift.abs(v) < 1e15 { return String(Int64(v)) + "." }
            let a = Swift.abs(v)
            if a >= 1e-4 && a < 1e8 {
                var s = String(format4(v))
                while s.hasSuffix("0") { s.removeLast() }
                return s
            }
            // an f32 prints its own shortest digits, not those of its widening to Double
            return dtype == .f32 ? String(describing: Float(v)) : String(describing: v)
        }
    }

    /// fixed-point with 4 decimals, without Foundation
    private func format4(_ v: Double) -> String {
        let scaled = (Swift.abs(v) * 10000).rounded()
        let ip = Int64(scaled / 10000), fp = Int64(scaled) % 10000
        let frac = String(fp)
        return (v < 0 ? "-" : "") + String(ip) + "." + String(repeating: "0", count: 4 - frac.count) + frac
    }
}
