// PlotRenderingTests: the Lua-free plot code: nice and log ticks, histogram bins, braille dot
// bits, SVG well-formedness and escaping, terminal charts without colour.

import Foundation
import XCTest

@testable import TesseraNotebook

#if canImport(FoundationXML)
    import FoundationXML
#endif

final class PlotRenderingTests: XCTestCase {
    func testNiceStepsAreOneTwoFive() {
        XCTAssertEqual(Axis.niceStep(span: 10, target: 5), 2)
        XCTAssertEqual(Axis.niceStep(span: 1, target: 5), 0.2)
        XCTAssertEqual(Axis.niceStep(span: 0.07, target: 5), 0.01)
        XCTAssertEqual(Axis.niceStep(span: 300, target: 5), 50)
        XCTAssertEqual(Axis.niceStep(span: 9000, target: 5), 2000)
    }

    func testLinearAxisRoundsOutToTicks() {
        let a = Axis.fitting(0.23, 2.61, scale: .linear, target: 5)
        XCTAssertEqual(a.lower, 0)
        XCTAssertEqual(a.upper, 3, accuracy: 1e-12)
        XCTAssertEqual(a.ticks.count, 7)
        XCTAssertEqual(a.ticks.map { a.label($0) }, ["0.0", "0.5", "1.0", "1.5", "2.0", "2.5", "3.0"])
        // negative to positive: zero is a tick, printed without a sign
        let b = Axis.fitting(-3, 3, scale: .linear, target: 6)
        XCTAssertTrue(b.ticks.contains(0))
        XCTAssertEqual(b.label(0), "0")
    }

    func testDegenerateRangesStillGiveAnAxis() {
        let single = Axis.fitting(5, 5, scale: .linear, target: 5)
        XCTAssertLessThan(single.lower, 5)
        XCTAssertGreaterThan(single.upper, 5)
        let nan = Axis.fitting(.nan, .infinity, scale: .linear, target: 5)
        XCTAssertEqual(nan.lower, 0)
        XCTAssertEqual(nan.upper, 1)
        let huge = Axis.fitting(-1e308, 1e308, scale: .linear, target: 5)
        XCTAssertLessThanOrEqual(huge.ticks.count, 1000)
        XCTAssertEqual(Axis.fitting(0, 0, scale: .log, target: 5).scale, .log)
    }

    func testLogAxisTicksAtDecades() {
        let a = Axis.fitting(1e-5, 0.1, scale: .log, target: 6)
        XCTAssertEqual(a.ticks, [1e-5, 1e-4, 1e-3, 1e-2, 1e-1])
        XCTAssertEqual(a.ticks.map { a.label($0) }, ["1e-5", "1e-4", "1e-3", "1e-2", "1e-1"])
        XCTAssertEqual(a.minorTicks.count, 4 * 8)
        // many decades: every other one is labelled
        let wide = Axis.fitting(1e-10, 1e10, scale: .log, target: 5)
        XCTAssertLessThanOrEqual(wide.ticks.count, 6)
        // within a decade: 2 and 5 are labelled
        let narrow = Axis.fitting(1.5, 8, scale: .log, target: 5)
        XCTAssertEqual(narrow.ticks, [2, 5])
        XCTAssertNil(a.fraction(0))
        XCTAssertNil(a.fraction(-1))
        XCTAssertEqual(a.fraction(1e-3)!, 0.5, accuracy: 1e-12)
    }

    func testHistogramBinCounts() throws {
        let h = try Histogram(values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, .nan, .infinity], bins: 5)
        XCTAssertEqual(h.edges, [0, 2, 4, 6, 8, 10])
        // [0,2) [2,4) [4,6) [6,8) [8,10]: the last bin is closed
        XCTAssertEqual(h.counts, [2, 2, 2, 2, 3])
        let same = try Histogram(values: [3, 3, 3])
        XCTAssertEqual(same.counts.reduce(0, +), 3)
        XCTAssertEqual(try Histogram(values: []).counts.reduce(0, +), 0)
        let ranged = try Histogram(values: [-5, 0.5, 1.5, 99], bins: 2, range: (0, 2))
        XCTAssertEqual(ranged.counts, [1, 1])
        XCTAssertThrowsError(try Histogram(values: [1], bins: 0))
    }

    func testBrailleBits() {
        // dots 1-3 down the left column, 4-6 down the right, 7 and 8 on the bottom row
        XCTAssertEqual(BrailleCanvas.bit(dx: 0, dy: 0), 0x01)
        XCTAssertEqual(BrailleCanvas.bit(dx: 0, dy: 2), 0x04)
        XCTAssertEqual(BrailleCanvas.bit(dx: 1, dy: 0), 0x08)
        XCTAssertEqual(BrailleCanvas.bit(dx: 0, dy: 3), 0x40)
        XCTAssertEqual(BrailleCanvas.bit(dx: 1, dy: 3), 0x80)
        var c = BrailleCanvas(columns: 2, rows: 1)
        c.line(0, 0, 3, 3, series: 0)
        XCTAssertEqual(c.character(column: 0, row: 0), "\u{2811}")  // dots 1 and 5
        XCTAssertEqual(c.character(column: 1, row: 0), "\u{2884}")  // dots 3 and 8
        c.set(-1, 99, series: 1)  // outside: ignored
        var full = BrailleCanvas(columns: 1, rows: 1)
        for x in 0..<2 { for y in 0..<4 { full.set(x, y, series: 0) } }
        XCTAssertEqual(full.character(column: 0, row: 0), "\u{28FF}")
    }

    func figure(_ series: [Series.Data], title: String? = nil) throws -> Figure {
        var f = Figure()
        f.title = title
        for (i, s) in series.enumerated() { try f.add(Series(s, label: "s\(i)")) }
        return f
    }

    func testSVGIsWellFormedForEveryKind() throws {
        let kinds: [[Series.Data]] = [
            [.line(x: [1, 2, 3], y: [1, .nan, 3]), .scatter(x: [1, 2], y: [2, 1])],
            [.bars(categories: ["a", "b"], values: [1, -2]), .bars(categories: ["b", "c"], values: [3, 4])],
            [.histogram(try Histogram(values: [1, 2, 2, 3], bins: 3))],
            [.heatmap(try Heatmap(values: [[1, 2], [3, .nan]], rowLabels: ["r1", "r2"], columnLabels: ["c1", "c2"]))],
            [],
        ]
        for data in kinds {
            let svg = SVGRenderer.render(try figure(data, title: "a < b & \"c\""))
            XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""), svg)
            XCTAssertTrue(svg.contains("viewBox=\"0 0 640 400\""))
            XCTAssertTrue(svg.contains("a &lt; b &amp; &quot;c&quot;"))
            XCTAssertFalse(svg.contains("nan"), "no NaN coordinates")
            let parser = XMLParser(data: Data(svg.utf8))
            XCTAssertTrue(parser.parse(), "well-formed: \(parser.parserError.map { "\($0)" } ?? "")\n\(svg)")
        }
    }

    func testEscaping() {
        XCTAssertEqual(xmlEscape("<a href='x'>&</a>"), "&lt;a href=&apos;x&apos;&gt;&amp;&lt;/a&gt;")
        XCTAssertEqual(xmlEscape("bell\u{07}"), "bell\u{FFFD}")
        XCTAssertEqual(xmlEscape("über\tα"), "über\tα")
    }

    func testMixingFamiliesIsAnError() throws {
        var f = Figure()
        try f.add(Series(.line(x: [1], y: [1])))
        XCTAssertThrowsError(try f.add(Series(.bars(categories: ["a"], values: [1]))))
        XCTAssertThrowsError(try Series(.line(x: [1, 2], y: [1])))
        XCTAssertThrowsError(try Heatmap(values: [[1, 2], [3]]))
        XCTAssertThrowsError(try Heatmap(values: []))
    }

    func testTerminalChartWithoutColour() throws {
        let f = try figure([.line(x: [0, 1, 2, 3], y: [0, 1, 4, 9])], title: "squares")
        let text = TerminalRenderer.render(f, style: TerminalStyle(width: 40, colour: false))
        XCTAssertFalse(text.contains("\u{1B}"), "no escapes without colour")
        XCTAssertTrue(text.hasPrefix(" ") && text.contains("squares"))
        for line in text.split(separator: "\n") { XCTAssertLessThanOrEqual(line.count, 40, String(line)) }
        XCTAssertTrue(text.contains("┤") && text.contains("└"))
        XCTAssertTrue(text.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) }, "braille dots")
        let coloured = TerminalRenderer.render(f, style: TerminalStyle(width: 40, colour: true))
        XCTAssertTrue(coloured.contains("\u{1B}[38;5;"))
        let h = try figure([.histogram(try Histogram(values: [1, 2, 2, 3, 3, 3], bins: 3))])
        XCTAssertTrue(TerminalRenderer.render(h).contains("█"))
        let m = try figure([.heatmap(try Heatmap(values: [[0, 1], [2, 3]]))])
        XCTAssertTrue(TerminalRenderer.render(m).contains("▓") || TerminalRenderer.render(m).contains("█"))
        XCTAssertEqual(TerminalRenderer.render(Figure()), "(no data)")
    }
}
