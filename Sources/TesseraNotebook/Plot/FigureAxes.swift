// FigureAxes: the axes a figure's data needs, shared by the SVG and terminal renderers.

extension Figure {
    /// x and y axes of a line/scatter/histogram figure over every series' values, with about
    /// xTicks and yTicks labelled ticks; histograms start the y axis at 0 on a linear scale.
    public func numericAxes(xTicks: Int, yTicks: Int) -> (x: Axis, y: Axis) {
        var xs: [Double] = [], ys: [Double] = []
        // points keep off the frame: a little room beyond them, except along histogram bins
        // and the x of lines (whose ends are the data's)
        var padX = false, padY = false
        for s in series {
            switch s.data {
            case .line(let x, let y), .scatter(let x, let y):
                padY = true
                if case .scatter = s.data { padX = true }
                for (a, b) in zip(x, y) where usable(a, xScale) && usable(b, yScale) {
                    xs.append(a)
                    ys.append(b)
                }
            case .histogram(let h):
                xs += h.edges.filter { usable($0, xScale) }
                ys += h.counts.map(Double.init).filter { usable($0, yScale) }
                if yScale == .linear { ys.append(0) }
            case .bars, .heatmap: break
            }
        }
        let (x0, x1) = finiteRange(xs) ?? (xScale == .log ? (1, 10) : (0, 1))
        let (y0, y1) = finiteRange(ys) ?? (yScale == .log ? (1, 10) : (0, 1))
        return (
            Axis.fitting(x0, x1, scale: xScale, target: xTicks, padding: padX ? 0.03 : 0),
            Axis.fitting(y0, y1, scale: yScale, target: yTicks, padding: padY ? 0.03 : 0)
        )
    }

    /// The value axis of a bar figure: every bar's value, and 0 (bars grow from it) on a linear scale.
    public func valueAxis(ticks: Int) -> Axis {
        var values: [Double] = yScale == .linear ? [0] : []
        for s in series {
            if case .bars(_, let v) = s.data { values += v.filter { usable($0, yScale) } }
        }
        let (lo, hi) = finiteRange(values) ?? (1, 10)
        return Axis.fitting(lo, hi, scale: yScale, target: ticks)
    }

    /// (series index, values by category) of every bar series, in the order of `categories`;
    /// a category a series lacks is NaN (no bar)
    public func barGroups() -> [(index: Int, values: [Double])] {
        let names = categories
        var out: [(Int, [Double])] = []
        for (i, s) in series.enumerated() {
            guard case .bars(let c, let v) = s.data else { continue }
            var byName: [String: Double] = [:]
            for (name, value) in zip(c, v) where byName[name] == nil { byName[name] = value }
            out.append((i, names.map { byName[$0] ?? .nan }))
        }
        return out
    }

    /// the heatmap, if this is a heatmap figure
    public var heatmap: Heatmap? {
        if case .heatmap(let h)? = series.first?.data { return h }
        return nil
    }
}

/// whether v can be drawn on the scale: finite, and positive on a log scale
func usable(_ v: Double, _ scale: AxisScale) -> Bool {
    v.isFinite && (scale == .linear || v > 0)
}
