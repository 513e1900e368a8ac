// Histogram binning: equal-width bins over the finite values (NaN and infinities are left out).

#if canImport(Glibc)
    import Glibc
#endif

extension Histogram {
    /// `bins` equal bins over `range` (default: the finite values' min...max; a single value
    /// gets a bin of width 1 around it). Values outside the range are not counted.
    public init(values: [Double], bins: Int? = nil, range: (Double, Double)? = nil) throws {
        let finite = values.filter { $0.isFinite }
        // Sturges' rule, as numpy's "sturges": enough bins to show a shape, few enough to read
        let count = bins ?? Swift.min(50, Swift.max(1, Int(ceil(log2(Double(Swift.max(finite.count, 1))))) + 1))
        guard count >= 1, count <= 10_000 else { throw PlotError("bins must be between 1 and 10000, got \(count)") }
        var (lo, hi) = range ?? finiteRange(finite) ?? (0, 1)
        guard lo.isFinite, hi.isFinite, lo <= hi else { throw PlotError("the histogram range must be finite with min <= max") }
        if lo == hi { (lo, hi) = (lo - 0.5, hi + 0.5) }
        let width = (hi - lo) / Double(count)
        var counts = [Int](repeating: 0, count: count)
        for v in finite where v >= lo && v <= hi {
            counts[Swift.min(count - 1, Int((v - lo) / width))] += 1
        }
        let edges = (0...count).map { $0 == count ? hi : lo + Double($0) * width }
        self.init(edges: edges, counts: counts)
    }
}
