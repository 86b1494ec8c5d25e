import ServeAPI
import Workload

/// The discrete-event engine. Events are step completions (a heap keyed by time with a sequence
/// tie-break) and arrivals (read in order from the trace). Idle time jumps straight to the next
/// event. Every step: the scheduler plans, the engine validates and applies the plan, the latency
/// model prices it, and the completion applies the tokens. No I/O, no printing.
public final class Simulator {
    public struct Hooks {
        /// Called every few thousand events with the fraction of requests completed.
        public var progress: ((Double) -> Void)?
        /// Polled with progress; returning true stops the run with `SimulationError.interrupted`.
        public var shouldStop: (() -> Bool)?
        /// Called with every step's shape and duration (seconds) as it starts: for calibration
        /// and step-level analysis; nil keeps the step loop free of the call.
        public var step: ((StepShape, Double) -> Void)?
        /// Asked (instance, now in ns) before an instance plans a step: true pauses the run there,
        /// so `SimulationRun.advance` returns `.decision`. nil never pauses.
        public var decision: ((Int, Int64) -> Bool)?
        public init(progress: ((Double) -> Void)? = nil, shouldStop: (() -> Bool)? = nil, step: ((StepShape, Double) -> Void)? = nil,
                    decision: ((Int, Int64) -> Bool)? = nil) {
            self.progress = progress
            self.shouldStop = shouldStop
            self.step = step
            self.decision = decision
        }
    }

    let trace: Trace
    let config: ClusterConfig
    let latency: LatencyModel
    /// `latency.cost`, bound once (see `LatencyModel.pricer`).
    let price: (StepShape) -> StepCost
    let table: RequestTable
    let instances: [Instance]
    let router: (any RequestRouter)?
    let schedulerName: String
    let blocksPerInstance: Int
    let kvBytesPerToken: Double
    let classLabels: [String]
    let autoscaler: (any InstanceAutoscaler)?
    /// Advance decode-only stretches in one go where the scheduler allows it (see
    /// `SchedulerCapabilities.steadyDecode`); results are identical either way, false simulates
    /// every step (for comparison and timing).
    public var fastForward = true

    /// - Parameters:
    ///   - makeScheduler: one scheduler per instance (schedulers may keep state).
    ///   - predictedOutput: per-request length predictions for schedulers that use them (default: the true lengths).
    ///   - requestClasses: a class per request and the class names, for class-aware schedulers.
    ///   - autoscaler: sizes the fleet during the run, between its bounds (at most `config.instances`,
    ///     which are all built up front; those not serving cost nothing).
    public init(trace: Trace, config: ClusterConfig, latency: LatencyModel? = nil,
                makeScheduler: () throws -> any StepScheduler, router: (any RequestRouter)? = nil,
                predictedOutput: [Int32]? = nil, requestClasses: (labels: [String], classes: [UInt8])? = nil,
                autoscaler: (any InstanceAutoscaler)? = nil) throws {
        try config.validate()
        if let a = autoscaler {
            guard a.minInstances >= 1, a.minInstances <= a.maxInstances, a.maxInstances <= config.instances else {
                throw ConfigError("autoscaler '\(a.name)': bounds \(a.minInstances)...\(a.maxInstances) must satisfy 1 ≤ min ≤ max ≤ \(config.instances) instances")
            }
            guard a.interval.isFinite, a.interval >= 0.01, a.interval <= 86_400, a.coldStart.isFinite, a.coldStart >= 0, a.coldStart <= 86_400 else {
                throw ConfigError("autoscaler '\(a.name)': interval must be 0.01...86400 s and cold start 0...86400 s")
            }
            // Decisions are events kept in the run: bound how many the arrival span can ask for.
            guard trace.spanSeconds / a.interval <= 10_000_000 else {
                throw ConfigError("autoscaler '\(a.name)': a decision every \(a.interval) s over \(Int(trace.spanSeconds)) s of arrivals would be more than 10,000,000 decisions; use a longer interval")
            }
        }
        self.autoscaler = autoscaler
        guard !trace.isEmpty else { throw ConfigError("the workload has no requests") }
        try config.check(trace)
        if config.instances > 1 && router == nil { throw ConfigError("\(config.instances) instances need a router") }
        self.trace = trace
        self.config = config
        self.latency = latency ?? .roofline(RooflineModel(config: config))
        price = self.latency.pricer
        let table = RequestTable(trace: trace)
        if let p = predictedOutput {
            guard p.count == trace.count else { throw ConfigError("length predictions cover \(p.count) of \(trace.count) requests") }
            p.withUnsafeBufferPointer { table.predicted.update(from: $0.baseAddress!, count: trace.count) }
        }
        if let rc = requestClasses {
            guard rc.classes.count == trace.count else { throw ConfigError("request classes cover \(rc.classes.count) of \(trace.count) requests") }
            rc.classes.withUnsafeBufferPointer { table.requestClass.update(from: $0.baseAddress!, count: trace.count) }
        }
        classLabels = requestClasses?.labels ?? []
        self.table = table
        blocksPerInstance = try config.kvBlocks()
        let prefix = config.knobs.prefixCaching ? trace.prefix : nil
        var list: [Instance] = []
        for k in 0..<config.instances {
            let kv = BlockManager(total: blocksPerInstance, blockSize: config.knobs.blockSize, requests: table, prefix: prefix)
            list.append(Instance(index: k, kv: kv, scheduler: try makeScheduler()))
        }
        instances = list
        self.router = router
        schedulerName = list[0].scheduler.name
        kvBytesPerToken = Double(config.model.kvBytesPerToken)
    }

    public func run(_ hooks: Hooks = Hooks()) throws -> RunResult {
        let run = start(hooks)
        while case .decision = try run.advance() {}
        return run.result()
    }

    /// A run that can be advanced in pieces: `advance` returns at every decision point the hooks
    /// ask for (before an instance plans a step) and once every request has finished. What the
    /// caller does at a pause (read `withView`, set a scheduler's action) takes effect in the step
    /// that starts next; a run advanced without pauses is the same run `run` produces.
    public func start(_ hooks: Hooks = Hooks()) -> SimulationRun { SimulationRun(self, hooks: hooks) }

    func records() -> RequestRecords {
        let n = trace.count
        var r = RequestRecords()
        r.arrival = trace.arrivals
        r.promptTokens = trace.promptTokens
        r.outputTokens = trace.outputTokens
        r.firstScheduled = Array(UnsafeBufferPointer(start: table.firstScheduled, count: n))
        r.firstToken = Array(UnsafeBufferPointer(start: table.firstToken, count: n))
        r.finish = Array(UnsafeBufferPointer(start: table.lastToken, count: n))
        r.maxITL = Array(UnsafeBufferPointer(start: table.maxGap, count: n))
        r.preemptions = Array(UnsafeBufferPointer(start: table.preemptions, count: n))
        r.instance = Array(UnsafeBufferPointer(start: table.instance, count: n))
        return r
    }
}

/// Cluster-wide queue and memory counts, kept incrementally for the time series.
struct ClusterTotals {
    var waiting = 0
    var running = 0
    var usedBlocks = 0
}

struct SeriesRecorder {
    var series: TimeSeries
    let width: Double
    var last = (running: Int32(0), waiting: Int32(0), kv: 0.0)

    init(interval: Double) {
        series = TimeSeries(interval: interval)
        width = interval * 1e9
    }

    /// Intervals the series may hold: memory stays bounded whatever the interval and the span.
    static let maxIntervals = 10_000_000

    mutating func extend(to bucket: Int) throws {
        guard bucket < Self.maxIntervals else {
            throw SimulationError("the time series would need more than \(Self.maxIntervals) intervals of \(series.interval) s (the run reached \(Double(bucket) * series.interval) s); use a longer --log_interval")
        }
        while series.promptTokens.count <= bucket {
            series.promptTokens.append(0)
            series.generatedTokens.append(0)
            series.running.append(last.running)
            series.waiting.append(last.waiting)
            series.kvUsage.append(last.kv)
            series.preemptions.append(0)
        }
    }

    mutating func addPreemptions(at t: Int64, _ count: Int) throws {
        let b = Int(Double(t) / width)
        try extend(to: b)
        series.preemptions[b] += Int32(clamping: count)
    }

    mutating func addTokens(at t: Int64, prompt: Double, generated: Double) throws {
        let b = Int(Double(t) / width)
        try extend(to: b)
        series.promptTokens[b] += prompt
        series.generatedTokens[b] += generated
    }

    mutating func sample(at t: Int64, totals: ClusterTotals, totalBlocks: Int) throws {
        let b = Int(Double(t) / width)
        try extend(to: b)
        last = (Int32(totals.running), Int32(totals.waiting), Double(totals.usedBlocks) / Double(totalBlocks) * 100)
        series.running[b] = last.running
        series.waiting[b] = last.waiting
        series.kvUsage[b] = last.kv
    }
}
