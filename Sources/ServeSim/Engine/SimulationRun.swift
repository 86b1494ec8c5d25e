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
    @exclusivity(unchecked) var now: Int64 = 0
    @exclusivity(unchecked) var lastEvent: Int64 = 0
    @exclusivity(unchecked) var requestNanos: Double = 0
    @exclusivity(unchecked) var stepNumber: UInt32 = 0
    @exclusivity(unchecked) var totals = ClusterTotals()
    @exclusivity(unchecked) var eventsSinceCheck = 0
    @exclusivity(unchecked) var slo: SLOTally

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

    /// Calls `body` with the view the instance's scheduler would see if it planned now.
    public func withView<R>(_ instance: Int, _ body: (InstanceView) -> R) -> R {
        sim.instances[instance].withView(at: now, limits: limits, slo: objectives, table: sim.table, classLabels: sim.classLabels, body)
    }

    /// Runs until the next decision point the hooks ask for, or the end.
    public func advance() throws -> Pause {
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
                    if let end = try inst.startStep(at: now, step: stepNumber, limits: limits, slo: objectives, table: table, latency: sim.latency,
                                                    classLabels: sim.classLabels, kvBytesPerToken: sim.kvBytesPerToken,
                                                    counters: &counters, totals: &totals) {
                        events.push(time: end, target: Int32(k))
                        if let observe = hooks.step { observe(inst.shape, Double(end - now) * 1e-9) }
                    }
                }
                dirty.removeAll(keepingCapacity: true)
                cursor = 0
                pendingStarts = false
            }
            if finished >= n { return .finished }
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
                throw SimulationError("scheduler '\(sim.schedulerName)' made no progress: \(n - finished) requests unfinished (\(stuck.joined(separator: "; ")))")
            }
            let t = min(tDone, tArrival)
            requestNanos += Double(nextArrival - finished) * Double(t - lastEvent)
            lastEvent = t
            if tDone <= tArrival {
                let e = events.pop()!
                now = e.time
                let inst = instances[Int(e.target)]
                let done = inst.complete(at: now, table: table, itl: &itl, totals: &totals, slo: &slo)
                finished += done
                try series.addTokens(at: now, prompt: Double(inst.shape.prefillTokens), generated: Double(inst.shape.sampled))
                try series.sample(at: now, totals: totals, totalBlocks: sim.blocksPerInstance * instances.count)
                if !dirty.contains(inst.index) { dirty.append(inst.index) }
            } else {
                now = tArrival
                let r = Int32(nextArrival)
                nextArrival += 1
                var target = 0
                if let router = sim.router, instances.count > 1 {
                    for (k, inst) in instances.enumerated() { loads[k] = inst.load(table: table) }
                    target = loads.withUnsafeBufferPointer { router.route(r, instances: $0) }
                    guard target >= 0 && target < instances.count else {
                        throw SimulationError("router '\(router.name)' chose instance \(target) of \(instances.count)")
                    }
                }
                table.instance[Int(r)] = Int16(target)
                if sim.config.knobs.skipPrefill {
                    // All but the last prompt token are computed: the first step samples the first token.
                    table.computed[Int(r)] = table.prompt[Int(r)] - 1
                }
                table.phase[Int(r)] = RequestTable.Phase.waiting.rawValue
                instances[target].waiting.pushBack(r)
                totals.waiting += 1
                try series.sample(at: now, totals: totals, totalBlocks: sim.blocksPerInstance * instances.count)
                if !dirty.contains(target) { dirty.append(target) }
            }
            // Start steps only once every event at this instant has been applied.
            if min(events.nextTime, nextArrival < n ? table.arrival[nextArrival] : .max) > now { pendingStarts = true }
        }
    }

    /// The finished run's results (call after `advance` returned `.finished`).
    public func result() -> RunResult {
        var counters = self.counters
        for inst in sim.instances {
            counters.prefixHitTokens += inst.kv.hitTokens
            counters.evictions += inst.kv.evictions
        }
        return RunResult(schedulerName: sim.schedulerName, routerName: sim.router?.name ?? "none", config: sim.config,
                         kvBlocksPerInstance: sim.blocksPerInstance, requests: sim.records(), timeSeries: series.series,
                         itl: itl, counters: counters,
                         llmservingsimTPOT: sim.instances[0].scheduler.capabilities.tpot == .latencyOverOutput)
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
