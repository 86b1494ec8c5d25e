import Foundation
import ServeAPI

/// A variance-stabilising transform for counts, applied before fitting and undone on forecasts.
/// Counts' spread grows with their level (Poisson: variance = mean), which makes a model's
/// squared-error fit chase the bursts; on the transformed scale the noise is roughly constant.
/// Both transforms are increasing, so quantiles map to quantiles: intervals keep their coverage,
/// and a point forecast that is a median on the transformed scale stays a median (it is not the
/// mean of the original scale, which is lower in MAE for skewed counts and is what MASE scores).
public enum SeriesTransform: String, Sendable, CaseIterable {
    case none
    /// log(1 + y), undone by exp(x) − 1.
    case log1p
    /// Anscombe's 2·√(y + 3/8), undone algebraically ((x/2)² − 3/8, floored at 0).
    case anscombe

    public func forward(_ y: Double) -> Double {
        switch self {
        case .none: return y
        case .log1p: return Foundation.log1p(y)
        case .anscombe: return 2 * (y + 0.375).squareRoot()
        }
    }

    public func inverse(_ x: Double) -> Double {
        switch self {
        case .none: return x
        case .log1p: return expm1(x)
        case .anscombe:
            let h = Swift.max(0, x) / 2
            return Swift.max(0, h * h - 0.375)
        }
    }

    /// Refuses values the transform is not defined for (negative ones), naming the model and the value.
    public func check(_ series: [Double], model: String) throws {
        guard self != .none else { return }
        if let bad = series.firstIndex(where: { $0 < 0 }) {
            throw ForecastError("\(model): --transform \(rawValue) needs a non-negative series (counts); value \(bad + 1) is \(series[bad])")
        }
    }
}

/// Any forecaster fitted and updated on the transformed series, its forecasts transformed back.
public final class TransformedForecaster: WorkloadPredictor {
    public let inner: any WorkloadPredictor
    public let transform: SeriesTransform
    public var name: String { inner.name }

    public init(_ inner: any WorkloadPredictor, transform: SeriesTransform) {
        self.inner = inner
        self.transform = transform
    }

    public func fit(_ series: [Double]) throws {
        try transform.check(series, model: inner.name)
        try inner.fit(series.map(transform.forward))
    }

    public func update(_ observation: Double) {
        // A negative observation cannot be transformed; it is skipped as non-finite ones are.
        guard observation >= 0 || transform == .none else { return }
        inner.update(transform.forward(observation))
    }

    public func predict(horizon: Int, levels: [Double]) throws -> Forecast {
        let f = try inner.predict(horizon: horizon, levels: levels)
        return Forecast(mean: f.mean.map(transform.inverse),
                        lower: f.lower.mapValues { $0.map(transform.inverse) },
                        upper: f.upper.mapValues { $0.map(transform.inverse) })
    }
}

/// Any forecaster whose point forecasts are turned into medians of a count distribution, for
/// `--point median` on non-negative integer series. MAE (and MASE) is minimised by the median of
/// what comes next; for counts that is an integer, and below the mean when counts are skewed. The
/// distribution has the model's point forecast μ as its mean and variance φ·μ, φ being the
/// dispersion of the series: var(y(t) − y(t−1)) / (2·mean y) over the last 1,000 points (a
/// Poisson count with a slowly moving level has φ ≈ 1). φ ≤ 1 gives a Poisson, φ > 1 a negative
/// binomial with p = 1/φ. The intervals are the inner model's.
public final class CountMedianForecaster: WorkloadPredictor {
    public let inner: any WorkloadPredictor
    public var name: String { inner.name }
    public private(set) var dispersion = 1.0

    public init(_ inner: any WorkloadPredictor) { self.inner = inner }

    public func fit(_ series: [Double]) throws {
        if let bad = series.firstIndex(where: { $0 < 0 || $0 != $0.rounded() }) {
            throw ForecastError("\(inner.name): --point median needs a series of counts (non-negative integers); value \(bad + 1) is \(series[bad])")
        }
        try inner.fit(series)
        dispersion = Self.dispersion(Array(series.suffix(1000)))
    }

    public func update(_ observation: Double) { inner.update(observation) }

    static func dispersion(_ y: [Double]) -> Double {
        guard y.count > 2 else { return 1 }
        let mean = y.reduce(0, +) / Double(y.count)
        guard mean > 0 else { return 1 }
        let d = (1..<y.count).map { y[$0] - y[$0 - 1] }
        let dm = d.reduce(0, +) / Double(d.count)
        let v = d.reduce(0) { $0 + ($1 - dm) * ($1 - dm) } / Double(d.count - 1)
        return max(1, v / 2 / mean)
    }

    /// The median of the count distribution with mean μ and variance φ·μ.
    static func median(mean mu: Double, dispersion phi: Double) -> Double {
        guard mu > 0 && mu.isFinite else { return 0 }
        // pmf(0) and the ratio pmf(k+1)/pmf(k): Poisson e^{−μ}, μ/(k+1); negative binomial p^r, (k+r)(1−p)/(k+1).
        let negbin = phi > 1 + 1e-9
        let p = 1 / phi, r = negbin ? mu / (phi - 1) : 0
        var logPmf = negbin ? r * log(p) : -mu
        var cdf = 0.0
        var k = 0.0
        // Beyond ~40 standard deviations the walk would only lose precision; the mean is a median there.
        let limit = mu + 40 * (phi * mu).squareRoot() + 10
        while k < limit {
            cdf += exp(logPmf)
            if cdf >= 0.5 { return k }
            logPmf += negbin ? log((k + r) * (1 - p) / (k + 1)) : log(mu / (k + 1))
            k += 1
        }
        return mu.rounded()
    }

    public func predict(horizon: Int, levels: [Double]) throws -> Forecast {
        var f = try inner.predict(horizon: horizon, levels: levels)
        f.mean = f.mean.map { Self.median(mean: $0, dispersion: dispersion) }
        return f
    }
}
