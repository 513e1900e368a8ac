// SVGRenderer: a figure as a self-contained SVG document (viewBox, generic sans-serif, no ids,
// scripts or external references), laid out from estimated text widths: tick labels that would
// overlap are thinned, long category labels are turned, the legend sits right of the plot area
// so it never covers data.

public enum SVGRenderer {
    static let fontSize = 12.0
    /// average advance of a sans-serif character at fontSize, for layout
    static let charWidth = 6.8

    public static func render(_ figure: Figure) -> String {
        var svg = SVGDocument(width: Double(max(figure.width, 120)), height: Double(max(figure.height, 80)))
        var layout = FrameLayout(figure, svg.width, svg.height)
        switch figure.family {
        case .numeric?: drawNumeric(figure, &svg, &layout)
        case .categorical?: drawBars(figure, &svg, &layout)
        case .matrix?: drawHeatmap(figure, &svg, &layout)
        case nil:
            layout.finish(leftLabels: 0)
            svg.frame(layout)
            svg.text("no data", x: layout.left + layout.plotWidth / 2, y: layout.top + layout.plotHeight / 2, anchor: "middle", fill: "#888888")
        }
        drawTitles(figure, &svg, layout)
        return svg.finished()
    }

    /// title above, axis labels below and left of the plot area
    static func drawTitles(_ f: Figure, _ svg: inout SVGDocument, _ l: FrameLayout) {
        if let t = f.title {
            svg.text(t, x: svg.width / 2, y: 24, anchor: "middle", size: 15, weight: "600")
        }
        if let x = f.xLabel {
            svg.text(x, x: l.left + l.plotWidth / 2, y: svg.height - 10, anchor: "middle", size: 13)
        }
        if let y = f.yLabel {
            svg.text(y, x: 16, y: l.top + l.plotHeight / 2, anchor: "middle", size: 13, rotate: -90)
        }
    }

    // MARK: line, scatter, histogram

    static func drawNumeric(_ f: Figure, _ svg: inout SVGDocument, _ l: inout FrameLayout) {
        let yAxis = f.numericAxes(xTicks: 5, yTicks: max(2, Int(l.plotHeight / 55))).y
        l.finish(leftLabels: yAxis.ticks.map { textWidth(yAxis.label($0)) }.max() ?? 0)
        var xAxis = f.numericAxes(xTicks: max(2, Int(l.plotWidth / 90)), yTicks: 5).x
        // room for half the last x label beyond the frame
        if let last = xAxis.ticks.last, xAxis.fraction(last) ?? 0 > 0.99, l.right < textWidth(xAxis.label(last)) / 2 + 6 {
            l.reserveRight(textWidth(xAxis.label(last)) / 2 + 6 - l.right)
            xAxis = f.numericAxes(xTicks: max(2, Int(l.plotWidth / 90)), yTicks: 5).x
        }
        svg.grid(l, x: xAxis, y: yAxis)
        let l = l
        let px = { (v: Double) in xAxis.fraction(v).map { l.left + $0 * l.plotWidth } }
        let py = { (v: Double) in yAxis.fraction(v).map { l.top + (1 - $0) * l.plotHeight } }
        let histograms = f.series.filter { if case .histogram = $0.data { return true } else { return false } }.count
        for (i, s) in f.series.enumerated() {
            let colour = Palette.colour(i)
            switch s.data {
            case .line(let xs, let ys):
                var run: [String] = []
                func flush() {
                    if run.count > 1 {
                        svg.add(
                            ##"<polyline fill="none" stroke="\##(colour)" stroke-width="2" stroke-linejoin="round" points="\##(run.joined(separator: " "))"/>"##
                        )
                    }
                    if run.count == 1 {
                        svg.add(
                            ##"<circle cx="\##(run[0].split(separator: ",")[0])" cy="\##(run[0].split(separator: ",")[1])" r="2" fill="\##(colour)"/>"##
                        )
                    }
                    run.removeAll()
                }
                for (x, y) in zip(xs, ys) {
                    if let a = px(x), let b = py(y) { run.append(num(a) + "," + num(b)) } else { flush() }
                }
                flush()
            case .scatter(let xs, let ys):
                for (x, y) in zip(xs, ys) {
                    guard let a = px(x), let b = py(y) else { continue }
                    svg.add(##"<circle cx="\##(num(a))" cy="\##(num(b))" r="3" fill="\##(colour)" fill-opacity="0.75"/>"##)
                }
            case .histogram(let h):
                let base = l.top + l.plotHeight
                for (k, c) in h.counts.enumerated() {
                    guard let a = px(h.edges[k]), let b = px(h.edges[k + 1]), let top = py(Double(c)) else { continue }
                    let opacity = histograms > 1 ? "0.55" : "0.85"
                    svg.add(
                        ##"<rect x="\##(num(a))" y="\##(num(top))" width="\##(num(max(b - a, 0)))" height="\##(num(max(base - top, 0)))" fill="\##(colour)" fill-opacity="\##(opacity)" stroke="#ffffff" stroke-width="0.5"/>"##
                    )
                }
            case .bars, .heatmap: break
            }
        }
        svg.frame(l)
        svg.xTicks(l, xAxis)
        svg.yTicks(l, yAxis)
        svg.legend(f, l)
    }

    // MARK: grouped bars

    static func drawBars(_ f: Figure, _ svg: inout SVGDocument, _ l: inout FrameLayout) {
        let names = f.categories, groups = f.barGroups()
        let yAxis = f.valueAxis(ticks: max(2, Int(l.plotHeight / 55)))
        l.finish(leftLabels: yAxis.ticks.map { textWidth(yAxis.label($0)) }.max() ?? 0)
        // category labels: level if they fit under their group, else turned 40 degrees
        let slot = l.plotWidth / Double(max(names.count, 1))
        let shown = names.map { truncated($0, 24) }
        let widest = shown.map(textWidth).max() ?? 0
        let turned = widest > slot - 6
        if turned { l.growBottom(min(widest * 0.65 + 4, svg.height * 0.3)) }
        svg.grid(l, x: nil, y: yAxis)
        let l = l
        let py = { (v: Double) in yAxis.fraction(v).map { l.top + (1 - $0) * l.plotHeight } }
        let base = yAxis.scale == .linear ? py(0) ?? l.top + l.plotHeight : l.top + l.plotHeight
        let barWidth = slot * 0.8 / Double(max(groups.count, 1))
        for (g, group) in groups.enumerated() {
            for (k, v) in group.values.enumerated() {
                guard let y = py(v) else { continue }
                let x = l.left + Double(k) * slot + slot * 0.1 + Double(g) * barWidth
                svg.add(
                    ##"<rect x="\##(num(x))" y="\##(num(min(y, base)))" width="\##(num(barWidth * 0.92))" height="\##(num(abs(base - y)))" fill="\##(Palette.colour(group.index))"/>"##
                )
            }
        }
        svg.frame(l)
        let labelY = l.top + l.plotHeight + 16
        let every = turned ? max(1, Int((fontSize + 2) / max(slot, 1)) + 1) : 1
        for (k, name) in shown.enumerated() where k % every == 0 {
            let x = l.left + (Double(k) + 0.5) * slot
            if turned {
                svg.text(name, x: x, y: labelY - 4, anchor: "end", rotate: -40)
            } else {
                svg.text(name, x: x, y: labelY, anchor: "middle")
            }
        }
        svg.yTicks(l, yAxis)
        svg.legend(f, l)
    }

    // MARK: heatmap

    static func drawHeatmap(_ f: Figure, _ svg: inout SVGDocument, _ l: inout FrameLayout) {
        guard let full = f.heatmap else { return }
        let h = full.resampled(maxRows: 160, maxColumns: 160)
        let rowNames = (h.rowLabels ?? (1...h.rows).map { "\($0)" }).map { truncated($0, 18) }
        let colNames = (h.columnLabels ?? (1...h.columns).map { "\($0)" }).map { truncated($0, 18) }
        let range = full.range ?? (0, 1)
        let colourAxis = Axis.fitting(range.0, range.1, scale: .linear, target: 5)
        let barTicks = colourAxis.ticks.filter { $0 >= range.0 - 1e-12 * abs(range.0) && $0 <= range.1 + 1e-12 * abs(range.1) }
        l.reserveRight(18 + 8 + (barTicks.map { textWidth(colourAxis.label($0)) }.max() ?? 20) + 10)
        l.finish(leftLabels: rowNames.map(textWidth).max() ?? 0)
        let cellW = l.plotWidth / Double(h.columns)
        let widest = colNames.map(textWidth).max() ?? 0
        let turned = widest > cellW - 4
        if turned { l.growBottom(min(widest * 0.7 + 4, svg.height * 0.3)) }
        let cellH = l.plotHeight / Double(h.rows)
        // crisp edges: anti-aliased neighbours leave light seams between cells
        svg.add(##"<g shape-rendering="crispEdges">"##)
        for r in 0..<h.rows {
            for c in 0..<h.columns {
                let v = h.values[r][c]
                let fill = v.isFinite ? Palette.viridisHex(range.1 > range.0 ? (v - range.0) / (range.1 - range.0) : 0.5) : "#d9d9d9"
                // cells overlap by a hair so no background seams show between them
                svg.add(
                    ##"<rect x="\##(num(l.left + Double(c) * cellW))" y="\##(num(l.top + Double(r) * cellH))" width="\##(num(cellW + 0.3))" height="\##(num(cellH + 0.3))" fill="\##(fill)"/>"##
                )
            }
        }
        svg.add("</g>")
        svg.add(
            ##"<rect x="\##(num(l.left))" y="\##(num(l.top))" width="\##(num(l.plotWidth))" height="\##(num(l.plotHeight))" fill="none" stroke="#444444" stroke-width="1"/>"##
        )
        let rowEvery = max(1, Int(((fontSize + 2) / max(cellH, 0.01)).rounded(.up)))
        for (r, name) in rowNames.enumerated() where r % rowEvery == 0 {
            svg.text(name, x: l.left - 6, y: l.top + (Double(r) + 0.5) * cellH + 4, anchor: "end")
        }
        // turned labels need about 1.5 line heights apart, level ones their width
        let colEvery = max(1, Int(((turned ? fontSize * 1.5 : widest + 6) / max(cellW, 0.01)).rounded(.up)))
        for (c, name) in colNames.enumerated() where c % colEvery == 0 {
            let x = l.left + (Double(c) + 0.5) * cellW
            if turned {
                svg.text(name, x: x + 4, y: l.top + l.plotHeight + 12, anchor: "end", rotate: -45)
            } else {
                svg.text(name, x: x, y: l.top + l.plotHeight + 16, anchor: "middle")
            }
        }
        // colour bar: 64 stacked bands (a gradient would need an id, which clashes when a
        // notebook page shows several plots)
        let barX = l.left + l.plotWidth + 18, bands = 64
        svg.add(##"<g shape-rendering="crispEdges">"##)
        for k in 0..<bands {
            let t0 = Double(k) / Double(bands)
            let y = l.top + (1 - t0 - 1 / Double(bands)) * l.plotHeight
            svg.add(
                ##"<rect x="\##(num(barX))" y="\##(num(y))" width="14" height="\##(num(l.plotHeight / Double(bands) + 0.3))" fill="\##(Palette.viridisHex(t0 + 0.5 / Double(bands)))"/>"##
            )
        }
        svg.add("</g>")
        svg.add(
            ##"<rect x="\##(num(barX))" y="\##(num(l.top))" width="14" height="\##(num(l.plotHeight))" fill="none" stroke="#444444" stroke-width="1"/>"##
        )
        for t in barTicks {
            let frac = range.1 > range.0 ? (t - range.0) / (range.1 - range.0) : 0.5
            let y = l.top + (1 - frac) * l.plotHeight
            svg.add(##"<line x1="\##(num(barX + 14))" y1="\##(num(y))" x2="\##(num(barX + 18))" y2="\##(num(y))" stroke="#444444"/>"##)
            svg.text(colourAxis.label(t), x: barX + 21, y: y + 4, anchor: "start")
        }
    }

    // MARK: text

    static func textWidth(_ s: String) -> Double { Double(s.count) * charWidth }

    static func truncated(_ s: String, _ n: Int) -> String { s.count > n ? String(s.prefix(n - 1)) + "…" : s }
}

/// where the plot area sits: margins grow for titles, labels, the legend and the colour bar
struct FrameLayout {
    let width: Double, height: Double
    var top: Double, bottom: Double, left = 0.0, right: Double
    let hasYLabel: Bool
    let legendWidth: Double

    init(_ f: Figure, _ width: Double, _ height: Double) {
        self.width = width
        self.height = height
        top = f.title == nil ? 16 : 40
        bottom = 28 + (f.xLabel == nil ? 0 : 20)
        hasYLabel = f.yLabel != nil
        let labels = f.legendShown ? f.series.compactMap { $0.label } : []
        legendWidth = labels.isEmpty ? 0 : (labels.map { SVGRenderer.textWidth(SVGRenderer.truncated($0, 30)) }.max() ?? 0) + 44
        right = 16 + (legendWidth > 0 ? legendWidth + 8 : 0)
    }

    mutating func reserveRight(_ w: Double) { right += w }
    mutating func growBottom(_ h: Double) { bottom += h }

    /// sets the left margin from the widest y tick label
    mutating func finish(leftLabels: Double) {
        left = 10 + (hasYLabel ? 22 : 0) + leftLabels + 8
    }

    var plotWidth: Double { max(width - left - right, 20) }
    var plotHeight: Double { max(height - top - bottom, 20) }
}

/// an SVG document under construction
struct SVGDocument {
    let width: Double, height: Double
    private var parts: [String] = []

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    mutating func add(_ element: String) { parts.append(element) }

    mutating func text(
        _ s: String, x: Double, y: Double, anchor: String, size: Double = SVGRenderer.fontSize, weight: String? = nil,
        fill: String = "#222222", rotate: Double? = nil
    ) {
        var attributes = ##"x="\##(num(x))" y="\##(num(y))" text-anchor="\##(anchor)" fill="\##(fill)""##
        if size != SVGRenderer.fontSize { attributes += ##" font-size="\##(num(size))""## }
        if let weight { attributes += ##" font-weight="\##(weight)""## }
        if let rotate { attributes += ##" transform="rotate(\##(num(rotate)) \##(num(x)) \##(num(y)))""## }
        parts.append("<text \(attributes)>\(xmlEscape(s))</text>")
    }

    /// light grid lines at the ticks (drawn first, under the data)
    mutating func grid(_ l: FrameLayout, x: Axis?, y: Axis) {
        var d = ""
        for t in x?.ticks ?? [] {
            guard let f = x?.fraction(t) else { continue }
            let px = num(l.left + f * l.plotWidth)
            d += "M\(px) \(num(l.top))V\(num(l.top + l.plotHeight))"
        }
        for t in y.ticks {
            guard let f = y.fraction(t) else { continue }
            d += "M\(num(l.left)) \(num(l.top + (1 - f) * l.plotHeight))H\(num(l.left + l.plotWidth))"
        }
        if !d.isEmpty { parts.append(##"<path d="\##(d)" stroke="#e6e6e6" stroke-width="1" fill="none"/>"##) }
    }

    mutating func frame(_ l: FrameLayout) {
        parts.append(
            ##"<rect x="\##(num(l.left))" y="\##(num(l.top))" width="\##(num(l.plotWidth))" height="\##(num(l.plotHeight))" fill="none" stroke="#444444" stroke-width="1"/>"##
        )
    }

    /// tick marks and labels below the plot area; labels that would collide are thinned
    mutating func xTicks(_ l: FrameLayout, _ axis: Axis) {
        let labels = axis.ticks.map { axis.label($0) }
        let widest = labels.map(SVGRenderer.textWidth).max() ?? 0
        let spacing = axis.ticks.count > 1 ? l.plotWidth / Double(axis.ticks.count - 1) : l.plotWidth
        let every = max(1, Int(((widest + 10) / max(spacing, 1)).rounded(.up)))
        var d = ""
        for (k, t) in axis.ticks.enumerated() {
            guard let f = axis.fraction(t) else { continue }
            let x = l.left + f * l.plotWidth
            d += "M\(num(x)) \(num(l.top + l.plotHeight))v5"
            if k % every == 0 { text(labels[k], x: x, y: l.top + l.plotHeight + 18, anchor: "middle") }
        }
        for t in axis.minorTicks {
            guard let f = axis.fraction(t) else { continue }
            d += "M\(num(l.left + f * l.plotWidth)) \(num(l.top + l.plotHeight))v3"
        }
        parts.append(##"<path d="\##(d)" stroke="#444444" stroke-width="1"/>"##)
    }

    mutating func yTicks(_ l: FrameLayout, _ axis: Axis) {
        let spacing = axis.ticks.count > 1 ? l.plotHeight / Double(axis.ticks.count - 1) : l.plotHeight
        let every = max(1, Int(((SVGRenderer.fontSize + 4) / max(spacing, 1)).rounded(.up)))
        var d = ""
        for (k, t) in axis.ticks.enumerated() {
            guard let f = axis.fraction(t) else { continue }
            let y = l.top + (1 - f) * l.plotHeight
            d += "M\(num(l.left)) \(num(y))h-5"
            if k % every == 0 { text(axis.label(t), x: l.left - 8, y: y + 4, anchor: "end") }
        }
        for t in axis.minorTicks {
            guard let f = axis.fraction(t) else { continue }
            d += "M\(num(l.left)) \(num(l.top + (1 - f) * l.plotHeight))h-3"
        }
        parts.append(##"<path d="\##(d)" stroke="#444444" stroke-width="1"/>"##)
    }

    /// a boxed legend right of the plot area, one entry per labelled series
    mutating func legend(_ f: Figure, _ l: FrameLayout) {
        guard l.legendWidth > 0 else { return }
        let entries = f.series.enumerated().compactMap { i, s in s.label.map { (i, s, $0) } }
        let x = l.left + l.plotWidth + 12, y = l.top
        parts.append(
            ##"<rect x="\##(num(x))" y="\##(num(y))" width="\##(num(l.legendWidth - 4))" height="\##(num(Double(entries.count) * 20 + 10))" fill="#ffffff" stroke="#cccccc" rx="3"/>"##
        )
        for (k, entry) in entries.enumerated() {
            let (i, s, label) = entry
            let cy = y + 15 + Double(k) * 20, colour = Palette.colour(i)
            switch s.data {
            case .line:
                parts.append(
                    ##"<line x1="\##(num(x + 8))" y1="\##(num(cy))" x2="\##(num(x + 28))" y2="\##(num(cy))" stroke="\##(colour)" stroke-width="2"/>"##
                )
            case .scatter:
                parts.append(##"<circle cx="\##(num(x + 18))" cy="\##(num(cy))" r="3.5" fill="\##(colour)"/>"##)
            default:
                parts.append(##"<rect x="\##(num(x + 12))" y="\##(num(cy - 6))" width="12" height="12" fill="\##(colour)"/>"##)
            }
            text(SVGRenderer.truncated(label, 30), x: x + 34, y: cy + 4, anchor: "start")
        }
    }

    func finished() -> String {
        let (w, h) = (num(width), num(height))
        return
            ##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(w)" height="\##(h)" viewBox="0 0 \##(w) \##(h)" font-family="sans-serif" font-size="\##(num(SVGRenderer.fontSize))">"##
            + "\n" + ##"<rect width="100%" height="100%" fill="#ffffff"/>"## + "\n" + parts.joined(separator: "\n") + "\n</svg>\n"
    }
}

/// a coordinate with at most two decimals, without trailing zeros
func num(_ v: Double) -> String {
    guard v.isFinite else { return "0" }
    var s = cFormat("%.2f", v)
    while s.hasSuffix("0") { s.removeLast() }
    if s.hasSuffix(".") { s.removeLast() }
    return s == "-0" ? "0" : s
}

/// Text as XML character data or attribute value: markup characters escaped, and characters
/// XML 1.0 forbids (controls other than tab and newline) replaced.
public func xmlEscape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for u in s.unicodeScalars {
        switch u {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        case "\t", "\n": out.unicodeScalars.append(u)
        default:
            if u.value < 0x20 || (0xFFFE...0xFFFF).contains(u.value) || (0x7F...0x9F).contains(u.value) {
                out += "\u{FFFD}"
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    return out
}
