import Foundation
import ServeAPI
import Workload

/// Prediction-orchestrated scheduling: a workload forecaster, a length predictor and a policy
/// steer vLLM's mechanics ahead of load, and each prediction source is monitored online so that
/// the scheduler falls back to a safe baseline while one fails and returns when it recovers.
///
/// Per step, when the predictions it uses are healthy:
/// - token budget: the small `calm_budget` (Sarathi-like, flat inter-token latency) unless calm
///   steps would leave prompts queued past half the TTFT SLO by the end of the forecast horizon
///   (queue now + forecast prompt tokens), then the largest budget that keeps a step within 80%
///   of the TPOT SLO (step time taken as proportional to the budget from the calm steps);
/// - admission by predicted service cost: remaining prompt tokens + `decode_weight` × predicted
///   output tokens still to generate, smallest first, with promotion after `starvation` seconds;
/// - KV watermark: admission keeps free the blocks running requests are predicted to need over
///   the next `lookahead` tokens (at most `watermark_max` of the cache), so admitting a prompt
///   does not force a preemption storm a few steps later;
/// - preemption victims by recompute cost per freed block, cheapest last in the running order.
///
/// Monitors: the forecaster's one-interval-ahead 80% interval coverage (moving average over
/// `coverage_window` intervals, healthy above `coverage_min`), and the predictor's Kendall τ
/// against the true lengths of the last `tau_window` finished requests (healthy above `tau_min`),
/// each with a hysteresis of 0.05. Without a healthy forecast the budget follows the queue alone; without a healthy predictor admission orders
/// by prompt cost alone under the default 1% watermark; with neither, the `fallback` scheduler
/// decides everything. Every switch is logged with its time and reason.
public final class SmartScheduler: ContinuousBatchingScheduler, SchedulerTelemetry {
    public struct Settings: Sendable {
        /// Forecast interval, s; 0 chooses it from the first arrivals (about eight per interval).
        public var interval = 0.0
        public var horizon = 3
        public var warmup = 10
        public var coverageMin = 0.6
        public var coverageWindow = 30
        public var tauMin = 0.15
        public var tauWindow = 100
        public var calmBudget = 512
        public var decodeWeight = 1.0
        public var watermarkMax = 0.1
        public var lookahead = 64
        public var starvation = 10.0
        /// When the forecaster is fitted again (never: fitted once, then updated online).
        public var refit = RefitPolicy.never
        public init() {}
    }

    /// Modes, from everything trusted to the baseline alone.
    public enum Mode: String, Sendable {
        case smart, noLength = "smart-no-length", noForecast = "smart-no-forecast", fallback
    }

    let settings: Settings
    /// The forecast interval in use (fixed once the first arrivals have been seen when `auto`).
    @exclusivity(unchecked) private var interval: Double
    @exclusivity(unchecked) private var firstArrivals: [Int64] = []
    let baseline: ContinuousBatchingScheduler
    /// Decides every hook while all predictions are trusted, instead of the rules (e.g. a trained
    /// `rl` policy); nil: the rules.
    let policy: ContinuousBatchingScheduler?

    // The monitors' and decisions' state: touched only inside `plan` (never re-entered) and by
    // telemetry between events, so per-access exclusivity checks (a tenth of a run) are off.

    // Forecast monitor.
    @exclusivity(unchecked) private var binCounts: [Int: Double] = [:]
    @exclusivity(unchecked) private var closedBins = 0
    @exclusivity(unchecked) private var forecast: OnlineForecast
    @exclusivity(unchecked) private var next: (mean: Double, lo: Double, hi: Double)? = nil
    @exclusivity(unchecked) private var burstRate = 0.0
    @exclusivity(unchecked) private var lastActual = 0.0
    @exclusivity(unchecked) private var lastArrivalSeen: Int64 = -1

    // Length monitor.
    @exclusivity(unchecked) private var stamp: [UInt32] = []
    @exclusivity(unchecked) private var trackedPreemptions: [Int32] = []
    @exclusivity(unchecked) private var tracked: [Int32] = []
    @exclusivity(unchecked) private var planNumber: UInt32 = 0
    @exclusivity(unchecked) private var pairs: [(predicted: Double, actual: Double)] = []
    @exclusivity(unchecked) private var pairCursor = 0
    @exclusivity(unchecked) private var sinceTau = 0
    @exclusivity(unchecked) private var tau = Double.nan
    @exclusivity(unchecked) private var mae = Double.nan
    @exclusivity(unchecked) private var lengthHealthy = false

    // Decisions of the current step.
    @exclusivity(unchecked) private var mode = Mode.fallback
    @exclusivity(unchecked) private var stepBudget = 0
    @exclusivity(unchecked) private var reserve = 0
    @exclusivity(unchecked) private var meanPrompt = 0.0
    /// Step time measured at the calm budget (moving average).
    @exclusivity(unchecked) private var stepSeconds = 0.02
    @exclusivity(unchecked) private var lastPlanCalm = true
    @exclusivity(unchecked) private var lastPlan: Int64 = -1
    @exclusivity(unchecked) private var lastPlanBusy = false
    @exclusivity(unchecked) private var queue = KeyedQueue()
    @exclusivity(unchecked) private var events: [SchedulerEvent] = []

    public init(settings: Settings, forecaster: any WorkloadPredictor, baseline: ContinuousBatchingScheduler,
                policy: ContinuousBatchingScheduler? = nil) {
        self.policy = policy
        self.settings = settings
        interval = settings.interval
        forecast = OnlineForecast(forecaster: forecaster, warmup: settings.warmup,
                                  coverage: CoverageMonitor(window: settings.coverageWindow, threshold: settings.coverageMin),
                                  refit: settings.refit)
        self.baseline = baseline
        super.init(name: "smart")
    }

    /// Its mode, budget and forecast bins are updated in every plan: no step may be skipped.
    public override var capabilities: SchedulerCapabilities { SchedulerCapabilities(usesLengthPredictor: true, steadyDecode: false) }

    // MARK: decisions

    public override func budget(_ view: InstanceView) -> Int {
        observe(view)
        let limit = view.limits.tokenBudget
        if let p = active {
            stepBudget = p.budget(view)
            reserve = p.admissionReserve(view)
            return stepBudget
        }
        // The rules: the forecast's prompt tokens count only while the forecast is trusted.
        let arriving = mode == .noForecast ? 0 : burstRate * meanPrompt
        stepBudget = burstAhead(view, arrivingTokens: arriving) ? burstBudget(view) : min(settings.calmBudget, limit)
        lastPlanCalm = stepBudget <= settings.calmBudget
        reserve = mode == .noLength ? view.totalBlocks / 100 : growthReserve(view)
        return stepBudget
    }

    public override func admissionReserve(_ view: InstanceView) -> Int { reserve }

    /// The scheduler whose hooks decide this step outright: the baseline while nothing is
    /// trusted, the policy while everything is; nil when the rules decide.
    var active: ContinuousBatchingScheduler? {
        switch mode {
        case .fallback: return baseline
        case .smart: return policy
        default: return nil
        }
    }

    public override func seats(_ view: InstanceView) -> Int { active?.seats(view) ?? view.limits.maxSeqs }

    /// The budget for a burst: as large as keeps a step within 80% of the TPOT SLO, taking step
    /// time as proportional to the budget from the calm steps' (pessimistic: the fixed cost of a
    /// step counts as per-token cost); the engine's budget without a TPOT SLO.
    func burstBudget(_ view: InstanceView) -> Int {
        let limit = view.limits.tokenBudget, calm = min(settings.calmBudget, limit)
        guard let tpot = view.slo.tpot else { return limit }
        let scaled = Double(calm) * 0.8 * tpot / max(stepSeconds, 1e-4)
        return min(limit, max(calm, Int(scaled.rounded(.down))))
    }

    /// Whether calm steps would leave prompts queued past half the TTFT SLO (1 s without one) by
    /// the end of the forecast horizon: the queue now, plus prompt tokens arriving at
    /// `arrivingTokens` per second, against what calm steps prefill per second (their budget less
    /// one token per running decode, over the measured step time).
    func burstAhead(_ view: InstanceView, arrivingTokens: Double) -> Bool {
        let calm = Double(max(1, min(settings.calmBudget, view.limits.tokenBudget) - view.running.count)) / max(stepSeconds, 1e-4)
        let span = Double(settings.horizon) * interval
        let queued = waitingPromptTokens(view) + max(0, arrivingTokens - calm) * span
        return queued / calm > 0.5 * (view.slo.ttft ?? 2)
    }

    public override func orderRunning(_ view: InstanceView, into order: inout [Int32]) {
        if let p = active { return p.orderRunning(view, into: &order) }
        baseline.orderRunning(view, into: &order)
        // Only when growth may not fit does the victim order matter: keep the requests that are
        // dearest to recompute (computed tokens per releasable block) first, the cheapest last.
        // A request computing n more tokens needs at most ⌊n / block size⌋ + 1 new blocks: when even
        // that fits for every running request, growth fits and the per-request sum is not needed.
        guard view.running.count * (stepBudget / view.limits.blockSize + 1) > view.freeBlocks else { return }
        var growth = 0
        for r in view.running { growth += view.blocksToGrow(r, by: min(view.requests.pendingTokens(r), stepBudget)) }
        guard growth > view.freeBlocks else { return }
        let position = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        order.sort { a, b in
            let ca = recomputeCost(a, view), cb = recomputeCost(b, view)
            return ca != cb ? ca > cb : position[a]! < position[b]!
        }
    }

    public override func prepareWaiting(_ view: InstanceView) {
        if let p = active { return p.prepareWaiting(view) }
        queue.reset()
        let starve = settings.starvation.isFinite ? Int64(settings.starvation * 1e9) : Int64.max
        let useLength = mode == .smart || mode == .noForecast
        for r in view.waiting {
            let i = Int(r)
            let arrival = view.requests.arrival[i]
            // Prompt tokens still to compute, less what the prefix cache already holds.
            var cost = Double(view.requests.pendingTokens(r) - view.admissionHit(r).tokens)
            if useLength { cost += settings.decodeWeight * Double(max(0, view.requests.predictedOutput[i] - view.requests.generated[i])) }
            queue.add(r, key: view.now - arrival > starve ? -.infinity : cost, tie: arrival)
        }
        queue.heapify()
    }

    public override func nextWaiting(_ view: InstanceView, position: Int) -> Int32? {
        if let p = active { return p.nextWaiting(view, position: position) }
        return queue.popMin()
    }

    public override func admitted(_ r: Int32, view: InstanceView) {
        let i = Int(r)
        if i >= stamp.count { stamp.append(contentsOf: repeatElement(0, count: max(i + 1 - stamp.count, stamp.count))) }
        if i >= trackedPreemptions.count { trackedPreemptions.append(contentsOf: repeatElement(-1, count: stamp.count - trackedPreemptions.count)) }
        if trackedPreemptions[i] < 0 { tracked.append(r) }
        trackedPreemptions[i] = view.requests.preemptions[i]
        active?.admitted(r, view: view)
    }

    func recomputeCost(_ r: Int32, _ view: InstanceView) -> Double {
        Double(view.requests.computed[Int(r)]) / Double(max(1, view.releasableBlocks(r)))
    }

    func waitingPromptTokens(_ view: InstanceView) -> Double {
        var s = 0
        for r in view.waiting { s += view.requests.pendingTokens(r) }
        return Double(s)
    }

    /// Blocks the running requests are predicted to need over the next `lookahead` tokens.
    func growthReserve(_ view: InstanceView) -> Int {
        var need = 0
        for r in view.running {
            let i = Int(r)
            let left = max(0, Int(view.requests.predictedOutput[i]) - Int(view.requests.generated[i]))
            need += view.blocksToGrow(r, by: view.requests.pendingTokens(r) - 1 + min(left, settings.lookahead))
        }
        return min(need, Int(settings.watermarkMax * Double(view.totalBlocks)))
    }

    // MARK: monitors

    func observe(_ view: InstanceView) {
        planNumber &+= 1
        if lastPlan >= 0 && lastPlanBusy {
            let gap = Double(view.now - lastPlan) * 1e-9
            if gap > 0 && gap < 1 && lastPlanCalm { stepSeconds += 0.05 * (gap - stepSeconds) }
        }
        lastPlan = view.now
        lastPlanBusy = !view.running.isEmpty || !view.waiting.isEmpty
        countArrivals(view)
        if interval > 0 { closeBins(upTo: Int(Double(view.now) * 1e-9 / interval)) }
        checkFinished(view)
        updateMode(view.now)
    }

    func countArrivals(_ view: InstanceView) {
        // New arrivals join the back of the queue in arrival order; preempted requests go to the
        // front with older arrival times, so the scan from the back stops at the first seen one.
        var k = view.waiting.count - 1
        var newest = lastArrivalSeen
        while k >= 0 {
            let r = view.waiting[k]
            let a = view.requests.arrival[Int(r)]
            if a <= lastArrivalSeen { break }
            newest = max(newest, a)
            if interval == 0 { chooseInterval(a) }
            if interval > 0 { binCounts[Int(Double(a) * 1e-9 / interval), default: 0] += 1 }
            meanPrompt += 0.02 * (Double(view.requests.promptTokens[Int(r)]) - meanPrompt)
            k -= 1
        }
        lastArrivalSeen = newest
    }

    /// From the first 16 arrivals: an interval of about eight arrivals (0.1 s to 10 min, two
    /// significant digits), so counts per interval are large enough for intervals to mean something.
    func chooseInterval(_ arrival: Int64) {
        firstArrivals.append(arrival)
        guard firstArrivals.count == 16 else { return }
        let span = Double(firstArrivals.max()! - firstArrivals.min()!) * 1e-9
        let raw = min(600, max(0.1, 8 * span / 15))
        let scale = pow(10, (log10(raw)).rounded(.down) - 1)
        interval = (raw / scale).rounded() * scale
        closedBins = Int(Double(firstArrivals.min()!) * 1e-9 / interval)
        for a in firstArrivals.dropLast() { binCounts[Int(Double(a) * 1e-9 / interval), default: 0] += 1 }
        log(arrival, "interval", "forecast interval \(interval) s from the first 16 arrivals")
    }

    func closeBins(upTo current: Int) {
        if current - closedBins > 1000 {
            // A long idle gap: what happened before the last thousand intervals no longer matters.
            for b in binCounts.keys where b < current - 1000 { binCounts[b] = nil }
            closedBins = current - 1000
        }
        while closedBins < current {
            let count = binCounts.removeValue(forKey: closedBins) ?? 0
            closedBins += 1
            lastActual = count / interval
            var f: Forecast? = nil
            let at = Int64(Double(closedBins) * interval * 1e9)
            do { f = try forecast.observe(count, horizon: settings.horizon) { log(at, "forecaster", "refitted: \($0)") } } catch {
                log(at, "forecaster", "fit failed: \(error)")
                forecast.dropOlderHalf()
            }
            let burst = (f?.upper[80]?.map { max(0, $0) }.max() ?? 0) / interval
            if let f, let band = forecast.band, burst.isFinite {
                next = (f.mean[0], band.lo, band.hi)
                burstRate = burst
            } else {
                next = nil
                burstRate = 0
            }
        }
    }

    func checkFinished(_ view: InstanceView) {
        // Every running request was admitted and is tracked until a plan finds it gone, so as many
        // tracked as running means the same requests: none finished or was preempted since.
        guard !tracked.isEmpty, tracked.count != view.running.count else { return }
        for r in view.running { stamp[Int(r)] = planNumber }
        var kept = 0
        for r in tracked {
            let i = Int(r)
            if stamp[i] == planNumber { tracked[kept] = r; kept += 1; continue }
            let preempted = view.requests.preemptions[i] > trackedPreemptions[i]
            trackedPreemptions[i] = -1
            if preempted { continue }
            addPair(Double(view.requests.predictedOutput[i]), Double(view.requests.generated[i]))
        }
        tracked.removeLast(tracked.count - kept)
    }

    func addPair(_ predicted: Double, _ actual: Double) {
        if pairs.count < settings.tauWindow { pairs.append((predicted, actual)) } else {
            pairs[pairCursor] = (predicted, actual)
            pairCursor = (pairCursor + 1) % settings.tauWindow
        }
        sinceTau += 1
        guard pairs.count >= min(30, settings.tauWindow), sinceTau >= 10 else { return }
        sinceTau = 0
        tau = Stats.kendallTau(pairs.map(\.predicted), pairs.map(\.actual))
        mae = pairs.reduce(0) { $0 + abs($1.predicted - $1.actual) } / Double(pairs.count)
    }

    func updateMode(_ now: Int64) {
        let hysteresis = 0.05
        if let change = forecast.coverage.update(available: forecast.fitted && next != nil) {
            log(now, change ? "forecast trusted" : "forecast degraded", next == nil ? "the forecaster gave no forecast" : forecast.coverage.reason)
        }
        if tau.isFinite {
            if lengthHealthy && tau < settings.tauMin {
                lengthHealthy = false
                log(now, "predictor degraded", "Kendall tau \(Self.fmt(tau)) < \(Self.fmt(settings.tauMin)) over the last \(pairs.count) finished")
            } else if !lengthHealthy && tau >= settings.tauMin + hysteresis {
                lengthHealthy = true
                log(now, "predictor trusted", "Kendall tau \(Self.fmt(tau)) ≥ \(Self.fmt(settings.tauMin + hysteresis)) over the last \(pairs.count) finished")
            }
        }
        let m: Mode = forecast.coverage.trusted ? (lengthHealthy ? .smart : .noLength) : (lengthHealthy ? .noForecast : .fallback)
        if m != mode {
            log(now, "mode", "\(mode.rawValue) → \(m.rawValue)")
            mode = m
        }
    }

    func log(_ now: Int64, _ kind: String, _ detail: String) {
        events.append(SchedulerEvent(time: now, kind: kind, detail: detail))
    }

    static func fmt(_ x: Double) -> String { String(format: "%.2f", x) }

    // MARK: telemetry

    public var telemetryColumns: [String] {
        ["budget", "kv_reserve_blocks", "forecast_rps", "forecast_lo_rps", "forecast_hi_rps", "actual_rps",
         "coverage80", "predictor_tau", "predictor_mae"]
    }

    public func telemetry(now: Int64, values: inout [Double]) -> String {
        let per = interval > 0 ? 1 / interval : Double.nan
        values[0] = Double(stepBudget)
        values[1] = Double(reserve)
        values[2] = (next?.mean ?? .nan) * per
        values[3] = (next?.lo ?? .nan) * per
        values[4] = (next?.hi ?? .nan) * per
        values[5] = lastActual
        values[6] = forecast.fitted ? forecast.coverage.coverage : .nan
        values[7] = tau
        values[8] = mae
        return mode.rawValue
    }

    public func drainEvents(into events: inout [SchedulerEvent]) {
        events.append(contentsOf: self.events)
        self.events.removeAll()
    }
}

extension SmartScheduler {
    static let options: [OptionSpec] = [
        OptionSpec.lengthPredictor,
        OptionSpec("forecaster", .string, default: "holt", doc: "workload forecaster of each instance's arrivals (a name from `forecasters`)"),
        OptionSpec("fallback", .string, default: "vllm", doc: "continuous-batching scheduler used while no prediction is trusted"),
        OptionSpec("policy", .string, default: "rules", doc: "who decides while every prediction is trusted: rules, or a continuous-batching scheduler (e.g. rl)"),
        OptionSpec("policy_file", .file, default: "", doc: "file handed to the policy scheduler's file option (e.g. a policy written by `rl train`)"),
        OptionSpec("interval", .double, default: "0", range: 0...3600, doc: "forecast interval, s (0: about eight arrivals, from the first ones)"),
        OptionSpec("horizon", .int, default: "3", range: 1...1000, doc: "intervals the forecast looks ahead"),
        OptionSpec("warmup", .int, default: "10", range: 3...100_000, doc: "intervals observed before the forecaster is fitted"),
        OptionSpec("refit", .string, default: "never", doc: "when the forecaster is fitted again: never, every N intervals, or drift[:W[:R]] (mean |one-step error| over W intervals above R× its level after the last fit)"),
        OptionSpec("coverage_min", .double, default: "0.6", range: 0...1, doc: "80% interval coverage below which the forecast is not trusted"),
        OptionSpec("coverage_window", .int, default: "30", range: 1...100_000, doc: "intervals in the coverage moving average"),
        OptionSpec("tau_min", .double, default: "0.15", range: -1...1, doc: "Kendall tau below which the length predictor is not trusted"),
        OptionSpec("tau_window", .int, default: "100", range: 10...100_000, doc: "finished requests over which tau is measured"),
        OptionSpec("calm_budget", .int, default: "512", range: 16...1_048_576, doc: "token budget while no burst is forecast"),
        OptionSpec("decode_weight", .double, default: "1", range: 0...1000, doc: "cost of a predicted output token in prompt tokens"),
        OptionSpec("watermark_max", .double, default: "0.1", range: 0...0.9, doc: "largest share of the KV cache held back for predicted growth"),
        OptionSpec("lookahead", .int, default: "64", range: 0...1_000_000, doc: "output tokens of growth the watermark covers per running request"),
        OptionSpec("starvation", .double, default: "10", range: 0...86_400, doc: "seconds of waiting after which a request is admitted first (0: never)"),
    ]

    static func make(_ o: OptionValues) throws -> SmartScheduler {
        var s = Settings()
        s.interval = o.double("interval")
        s.horizon = o.int("horizon")
        s.warmup = o.int("warmup")
        s.refit = try RefitPolicy(parsing: o.string("refit"), option: "smart: option refit")
        s.coverageMin = o.double("coverage_min")
        s.coverageWindow = o.int("coverage_window")
        s.tauMin = o.double("tau_min")
        s.tauWindow = o.int("tau_window")
        s.calmBudget = o.int("calm_budget")
        s.decodeWeight = o.double("decode_weight")
        s.watermarkMax = o.double("watermark_max")
        s.lookahead = o.int("lookahead")
        s.starvation = o.double("starvation") == 0 ? .infinity : o.double("starvation")
        let forecaster = try Registries.forecasters.entry(named: o.string("forecaster")).instantiate()
        let fallback = o.string("fallback")
        guard let base = try Registries.schedulers.entry(named: fallback).instantiate() as? ContinuousBatchingScheduler,
              !(base is SmartScheduler) else {
            throw OptionError("smart: fallback expects a continuous-batching scheduler other than smart (e.g. vllm, sarathi), got '\(fallback)'")
        }
        return SmartScheduler(settings: s, forecaster: forecaster, baseline: base, policy: try policy(o))
    }

    /// The policy scheduler named by `policy`, with `policy_file` given to its first file option.
    static func policy(_ o: OptionValues) throws -> ContinuousBatchingScheduler? {
        let name = o.string("policy")
        guard name != "rules" else { return nil }
        let entry = try Registries.schedulers.entry(named: name)
        var options: [String: String] = [:]
        let file = o.string("policy_file")
        if !file.isEmpty {
            guard let key = entry.options.first(where: { $0.kind == .file })?.name else {
                throw OptionError("smart: policy '\(name)' reads no file, so policy_file cannot be given")
            }
            options[key] = file
        }
        guard let p = try entry.instantiate(options) as? ContinuousBatchingScheduler, !(p is SmartScheduler) else {
            throw OptionError("smart: policy expects rules or a continuous-batching scheduler other than smart, got '\(name)'")
        }
        return p
    }
}
