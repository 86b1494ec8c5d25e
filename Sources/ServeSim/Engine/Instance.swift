import ServeAPI
import Workload

/// One serving instance (a TP × PP group): its queues, KV cache, scheduler and the step in flight.
final class Instance {
    let index: Int
    let kv: BlockManager
    let scheduler: any StepScheduler
    // The step loop's state, mutated only by the engine's single thread of control and never
    // while a scheduler's `plan` runs: the runtime's per-access exclusivity checks are off.
    @exclusivity(unchecked) var running: [Int32] = []
    let waiting = RequestQueue()
    @exclusivity(unchecked) var plan = StepPlan()
    @exclusivity(unchecked) var busy = false
    @exclusivity(unchecked) var shape = StepShape()
    @exclusivity(unchecked) var storedTokens = 0
    @exclusivity(unchecked) private var admitted: [Int32] = []

    init(index: Int, kv: BlockManager, scheduler: any StepScheduler) {
        self.index = index
        self.kv = kv
        self.scheduler = scheduler
    }

    func load(table: RequestTable) -> InstanceLoad {
        var demand = 0
        for r in waiting.buffer { demand += kv.blocks(forTokens: table.pending(Int(r))) }
        return InstanceLoad(outstanding: running.count + waiting.count, waiting: waiting.count, running: running.count,
                            freeBlocks: kv.free, totalBlocks: kv.total, queuedDemandBlocks: demand)
    }


    /// Calls `body` with the instance as its scheduler sees it at `now`.
    /// `freeBlocks` stands in for the block manager's count inside a decode stretch, whose
    /// members' growth the block manager learns only when the stretch ends.
    func withView<R>(at now: Int64, limits: StepLimits, slo: ServiceObjectives, table: RequestTable, classLabels: [String],
                     freeBlocks: Int? = nil, _ body: (InstanceView) -> R) -> R {
        let cache: PrefixCacheQuery? = kv.cachingEnabled ? kv : nil
        return running.withUnsafeBufferPointer { run in
            body(InstanceView(now: now, limits: limits, running: run, waiting: waiting.buffer, requests: table.columns,
                              freeBlocks: freeBlocks ?? kv.free, totalBlocks: kv.total, prefixCache: cache, classLabels: classLabels, slo: slo))
        }
    }

    /// Plans, validates and applies a step; returns its end time, or nil when the plan is empty.
    func startStep(at now: Int64, step: UInt32, limits: StepLimits, slo: ServiceObjectives, table: RequestTable, price: (StepShape) -> StepCost, classLabels: [String],
                   kvBytesPerToken: Double, counters: inout RunCounters, totals: inout ClusterTotals) throws -> Int64? {
        plan.reset()
        let kv = self.kv
        withView(at: now, limits: limits, slo: slo, table: table, classLabels: classLabels) { scheduler.plan($0, into: &plan) }
        if plan.work.isEmpty && plan.preempted.isEmpty { return nil }
        let usedBefore = kv.used
        shape = StepShape()
        let swap = scheduler.preemption == .swap
        let check = PlanValidator(scheduler: scheduler.name, instance: index, limits: limits)

        for r in plan.preempted {
            let i = Int(r)
            try check.preempted(r, table: table, step: step)
            table.stamp[i] = step
            storedTokens -= Int(table.computed[i])
            if swap {
                shape.swapBytes += Double(table.computed[i]) * kvBytesPerToken
            } else {
                table.computed[i] = 0
            }
            kv.release(r)
            table.phase[i] = RequestTable.Phase.waiting.rawValue
            table.preemptions[i] += 1
            counters.preemptions += 1
        }
        if !plan.preempted.isEmpty {
            running.removeAll { table.phase[Int($0)] != RequestTable.Phase.running.rawValue }
            for r in plan.preempted { waiting.pushFront(r) }
            totals.running -= plan.preempted.count
            totals.waiting += plan.preempted.count
        }

        var tokens = 0
        for w in plan.work {
            try apply(w, step: step, at: now, check: check, table: table, swap: swap, kvBytesPerToken: kvBytesPerToken,
                      tokens: &tokens, shape: &shape, stored: &storedTokens)
        }
        try seatAdmitted(table: table, check: check, totals: &totals)
        if plan.work.isEmpty {
            // Only preemptions: plan again right away (1 ns later) rather than idle with work queued.
            totals.usedBlocks += kv.used - usedBefore
            busy = true
            return now &+ 1 < now ? now : now + 1
        }

        let end = try book(shape, at: now, price: price, used: kv.used, referenced: kv.referenced, stored: storedTokens,
                           reserved: plan.reservedBlocks, counters: &counters)
        totals.usedBlocks += kv.used - usedBefore
        busy = true
        return end
    }

    /// Applies one entry of a validated-as-it-goes plan for step `step` starting at `now`: admits
    /// a waiting request (prefix hit, swap-in, KV blocks; listed in `admitted` for
    /// `seatAdmitted`), grows its blocks, adds its tokens to the step's `shape`, `tokens` and the
    /// `stored` tokens. Returns whether it samples a token at the step's end. Planned steps
    /// and admissions inside a decode stretch both go through here, so they apply identically;
    /// `unsettledBlocks` are the blocks a stretch has given its members that the block manager
    /// does not count yet.
    @inline(__always) @discardableResult
    func apply(_ w: ScheduledWork, step: UInt32, at now: Int64, check: PlanValidator, table: RequestTable, swap: Bool, kvBytesPerToken: Double,
               unsettledBlocks: Int = 0, tokens: inout Int, shape: inout StepShape, stored: inout Int) throws -> Bool {
        let r = w.request, i = Int(r), n = Int(w.tokens)
        try check.scheduled(r, table: table, step: step)
        table.stamp[i] = step
        let isWaiting = table.phase[i] == RequestTable.Phase.waiting.rawValue
        if isWaiting {
            let hit = (kv.cachingEnabled && table.computed[i] == 0) ? kv.prefixHit(r) : PrefixHit()
            let base = Int(table.computed[i]) + hit.tokens
            let need = kv.blocks(forTokens: base + n) - hit.blocks + hit.reclaimed
            try check.blocks(r, need: need, free: kv.free - unsettledBlocks, admitting: true)
            // A request resuming from swap brings its KV back over the host link.
            // Its tokens are stored again, in the blocks admitted below.
            if table.computed[i] > 0 && table.preemptions[i] > 0 && swap {
                shape.swapBytes += Double(table.computed[i]) * kvBytesPerToken
                stored += Int(table.computed[i])
            }
            kv.admit(r, hit: hit)
            table.computed[i] += Int32(hit.tokens)
            stored += hit.tokens
            table.phase[i] = RequestTable.Phase.running.rawValue
            admitted.append(r)
        } else {
            let need = StepLimits.blocksToGrow(holding: Int(table.allocatedBlocks[i]), toTokens: Int(table.computed[i]) + n,
                                               blockSize: kv.blockSize)
            try check.blocks(r, need: need, free: kv.free - unsettledBlocks, admitting: false)
        }
        let pending = table.pending(i)
        try check.tokens(r, n, pending: pending)
        tokens += n
        try check.budget(tokens)
        kv.grow(r, toTokens: Int(table.computed[i]) + n)
        shape.add(newTokens: n, cached: Int(table.computed[i]), samples: n == pending)
        if n == 1 && table.computed[i] > 0 && table.computed[i] < table.prompt[i] { shape.promptTokensInDecodes += 1 }
        stored += n
        if table.firstScheduled[i] < 0 { table.firstScheduled[i] = now }
        return n == pending
    }

    /// Moves the requests `apply` admitted (listed in `admitted`, emptied here) from the waiting
    /// queue to the running ones, then checks the seats.
    func seatAdmitted(table: RequestTable, check: PlanValidator, totals: inout ClusterTotals) throws {
        if !admitted.isEmpty {
            waiting.remove(count: admitted.count) { table.phase[Int($0)] == RequestTable.Phase.running.rawValue }
            running.append(contentsOf: admitted)
            totals.running += admitted.count
            totals.waiting -= admitted.count
            admitted.removeAll(keepingCapacity: true)
        }
        try check.seats(running.count)
    }

    /// Prices a step of `shape` starting at `start` with this KV occupancy (blocks used and
    /// referenced, tokens stored, blocks reserved), books it in the counters and returns its end.
    /// Planned and fast-forwarded steps both go through here, so they book identically.
    func book(_ shape: StepShape, at start: Int64, price: (StepShape) -> StepCost, used: Int, referenced: Int, stored: Int, reserved: Int,
              counters: inout RunCounters) throws -> Int64 {
        let cost = price(shape)
        // Steps beyond a day mean absurd hardware constants; refuse them before the clock overflows.
        guard cost.seconds.isFinite, cost.seconds < 86_400 else {
            throw SimulationError("a step would take \(cost.seconds) s on \(index == 0 ? "the first instance" : "instance \(index)"): check the hardware constants (bandwidth, FLOP/s, efficiencies)")
        }
        let duration = max(Int64(1), Int64((cost.seconds * 1e9).rounded()))
        counters.steps += 1
        counters.totalFLOPs += cost.flops
        counters.totalBytes += cost.bytes
        counters.busySeconds += cost.seconds
        counters.usedBlockSeconds += Double(used) * cost.seconds
        // Tokens held, each shared prefix block once: every slot in use but the unfilled tails of
        // the holders' last blocks (shared prefix blocks are whole units, so always full).
        let slots = used * kv.blockSize
        let unfilled = max(0, referenced * kv.blockSize - stored)
        counters.storedTokenSeconds += Double(max(0, slots - unfilled)) * cost.seconds
        counters.reservedBlockSeconds += Double(max(reserved, used)) * cost.seconds
        counters.peakUsedBlocks = max(counters.peakUsedBlocks, used)
        let (end, overflow) = start.addingReportingOverflow(duration)
        guard !overflow else { throw SimulationError("the simulated clock would run past 292 years (arrivals that late, or steps that long)") }
        return end
    }

    /// Applies the finished step's tokens; returns how many requests completed.
    func complete(at end: Int64, table: RequestTable, itl: inout LogHistogram, totals: inout ClusterTotals, slo: inout SLOTally) -> Int {
        busy = false
        var done = 0
        let usedBefore = kv.used
        var gaps = LogHistogram.EqualRun()
        defer { gaps.flush(to: &itl) }
        for w in plan.work {
            let i = Int(w.request)
            table.computed[i] += w.tokens
            if Int(table.computed[i]) == Int(table.prompt[i]) + Int(table.generated[i]) {
                table.generated[i] += 1
                if table.generated[i] == 1 {
                    table.firstToken[i] = end
                    slo.firstToken(arrival: table.arrival[i], at: end)
                } else {
                    let gap = end - table.lastToken[i]
                    gaps.add(gap, to: &itl)
                    if gap > table.maxGap[i] { table.maxGap[i] = gap }
                }
                table.lastToken[i] = end
                if table.generated[i] >= table.output[i] {
                    table.phase[i] = RequestTable.Phase.finished.rawValue
                    slo.finished(arrival: table.arrival[i], firstToken: table.firstToken[i], at: end, output: table.output[i])
                    storedTokens -= Int(table.computed[i])
                    kv.release(w.request)
                    done += 1
                    continue
                }
            }
            if kv.cachingEnabled { kv.register(w.request) }
        }
        if done > 0 {
            running.removeAll { table.phase[Int($0)] == RequestTable.Phase.finished.rawValue }
            totals.running -= done
        }
        totals.usedBlocks += kv.used - usedBefore
        return done
    }
}
