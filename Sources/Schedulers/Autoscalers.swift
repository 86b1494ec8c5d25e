import Foundation
import ServeAPI

/// Utilisation-threshold scaling as Kubernetes' Horizontal Pod Autoscaler does it: desired =
/// ⌈serving × utilisation / target⌉ when the ratio is outside the tolerance; up at once, down to
/// the highest recommendation of the last `stabilization` seconds (HPA's scale-down window).
/// Utilisation is the share of time instances spend running steps (what nvidia-smi reports).
public final class ReactiveAutoscaler: InstanceAutoscaler {
    public let name: String
    public let interval: Double
    public let coldStart: Double
    public let minInstances: Int
    public let maxInstances: Int
    let target: Double
    let tolerance: Double
    let stabilization: Double
    private var recommendations: [(time: Int64, count: Int)] = []

    public init(name: String = "reactive", interval: Double, coldStart: Double, min: Int, max: Int, targetUtilisation: Double,
                tolerance: Double = 0.1, stabilization: Double) {
        self.name = name
        self.interval = interval
        self.coldStart = coldStart
        minInstances = min
        maxInstances = max
        target = targetUtilisation
        self.tolerance = tolerance
        self.stabilization = stabilization
    }

    /// The instances the utilisation asks for now, before stabilisation.
    func raw(_ s: ClusterState) -> Int {
        let current = s.serving + s.starting
        let ratio = s.utilisation / target
        if abs(ratio - 1) <= tolerance { return current }
        return Int((Double(s.serving) * ratio).rounded(.up))
    }

    public func desired(_ s: ClusterState) -> Int {
        let now = raw(s)
        recommendations.append((s.now, now))
        let horizon = s.now - Int64(stabilization * 1e9)
        recommendations.removeAll { $0.time < horizon }
        let current = s.serving + s.starting
        if now >= current { return now }
        return min(current, recommendations.map(\.count).max() ?? now)
    }
}

/// Forecast-driven scaling: a workload forecaster (from the registry) predicts arrivals per
/// interval; the fleet is sized for the upper 80% band over the window that instances asked for
/// now would serve (from `cold_start` to `cold_start + horizon` ahead), at the measured busy
/// seconds per request and the target utilisation, and never below what the present utilisation
/// asks for (the reactive rule's scale-up). It scales down once `down_after` consecutive
/// decisions want fewer instances, without the reactive rule's long stabilisation window. The forecast's one-interval-ahead 80% coverage is monitored
/// (as `smart` does); while it is below `coverage_min`, and before the forecaster has `warmup`
/// intervals, the reactive rule decides; every switch is logged.
public final class ForecastAutoscaler: InstanceAutoscaler, SchedulerTelemetry {
    public let name = "forecast"
    /// The rule it falls back to; it also holds the shared settings (interval, cold start,
    /// bounds, target utilisation).
    let reactive: ReactiveAutoscaler
    public var interval: Double { reactive.interval }
    public var coldStart: Double { reactive.coldStart }
    public var minInstances: Int { reactive.minInstances }
    public var maxInstances: Int { reactive.maxInstances }
    var target: Double { reactive.target }
    let horizon: Double
    let downAfter: Int
    private var forecast: OnlineForecast
    private var lowerStreak = 0
    private var events: [SchedulerEvent] = []

    public init(forecaster: any WorkloadPredictor, interval: Double, horizon: Double, coldStart: Double, min: Int, max: Int,
                targetUtilisation: Double, warmup: Int, coverageMin: Double, downAfter: Int, stabilization: Double,
                refit: RefitPolicy = .never) {
        reactive = ReactiveAutoscaler(interval: interval, coldStart: coldStart, min: min, max: max,
                                      targetUtilisation: targetUtilisation, stabilization: stabilization)
        self.horizon = horizon
        self.downAfter = downAfter
        forecast = OnlineForecast(forecaster: forecaster, warmup: warmup, coverage: CoverageMonitor(window: 30, threshold: coverageMin),
                                  refit: refit)
    }

    public func desired(_ s: ClusterState) -> Int {
        let fallback = reactive.desired(s)
        // A failed fit keeps the counts and is tried again at the next decision.
        let f = try? forecast.observe(s.arrivalHistory.last ?? 0, horizon: Int(((coldStart + horizon) / interval).rounded(.up)) + 1) {
            events.append(SchedulerEvent(time: s.now, kind: "forecast refit", detail: $0))
        }
        var need: Int? = nil
        if let upper = f?.upper[80] {
            let from = min(upper.count - 1, Int((coldStart / interval).rounded(.down)))
            let peak = upper[from...].map { Swift.max(0, $0) }.max()! / interval
            if peak.isFinite && s.busySecondsPerRequest > 0 {
                need = Int((peak * s.busySecondsPerRequest / target).rounded(.up))
            }
        }
        if let change = forecast.coverage.update(available: need != nil) {
            events.append(SchedulerEvent(time: s.now, kind: change ? "forecast trusted" : "reactive scaling",
                                         detail: need == nil ? "no forecast to size by" : forecast.coverage.reason))
        }
        guard forecast.coverage.trusted, let forecastNeed = need else { return fallback }
        // Never below what the present load asks for (the reactive rule without its scale-down
        // hold): the forecast scales ahead of the load and lets go sooner, it does not starve the present.
        let want = Swift.max(forecastNeed, reactive.raw(s), 1)
        let current = s.serving + s.starting
        if want < current {
            lowerStreak += 1
            return lowerStreak >= downAfter ? want : current
        }
        lowerStreak = 0
        return want
    }

    public var telemetryColumns: [String] { [] }
    public func telemetry(now: Int64, values: inout [Double]) -> String { forecast.coverage.trusted ? "forecast" : "reactive" }
    public func drainEvents(into events: inout [SchedulerEvent]) {
        events.append(contentsOf: self.events)
        self.events.removeAll()
    }
}

extension Builtins {
    /// Durations in options accept a trailing "s" (`cold_start=20s`).
    static func seconds(_ o: OptionValues, _ key: String, _ range: ClosedRange<Double>) throws -> Double {
        var text = o.string(key)
        if text.hasSuffix("s") { text.removeLast() }
        guard let v = Double(text), v.isFinite, range.contains(v) else {
            throw OptionError("\(key) expects seconds in \(range.lowerBound)...\(range.upperBound) (e.g. 20 or 20s), got '\(o.string(key))'")
        }
        return v
    }

    static func registerAutoscalers() {
        let common = [
            OptionSpec("min", .int, default: "1", range: 1...4096, doc: "fewest instances"),
            OptionSpec("max", .int, default: "8", range: 1...4096, doc: "most instances"),
            OptionSpec("target_util", .double, default: "0.7", range: 0.05...1, doc: "target share of time instances run steps"),
            OptionSpec("cold_start", .string, default: "20s", doc: "seconds from asking for an instance to its first request"),
            OptionSpec("interval", .string, default: "10s", doc: "seconds between decisions"),
            OptionSpec("stabilization", .string, default: "300s", doc: "reactive scale-down window (HPA's default 300 s)"),
        ]
        let a = Registries.autoscalers
        a.register(AutoscalerEntry(
            name: "reactive", summary: "Kubernetes HPA: instances ∝ utilisation / target, scale-down after a stabilisation window",
            options: common) { o in
            ReactiveAutoscaler(interval: try seconds(o, "interval", 0.01...86_400), coldStart: try seconds(o, "cold_start", 0...86_400),
                               min: o.int("min"), max: o.int("max"), targetUtilisation: o.double("target_util"),
                               stabilization: try seconds(o, "stabilization", 0...86_400))
        })
        a.register(AutoscalerEntry(
            name: "forecast", summary: "sized for the forecast peak over the cold start and horizon; reactive while the forecast misses",
            options: common + [
                OptionSpec("model", .string, default: "holt", doc: "forecaster of arrivals per interval (a name from `forecasters`)"),
                OptionSpec("horizon", .string, default: "30s", doc: "seconds beyond the cold start the fleet is sized for"),
                OptionSpec("warmup", .int, default: "10", range: 3...100_000, doc: "intervals observed before the forecaster is fitted"),
                OptionSpec("coverage_min", .double, default: "0.6", range: 0...1, doc: "80% interval coverage below which scaling is reactive"),
                OptionSpec("refit", .string, default: "never", doc: "when the forecaster is fitted again: never, every N decisions, or drift[:W[:R]]"),
                OptionSpec("down_after", .int, default: "3", range: 1...10_000, doc: "consecutive decisions wanting fewer instances before scaling down"),
            ]) { o in
            ForecastAutoscaler(forecaster: try Registries.forecasters.entry(named: o.string("model")).instantiate(),
                               interval: try seconds(o, "interval", 0.01...86_400), horizon: try seconds(o, "horizon", 0...86_400),
                               coldStart: try seconds(o, "cold_start", 0...86_400), min: o.int("min"), max: o.int("max"),
                               targetUtilisation: o.double("target_util"), warmup: o.int("warmup"),
                               coverageMin: o.double("coverage_min"), downAfter: o.int("down_after"),
                               stabilization: try seconds(o, "stabilization", 0...86_400),
                               refit: try RefitPolicy(parsing: o.string("refit"), option: "forecast autoscaler: option refit"))
        })
    }
}
