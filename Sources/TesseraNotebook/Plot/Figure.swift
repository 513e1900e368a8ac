// Figure: what a plot shows, independent of how it is drawn (SVG or terminal): a title, axis
// labels and scales, and series of one compatible family (numeric x: line, scatter, histogram;
// categories: grouped bars; a matrix: one heatmap).

/// An error in plot data or options, raised to Lua as a message.
public struct PlotError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public enum AxisScale: Equatable, Sendable {
    case linear, log
}

/// Bin edges and counts: counts[i] values fall in [edges[i], edges[i+1]) (the last bin is closed).
public struct Histogram: Equatable {
    public let edges: [Double]
    public let counts: [Int]
}

/// A matrix shown as coloured cells; rows run top to bottom as printed.
public struct Heatmap {
    /// values[row][column]; every row has the same length
    public let values: [[Double]]
    public let rowLabels: [String]?
    public let columnLabels: [String]?

    public init(values: [[Double]], rowLabels: [String]? = nil, columnLabels: [String]? = nil) throws {
        guard let width = values.first?.count, width > 0 else { throw PlotError("a heatmap needs at least one row and one column") }
        guard values.allSatisfy({ $0.count == width }) else { throw PlotError("every heatmap row must have \(width) values") }
        if let r = rowLabels, r.count != values.count { throw PlotError("\(r.count) row labels for \(values.count) rows") }
        if let c = columnLabels, c.count != width { throw PlotError("\(c.count) column labels for \(width) columns") }
        self.values = values
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
    }

    public var rows: Int { values.count }
    public var columns: Int { values[0].count }

    /// the smallest and largest finite values, or nil when there are none
    public var range: (Double, Double)? { finiteRange(values.joined()) }
}

public struct Series {
    public enum Data {
        /// points joined in order; a non-finite point breaks the line
        case line(x: [Double], y: [Double])
        case scatter(x: [Double], y: [Double])
        /// one bar per category; several bar series are drawn side by side (grouped)
        case bars(categories: [String], values: [Double])
        case histogram(Histogram)
        case heatmap(Heatmap)
    }

    public enum Family: String {
        case numeric = "line, scatter and histogram"
        case categorical = "bar"
        case matrix = "heatmap"
    }

    public var data: Data
    /// the legend entry (nil: not in the legend)
    public var label: String?

    public init(_ data: Data, label: String? = nil) throws {
        switch data {
        case .line(let x, let y), .scatter(let x, let y):
            guard x.count == y.count else { throw PlotError("x has \(x.count) values but y has \(y.count)") }
        case .bars(let c, let v):
            guard c.count == v.count else { throw PlotError("\(c.count) labels but \(v.count) values") }
        case .histogram, .heatmap: break
        }
        self.data = data
        self.label = label
    }

    public var family: Family {
        switch data {
        case .line, .scatter, .histogram: return .numeric
        case .bars: return .categorical
        case .heatmap: return .matrix
        }
    }
}

public struct Figure {
    public var title: String?
    public var xLabel: String?
    public var yLabel: String?
    public var xScale = AxisScale.linear
    public var yScale = AxisScale.linear
    /// nil: a legend when at least one series has a label
    public var showLegend: Bool?
    /// SVG size in pixels
    public var width = 640
    public var height = 400
    public private(set) var series: [Series] = []

    public init() {}

    /// Adds a series; series of different families cannot share axes, and a figure holds one heatmap.
    public mutating func add(_ s: Series) throws {
        if let first = series.first {
            guard first.family == s.family else {
                throw PlotError("cannot add a \(s.family.rawValue) series to a \(first.family.rawValue) plot (they need different axes)")
            }
            guard s.family != .matrix else { throw PlotError("a plot holds one heatmap") }
        }
        series.append(s)
    }

    public var family: Series.Family? { series.first?.family }

    public var legendShown: Bool {
        showLegend ?? series.contains { $0.label != nil && $0.family != .matrix }
    }

    /// the categories of all bar series, in order of first appearance
    public var categories: [String] {
        var seen = Set<String>(), out: [String] = []
        for s in series {
            if case .bars(let c, _) = s.data {
                for name in c where seen.insert(name).inserted { out.append(name) }
            }
        }
        return out
    }
}

/// min and max of the finite values, or nil
func finiteRange<S: Sequence>(_ values: S) -> (Double, Double)? where S.Element == Double {
    var lo = Double.infinity, hi = -Double.infinity
    for v in values where v.isFinite {
        lo = min(lo, v)
        hi = max(hi, v)
    }
    return lo <= hi ? (lo, hi) : nil
}

extension Heatmap {
    /// At most maxRows x maxColumns cells, each the mean of the finite values of the block it
    /// covers (NaN when none are finite); a block's label is its first row's or column's.
    public func resampled(maxRows: Int, maxColumns: Int) -> Heatmap {
        let (rs, cs) = (Swift.min(rows, Swift.max(maxRows, 1)), Swift.min(columns, Swift.max(maxColumns, 1)))
        if rs == rows && cs == columns { return self }
        let rowStart = (0...rs).map { $0 * rows / rs }, colStart = (0...cs).map { $0 * columns / cs }
        var out = [[Double]](repeating: [Double](repeating: .nan, count: cs), count: rs)
        for r in 0..<rs {
            for c in 0..<cs {
                var sum = 0.0, n = 0
                for i in rowStart[r]..<rowStart[r + 1] {
                    for j in colStart[c]..<colStart[c + 1] where values[i][j].isFinite {
                        sum += values[i][j]
                        n += 1
                    }
                }
                if n > 0 { out[r][c] = sum / Double(n) }
            }
        }
        let rowNames = rowLabels.map { l in (0..<rs).map { l[rowStart[$0]] } }
        let colNames = columnLabels.map { l in (0..<cs).map { l[colStart[$0]] } }
        // the shapes match by construction, so this cannot throw
        return (try? Heatmap(values: out, rowLabels: rowNames, columnLabels: colNames)) ?? self
    }
}
