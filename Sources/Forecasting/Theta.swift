import Foundation

/// The Theta method (Assimakopoulos & Nikolopoulos, 2000; the M3 competition's winner) and its
/// optimised form (Fiorucci et al., 2016). The series is split into theta lines: the least-squares
/// line L (θ = 0) and Z = θ·y + (1 − θ)·L, whose combination (1 − 1/θ)·L + (1/θ)·Z is the series
/// itself. The forecast extends L and smooths Z by simple exponential smoothing:
/// ŷ(n+h) = (1 − 1/θ)·L(n+h) + (1/θ)·ℓ(n). The standard method fixes θ = 2 (half the trend);
/// the optimised one fits θ ∈ [1, 10] with α by the in-sample one-step squared error.
///
/// With a season m > 1 whose autocorrelation is significant (the 90% test on r(m) that the M3
/// Theta applies), the series is seasonally adjusted first by classical decomposition (additive
/// indices from a centred moving average) and the indices added back to the forecast.
public final class ThetaForecaster: ConformalForecaster {
    let optimiseTheta: Bool
    let season: Int
    public private(set) var alpha = 0.5, theta = 2.0
    public private(set) var seasonal: [Double] = []
    var intercept = 0.0, slope = 0.0
    var level = 0.0
    /// Index (time) of the next observation; L and the seasonal phase follow it.
    var t = 0
    var sse = 0.0, fittedCount = 0

    public init(optimised: Bool, season: Int = 1) {
        optimiseTheta = optimised
        self.season = season
        super.init(name: optimised ? "otm" : "theta")
    }

    override public var minimumLength: Int { max(4, season > 1 ? 2 * season + 2 : 4) }

    override public var aic: Double? {
        fittedCount > 0 ? Self.akaike(sse: sse, count: fittedCount, parameters: optimiseTheta ? 3 : 2) : nil
    }

    /// Additive seasonal indices from a centred moving average, or [] when the season is not significant.
    static func seasonalIndices(_ y: [Double], season m: Int) -> [Double] {
        guard m > 1, y.count >= 2 * m + 2 else { return [] }
        let n = Double(y.count)
        let mean = y.reduce(0, +) / n
        let x = y.map { $0 - mean }
        let den = x.reduce(0) { $0 + $1 * $1 }
        guard den > 0 else { return [] }
        func acf(_ k: Int) -> Double { SeasonDetector.autocorrelation(x, lag: k, energy: den) }
        var sumSq = 0.0
        for k in 1..<m { let r = acf(k); sumSq += r * r }
        let limit = 1.645 * ((1 + 2 * sumSq) / n).squareRoot()
        guard abs(acf(m)) > limit else { return [] }
        let trend = MSTLForecaster.centredMovingAverage(y, width: m)
        var sums = [Double](repeating: 0, count: m), counts = [Double](repeating: 0, count: m)
        // The edges' moving averages are shrunk windows: use the points with a whole window.
        for i in (m / 2)..<(y.count - m / 2) {
            sums[i % m] += y[i] - trend[i]
            counts[i % m] += 1
        }
        var idx = (0..<m).map { counts[$0] > 0 ? sums[$0] / counts[$0] : 0 }
        let centre = idx.reduce(0, +) / Double(m)
        idx = idx.map { $0 - centre }
        return idx
    }

    func line(_ i: Int) -> Double { intercept + slope * Double(i) }
    func adjustment(_ i: Int) -> Double { seasonal.isEmpty ? 0 : seasonal[i % seasonal.count] }

    /// Filters the adjusted series with (α, θ); returns the one-step SSE and leaves the level at the end.
    func filter(_ x: [Double], alpha a: Double, theta th: Double) -> Double {
        var l = th * x[0] + (1 - th) * line(0)
        var total = 0.0
        for i in 1..<x.count {
            let forecast = (1 - 1 / th) * line(i) + l / th
            let e = x[i] - forecast
            total += e * e
            let z = th * x[i] + (1 - th) * line(i)
            l = a * z + (1 - a) * l
        }
        level = l
        return total
    }

    override public func train(_ y: [Double]) throws {
        seasonal = season > 1 ? Self.seasonalIndices(y, season: season) : []
        let x = y.enumerated().map { $0.element - adjustment($0.offset) }
        // Least-squares line through (i, x_i).
        let n = Double(x.count)
        let meanT = (n - 1) / 2, meanX = x.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0
        for (i, v) in x.enumerated() { sxy += (Double(i) - meanT) * (v - meanX); sxx += (Double(i) - meanT) * (Double(i) - meanT) }
        slope = sxx > 0 ? sxy / sxx : 0
        intercept = meanX - slope * meanT
        let best: [Double]
        if optimiseTheta {
            best = NelderMead.minimize({ p in
                let v = self.filter(x, alpha: bounded(p[0], 0.001, 0.999), theta: bounded(p[1], 1, 10))
                return v.isFinite ? v : .greatestFiniteMagnitude
            }, start: [unbounded(0.3, 0.001, 0.999), unbounded(2, 1, 10)], step: 1)
            alpha = bounded(best[0], 0.001, 0.999)
            theta = bounded(best[1], 1, 10)
        } else {
            best = NelderMead.minimize({ p in
                let v = self.filter(x, alpha: bounded(p[0], 0.001, 0.999), theta: 2)
                return v.isFinite ? v : .greatestFiniteMagnitude
            }, start: [unbounded(0.3, 0.001, 0.999)], step: 1)
            alpha = bounded(best[0], 0.001, 0.999)
            theta = 2
        }
        sse = filter(x, alpha: alpha, theta: theta)
        fittedCount = x.count - 1
        t = x.count
    }

    override public func observe(_ y: Double) {
        let z = theta * (y - adjustment(t)) + (1 - theta) * line(t)
        level = alpha * z + (1 - alpha) * level
        t += 1
    }

    override public func point(_ horizon: Int) -> [Double] {
        (0..<horizon).map { h in
            let i = t + h
            return (1 - 1 / theta) * line(i) + level / theta + adjustment(i)
        }
    }
}
