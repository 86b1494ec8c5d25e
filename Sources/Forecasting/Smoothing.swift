import Foundation

/// Exponential smoothing in the additive error form, covering simple (level only), Holt's damped
/// trend and Holt-Winters additive seasonality. Parameters minimise the in-sample sum of squared
/// one-step errors (Nelder–Mead over logistic-bounded parameters); states are then updated online.
public final class ExponentialSmoothing: ConformalForecaster {
    public enum Kind: Sendable { case simple, dampedTrend, holtWinters(season: Int) }

    let kind: Kind
    public private(set) var alpha = 0.5, beta = 0.1, gamma = 0.1, phi = 0.98
    var level = 0.0, trend = 0.0
    var seasonal: [Double] = []
    var seasonIndex = 0

    public init(kind: Kind) {
        self.kind = kind
        switch kind {
        case .simple: super.init(name: "ses")
        case .dampedTrend: super.init(name: "holt")
        case .holtWinters: super.init(name: "holt-winters")
        }
    }

    var season: Int { if case .holtWinters(let m) = kind { return m }; return 0 }
    var hasTrend: Bool { if case .simple = kind { return false }; return true }

    override public var minimumLength: Int {
        switch kind {
        case .simple: return 2
        case .dampedTrend: return 4
        case .holtWinters(let m): return 2 * m + 2
        }
    }

    /// Initial states: level from the first value (or first season's mean), trend from the first
    /// difference (or season-over-season change), seasonal indices from the first season's deviations.
    func initialise(_ y: [Double]) {
        let m = season
        if m > 0 {
            let first = y[0..<m].reduce(0, +) / Double(m)
            let second = y[m..<(2 * m)].reduce(0, +) / Double(m)
            level = first
            trend = (second - first) / Double(m)
            seasonal = (0..<m).map { y[$0] - first }
        } else {
            level = y[0]
            trend = hasTrend && y.count > 1 ? y[1] - y[0] : 0
            seasonal = []
        }
        seasonIndex = 0
    }

    /// One filtering step; returns the one-step-ahead forecast made before seeing y.
    @discardableResult
    func step(_ y: Double) -> Double {
        let damp = hasTrend ? phi : 0
        let s = season > 0 ? seasonal[seasonIndex] : 0
        let forecast = level + damp * trend + s
        let previousLevel = level
        level = alpha * (y - s) + (1 - alpha) * (previousLevel + damp * trend)
        if hasTrend { trend = beta * (level - previousLevel) + (1 - beta) * damp * trend }
        if season > 0 {
            seasonal[seasonIndex] = gamma * (y - previousLevel - damp * trend) + (1 - gamma) * s
            seasonIndex = (seasonIndex + 1) % season
        }
        return forecast
    }

    func sse(_ y: [Double]) -> Double {
        initialise(y)
        var total = 0.0
        let start = season > 0 ? season : 1
        // Seasonal models start filtering after the first season used for initialisation.
        if season > 0 { seasonIndex = 0 }
        for t in start..<y.count {
            let e = y[t] - step(y[t])
            total += e * e
        }
        return total
    }

    func apply(_ p: [Double]) {
        alpha = bounded(p[0], 0.0001, 0.9999)
        if hasTrend {
            beta = bounded(p[1], 0.0001, 0.9999)
            phi = bounded(p[2], 0.8, 1.0)
        }
        if season > 0 { gamma = bounded(p[3], 0.0001, 0.9999) }
    }

    var fittedSSE = 0.0, fittedCount = 0

    override public var aic: Double? {
        guard fittedCount > 0 else { return nil }
        let k = 1 + (hasTrend ? 2 : 0) + (season > 0 ? 1 + season : 0) + 1
        return Self.akaike(sse: fittedSSE, count: fittedCount, parameters: k)
    }

    override public func train(_ y: [Double]) throws {
        var start = [unbounded(0.3, 0.0001, 0.9999)]
        if hasTrend { start += [unbounded(0.05, 0.0001, 0.9999), unbounded(0.98, 0.8, 1.0)] }
        if season > 0 { start += [unbounded(0.1, 0.0001, 0.9999)] }
        let best = NelderMead.minimize({ p in
            self.apply(p)
            let v = self.sse(y)
            return v.isFinite ? v : .greatestFiniteMagnitude
        }, start: start, step: 1)
        apply(best)
        fittedSSE = sse(y)          // and leaves the states at the end of the training series
        fittedCount = y.count - (season > 0 ? season : 1)
    }

    override public func observe(_ y: Double) { step(y) }

    override public func point(_ horizon: Int) -> [Double] {
        var out: [Double] = []
        var dampSum = 0.0
        var power = 1.0
        for h in 1...horizon {
            if hasTrend { power *= phi; dampSum += power }
            let s = season > 0 ? seasonal[(seasonIndex + h - 1) % season] : 0
            out.append(level + dampSum * trend + s)
        }
        return out
    }
}
