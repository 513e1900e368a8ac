// Format: how tensors print. Small tensors print in full; large ones show edge items with `...`
// and format only what is shown; a footer names dtype and shape.

extension Tensor: CustomStringConvertible {
    public var description: String { format() }

    /// Text of the tensor: all elements up to `threshold`, else `edgeItems` at each end per dim.
    public func format(threshold: Int = 1000, edgeItems: Int = 3) -> String {
        let summarise = numel > threshold
        let footer = "[\(dtype) tensor of shape \(shapeString(shape))\(requiresGrad ? ", requires grad" : "")]"
        if numel == 0 { return "[]\n" + footer }
        // the shown elements decide the number style (one for the whole tensor) and column width
        var shown: [Double] = []
        if rank == 0 { shown = [read(storageIndex: offset)] } else { collect([], summarise, edgeItems, &shown) }
        let style = FloatStyle(shown)
        let strings = shown.map { formatValue($0, style) }
        if rank == 0 { return strings[0] + "\n" + footer }
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

    private func render(
        _ prefix: [Int], _ summarise: Bool, _ edge: Int, _ width: Int,
        _ it: inout IndexingIterator<[String]>, _ out: inout String, indent: Int
    ) {
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

    /// How floats print, chosen once per tensor as torch does: whole numbers as `3.`, moderate
    /// magnitudes with 4 fixed decimals, anything else in scientific notation.
    enum FloatStyle {
        case integral, fixed, scientific

        init(_ values: [Double]) {
            let finite = values.filter { $0.isFinite }
            let magnitudes = finite.map { Swift.abs($0) }.filter { $0 > 0 }
            let largest = magnitudes.max() ?? 0, smallest = magnitudes.min() ?? 0
            if finite.allSatisfy({ $0 == $0.rounded() }) && largest < 1e8 {
                self = .integral
            } else if largest < 1e8 && (smallest >= 1e-4 || largest / Swift.max(smallest, 1e-300) < 1e3) && largest >= 1e-4 {
                self = .fixed
            } else {
                self = .scientific
            }
        }
    }

    private func formatValue(_ v: Double, _ style: FloatStyle) -> String {
        switch dtype {
        case .bool: return v != 0 ? "true" : "false"
        case .i32, .i64: return String(Int64(fromDouble: v))
        case .f32, .f64:
            if v.isNaN { return "nan" }
            if v.isInfinite { return v > 0 ? "inf" : "-inf" }
            switch style {
            case .integral: return String(Int64(v)) + "."
            case .fixed: return format4(v)
            case .scientific: return formatScientific(v)
            }
        }
    }

    /// `-1.2346e-05`: 4 decimals of mantissa, a signed two-digit exponent
    private func formatScientific(_ v: Double) -> String {
        if v == 0 { return "0.0000e+00" }
        var e = Int((Swift.abs(v)).log10Floor)
        var m = Swift.abs(v) / pow10(e)
        if (m * 10000).rounded() >= 100_000 { m /= 10; e += 1 }
        let digits = format4(m)
        let exp = (e < 0 ? "-" : "+") + (Swift.abs(e) < 10 ? "0" : "") + String(Swift.abs(e))
        return (v < 0 ? "-" : "") + digits + "e" + exp
    }

    private func pow10(_ e: Int) -> Double {
        var r = 1.0
        for _ in 0..<Swift.abs(e) { r *= 10 }
        return e < 0 ? 1 / r : r
    }

    /// fixed-point with 4 decimals, without Foundation
    private func format4(_ v: Double) -> String {
        let scaled = (Swift.abs(v) * 10000).rounded()
        let ip = Int64(scaled / 10000), fp = Int64(scaled) % 10000
        let frac = String(fp)
        return (v < 0 ? "-" : "") + String(ip) + "." + String(repeating: "0", count: 4 - frac.count) + frac
    }
}

extension Double {
    /// floor(log10(|self|)) for a finite non-zero value, without Foundation
    fileprivate var log10Floor: Double {
        var e = 0.0
        var m = Swift.abs(self)
        while m >= 10 { m /= 10; e += 1 }
        while m < 1 { m *= 10; e -= 1 }
        return e
    }
}
