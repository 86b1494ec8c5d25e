import Foundation

/// Maps data to positions and picks tick values people read easily (1, 2, 5 × 10ⁿ).
struct AxisScale {
    let lo: Double
    let hi: Double
    let log: Bool

    /// The axis range for `values` (finite ones only), widened so that a constant series or a
    /// single point still has a visible range.
    init(_ axis: Axis, values: [Double]) {
        let log = axis.scale == .log
        self.log = log
        var data = values.filter { $0.isFinite && (!log || $0 > 0) }
        if data.isEmpty { data = log ? [1, 10] : [0, 1] }
        var lo = axis.min ?? data.min()!
        var hi = axis.max ?? data.max()!
        if !log && axis.fromZero && axis.min == nil { lo = Swift.min(lo, 0) }
        if !log && axis.fromZero && axis.max == nil && hi < 0 { hi = 0 }
        if hi <= lo {
            let pad = log ? 1.0 : Swift.max(abs(lo) * 0.1, 1)
            if log { lo /= 10; hi *= 10 } else { lo -= axis.fromZero && lo == 0 ? 0 : pad; hi += pad }
        }
        if log { lo = Foundation.log10(lo); hi = Foundation.log10(hi) }
        if !log && axis.min == nil && axis.max == nil {
            // Round the ends out to tick values so the data never touches the frame unlabelled.
            let step = AxisScale.niceStep((hi - lo) / 5)
            lo = (lo / step).rounded(.down) * step
            hi = (hi / step).rounded(.up) * step
        }
        self.lo = lo
        self.hi = hi
    }

    /// Position in 0...1 of a value (nil where a log axis cannot show it).
    func unit(_ v: Double) -> Double? {
        guard v.isFinite else { return nil }
        if log { return v > 0 ? (Foundation.log10(v) - lo) / (hi - lo) : nil }
        return (v - lo) / (hi - lo)
    }

    /// Tick values inside the range, about `count` of them.
    func ticks(_ count: Int = 5) -> [Double] {
        if log {
            let first = Int(lo.rounded(.up)), last = Int(hi.rounded(.down))
            if last - first >= 1 {
                let every = Swift.max(1, (last - first + 1 + count - 1) / count)
                return stride(from: first, through: last, by: every).map { pow(10, Double($0)) }
            }
            // Less than a decade: fall back to linear ticks over the same range.
            let inner = AxisScale(Axis("", min: pow(10, lo), max: pow(10, hi)), values: [])
            return inner.ticks(count)
        }
        let step = AxisScale.niceStep((hi - lo) / Double(count))
        var t = (lo / step).rounded(.up) * step
        var out: [Double] = []
        while t <= hi + step * 1e-9 && out.count < 50 {
            out.append(abs(t) < step * 1e-9 ? 0 : t)
            t += step
        }
        return out
    }

    static func niceStep(_ raw: Double) -> Double {
        guard raw.isFinite && raw > 0 else { return 1 }
        let p = pow(10, Foundation.floor(Foundation.log10(raw)))
        let f = raw / p
        return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p
    }
}

/// Tick labels short enough to sit under an axis: 0.25, 40, 1.2k, 3M, 1e-05.
func tickLabel(_ v: Double) -> String {
    let a = abs(v)
    if a == 0 { return "0" }
    if a >= 1e9 || a < 1e-3 { return String(format: "%.0e", v) }
    if a >= 1e6 { return trimmed(v / 1e6) + "M" }
    if a >= 1e4 { return trimmed(v / 1e3) + "k" }
    return trimmed(v)
}

private func trimmed(_ v: Double) -> String {
    var s = String(format: "%.3f", v)
    while s.contains(".") && (s.hasSuffix("0") || s.hasSuffix(".")) { s.removeLast() }
    return s
}
