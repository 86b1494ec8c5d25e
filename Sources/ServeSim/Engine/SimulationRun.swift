import ServeAPI
import Workload

/// Where a run stands, cheap to read at any pause: the running totals an environment turns into
/// rewards (SLO violations, goodput, time in system, KV waste) and the queue sizes.
public struct RunTallies: Sendable, Equatable {
    /// Simulated time, s from the first arrival.
    public var now = 0.0
    public var arrived = 0
    public var finished = 0
    public var waiting = 0
    public var running = 0
    /// Requests that produced their first token, and those among them later than the TTFT SLO.
    public var firstTokens = 0
    public var ttftViolations = 0
    /// Finished requests over the TPOT SLO, and finished requests that met every SLO.
    public var tpotViolations = 0
    public var sloMet = 0
    public var preemptions = 0
    /// Σ over requests of the time spent in the system so far, s (Little's law: its growth rate is
    /// the number of requests in the system).
    public var requestSeconds = 0.0
    /// Σ (allocated KV slots − stored tokens) × step time over instances, in token-seconds.
    public var wastedSlotSeconds = 0.0
    /// KV slots of the cluster (blocks × block size × instances).
    public var totalSlots = 0
    public init() {}
}

/// One simulation in progress (see `Simulator.start`). Holds the event loop's state so that the
/// loop can stop at a decision point and resume exactly where it stopped.
public final class SimulationRun {
    public enum Pause: Equatable {
        /// The hooks asked to decide before `instance` plans the step starting at `time` (ns).
        case decision(instance: Int, time: Int64)
        case finished
    }

    let sim: Simulator
    let hooks: Simulator.Hooks
    let limits: StepLimits
    let objectives: ServiceObjectives
    // The event loop's state. Only `advance` mutates it, never re-entered (hooks run between
    // accesses), so the runtime's per-access exclusivity checks, which cost about a fifth of a
    // run when this state moved from locals into the class, are switched off.
    @exclusivity(unchecked) var events = EventQueue()
    @exclusivity(unchecked) var counters = RunCounters()
    @exclusivity(unchecked) var itl = LogHistogram()
    @exclusivity(unchecked) var series: SeriesRecorder
    @exclusivity(unchecked) var loads: [InstanceLoad]
    @exclusivity(unchecked) var dirty: [Int] = []
    /// Position in `dirty` of the next instance to start; `pendingStarts` while a batch of starts
    /// is under way (it survives a pause), `resumeStart` when the instance at the cursor was
    /// already offered to the decision hook.
    @exclusivity(unchecked) var cursor = 0
    @exclusivity(unchecked) var pendingStarts = false
    @exclusivity(unchecked) var resumeStart = false
    @exclusivity(unchecked) var nextArrival = 0
    @exclusivity(unchecked) var finished = 0
    /// Set once `advance` has returned `.finished`: the run is over and its working columns may go.
    @exclusivity(unchecked) var ended = false
    @exclusivity(unchecked) var now: Int64 = 0
    @exclusivity(unchecked) var lastEvent: Int64 = 0
    @exclusivity(unchecked) var requestNanos: Double = 0
    @exclusivity(unchecked) var stepNumber: UInt32 = 0
    @exclusivity(unchecked) var totals = ClusterTotals()
    @exclusivity(unchecked) var eventsSinceCheck = 0
    @exclusivity(unchecked) var slo: SLOTally
    /// Schedulers that report telemetry, sampled at the first event of each series interval.
    let reporters: [(instance: Int, source: any SchedulerTelemetry)]
    var autoscalerLog: (any SchedulerTelemetry)?
    @exclusivity(unchecked) var telemetryRows = 0
    /// Autoscaling state (nil without an autoscaler): lifecycle per instance, cost, and the
    /// figures of the current decision interval.
    @exclusivity(unchecked) var fleet: Fleet?
    @exclusivity(unchecked) var windowBusyNanos: Double = 0
    @exclusivity(unchecked) var windowArrivals = 0
    @exclusivity(unchecked) var windowFinished = 0
    @exclusivity(unchecked) var arrivalHistory: [Double] = []
    @exclusivity(unchecked) var totalBusyNanos: Double = 0
    static let tick: Int32 = -1
    @exclusivity(unchecked) var schedulerEvents: [SchedulerEvent] = []
    /// Decode fast-forward (see FastForward.swift): whether this run may use it, the steps it
    /// skipped, scratch for the stretch under way (block crossings by step offset, its batch),
    /// and the steps started at the current instant whose completions are not queued yet (queued
    /// once all have started, so that each stretch is bounded by the others).
    var fastForwarding = false
    public internal(set) var fastForwardedSteps = 0
    @exclusivity(unchecked) var crossings: [Int] = []
    @exclusivity(unchecked) var stretch: [StretchMember] = []
    @exclusivity(unchecked) var launched: [(instance: Int, end: Int64)] = []
    /// When stretches run through arrivals (`stretchAdmitter`): the scheduler asked for each
    /// step's admissions, and scratch for them, for those of the step in flight and for the
    /// stretch's longest gaps.
    var admitsInStretch: ContinuousBatchingScheduler?
    @exclusivity(unchecked) var admissions = StepPlan()
    @exclusivity(unchecked) var joiners: [StretchJoiner] = []
    @exclusivity(unchecked) var gapPeaks = SuffixMaxima()

    init(_ sim: Simulator, hooks: Simulator.Hooks) {
        self.sim = sim
        self.hooks = hooks
        let k = sim.config.knobs
        limits = StepLimits(tokenBudget: k.maxNumBatchedTokens, maxSeqs: k.maxNumSeqs, chunkedPrefill: k.chunkedPrefill, blockSize: k.blockSize)
        objectives = ServiceObjectives(ttft: sim.config.slo.ttft, tpot: sim.config.slo.tpot)
        series = SeriesRecorder(interval: sim.config.logInterval)
        loads = [InstanceLoad](repeating: InstanceLoad(), count: sim.instances.count)
        counters.prefixCachingActive = sim.instances[0].kv.cachingEnabled
        slo = SLOTally(sim.config.slo)
        let reporters: [(instance: Int, source: any SchedulerTelemetry)] = sim.instances.compactMap { i in
            (i.scheduler as? any SchedulerTelemetry).map { (i.index, $0) }
        }
        if let a = sim.autoscaler {
            fleet = Fleet(instances: sim.instances.count, initial: a.minInstances)
            events.push(time: Int64(a.interval * 1e9), target: Self.tick)
            // The autoscaler's log joins the schedulers' (as instance -1), its figures are not sampled.
            autoscalerLog = a.telemetry
        }
        self.reporters = reporters
        fastForwarding = fastForwardAllowed
        admitsInStretch = stretchAdmitter
        if !self.reporters.isEmpty {
            let prefix = { (k: Int) in sim.instances.count > 1 ? "i\(k)." : "" }
            series.series.telemetryColumns = self.reporters.flatMap { r in r.source.telemetryColumns.map { prefix(r.instance) + $0 } }
            series.series.modeColumns = self.reporters.map { prefix($0.instance) + "mode" }
        }
    }

    /// A fleet event: an autoscaling decision (`tick`) or a cold start done (-2 - instance).
    func fleetEvent(_ target: Int32) throws {
        guard var f = fleet, let a = sim.autoscaler else { return }
        defer { fleet = f }
        if target != Self.tick {
            let k = Int(-2 - target)
            if f.state[k] == .starting && f.readyAt[k] == now { f.state[k] = .serving; f.refreshServing() }
            return
        }
        let n = sim.trace.count
        let instances = sim.instances
        if !instances.contains(where: \.busy) && nextArrival >= n && f.count(.starting) == 0 && finished < n {
            let stuck = instances.map { "instance \($0.index): \($0.waiting.count) waiting, \($0.running.count) running" }
            throw SimulationError("scheduler '\(sim.schedulerName)' made no progress: \(n - finished) requests unfinished (\(stuck.joined(separator: "; ")))")
        }
        arrivalHistory.append(Double(windowArrivals))
        var state = ClusterState(now: now, serving: f.serving.count, starting: f.count(.starting), draining: f.count(.draining),
                                 arrivals: windowArrivals, arrivalHistory: arrivalHistory, finished: windowFinished)
        state.utilisation = min(1, windowBusyNanos / (a.interval * 1e9 * Double(max(1, f.serving.count + f.count(.draining)))))
        state.busySecondsPerRequest = finished > 0 ? totalBusyNanos * 1e-9 / Double(finished) : 0
        var kv = 0.0
        for k in f.serving {
            state.waiting += instances[k].waiting.count
            state.running += instances[k].running.count
            kv += Double(instances[k].kv.used) / Double(max(1, instances[k].kv.total))
        }
        state.kvUsage = kv / Double(max(1, f.serving.count))
        windowArrivals = 0
        windowFinished = 0
        windowBusyNanos = 0
        let desired = min(a.maxInstances, max(a.minInstances, a.desired(state)))
        let before = f.powered
        let started = f.scale(to: desired, at: now, coldStart: Int64(a.coldStart * 1e9)) { instances[$0].running.count + instances[$0].waiting.count }
        for k in started { events.push(time: f.readyAt[k], target: -2 - Int32(k)) }
        for k in f.state.indices where drained(k, f) { f.powerOff(k, at: now) }
        if f.powered != before {
            f.changes.append(ScalingChange(time: Double(now) * 1e-9, from: before, to: f.powered, desired: desired))
        }
        if finished < n { events.push(time: now + Int64(a.interval * 1e9), target: Self.tick) }
    }

    /// Whether instance `k` is draining and has nothing left: it can stop.
    func drained(_ k: Int, _ f: Fleet) -> Bool {
        let inst = sim.instances[k]
        return f.state[k] == .draining && !inst.busy && inst.running.isEmpty && inst.waiting.count == 0
    }

    /// Powered instances per series interval (at the interval's last event).
    func recordFleet() {
        guard let f = fleet else { return }
        let rows = series.series.promptTokens.count
        while series.series.instances.count < rows { series.series.instances.append(Int32(f.powered)) }
        if rows > 0 { series.series.instances[rows - 1] = Int32(f.powered) }
    }

    /// Moves what the schedulers and the autoscaler (instance -1) logged into the run's events.
    func collectEvents() {
        let sources = reporters + (autoscalerLog.map { [(instance: -1, source: $0)] } ?? [])
        for r in sources {
            let before = schedulerEvents.count
            r.source.drainEvents(into: &schedulerEvents)
            for k in before..<schedulerEvents.count { schedulerEvents[k].instance = r.instance }
        }
    }

    /// Adds telemetry rows up to the series' current length (the first row of an interval is
    /// sampled at its first event; intervals without events repeat the last row).
    func recordTelemetry() {
        let rows = series.series.promptTokens.count
        guard !reporters.isEmpty, telemetryRows < rows else { return }
        var row: [Double] = []
        var modes: [String] = []
        var values: [Double] = []
        for r in reporters {
            values = [Double](repeating: .nan, count: r.source.telemetryColumns.count)
            modes.append(r.source.telemetry(now: now, values: &values))
            row.append(contentsOf: values)
        }
        collectEvents()
        while telemetryRows < rows {
            series.series.telemetry.append(row)
            series.series.modes.append(modes)
            telemetryRows += 1
        }
    }

    /// The totals so far.
    public var tallies: RunTallies {
        var t = RunTallies()
        t.now = Double(now) * 1e-9
        t.arrived = nextArrival
        t.finished = finished
        t.waiting = totals.waiting
        t.running = totals.running
        t.firstTokens = slo.firstTokens
        t.ttftViolations = slo.ttftViolations
        t.tpotViolations = slo.tpotViolations
        t.sloMet = slo.met
        t.preemptions = counters.preemptions
        t.requestSeconds = (requestNanos + Double(nextArrival - finished) * Double(now - lastEvent)) * 1e-9
        t.wastedSlotSeconds = counters.wastedSlotSeconds(blockSize: sim.config.knobs.blockSize)
        t.totalSlots = sim.blocksPerInstance * sim.config.knobs.blockSize * sim.instances.count
        return t
    }

    /// Simulated time, ns.
    public var time: Int64 { now }

    /// Calls `body` with the view the instance's scheduler would see if it planned now (at a
    /// pause, or at the end before `result()`, which frees the columns a view reads).
    public func withView<R>(_ instance: Int, _ body: (InstanceView) -> R) -> R {
        precondition(!sim.table.workingColumnsReleased, "withView after result(): the run's working columns are freed")
        return sim.instances[instance].withView(at: now, limits: limits, slo: objectives, table: sim.table, classLabels: sim.classLabels, body)
    }

    /// Runs until the next decision point the hooks ask for, or the end.
    public func advance() throws -> Pause {
        if ended { return .finished }
        let n = sim.trace.count
        let table = sim.table
        let instances = sim.instances
        while true {
            if pendingStarts {
                while cursor < dirty.count {
                    let k = dirty[cursor]
                    let inst = instances[k]
                    guard !inst.busy, inst.running.count + inst.waiting.count > 0 else { cursor += 1; continue }
                    if !resumeStart, let decide = hooks.decision, decide(k, now) {
                        resumeStart = true
                        return .decision(instance: k, time: now)
                    }
                    resumeStart = false
                    cursor += 1
                    stepNumber &+= 1
                    let preemptedBefore = counters.preemptions
                    if let end = try inst.startStep(at: now, step: stepNumber, limits: limits, slo: objectives, table: table, price: sim.price,
                                                    classLabels: sim.classLabels, kvBytesPerToken: sim.kvBytesPerToken,
                                                    counters: &counters, totals: &totals) {
                        if fastForwarding { launched.append((k, end)) } else { events.push(time: end, target: Int32(k)) }
                        if fleet != nil { windowBusyNanos += Double(end - now); totalBusyNanos += Double(end - now) }
                        if let observe = hooks.step { observe(inst.shape, Double(end - now) * 1e-9) }
                    }
                    if counters.preemptions != preemptedBefore { try series.addPreemptions(at: now, counters.preemptions - preemptedBefore) }
                }
                if !launched.isEmpty { try queueLaunched() }
                dirty.removeAll(keepingCapacity: true)
                cursor = 0
                pendingStarts = false
            }
            if finished >= n {
                ended = true
                return .finished
            }
            eventsSinceCheck += 1
            if eventsSinceCheck == 4096 {
                eventsSinceCheck = 0
                hooks.progress?(Double(finished) / Double(n))
                if hooks.shouldStop?() == true { throw SimulationError.interrupted }
            }
            let tArrival = nextArrival < n ? table.arrival[nextArrival] : Int64.max
            let tDone = events.nextTime
            if tDone == .max && tArrival == .max {
                let stuck = instances.map { "instance \($0.index): \($0.waiting.count) waiting, \($0.running.count) running" }
                throw SimulationError("scheduler '\(sim.schedulerName)' made no progress: \(n - finished) requests unfinished (\(stuck.joined(separator: "; ")))")
            }
            elapse(to: min(tDone, tArrival))
            if tDone <= tArrival {
                let e = events.pop()!
                now = e.time
                if e.target < 0 {
                    try fleetEvent(e.target)
                    if min(events.nextTime, nextArrival < n ? table.arrival[nextArrival] : .max) > now { pendingStarts = true }
                    continue
                }
                let inst = instances[Int(e.target)]
                let done = inst.complete(at: now, table: table, itl: &itl, totals: &totals, slo: &slo)
                finished += done
                if fleet != nil {
                    windowFinished += done
                    if drained(inst.index, fleet!) { fleet!.powerOff(inst.index, at: now) }
                }
                try recordStepEnd(at: now, shape: inst.shape)
                if !dirty.contains(inst.index) { dirty.append(inst.index) }
            } else {
                now = tArrival
                let r = Int32(nextArrival)
                nextArrival += 1
                var target = 0
                windowArrivals += 1
                if let serving = fleet?.serving {
                    // Routers see only the serving instances, numbered 0..<serving.count.
                    if serving.count > 1, let router = sim.router {
                        for (j, k) in serving.enumerated() { loads[j] = instances[k].load(table: table) }
                        let choice = loads.withUnsafeBufferPointer { router.route(r, instances: UnsafeBufferPointer(rebasing: $0[0..<serving.count])) }
                        guard choice >= 0 && choice < serving.count else {
                            throw SimulationError("router '\(router.name)' chose instance \(choice) of \(serving.count) serving")
                        }
                        target = serving[choice]
                    } else {
                        target = serving[0]
                    }
                } else if let router = sim.router, instances.count > 1 {
                    for (k, inst) in instances.enumerated() { loads[k] = inst.load(table: table) }
                    target = loads.withUnsafeBufferPointer { router.route(r, instances: $0) }
                    guard target >= 0 && target < instances.count else {
                        throw SimulationError("router '\(router.name)' chose instance \(target) of \(instances.count)")
                    }
                }
                try enqueue(r, on: target, at: now)
                if !dirty.contains(target) { dirty.append(target) }
            }
            // Start steps only once every event at this instant has been applied.
            if min(events.nextTime, nextArrival < n ? table.arrival[nextArrival] : .max) > now { pendingStarts = true }
        }
    }

    /// Puts arrival `r` in instance `target`'s waiting queue at `t` (its arrival) and samples the
    /// series there: from the event loop, or inside a decode stretch that runs through arrivals.
    func enqueue(_ r: Int32, on target: Int, at t: Int64) throws {
        let table = sim.table
        table.instance[Int(r)] = Int16(target)
        if sim.config.knobs.skipPrefill {
            // All but the last prompt token are computed: the first step samples the first token.
            table.computed[Int(r)] = table.prompt[Int(r)] - 1
        }
        table.phase[Int(r)] = RequestTable.Phase.waiting.rawValue
        sim.instances[target].waiting.pushBack(r)
        totals.waiting += 1
        try series.sample(at: t, totals: totals, totalBlocks: sim.blocksPerInstance * sim.instances.count)
        if !reporters.isEmpty { recordTelemetry() }
        if fleet != nil { recordFleet() }
    }

    /// Moves the clock of the time-in-system tally to the next event at `t`.
    func elapse(to t: Int64) {
        requestNanos += Double(nextArrival - finished) * Double(t - lastEvent)
        lastEvent = t
    }

    /// What the series records when a step of `shape` completes at `t` (after its tokens are applied).
    func recordStepEnd(at t: Int64, shape: StepShape) throws {
        try series.addTokens(at: t, prompt: Double(shape.promptWork), generated: Double(shape.sampled))
        try series.sample(at: t, totals: totals, totalBlocks: sim.blocksPerInstance * sim.instances.count)
        if !reporters.isEmpty { recordTelemetry() }
        if fleet != nil { recordFleet() }
    }

    /// Queues the completions of the steps just started, fast-forwarding each instance's decode
    /// stretch up to the next arrival (unless the stretch admits arrivals) or event, the other
    /// steps started now included.
    func queueLaunched() throws {
        // A stretch that admits arrivals takes them in as they come.
        let tArrival = admitsInStretch == nil && nextArrival < sim.trace.count ? sim.table.arrival[nextArrival] : Int64.max
        for q in launched.indices {
            var bound = min(events.nextTime, tArrival)
            for later in launched[(q + 1)...] { bound = min(bound, later.end) }
            let (k, end) = launched[q]
            events.push(time: try fastForward(sim.instances[k], end: end, bound: bound), target: Int32(k))
        }
        launched.removeAll(keepingCapacity: true)
    }

    /// The finished run's results (call after `advance` returned `.finished`). Once the run has
    /// ended this frees the request columns only the step loop reads, so the copied results do
    /// not add to the peak memory; `withView` is not available after it.
    public func result() -> RunResult {
        var counters = self.counters
        for inst in sim.instances {
            counters.prefixHitTokens += inst.kv.hitTokens
            counters.evictions += inst.kv.evictions
        }
        recordTelemetry()
        var scaling: ScalingRecord? = nil
        if var f = fleet, let a = sim.autoscaler {
            recordFleet()
            for k in f.state.indices where f.state[k] != .off { f.powerOff(k, at: now) }
            let span = Double(max(1, now))
            scaling = ScalingRecord(autoscaler: a.name, gpuSeconds: f.gpuNanos * 1e-9, meanInstances: f.gpuNanos / span,
                                    peakInstances: f.peak, changes: f.changes)
        }
        collectEvents()
        if ended { sim.table.releaseWorkingColumns() }
        var events = schedulerEvents
        events.sort { ($0.time, $0.instance) < ($1.time, $1.instance) }
        return RunResult(schedulerName: sim.schedulerName, routerName: sim.router?.name ?? "none", config: sim.config,
                         kvBlocksPerInstance: sim.blocksPerInstance, requests: sim.records(), timeSeries: series.series,
                         itl: itl, counters: counters,
                         llmservingsimTPOT: sim.instances[0].scheduler.capabilities.tpot == .latencyOverOutput,
                         schedulerEvents: events, scaling: scaling)
    }
}

/// SLO outcomes counted as tokens appear, with exactly `RunSummary`'s arithmetic (seconds as
/// Doubles, every bound at once), so the tallies at the end agree with the summary.
struct SLOTally {
    let slo: SLO
    var firstTokens = 0, ttftViolations = 0, tpotViolations = 0, met = 0

    init(_ slo: SLO) { self.slo = slo }

    mutating func firstToken(arrival: Int64, at t: Int64) {
        firstTokens += 1
        let ttft = Double(t - arrival) / 1e9
        if !slo.outcome(ttft: ttft, tpot: nil, e2e: ttft).ttft { ttftViolations += 1 }
    }

    mutating func finished(arrival: Int64, firstToken: Int64, at t: Int64, output: Int32) {
        let ttft = Double(firstToken - arrival) / 1e9, e2e = Double(t - arrival) / 1e9
        let outcome = slo.outcome(ttft: ttft, tpot: output > 1 ? (e2e - ttft) / Double(output - 1) : nil, e2e: e2e)
        if !outcome.tpot { tpotViolations += 1 }
        if outcome.all { met += 1 }
    }
}
