import Foundation
import ServeAPI
import Workload

/// Rolling-origin evaluation. Each model is fitted on the data before the first origin; between
/// origins it either takes the new observations online (`update`, no refit) or is refitted on
/// everything before the origin (an expanding window), every origin or every N observations.
/// From each origin it forecasts `horizon` steps. Metrics per horizon: MAE, RMSE, MASE (MAE over
/// the in-sample MAE of the seasonal naive forecast with season m; m = 1 is the naive forecast),
/// sMAPE = mean |y − ŷ| / (|y| + |ŷ|) (range 0–1; 0 when both are 0), the share of actuals inside
/// the 80% and 95% intervals, the mean pinball loss over the quantiles those intervals and the
/// point forecast give (2.5, 10, 50, 90, 97.5%), and CRPS approximated from the same quantiles
/// (twice their mean pinball loss, the usual quantile approximation).
public struct RollingOrigin: Sendable {
    public struct Scores: Sendable, Equatable {
        public var mae = 0.0, rmse = 0.0, mase = 0.0, smape = 0.0, coverage80 = 0.0, coverage95 = 0.0
        public var pinball = 0.0, crps = 0.0
    }

    public struct ModelResult: Sendable {
        public var name: String
        public var perHorizon: [Scores]
        public var average: Scores
        public var seconds: Double
        public var forecasts: Int
        /// Fits made (1 when the model only rolls forward online).
        public var fits: Int
        /// MASE at each origin (the mean over its horizons), in origin order: the losses
        /// `AccuracyComparison` compares.
        public var originMASE: [Double] = []
        /// The share of each origin's actuals inside its 95% interval, in origin order (their mean
        /// is `average.coverage95`).
        public var originCoverage95: [Double] = []

        /// The standard error of the mean MASE over origins (overlapping forecasts accounted for).
        public func maseStandardError(overlap: Int) -> Double? { AccuracyComparison.standardError(of: originMASE, overlap: overlap) }

        /// The standard error of the 95% coverage, origins taken as clusters (an origin's misses
        /// come together, in a burst), overlapping forecasts accounted for.
        public func coverageStandardError(overlap: Int) -> Double? { AccuracyComparison.standardError(of: originCoverage95, overlap: overlap) }
    }

    /// Later origins whose forecasts share actuals with an origin's: ⌈horizon / step⌉ − 1.
    public var overlap: Int { (horizon + step - 1) / step - 1 }

    /// Whether `a`'s per-origin MASE is really below `b`'s (Diebold–Mariano, HLN-corrected).
    public func compare(_ a: ModelResult, _ b: ModelResult) -> AccuracyComparison? {
        AccuracyComparison(a.originMASE, b.originMASE, overlap: overlap)
    }

    /// When a model is fitted again during the evaluation.
    public enum Refit: Sendable, Equatable, CustomStringConvertible {
        /// Refitted on all data before every origin (statsforecast's `cross_validation` default).
        case everyOrigin
        /// Updated online between fits, refitted on all earlier data as soon as the policy says so
        /// (never, every N observations, or on drift of the one-step errors; the drift test costs
        /// one extra one-step forecast per observation between origins when the step exceeds 1).
        case online(RefitPolicy)

        /// Fitted once; observations reach it through `update`.
        public static let never = Refit.online(.never)

        /// Parses `origin` (or `always`) or a `RefitPolicy`: `never`, a number of observations,
        /// `drift`, `drift:W`, `drift:W:R`.
        public init(parsing text: String) throws {
            switch text.lowercased() {
            case "origin", "always", "every": self = .everyOrigin
            default:
                do { self = .online(try RefitPolicy(parsing: text, option: "--refit")) } catch {
                    let detail = text.lowercased().hasPrefix("drift:") ? " (\(error))" : ""
                    throw ForecastError("--refit expects never, origin, a number of observations ≥ 1 or drift[:W[:R]] (e.g. drift:30:1.5), got '\(text)'" + detail)
                }
            }
        }

        public var description: String {
            switch self {
            case .online(.never): return "fitted once, then online updates"
            case .everyOrigin: return "refitted at every origin"
            case .online(.every(let n)): return "refitted every \(n) observations, online updates between"
            case .online(let drift): return "refitted \(drift), online updates between"
            }
        }
    }

    /// Which data MASE's scale comes from.
    public enum Scaling: Sendable, Equatable {
        /// The initial training window, one scale for every origin.
        case initialWindow
        /// Everything before each origin: MASE per origin, then averaged over origins.
        case perOrigin
    }

    public var initial: Int
    public var step: Int
    public var windows: Int
    public var horizon: Int
    public var season: Int
    public var refit: Refit = .never
    public var scaling: Scaling = .initialWindow

    public init(initial: Int, step: Int = 1, windows: Int, horizon: Int, season: Int, refit: Refit = .never,
                scaling: Scaling = .initialWindow) {
        self.initial = initial
        self.step = step
        self.windows = windows
        self.horizon = horizon
        self.season = season
        self.refit = refit
        self.scaling = scaling
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

    /// The protocol of statsforecast's `cross_validation(h, n_windows, step_size, refit=True)`:
    /// the last `windows` origins stepped by `step`, the last forecast ending at the series' end,
    /// a refit on all earlier data at each origin, MASE scaled per origin and averaged.
    public static func refitProtocol(length: Int, horizon: Int = 6, windows: Int = 20, step: Int? = nil, season: Int) throws -> RollingOrigin {
        guard horizon >= 1 else { throw ForecastError("the horizon must be at least 1 step, got \(horizon)") }
        guard windows >= 1 else { throw ForecastError("--windows must be at least 1, got \(windows)") }
        let stride = step ?? horizon
        guard stride >= 1 else { throw ForecastError("--step must be at least 1, got \(stride)") }
        let tail = horizon + (windows - 1) * stride
        guard length - tail >= max(2, season + 1) else {
            throw ForecastError("the series has \(length) points: \(windows) origins every \(stride) steps with horizon \(horizon) need the last \(tail) points, leaving \(length - tail) to fit on (at least \(max(2, season + 1)) needed)")
        }
        return RollingOrigin(initial: length - tail, step: stride, windows: windows, horizon: horizon, season: season,
                             refit: .everyOrigin, scaling: .perOrigin)
    }

    /// The last origin (the first forecast's first target is `initial`).
    public var lastOrigin: Int { initial + (windows - 1) * step }

    /// In-sample MAE of the seasonal naive forecast on y[0..<end], from prefix sums of |y_t − y_{t−m}|.
    struct SeasonalScale {
        let season: Int
        let y: [Double]
        var prefix: [Double] = [0]

        init(_ y: [Double], season: Int, upTo end: Int) {
            self.season = season
            self.y = y
            prefix.reserveCapacity(end + 1)
            for t in 0..<end { prefix.append(prefix[t] + (t >= season ? abs(y[t] - y[t - season]) : 0)) }
        }

        func scale(before end: Int) -> Double {
            // A season as long as the data falls back to the longest lag it has.
            let m = min(season, end - 1)
            let s = m == season ? prefix[end] - prefix[m] : abs(y[end - 1] - y[0])
            let v = s / Double(end - m)
            return v > 0 && v.isFinite ? v : 1
        }
    }

    func scale(_ y: [Double]) -> Double { SeasonalScale(y, season: season, upTo: initial).scale(before: initial) }

    /// The quantile levels (as fractions) scored by pinball loss: the two intervals' ends and the point.
    static let quantiles: [(level: Double, q: Double, upper: Bool)] = [(95, 0.025, false), (80, 0.1, false), (80, 0.9, true), (95, 0.975, true)]

    static func pinball(_ actual: Double, _ predicted: Double, _ q: Double) -> Double {
        actual >= predicted ? q * (actual - predicted) : (1 - q) * (predicted - actual)
    }

    public func evaluate(_ model: any WorkloadPredictor, on y: [Double]) throws -> ModelResult {
        let started = Date()
        let scales = SeasonalScale(y, season: season, upTo: lastOrigin)
        let fixedScale = scales.scale(before: initial)
        try model.fit(Array(y[0..<initial]))
        var fits = 1
        var sums = Array(repeating: Scores(), count: horizon)
        var originMASE: [Double] = [], originCoverage95: [Double] = []
        originMASE.reserveCapacity(windows)
        originCoverage95.reserveCapacity(windows)
        var consumed = initial
        let nonNegative = y.allSatisfy { $0 >= 0 }
        var monitor: RefitMonitor? = nil
        if case .online(let policy) = refit, policy != .never { monitor = RefitMonitor(policy: policy) }
        // The one-step forecast for the next observation to be consumed, when an origin made one.
        var oneStep: (at: Int, value: Double)? = nil
        // A refit on everything before `end`, from which the model then rolls on.
        func fitAgain(before end: Int) throws {
            try model.fit(Array(y[0..<end]))
            fits += 1
            consumed = end
            oneStep = nil
        }
        // A refit the policy asks for happens before the next observation or forecast.
        func refitIfDue() throws {
            guard monitor?.due == true else { return }
            try fitAgain(before: consumed)
            monitor!.refitted()
        }
        for k in 0..<windows {
            let origin = initial + k * step
            if refit == .everyOrigin && k > 0 { try fitAgain(before: origin) }
            while consumed < origin {
                if monitor != nil {
                    try refitIfDue()
                    // Between origins (a step above 1) the one-step forecast is made here.
                    let p = oneStep?.at == consumed ? oneStep!.value : try model.predict(horizon: 1, levels: []).mean[0]
                    monitor!.observe(error: abs(y[consumed] - (nonNegative ? max(0, p) : p)))
                }
                model.update(y[consumed])
                consumed += 1
            }
            try refitIfDue()
            var f = try model.predict(horizon: horizon, levels: [80, 95])
            oneStep = (origin, f.mean[0])
            if nonNegative { f = f.floored(at: 0) }
            let q = scaling == .perOrigin ? scales.scale(before: origin) : fixedScale
            var mase = 0.0, inside95 = 0.0
            for h in 0..<horizon {
                let actual = y[origin + h], p = f.mean[h]
                let e = abs(actual - p), scaled = e / q
                sums[h].mae += e
                sums[h].rmse += e * e
                sums[h].mase += scaled
                mase += scaled
                let denom = abs(actual) + abs(p)
                sums[h].smape += denom > 0 ? e / denom : 0
                if actual >= f.lower[80]![h] && actual <= f.upper[80]![h] { sums[h].coverage80 += 1 }
                if actual >= f.lower[95]![h] && actual <= f.upper[95]![h] { sums[h].coverage95 += 1; inside95 += 1 }
                var loss = Self.pinball(actual, p, 0.5)
                for b in Self.quantiles {
                    loss += Self.pinball(actual, b.upper ? f.upper[b.level]![h] : f.lower[b.level]![h], b.q)
                }
                sums[h].pinball += loss / Double(Self.quantiles.count + 1)
            }
            originMASE.append(mase / Double(horizon))
            originCoverage95.append(inside95 / Double(horizon))
        }
        let n = Double(windows)
        let per = sums.map { s in
            Scores(mae: s.mae / n, rmse: (s.rmse / n).squareRoot(), mase: s.mase / n, smape: s.smape / n,
                   coverage80: s.coverage80 / n, coverage95: s.coverage95 / n, pinball: s.pinball / n, crps: 2 * s.pinball / n)
        }
        return ModelResult(name: model.name, perHorizon: per, average: Self.average(per),
                           seconds: Date().timeIntervalSince(started), forecasts: windows, fits: fits, originMASE: originMASE,
                           originCoverage95: originCoverage95)
    }

    /// The mean of each score over horizons.
    static func average(_ per: [Scores]) -> Scores {
        let hn = Double(per.count)
        func mean(_ key: KeyPath<Scores, Double>) -> Double { per.map { $0[keyPath: key] }.reduce(0, +) / hn }
        return Scores(mae: mean(\.mae), rmse: mean(\.rmse), mase: mean(\.mase), smape: mean(\.smape), coverage80: mean(\.coverage80),
                      coverage95: mean(\.coverage95), pinball: mean(\.pinball), crps: mean(\.crps))
    }

    /// Baselines, which the "best model" must beat.
    public static let baselines: Set<String> = ["naive", "seasonal-naive", "moving-average"]
}
