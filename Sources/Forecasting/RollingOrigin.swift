import Foundation
import ServeAPI
import Workload

/// Rolling-origin evaluation: each model is fitted once on the initial window, then moves forward
/// `step` observations at a time through `update` (online, no refit), forecasting `horizon` steps
/// from each origin. Metrics per horizon: MAE, RMSE, MASE (MAE over the in-sample MAE of the
/// seasonal naive forecast with season m on the initial window; m = 1 is the naive forecast),
/// sMAPE = mean |y − ŷ| / (|y| + |ŷ|) (range 0–1; 0 when both are 0), and the share of actuals
/// inside the 80% and 95% intervals.
public struct RollingOrigin {
    public struct Scores: Sendable, Equatable {
        public var mae = 0.0, rmse = 0.0, mase = 0.0, smape = 0.0, coverage80 = 0.0, coverage95 = 0.0
    }

    public struct ModelResult: Sendable {
        public var name: String
        public var perHorizon: [Scores]
        public var average: Scores
        public var seconds: Double
        public var forecasts: Int
    }

    public var initial: Int
    public var step: Int
    public var windows: Int
    public var horizon: Int
    public var season: Int

    public init(initial: Int, step: Int = 1, windows: Int, horizon: Int, season: Int) {
        self.initial = initial
        self.step = step
        self.windows = windows
        self.horizon = horizon
        self.season = season
    }

    /// Defaults: half the series to start, step 1, as many windows as fit.
    public static func standard(length: Int, horizon: Int, season: Int, initial: Int? = nil, step: Int = 1, windows: Int? = nil) throws -> RollingOrigin {
        guard horizon >= 1 else { throw ForecastError("the horizon must be at least 1 step, got \(horizon)") }
        guard step >= 1 else { throw ForecastError("--step must be at least 1, got \(step)") }
        let start = initial ?? length / 2
        guard start >= 2, start <= length - horizon else {
            throw ForecastError("the series has \(length) points: too short for an initial window of \(start) and a horizon of \(horizon)")
        }
        let fit = (length - start - horizon) / step + 1
        let w = min(windows ?? fit, fit)
        guard w >= 1 else { throw ForecastError("no evaluation window fits (series \(length), initial \(start), horizon \(horizon))") }
        return RollingOrigin(initial: start, step: step, windows: w, horizon: horizon, season: season)
    }

    func scale(_ y: [Double]) -> Double {
        let train = y[0..<initial]
        let m = min(season, train.count - 1)
        var s = 0.0
        for t in m..<train.count { s += abs(train[t] - train[t - m]) }
        let v = s / Double(train.count - m)
        return v > 0 ? v : 1
    }

    public func evaluate(_ model: any WorkloadPredictor, on y: [Double]) throws -> ModelResult {
        let started = Date()
        try model.fit(Array(y[0..<initial]))
        let q = scale(y)
        var sums = Array(repeating: Scores(), count: horizon)
        var consumed = initial
        var count = 0
        let nonNegative = y.allSatisfy { $0 >= 0 }
        for k in 0..<windows {
            let origin = initial + k * step
            while consumed < origin { model.update(y[consumed]); consumed += 1 }
            var f = try model.predict(horizon: horizon, levels: [80, 95])
            if nonNegative { f = f.floored(at: 0) }
            for h in 0..<horizon {
                let actual = y[origin + h], p = f.mean[h]
                let e = abs(actual - p)
                sums[h].mae += e
                sums[h].rmse += e * e
                let denom = abs(actual) + abs(p)
                sums[h].smape += denom > 0 ? e / denom : 0
                if actual >= f.lower[80]![h] && actual <= f.upper[80]![h] { sums[h].coverage80 += 1 }
                if actual >= f.lower[95]![h] && actual <= f.upper[95]![h] { sums[h].coverage95 += 1 }
            }
            count += 1
        }
        let n = Double(count)
        var per: [Scores] = []
        for s in sums {
            per.append(Scores(mae: s.mae / n, rmse: (s.rmse / n).squareRoot(), mase: s.mae / n / q, smape: s.smape / n,
                              coverage80: s.coverage80 / n, coverage95: s.coverage95 / n))
        }
        let hn = Double(horizon)
        let avg = Scores(mae: per.map(\.mae).reduce(0, +) / hn, rmse: per.map(\.rmse).reduce(0, +) / hn,
                         mase: per.map(\.mase).reduce(0, +) / hn, smape: per.map(\.smape).reduce(0, +) / hn,
                         coverage80: per.map(\.coverage80).reduce(0, +) / hn, coverage95: per.map(\.coverage95).reduce(0, +) / hn)
        return ModelResult(name: model.name, perHorizon: per, average: avg, seconds: Date().timeIntervalSince(started), forecasts: count)
    }

    /// Baselines, which the "best model" must beat.
    public static let baselines: Set<String> = ["naive", "seasonal-naive", "moving-average"]
}
