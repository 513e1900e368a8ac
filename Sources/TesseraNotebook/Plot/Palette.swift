// Palette: series colours from Okabe and Ito's colour-blind-safe set (blue first, yellow last:
// it is faint on white), and viridis for heatmaps (perceptually uniform, readable in grey).

public enum Palette {
    /// hex colours for series 1, 2, ...
    public static let series = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"]
    /// the nearest xterm-256 colours of `series`, for terminals
    public static let seriesANSI = [25, 214, 36, 166, 175, 74, 244, 227]

    public static func colour(_ i: Int) -> String { series[i % series.count] }
    public static func ansi(_ i: Int) -> Int { seriesANSI[i % seriesANSI.count] }

    /// viridis at 9 evenly spaced points (t = 0, 1/8, ..., 1)
    static let viridis: [(Double, Double, Double)] = [
        (68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
        (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37),
    ]

    /// viridis at t in 0...1 (clamped), as 0-255 RGB
    public static func viridisRGB(_ t: Double) -> (Int, Int, Int) {
        let t = t.isFinite ? Swift.min(1, Swift.max(0, t)) : 0
        let x = t * Double(viridis.count - 1)
        let i = Swift.min(viridis.count - 2, Int(x))
        let f = x - Double(i)
        let (a, b) = (viridis[i], viridis[i + 1])
        func mix(_ p: Double, _ q: Double) -> Int { Int((p + (q - p) * f).rounded()) }
        return (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }

    public static func viridisHex(_ t: Double) -> String {
        let (r, g, b) = viridisRGB(t)
        return "#" + [r, g, b].map { hex2($0) }.joined()
    }

    /// the xterm-256 colour cube entry nearest viridis at t
    public static func viridisANSI(_ t: Double) -> Int {
        let (r, g, b) = viridisRGB(t)
        func level(_ c: Int) -> Int { c < 48 ? 0 : c < 115 ? 1 : (c - 35) / 40 }
        return 16 + 36 * level(r) + 6 * level(g) + level(b)
    }

    private static func hex2(_ v: Int) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[(v >> 4) & 15], digits[v & 15]])
    }
}
