import Foundation

/// Direct quantile autoregression: for each horizon h, a linear regression of y(t+h) on what is
/// known at t — an intercept, the last `lags` values and exponentially smoothed levels at a few
/// rates — fitted by least absolute deviations (the median, or any quantile τ by the pinball
/// loss), as in Koenker & Xiao's quantile autoregression, one model per horizon (the "direct"
/// multi-step strategy, which does not feed forecasts back).
///
/// Why it suits request counts: MAE, and so MASE, is minimised by the median of what comes next,
/// not its mean. Bursty counts are skewed (long quiet stretches, short bursts), so a model fitted by
/// squared error forecasts a level that quiet windows never reach; the median regression learns how
/// far a burst persists h steps ahead from the data. The fit is iteratively reweighted least squares
/// (weights 1/max(|r|, ε)), on the most recent `window` points.
public final class QuantileAutoregression: ConformalForecaster, PooledTraining {
    let lags: Int
    let rates: [Double]
    let window: Int
    let tau: Double
    /// Coefficients per horizon: [intercept, lag 1…lags, smoothed level per rate].
    public private(set) var coefficients: [[Double]] = []
    var levels: [Double] = []
    var scale = 1.0
    let horizons: Int

    public init(lags: Int = 1, rates: [Double] = [0.5, 0.2, 0.05], window: Int = 3000, quantile: Double = 0.5, horizons: Int = 12) {
        self.lags = lags
        self.rates = rates
        self.window = window
        tau = quantile
        self.horizons = horizons
        super.init(name: "qar")
    }

    override public var minimumLength: Int { max(2 * (1 + lags + rates.count) + horizons, lags + 8) }

    var width: Int { 1 + lags + rates.count }

    /// Features at time i from the series and the smoothed levels after y[i].
    func features(_ y: [Double], _ i: Int, _ smoothed: ArraySlice<Double>, into x: inout [Double]) {
        x[0] = 1
        for k in 0..<lags { x[1 + k] = (i - k >= 0 ? y[i - k] : y[0]) / scale }
        for (j, v) in smoothed.enumerated() { x[1 + lags + j] = v / scale }
    }

    /// Weighted least squares step of the quantile regression on rows X (n × k) and targets t.
    static func fitQuantile(_ xs: [Double], _ t: [Double], k: Int, tau: Double, iterations: Int = 50) -> [Double] {
        let n = t.count
        var w = [Double](repeating: 1, count: n)
        var beta = [Double](repeating: 0, count: k)
        for iteration in 0..<iterations {
            var a = [Double](repeating: 0, count: k * k), b = [Double](repeating: 0, count: k)
            for r in 0..<n {
                let wr = w[r], base = r * k
                for i in 0..<k {
                    let xi = xs[base + i] * wr
                    b[i] += xi * t[r]
                    for j in i..<k { a[i * k + j] += xi * xs[base + j] }
                }
            }
            for i in 0..<k {
                for j in 0..<i { a[i * k + j] = a[j * k + i] }
                a[i * k + i] += 1e-8 * (a[i * k + i] + 1)
            }
            guard let next = LinearSystem.solve(a, b, k) else { break }
            let change = zip(next, beta).map { abs($0 - $1) }.max() ?? 0
            beta = next
            if iteration > 0 && change < 1e-7 { break }
            // Pinball loss as a reweighted square: weight τ/|r| above the fit, (1 − τ)/|r| below.
            for r in 0..<n {
                var f = 0.0
                for i in 0..<k { f += xs[r * k + i] * beta[i] }
                let res = t[r] - f
                w[r] = (res >= 0 ? tau : 1 - tau) / max(abs(res), 1e-4)
            }
        }
        return beta
    }

    /// Coefficients shared with other series (a global model): `train` then only fits the state.
    var sharedCoefficients: [[Double]]?

    /// Scale and smoothed levels of y (setting the state to its end); the regression rows per horizon
    /// on the standardised series, within the last `window` points.
    func design(_ y: [Double]) -> [(rows: [Double], targets: [Double])] {
        let mean = y.reduce(0, +) / Double(y.count)
        let spread = y.reduce(0) { $0 + abs($1 - mean) } / Double(y.count)
        scale = spread > 1e-12 ? spread : max(abs(mean), 1)
        // Smoothed levels after every point, started at the mean of the first few.
        let warm = min(y.count, 20)
        var state = Array(repeating: y[0..<warm].reduce(0, +) / Double(warm), count: rates.count)
        var smoothed = [Double](repeating: 0, count: y.count * rates.count)
        for (i, v) in y.enumerated() {
            for (j, a) in rates.enumerated() {
                state[j] = a * v + (1 - a) * state[j]
                smoothed[i * rates.count + j] = state[j]
            }
        }
        levels = state
        guard sharedCoefficients == nil else { return [] }
        let first = max(lags - 1, y.count - window)
        var x = [Double](repeating: 0, count: width)
        return (1...horizons).map { h in
            var rows: [Double] = [], targets: [Double] = []
            let last = y.count - 1 - h
            guard last >= first else { return ([], []) }
            rows.reserveCapacity((last - first + 1) * width)
            for i in first...last {
                features(y, i, smoothed[(i * rates.count)..<((i + 1) * rates.count)], into: &x)
                rows += x
                targets.append(y[i + h] / scale)
            }
            return (rows, targets)
        }
    }

    /// Median regressions per horizon on the given rows; a horizon without rows reuses the previous one.
    func fitCoefficients(_ designs: [[(rows: [Double], targets: [Double])]]) {
        coefficients = []
        for h in 0..<horizons {
            let rows = designs.flatMap { $0[h].rows }, targets = designs.flatMap { $0[h].targets }
            if targets.isEmpty {
                coefficients.append(coefficients.last ?? [0] + [1] + Array(repeating: 0, count: width - 2))
            } else {
                coefficients.append(Self.fitQuantile(rows, targets, k: width, tau: tau))
            }
        }
    }

    override public func train(_ y: [Double]) throws {
        let d = design(y)
        if let shared = sharedCoefficients { coefficients = shared } else { fitCoefficients([d]) }
    }

    override public func observe(_ y: Double) {
        for (j, a) in rates.enumerated() { levels[j] = a * y + (1 - a) * levels[j] }
    }

    override public func point(_ horizon: Int) -> [Double] {
        var x = [Double](repeating: 0, count: width)
        features(history, history.count - 1, levels[...], into: &x)
        return (0..<horizon).map { h in
            let c = coefficients[min(h, coefficients.count - 1)]
            var f = 0.0
            for i in 0..<width { f += c[i] * x[i] }
            return f * scale
        }
    }
}

extension QuantileAutoregression {
    /// One regression per horizon over the rows of every series, each standardised by its own scale.
    public func trainPooled(_ series: [[Double]]) throws {
        sharedCoefficients = nil
        try requireLength(series)
        fitCoefficients(series.map(design))
        sharedCoefficients = coefficients
    }

    public func sharingParameters() -> ConformalForecaster {
        let copy = QuantileAutoregression(lags: lags, rates: rates, window: window, quantile: tau, horizons: horizons)
        copy.sharedCoefficients = sharedCoefficients
        return copy
    }
}
