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
        /// Polled with progress; returning true stops the run with `SimulationError("interrupted")`.
        public var shouldStop: (() -> Bool)?
        /// Called with every step's shape and duration (seconds) as it starts: for calibration
        /// and step-level analysis; nil keeps the step loop free of the call.
        public var step: ((StepShape, Double) -> Void)?
        public init(progress: ((Double) -> Void)? = nil, shouldStop: (() -> Bool)? = nil, step: ((StepShape, Double) -> Void)? = nil) {
            self.progress = progress
            self.shouldStop = shouldStop
            self.step = step
        }
    }

    let trace: Trace
    let config: ClusterConfig
    let latency: LatencyModel
    let table: RequestTable
    let instances: [Instance]
    let router: (any RequestRouter)?
    let schedulerName: String
    let blocksPerInstance: Int
    let kvBytesPerToken: Double
    let classLabels: [String]

    /// - Parameters:
    ///   - makeScheduler: one scheduler per instance (schedulers may keep state).
    ///   - predictedOutput: per-request length predictions for schedulers that use them (default: the true lengths).
    ///   - requestClasses: a class per request and the class names, for class-aware schedulers.
    public init(trace: Trace, config: ClusterConfig, latency: LatencyModel? = nil,
                makeScheduler: () throws -> any StepScheduler, router: (any RequestRouter)? = nil,
                predictedOutput: [Int32]? = nil, requestClasses: (labels: [String], classes: [UInt8])? = nil) throws {
        try config.validate()
        guard !trace.isEmpty else { throw ConfigError("the workload has no requests") }
        try config.check(trace)
        if config.instances > 1 && router == nil { throw ConfigError("\(config.instances) instances need a router") }
        self.trace = trace
        self.config = config
        self.latency = latency ?? .roofline(RooflineModel(config: config))
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
        let n = trace.count
        let limits = StepLimits(tokenBudget: config.knobs.maxNumBatchedTokens, maxSeqs: config.knobs.maxNumSeqs,
                                chunkedPrefill: config.knobs.chunkedPrefill, blockSize: config.knobs.blockSize)
        let objectives = ServiceObjectives(ttft: config.slo.ttft, tpot: config.slo.tpot)
        var events = EventQueue()
        var counters = RunCounters()
        counters.prefixCachingActive = instances[0].kv.cachingEnabled
        var itl = LogHistogram()
        var series = SeriesRecorder(interval: config.logInterval)
        var loads = [InstanceLoad](repeating: InstanceLoad(), count: instances.count)
        var dirty: [Int] = []
        var nextArrival = 0
        var finished = 0
        var now: Int64 = 0
        var stepNumber: UInt32 = 0
        var totals = ClusterTotals()
        // Progress and interruption are checked every few thousand events, so Ctrl-C answers
        // promptly even while few requests finish.
        var eventsSinceCheck = 0

        while finished < n {
            eventsSinceCheck += 1
            if eventsSinceCheck == 4096 {
                eventsSinceCheck = 0
                hooks.progress?(Double(finished) / Double(n))
                if hooks.shouldStop?() == true { throw SimulationError("interrupted") }
            }
            let tArrival = nextArrival < n ? table.arrival[nextArrival] : Int64.max
            let tDone = events.nextTime
            if tDone == .max && tArrival == .max {
                let stuck = instances.map { "instance \($0.index): \($0.waiting.count) waiting, \($0.running.count) running" }
                throw SimulationError("scheduler '\(schedulerName)' made no progress: \(n - finished) requests unfinished (\(stuck.joined(separator: "; ")))")
            }
            if tDone <= tArrival {
                let e = events.pop()!
                now = e.time
                let inst = instances[Int(e.target)]
                let done = inst.complete(at: now, table: table, itl: &itl, totals: &totals)
                finished += done
                try series.addTokens(at: now, prompt: Double(inst.shape.prefillTokens), generated: Double(inst.shape.sampled))
                try series.sample(at: now, totals: totals, totalBlocks: blocksPerInstance * instances.count)
                if !dirty.contains(inst.index) { dirty.append(inst.index) }
            } else {
                now = tArrival
                let r = Int32(nextArrival)
                nextArrival += 1
                var target = 0
                if let router, instances.count > 1 {
                    for (k, inst) in instances.enumerated() { loads[k] = inst.load(table: table) }
                    target = loads.withUnsafeBufferPointer { router.route(r, instances: $0) }
                    guard target >= 0 && target < instances.count else {
                        throw SimulationError("router '\(router.name)' chose instance \(target) of \(instances.count)")
                    }
                }
                table.instance[Int(r)] = Int16(target)
                if config.knobs.skipPrefill {
                    // All but the last prompt token are computed: the first step samples the first token.
                    table.computed[Int(r)] = table.prompt[Int(r)] - 1
                }
                table.phase[Int(r)] = RequestTable.Phase.waiting.rawValue
                instances[target].waiting.pushBack(r)
                totals.waiting += 1
                try series.sample(at: now, totals: totals, totalBlocks: blocksPerInstance * instances.count)
                if !dirty.contains(target) { dirty.append(target) }
            }
            // Start steps only once every event at this instant has been applied.
            if min(events.nextTime, nextArrival < n ? table.arrival[nextArrival] : .max) > now {
                for k in dirty {
                    let inst = instances[k]
                    guard !inst.busy, inst.running.count + inst.waiting.count > 0 else { continue }
                    stepNumber &+= 1
                    if let end = try inst.startStep(at: now, step: stepNumber, limits: limits, slo: objectives, table: table, latency: latency, classLabels: classLabels,
                                                    kvBytesPerToken: kvBytesPerToken, counters: &counters, totals: &totals) {
                        events.push(time: end, target: Int32(k))
                        if let observe = hooks.step { observe(inst.shape, Double(end - now) * 1e-9) }
                    }
                }
                dirty.removeAll(keepingCapacity: true)
            }
        }
        for inst in instances {
            counters.prefixHitTokens += inst.kv.hitTokens
            counters.evictions += inst.kv.evictions
        }
        return RunResult(schedulerName: schedulerName, routerName: router?.name ?? "none", config: config,
                         kvBlocksPerInstance: blocksPerInstance, requests: records(), timeSeries: series.series,
                         itl: itl, counters: counters,
                         llmservingsimTPOT: instances[0].scheduler.capabilities.tpot == .latencyOverOutput)
    }

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
        }
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
