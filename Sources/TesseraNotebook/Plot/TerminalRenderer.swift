// TerminalRenderer: a figure as Unicode text: braille dots (2x4 per cell) for lines and
// scatter, eighth blocks for histograms and bars, coloured or shaded cells for heatmaps; y
// labels at the ticks that fit, x labels at the ends and between, a legend below. Colour is
// optional: without it the chart still reads (series differ by their legend order, heatmaps
// by shade).

public enum TerminalRenderer {
    /// The chart in `style.width` columns and about `height` rows of plot (default from the width).
    public static func render(_ figure: Figure, style: TerminalStyle = TerminalStyle(), height: Int? = nil) -> String {
        var out = TextGrid(colour: style.colour)
        let rows = min(max(height ?? style.width / 4, 4), 60)
        if let t = figure.title { out.line(centered(t, style.width)) }
        switch figure.family {
        case .numeric?: numeric(figure, style.width, rows, &out)
        case .categorical?: bars(figure, style.width, &out)
        case .matrix?: heatmap(figure, style.width, &out)
        case nil: out.line("(no data)")
        }
        legend(figure, style.width, &out)
        return out.text
    }

    // MARK: line, scatter, histogram

    static func numeric(_ f: Figure, _ width: Int, _ rows: Int, _ out: inout TextGrid) {
        let yAxis = f.numericAxes(xTicks: 5, yTicks: max(2, rows / 3)).y
        let yLabels = yAxis.ticks.map { yAxis.label($0) }
        let labelWidth = yLabels.map(\.count).max() ?? 1
        let columns = max(width - labelWidth - 2, 8)
        let xAxis = f.numericAxes(xTicks: max(2, columns / 14), yTicks: 5).x
        if let y = f.yLabel { out.line(String(repeating: " ", count: labelWidth + 1) + y) }
        var canvas = BrailleCanvas(columns: columns, rows: rows)
        var blocks: [[TextGrid.Cell?]] = Array(repeating: Array(repeating: nil, count: columns), count: rows)
        for (i, s) in f.series.enumerated() {
            switch s.data {
            case .line(let xs, let ys):
                var previous: (Int, Int)?
                for (x, y) in zip(xs, ys) {
                    guard let p = dot(x, y, xAxis, yAxis, canvas) else { previous = nil; continue }
                    if let q = previous { canvas.line(q.0, q.1, p.0, p.1, series: i) } else { canvas.set(p.0, p.1, series: i) }
                    previous = p
                }
            case .scatter(let xs, let ys):
                for (x, y) in zip(xs, ys) {
                    if let p = dot(x, y, xAxis, yAxis, canvas) { canvas.set(p.0, p.1, series: i) }
                }
            case .histogram(let h):
                histogram(h, series: i, xAxis, yAxis, &blocks)
            case .bars, .heatmap: break
            }
        }
        // tick rows, labelled where they keep at least one free row between labels
        var labelAt: [Int: String] = [:]
        var lastRow = -2
        for (k, t) in yAxis.ticks.enumerated().reversed() {
            guard let fr = yAxis.fraction(t) else { continue }
            let r = Int(((1 - fr) * Double(rows - 1)).rounded())
            if r - lastRow >= 2 || k == 0 && r > lastRow {
                labelAt[r] = yLabels[k]
                lastRow = r
            }
        }
        for r in 0..<rows {
            var cells = [TextGrid.Cell(pad(labelAt[r] ?? "", labelWidth, right: true) + " ")]
            cells.append(TextGrid.Cell(labelAt[r] != nil ? "┤" : "│"))
            for c in 0..<columns {
                if let b = blocks[r][c] {
                    cells.append(b)
                } else {
                    let owner = canvas.owner[r * columns + c]
                    cells.append(TextGrid.Cell(String(canvas.character(column: c, row: r)), colour: owner >= 0 ? Palette.ansi(owner) : nil))
                }
            }
            out.cells(cells)
        }
        // x axis: a tick mark under each tick, labels where they fit (the ends first)
        var axis = Array(String(repeating: "─", count: columns)), labels = Array(String(repeating: " ", count: columns + 1))
        var placed: [(Int, Int)] = []
        let order = xAxis.ticks.indices.sorted { a, b in
            let ends = [0, xAxis.ticks.count - 1]
            return ends.contains(a) && !ends.contains(b) || (ends.contains(a) == ends.contains(b) && a < b)
        }
        for k in order {
            guard let fr = xAxis.fraction(xAxis.ticks[k]) else { continue }
            let c = min(columns - 1, max(0, Int((fr * Double(columns * 2 - 1)).rounded()) / 2))
            axis[c] = "┬"
            let text = Array(xAxis.label(xAxis.ticks[k]))
            let start = min(max(c + 1 - text.count / 2, 0), labels.count - text.count)
            let range = (start - 1, start + text.count + 1)
            guard start >= 0, !placed.contains(where: { $0.0 < range.1 && range.0 < $0.1 }) else { continue }
            labels.replaceSubrange(start..<start + text.count, with: text)
            placed.append(range)
        }
        out.line(String(repeating: " ", count: labelWidth + 1) + "└" + String(axis))
        out.line(String(repeating: " ", count: labelWidth + 1) + String(labels))
        if let x = f.xLabel { out.line(String(repeating: " ", count: labelWidth + 2) + centered(x, columns)) }
    }

    /// the dot of a point, or nil when the scales cannot show it
    static func dot(_ x: Double, _ y: Double, _ xAxis: Axis, _ yAxis: Axis, _ canvas: BrailleCanvas) -> (Int, Int)? {
        guard let fx = xAxis.fraction(x), let fy = yAxis.fraction(y) else { return nil }
        return (Int((fx * Double(canvas.dotWidth - 1)).rounded()), Int(((1 - fy) * Double(canvas.dotHeight - 1)).rounded()))
    }

    static let eighths = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// a histogram's bins as columns of eighth blocks
    static func histogram(_ h: Histogram, series: Int, _ xAxis: Axis, _ yAxis: Axis, _ blocks: inout [[TextGrid.Cell?]]) {
        let rows = blocks.count, columns = blocks.first?.count ?? 0
        for (k, count) in h.counts.enumerated() {
            guard let a = xAxis.fraction(h.edges[k]), let b = xAxis.fraction(h.edges[k + 1]) else { continue }
            let height = yAxis.fraction(Double(count)).map { max(0, min(1, $0)) } ?? 0
            let eighthsTall = Int((height * Double(rows * 8)).rounded())
            let c0 = Int((a * Double(columns)).rounded()), c1 = max(c0 + 1, Int((b * Double(columns)).rounded()))
            for c in max(c0, 0)..<min(c1, columns) {
                for r in 0..<rows {
                    let fromBottom = rows - 1 - r
                    let fill = min(8, eighthsTall - fromBottom * 8)
                    if fill > 0 { blocks[r][c] = TextGrid.Cell(eighths[fill - 1], colour: Palette.ansi(series)) }
                }
            }
        }
    }

    // MARK: bars (horizontal, so category names stay readable)

    static let horizontalEighths = ["▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"]
    /// fills that tell series apart without colour
    static let shades = ["█", "▓", "▒", "░"]

    static func bars(_ f: Figure, _ width: Int, _ out: inout TextGrid) {
        let names = f.categories.map { truncate($0, 20) }, groups = f.barGroups()
        let axis = f.valueAxis(ticks: 4)
        let values = groups.flatMap(\.values).filter(\.isFinite)
        let valueWidth = values.map { formatCompact($0).count }.max() ?? 1
        let labelWidth = names.map(\.count).max() ?? 1
        let columns = max(width - labelWidth - valueWidth - 4, 8)
        let zero = axis.fraction(axis.scale == .linear ? 0 : axis.lower) ?? 0
        let shaded = !out.colour && groups.count > 1
        for (k, name) in names.enumerated() {
            for (g, group) in groups.enumerated() {
                let v = group.values[k]
                var cells = [TextGrid.Cell(pad(g == 0 ? name : "", labelWidth, right: true) + " │")]
                if let fr = axis.fraction(v) {
                    let from = min(fr, zero), to = max(fr, zero)
                    let start = Int((from * Double(columns)).rounded())
                    let length = Int(((to - from) * Double(columns * 8)).rounded())
                    let fill = shaded ? shades[g % shades.count] : "█"
                    var bar = String(repeating: " ", count: start) + String(repeating: fill, count: length / 8)
                    if length % 8 > 0 { bar += shaded ? fill : horizontalEighths[length % 8 - 1] }
                    cells.append(TextGrid.Cell(bar, colour: Palette.ansi(group.index)))
                    cells.append(TextGrid.Cell(" " + formatCompact(v)))
                } else {
                    cells.append(TextGrid.Cell(v.isNaN ? "" : " " + formatCompact(v)))
                }
                out.cells(cells)
            }
        }
        var scale = Array(String(repeating: " ", count: columns + 1))
        for t in [axis.lower, axis.upper] {
            let text = Array(axis.label(t))
            guard let fr = axis.fraction(t) else { continue }
            let start = min(max(Int(fr * Double(columns)) - text.count / 2, 0), scale.count - text.count)
            if start >= 0 { scale.replaceSubrange(start..<start + text.count, with: text) }
        }
        out.line(String(repeating: " ", count: labelWidth + 1) + "└" + String(repeating: "─", count: columns))
        out.line(String(repeating: " ", count: labelWidth + 1) + String(scale))
        if let y = f.yLabel { out.line(String(repeating: " ", count: labelWidth + 2) + centered(y, columns)) }
    }

    // MARK: heatmap

    /// shades from low to high, for heatmaps without colour
    static let heatShades = [" ", "░", "▒", "▓", "█"]

    static func heatmap(_ f: Figure, _ width: Int, _ out: inout TextGrid) {
        guard let full = f.heatmap else { return }
        let rowNames = (full.rowLabels ?? (1...full.rows).map { "\($0)" }).map { truncate($0, 16) }
        let labelWidth = rowNames.map(\.count).max() ?? 1
        let available = max(width - labelWidth - 3, 4)
        let h = full.resampled(maxRows: 48, maxColumns: available)
        let names = (h.rowLabels ?? rowNames).map { truncate($0, 16) }
        // cells wide enough for their column labels when there is room, else 1 to 4 characters
        let labelWidth0 = (h.columnLabels?.map(\.count).max() ?? 0) + 1
        let cellWidth = max(1, min(max(4, min(labelWidth0, 12)), available / h.columns))
        let (lo, hi) = full.range ?? (0, 1)
        func t(_ v: Double) -> Double { hi > lo ? (v - lo) / (hi - lo) : 0.5 }
        func cell(_ v: Double) -> TextGrid.Cell {
            let blank = String(repeating: " ", count: cellWidth)
            guard v.isFinite else { return TextGrid.Cell(String(repeating: "·", count: cellWidth)) }
            if out.colour { return TextGrid.Cell(blank, background: Palette.viridisANSI(t(v))) }
            let k = min(heatShades.count - 1, Int(t(v) * Double(heatShades.count)))
            return TextGrid.Cell(String(repeating: heatShades[k], count: cellWidth))
        }
        if let cl = h.columnLabels, cl.allSatisfy({ $0.count < cellWidth }) {
            out.line(String(repeating: " ", count: labelWidth + 2) + cl.map { pad($0, cellWidth, right: false) }.joined())
        }
        for r in 0..<h.rows {
            out.cells([TextGrid.Cell(pad(names[r], labelWidth, right: true) + " ▕")] + h.values[r].map(cell) + [TextGrid.Cell("▏")])
        }
        let columnsNote = h.columns < full.columns || h.rows < full.rows ? "  (\(full.rows)x\(full.columns) shown as \(h.rows)x\(h.columns))" : ""
        let ramp = (0..<8).map { k -> TextGrid.Cell in
            var c = cell(lo + (hi - lo) * (Double(k) + 0.5) / 8)
            c.text = String(c.text.prefix(2)).padding(2, with: c.text.first ?? " ")
            return c
        }
        out.cells(
            [TextGrid.Cell(String(repeating: " ", count: labelWidth + 2) + formatCompact(lo) + " ")] + ramp + [
                TextGrid.Cell(" " + formatCompact(hi) + columnsNote)
            ])
        if let x = f.xLabel { out.line(String(repeating: " ", count: labelWidth + 2) + x) }
    }

    // MARK: legend and text

    static func legend(_ f: Figure, _ width: Int, _ out: inout TextGrid) {
        guard f.legendShown else { return }
        var cells: [TextGrid.Cell] = [TextGrid.Cell(" ")]
        var used = 1
        let shaded = !out.colour && f.family == .categorical && f.series.count > 1
        for (i, s) in f.series.enumerated() {
            guard let label = s.label else { continue }
            let mark: String
            switch s.data {
            case .line: mark = "──"
            case .scatter: mark = "⠶"
            default: mark = shaded ? shades[i % shades.count] : "█"
            }
            let entry = " " + truncate(label, 30) + "  "
            if used + mark.count + entry.count > width && used > 1 {
                out.cells(cells)
                cells = [TextGrid.Cell(" ")]
                used = 1
            }
            cells.append(TextGrid.Cell(mark, colour: Palette.ansi(i)))
            cells.append(TextGrid.Cell(entry))
            used += mark.count + entry.count
        }
        if cells.count > 1 { out.cells(cells) }
    }

    static func pad(_ s: String, _ n: Int, right: Bool) -> String {
        let fill = String(repeating: " ", count: max(0, n - s.count))
        return right ? fill + s : s + fill
    }

    static func centered(_ s: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, (width - s.count) / 2)) + s
    }

    static func truncate(_ s: String, _ n: Int) -> String { s.count > n ? String(s.prefix(n - 1)) + "…" : s }
}

/// lines of text cells with optional xterm-256 colours, written with or without escapes
struct TextGrid {
    struct Cell {
        var text: String
        var colour: Int?
        var background: Int?
        init(_ text: String, colour: Int? = nil, background: Int? = nil) {
            self.text = text
            self.colour = colour
            self.background = background
        }
    }

    let colour: Bool
    private(set) var lines: [String] = []

    init(colour: Bool) { self.colour = colour }

    mutating func line(_ s: String) { lines.append(trimmedRight(s)) }

    /// a line of cells; neighbouring cells of one colour share one escape sequence
    mutating func cells(_ cells: [Cell]) {
        guard colour else { return line(cells.map(\.text).joined()) }
        var s = "", current: (Int?, Int?) = (nil, nil)
        for c in cells {
            if c.colour != current.0 || c.background != current.1 {
                if current != (nil, nil) { s += "\u{1B}[0m" }
                if let fg = c.colour { s += "\u{1B}[38;5;\(fg)m" }
                if let bg = c.background { s += "\u{1B}[48;5;\(bg)m" }
                current = (c.colour, c.background)
            }
            s += c.text
        }
        if current != (nil, nil) { s += "\u{1B}[0m" }
        lines.append(s)
    }

    var text: String { lines.joined(separator: "\n") }

    private func trimmedRight(_ s: String) -> String {
        var s = Substring(s)
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}

extension String {
    /// the string cut or padded with `fill` to exactly n characters
    func padding(_ n: Int, with fill: Character) -> String {
        count >= n ? String(prefix(n)) : self + String(repeating: fill, count: n - count)
    }
}
