import Foundation
import ServeAPI
import Workload

/// An error in a series or a forecasting request.
public struct ForecastError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The shared machinery of every model: calibration of conformal intervals and online updates.
///
/// Intervals are split-conformal: `fit` trains the model on the first part of the series, then
/// walks the rest one observation at a time (forecasting h = 1…H ahead from each origin and
/// feeding the observation through `observe`), collecting absolute errors per horizon. The
/// level-q band at horizon h is mean ± the q-quantile of those errors. Errors keep accruing with
/// every `update`, over a sliding window, so intervals adapt online. Subclasses implement
/// `train`, `observe` and `point`.
open class ConformalForecaster: WorkloadPredictor {
    public let name: String
    /// Horizons calibrated (longer requests reuse the last horizon's errors, widened by √(h/H)).
    let calibrationHorizon = 12
    let calibrationWindow = 1000
    /// Absolute errors per horizon, in arrival order (a sliding window) and sorted (for quantiles).
    var errors: [[Double]] = []
    var sortedErrors: [[Double]] = []
    var pending: [(origin: Int, path: [Double], spread: Double)] = []
    /// How conformal errors are normalised (normalised conformal prediction): each error is
    /// recorded relative to a scale known when its forecast was made, and a band is the error
    /// quantile times the scale now.
    public enum IntervalScaling: String, Sendable, CaseIterable {
        /// Bands of constant width per horizon.
        case constant = "conformal"
        /// The series' local spread: an exponentially weighted mean of |y(t) − y(t−1)| at rate
        /// 0.05 — bands widen in bursts and narrow in quiet stretches.
        case recentSpread = "adaptive"
        /// A count's Poisson scale √max(ŷ, 1) of the forecast itself (Pearson residuals): bands
        /// grow as the square root of the forecast level, as counts' spread does.
        case countLevel = "count"
    }
    public var intervalScaling = IntervalScaling.constant
    /// Intervals scaled by the recent spread (`intervalScaling == .recentSpread`).
    public var adaptiveIntervals: Bool {
        get { intervalScaling == .recentSpread }
        set { intervalScaling = newValue ? .recentSpread : .constant }
    }
    /// Adaptive conformal inference (Gibbs & Candès, 2021): the miscoverage α of the 80% and 95%
    /// bands follows their one-step misses, α ← α + γ·(α* − miss) with γ = 0.005 (the paper's
    /// choice), from the calibration walk on; the bands then use the 1 − α quantile (clamped to
    /// 0.5…1). Long-run coverage tends to the nominal level however the errors shift.
    public var adaptiveLevels = false
    static let aciRate = 0.005
    static let aciLevels: [Double] = [80, 95]
    /// The current α per adapted level (percent).
    var aciAlpha: [Double: Double] = [:]

    /// The local spread (see `IntervalScaling.recentSpread`).
    var spread = 1.0
    static let spreadRate = 0.05
    var seen = 0
    var history: [Double] = []
    var fitted = false
    /// The point path last computed, the state it came from (observations seen, fits run) — see `pointPath`.
    private var lastPath: (seen: Int, fits: Int, path: [Double])?
    private var fits = 0

    public init(name: String) { self.name = name }

    /// Minimum points `train` needs.
    open var minimumLength: Int { 2 }

    /// Akaike's criterion of the last fit from its one-step errors, n·log(SSE/n) + 2k, for models
    /// that have one (combinations weight by it); nil otherwise.
    open var aic: Double? { nil }

    /// Akaike's criterion from a fit's sum of squared one-step errors over `count` points with `parameters` estimated.
    static func akaike(sse: Double, count: Int, parameters: Int) -> Double {
        let n = Double(count)
        return n * log(max(sse, 1e-300) / n) + 2 * Double(parameters)
    }

    /// Fits the model to `series` (parameters and state).
    open func train(_ series: [Double]) throws {}
    /// Advances the state with one observation (no refit).
    open func observe(_ y: Double) {}
    /// The point forecast h = 1…horizon steps ahead of the current state: one path, whose first
    /// h steps are the h-step forecast (predictions of any horizon are answered from the longest
    /// path computed for the state, see `pointPath`).
    open func point(_ horizon: Int) -> [Double] { Array(repeating: history.last ?? 0, count: horizon) }

    public func fit(_ series: [Double]) throws {
        if let bad = series.firstIndex(where: { !$0.isFinite }) {
            throw ForecastError("\(name): value \(bad + 1) of the series is not a finite number")
        }
        try fitChecked(series)
    }

    func fitChecked(_ series: [Double]) throws {
        let calibration = min(calibrationWindow, max(1, series.count / 4))
        let trainLength = series.count - calibration
        guard trainLength >= minimumLength else {
            throw ForecastError("\(name): the series has \(series.count) points; this model needs at least \(minimumLength + max(1, minimumLength / 3)) (more than its season or look-back)")
        }
        history = Array(series[..<trainLength])
        spread = Self.initialSpread(history)
        spreadFloor = spread
        fits += 1
        try train(history)
        errors = Array(repeating: [], count: calibrationHorizon)
        sortedErrors = errors
        pending = []
        aciAlpha = [:]
        seen = trainLength
        fitted = true
        for y in series[trainLength...] { update(y) }
        guard refitsOnWholeSeries else { return }
        // Parameters from all the data; the intervals keep the held-out errors of the first fit
        // (forecasts still open from it are dropped: they belong to the other parameters).
        history = series
        fits += 1
        try train(series)
        pending = []
    }

    /// Whether `fit` estimates the parameters again on the whole series after calibrating the
    /// intervals on the held-out last part (the default). Models whose parameters depend on the
    /// level or on recent behaviour (regressions, networks) need it; a subclass may turn it off
    /// where refitting costs much and the online updates through the held-out part suffice.
    open var refitsOnWholeSeries: Bool { true }

    /// Fits on all of `series` without calibrating intervals (for members of a combination,
    /// whose own intervals are never asked for): no points are held back.
    func fitPointOnly(_ series: [Double]) throws {
        guard series.count >= minimumLength else {
            throw ForecastError("\(name): the series has \(series.count) points; this model needs at least \(minimumLength)")
        }
        history = series
        fits += 1
        try train(series)
        errors = Array(repeating: [], count: calibrationHorizon)
        sortedErrors = errors
        pending = []
        seen = series.count
        fitted = false          // update() then only advances the state
    }

    /// The mean |y(t) − y(t−1)| of the last 1,000 points (1 when the series is flat), where the spread starts.
    static func initialSpread(_ y: [Double]) -> Double {
        let tail = y.suffix(1001)
        guard tail.count > 1 else { return 1 }
        let d = zip(tail.dropFirst(), tail).reduce(0.0) { $0 + abs($1.0 - $1.1) } / Double(tail.count - 1)
        return d > 0 ? d : 1
    }

    /// The spread errors are scaled by (1 when intervals are not adaptive), floored so a long
    /// quiet stretch cannot shrink bands to nothing.
    var intervalScale: Double { adaptiveIntervals ? max(spread, 1e-3 * spreadFloor) : 1 }
    var spreadFloor = 1.0

    /// The scale of an error (or band) for a forecast of `value` made when the spread scale was `spread`.
    func scale(forecast value: Double, spread: Double) -> Double {
        intervalScaling == .countLevel ? max(value, 1).squareRoot() : spread
    }

    /// `point(steps)` from the current state, computed once per state and answered by prefix
    /// (an h-step forecast is the start of the longer one, as `PointPathTests` checks for every
    /// built-in): an evaluation predicts, then `update` scores the calibration horizon from the
    /// same state, which would otherwise run the model twice per observation.
    func pointPath(_ steps: Int) -> [Double] {
        if let last = lastPath, last.seen == seen, last.fits == fits, last.path.count >= steps { return Array(last.path.prefix(steps)) }
        let path = point(steps)
        lastPath = (seen, fits, path)
        return path
    }

    public func update(_ observation: Double) {
        guard observation.isFinite else { return }
        if fitted {
            pending.append((seen, pointPath(calibrationHorizon), intervalScale))
            if adaptiveLevels, let last = pending.last {     // the forecast just made, for this observation
                adaptLevels(observation, forecast: last.path[0], spread: last.spread)
            }
            // Score every open forecast path that reaches this observation.
            var kept: [(origin: Int, path: [Double], spread: Double)] = []
            for p in pending {
                let h = seen - p.origin            // 0-based horizon index of this observation
                if h < p.path.count { record(abs(observation - p.path[h]) / scale(forecast: p.path[h], spread: p.spread), horizon: h) }
                if h + 1 < p.path.count { kept.append(p) }
            }
            pending = kept
        }
        if let last = history.last { spread += Self.spreadRate * (abs(observation - last) - spread) }
        history.append(observation)
        seen += 1
        observe(observation)
    }

    /// One step of adaptive conformal inference on the one-step band (see `adaptiveLevels`),
    /// once enough errors are in for a quantile to mean something.
    func adaptLevels(_ observation: Double, forecast: Double, spread: Double) {
        guard sortedErrors[0].count >= 20 else { return }
        let error = abs(observation - forecast) / scale(forecast: forecast, spread: spread)
        for level in Self.aciLevels {
            let target = 1 - level / 100
            let alpha = aciAlpha[level] ?? target
            let miss = error > ConformalForecaster.quantile(sorted: sortedErrors[0], Self.aciQuantile(alpha)) ? 1.0 : 0
            aciAlpha[level] = alpha + Self.aciRate * (target - miss)
        }
    }

    /// The error quantile a miscoverage α asks for, kept to 0.5…1.
    static func aciQuantile(_ alpha: Double) -> Double { min(1, max(0.5, 1 - alpha)) }

    func record(_ error: Double, horizon h: Int) {
        errors[h].append(error)
        ConformalForecaster.insert(error, into: &sortedErrors[h])
        if errors[h].count > calibrationWindow {
            let old = errors[h].removeFirst()
            let i = ConformalForecaster.lowerBound(old, in: sortedErrors[h])
            sortedErrors[h].remove(at: i)
        }
    }

    static func lowerBound(_ x: Double, in xs: [Double]) -> Int {
        var lo = 0, hi = xs.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if xs[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    static func insert(_ x: Double, into xs: inout [Double]) { xs.insert(x, at: lowerBound(x, in: xs)) }

    public func predict(horizon: Int, levels: [Double]) throws -> Forecast {
        guard fitted else { throw ForecastError("\(name): predict before fit") }
        guard horizon >= 1 else { throw ForecastError("\(name): the horizon must be at least 1 step, got \(horizon)") }
        for l in levels where !(l > 0 && l < 100) { throw ForecastError("\(name): interval levels are percentages in (0, 100), got \(l)") }
        let mean = Array(pointPath(max(horizon, calibrationHorizon)).prefix(horizon))
        if let bad = mean.firstIndex(where: { !$0.isFinite }) {
            throw ForecastError("\(name): the model produced a non-finite forecast at step \(bad + 1)")
        }
        var lower: [Double: [Double]] = [:], upper: [Double: [Double]] = [:]
        for level in levels {
            var lo: [Double] = [], hi: [Double] = []
            for h in 0..<horizon {
                let k = min(h, calibrationHorizon - 1)
                let quantile = aciAlpha[level].map(Self.aciQuantile) ?? level / 100
                var q = ConformalForecaster.quantile(sorted: sortedErrors[k], quantile) * scale(forecast: mean[h], spread: intervalScale)
                if h >= calibrationHorizon { q *= (Double(h + 1) / Double(calibrationHorizon)).squareRoot() }
                lo.append(mean[h] - q)
                hi.append(mean[h] + q)
            }
            lower[level] = lo
            upper[level] = hi
        }
        return Forecast(mean: mean, lower: lower, upper: upper)
    }

    /// The finite-sample conformal quantile: the ⌈(n + 1) q⌉-th smallest error.
    static func quantile(sorted s: [Double], _ q: Double) -> Double {
        guard !s.isEmpty else { return 0 }
        let k = min(s.count - 1, max(0, Int((Double(s.count + 1) * q).rounded(.up)) - 1))
        return s[k]
    }
}

/// A model that can learn one set of parameters across many related series (a global model, e.g.
/// one per-client or per-model trace each), the usual way learned models beat local statistical
/// ones when many short series exist.
public protocol PooledTraining: ConformalForecaster {
    /// Fits the shared parameters on all `series` (each standardised by its own scale).
    func trainPooled(_ series: [[Double]]) throws
    /// A model with those parameters whose `fit` on one series only sets its state (scale, levels)
    /// and calibrates its intervals.
    func sharingParameters() -> ConformalForecaster
}

extension PooledTraining {
    /// Refuses a panel with a series shorter than one fit needs.
    func requireLength(_ series: [[Double]]) throws {
        guard !series.isEmpty else { throw ForecastError("\(name): the global model needs at least one series") }
        if let short = series.first(where: { $0.count < minimumLength }) {
            throw ForecastError("\(name): a series of \(short.count) points is too short for the global model (at least \(minimumLength))")
        }
    }
}

/// Nelder–Mead minimisation (no derivatives), for the smoothing and ARIMA likelihoods.
enum NelderMead {
    static func minimize(_ f: ([Double]) -> Double, start: [Double], step: Double = 0.1, iterations: Int = 400) -> [Double] {
        let n = start.count
        var simplex = [start]
        for i in 0..<n {
            var p = start
            p[i] += p[i] == 0 ? step : step * max(1, abs(p[i]))
            simplex.append(p)
        }
        var values = simplex.map(f)
        for _ in 0..<iterations {
            let order = values.indices.sorted { values[$0] < values[$1] }
            simplex = order.map { simplex[$0] }
            values = order.map { values[$0] }
            if abs(values[n] - values[0]) < 1e-10 * (abs(values[0]) + 1e-12) { break }
            var centroid = [Double](repeating: 0, count: n)
            for p in simplex.dropLast() { for j in 0..<n { centroid[j] += p[j] / Double(n) } }
            func along(_ t: Double) -> [Double] { (0..<n).map { centroid[$0] + t * (simplex[n][$0] - centroid[$0]) } }
            let reflected = along(-1), fr = f(reflected)
            if fr < values[0] {
                let expanded = along(-2), fe = f(expanded)
                if fe < fr { simplex[n] = expanded; values[n] = fe } else { simplex[n] = reflected; values[n] = fr }
            } else if fr < values[n - 1] {
                simplex[n] = reflected; values[n] = fr
            } else {
                let contracted = fr < values[n] ? along(-0.5) : along(0.5)
                let fc = f(contracted)
                if fc < min(fr, values[n]) {
                    simplex[n] = contracted; values[n] = fc
                } else {
                    for i in 1...n {
                        simplex[i] = (0..<n).map { simplex[0][$0] + 0.5 * (simplex[i][$0] - simplex[0][$0]) }
                        values[i] = f(simplex[i])
                    }
                }
            }
        }
        return simplex[values.indices.min { values[$0] < values[$1] }!]
    }
}

/// Squashes an unconstrained value into (lo, hi).
func bounded(_ x: Double, _ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) / (1 + exp(-x)) }
func unbounded(_ v: Double, _ lo: Double, _ hi: Double) -> Double {
    let p = min(max((v - lo) / (hi - lo), 1e-6), 1 - 1e-6)
    return log(p / (1 - p))
}

/// The look-back a window model fits with on series of `length` points: the one asked for, or
/// half of what a horizon and 8 points leave, never below `least`. `minimumLength` is the
/// shortest series that leaves such a window (used by DLinear and the Transformer).
struct LookBackRule {
    let requested: Int
    let least: Int

    func lookBack(length: Int, horizon: Int) -> Int { min(requested, max(least, (length - horizon - 8) / 2)) }
    func minimumLength(horizon: Int) -> Int { min(requested, least) + horizon + 8 }
}

/// A direct multi-step model run recursively: `next` maps the last `lookBack` standardised
/// values to its block of forecasts, which join the window until `steps` are made; the result
/// is on the series' scale again.
func recursiveForecast(_ history: [Double], lookBack: Int, mean: Double, scale: Double, steps: Int,
                       next: (ArraySlice<Double>) -> [Double]) -> [Double] {
    var z = history.suffix(lookBack).map { ($0 - mean) / scale }
    var out: [Double] = []
    while out.count < steps {
        let block = next(z[(z.count - lookBack)...])
        out += block
        z += block
    }
    return out.prefix(steps).map { $0 * scale + mean }
}

/// Zero mean and unit variance (a constant series keeps scale 1), for the trained models.
func standardise(_ y: [Double]) -> (z: [Double], mean: Double, scale: Double) {
    let mean = y.reduce(0, +) / Double(y.count)
    let sd = (y.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(y.count)).squareRoot()
    let scale = sd > 1e-12 ? sd : 1
    return (y.map { ($0 - mean) / scale }, mean, scale)
}

extension Forecast {
    /// The forecast with its mean and bands raised to `floor` where below it: a series that cannot
    /// go negative (request counts, token sums) gets no negative forecast or interval end. Raising
    /// a lower band never uncovers an actual value at or above the floor.
    public func floored(at floor: Double) -> Forecast {
        Forecast(mean: mean.map { Swift.max(floor, $0) },
                 lower: lower.mapValues { $0.map { Swift.max(floor, $0) } },
                 upper: upper.mapValues { $0.map { Swift.max(floor, $0) } })
    }

    /// Floored at 0 when every value of `series` is ≥ 0, else unchanged.
    public func respectingSign(of series: [Double]) -> Forecast {
        series.allSatisfy { $0 >= 0 } ? floored(at: 0) : self
    }
}
