// Axis: a scale's domain and its ticks. Linear axes step by 1, 2 or 5 times a power of ten and
// round their ends out to a tick (so the frame starts and ends on a labelled value); log axes
// tick at decades (every k-th decade when there are many) with 2..9 as minor ticks.

#if canImport(Glibc)
    import Glibc
#endif

public struct Axis: Equatable {
    public let scale: AxisScale
    /// the domain drawn, in data units (lower < upper; both positive on a log axis)
    public let lower: Double
    public let upper: Double
    /// labelled ticks, ascending, inside the domain
    public let ticks: [Double]
    /// unlabelled ticks (log axes: 2..9 times each decade)
    public let minorTicks: [Double]

    /// An axis covering lo...hi (on a log axis only positive values) with about `target`
    /// labelled ticks; `padding` (a fraction of the span, in log space on a log axis) keeps
    /// extreme points off the frame, without taking a non-negative range below zero.
    public static func fitting(_ lo: Double, _ hi: Double, scale: AxisScale, target: Int, padding: Double = 0) -> Axis {
        switch scale {
        case .linear:
            guard lo.isFinite, hi.isFinite, lo < hi, padding > 0 else { return linear(lo, hi, target: target) }
            let pad = (hi - lo) * padding
            return linear(lo >= 0 ? Swift.max(0, lo - pad) : lo - pad, hi + pad, target: target)
        case .log:
            guard lo > 0, hi.isFinite, lo < hi, padding > 0 else { return log(lo, hi, target: target) }
            let factor = pow(hi / lo, padding)
            return log(lo / factor, hi * factor, target: target)
        }
    }

    /// 1-2-5 step closest to span/target.
    public static func niceStep(span: Double, target: Int) -> Double {
        let raw = span / Double(max(target, 1))
        guard raw.isFinite, raw > 0 else { return 1 }
        let magnitude = pow(10, floor(log10(raw)))
        let normal = raw / magnitude
        let factor: Double = normal < 1.5 ? 1 : normal < 3 ? 2 : normal < 7 ? 5 : 10
        return factor * magnitude
    }

    static func linear(_ lo: Double, _ hi: Double, target: Int) -> Axis {
        var (lo, hi) = lo.isFinite && hi.isFinite && lo <= hi ? (lo, hi) : (0, 1)
        if lo == hi {
            let pad = lo == 0 ? 1 : Swift.abs(lo) * 0.1
            (lo, hi) = (lo - pad, hi + pad)
        }
        let step = niceStep(span: hi - lo, target: target)
        let first = floor(lo / step + 1e-9), last = ceil(hi / step - 1e-9)
        // an absurd span (1e300 with step 1e299) still gives a bounded count
        guard last - first < 1000 else { return Axis(scale: .linear, lower: lo, upper: hi, ticks: [lo, hi], minorTicks: []) }
        let ticks = stride(from: first, through: last, by: 1).map { k -> Double in
            let v = k * step
            return Swift.abs(v) < step * 1e-9 ? 0 : v
        }
        return Axis(scale: .linear, lower: first * step, upper: last * step, ticks: ticks, minorTicks: [])
    }

    /// Decades inside lo...hi (every k-th when there are many, 2x and 5x as well when fewer than
    /// two), 2..9 times each decade as minor ticks; the domain is lo...hi itself.
    static func log(_ lo: Double, _ hi: Double, target: Int) -> Axis {
        var (lo, hi) = lo.isFinite && hi.isFinite && lo > 0 && lo <= hi ? (lo, hi) : (1, 10)
        if lo == hi { (lo, hi) = (lo / 2, hi * 2) }
        (lo, hi) = (Swift.max(lo, 1e-300), Swift.min(hi, 1e300))
        let inside = { (v: Double) in v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9) }
        let e0 = Int(floor(log10(lo))), e1 = Int(ceil(log10(hi)))
        let decades = stride(from: e0, through: e1, by: 1).filter { inside(pow(10, Double($0))) }
        let every = Swift.max(1, Int((Double(decades.count) / Double(Swift.max(target, 1))).rounded(.up)))
        var ticks: [Double] = [], minor: [Double] = []
        for e in stride(from: e0, through: e1, by: 1) {
            let decade = pow(10, Double(e))
            if inside(decade) {
                if (e - (decades.first ?? e0)) % every == 0 { ticks.append(decade) } else { minor.append(decade) }
            }
            guard every == 1 else { continue }
            for m in 2...9 where inside(Double(m) * decade) {
                // fewer than three decades inside: 2 and 5 are labelled too
                if decades.count < 3 && (m == 2 || m == 5) { ticks.append(Double(m) * decade) } else { minor.append(Double(m) * decade) }
            }
        }
        return Axis(scale: .log, lower: lo, upper: hi, ticks: ticks.sorted(), minorTicks: minor)
    }

    /// Where v falls: 0 at lower, 1 at upper; nil for values the scale cannot show (NaN, and
    /// zero or negative values on a log axis).
    public func fraction(_ v: Double) -> Double? {
        guard v.isFinite else { return nil }
        switch scale {
        case .linear:
            return (v - lower) / (upper - lower)
        case .log:
            guard v > 0 else { return nil }
            return (log10(v) - log10(lower)) / (log10(upper) - log10(lower))
        }
    }

    /// The text of tick labels: as many decimals as the step needs, powers of ten on log axes.
    public func label(_ v: Double) -> String {
        switch scale {
        case .log:
            // decades all as 1e-5 ... when any needs it, so the labels read alike
            let exponents = ticks.map { log10($0) }
            if exponents.contains(where: { $0 < -3.5 || $0 > 4.5 }) {
                let e = floor(log10(v) + 1e-9)
                return "\(Int((v / pow(10, e)).rounded()))e\(Int(e))"
            }
            return formatCompact(v)
        case .linear:
            let step = ticks.count > 1 ? ticks[1] - ticks[0] : Swift.abs(upper - lower)
            let biggest = Swift.max(Swift.abs(lower), Swift.abs(upper))
            if biggest >= 1e6 || (step < 1e-4 && step > 0) { return cFormat("%.\(Swift.max(0, significantDigits(step, biggest) - 1))e", v) }
            let decimals = step > 0 ? Swift.max(0, Int(-floor(log10(step) + 1e-9))) : 0
            return cFormat("%.\(decimals)f", v == 0 ? 0 : v)
        }
    }

    /// digits needed to tell ticks `step` apart at magnitude `biggest`
    private func significantDigits(_ step: Double, _ biggest: Double) -> Int {
        guard step > 0, biggest > 0 else { return 1 }
        return Swift.min(6, Swift.max(1, Int(floor(log10(biggest)) - floor(log10(step))) + 1))
    }
}

/// A number in at most 4 significant digits without trailing zeros: 0.001, 12.5, 1.23e+07.
public func formatCompact(_ x: Double) -> String {
    guard x.isFinite else { return x.isNaN ? "nan" : x > 0 ? "inf" : "-inf" }
    if x == 0 { return "0" }
    return cFormat("%.4g", x)
}

/// printf-style formatting of one number (Foundation is not linked into the renderers)
func cFormat(_ pattern: String, _ x: Double) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    _ = withVaList([x]) { vsnprintf(&buffer, buffer.count, pattern, $0) }
    return String(cString: buffer)
}
