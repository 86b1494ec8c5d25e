import Foundation
import ServeAPI

/// FastServe's skip-join multi-level feedback queue (token-level preemption).
///
/// Level k has quantum `base × ratio^k` ms of service. A new request joins the highest level whose
/// quantum covers its estimated prefill time (prompt tokens / `prefillTokensPerMs`), skipping the
/// levels it would leave at once. A request that used up its level's quantum is demoted. Every
/// step serves the highest-priority requests first (level, then arrival); a waiting request that
/// outranks a running one takes its seat and blocks, the running one being preempted (swapped, as
/// FastServe's proactive KV swapping keeps its state). A request not served for `starvation`
/// seconds returns to the top level.
public final class MLFQScheduler: StepScheduler {
    public let name = "mlfq"
    public let preemption = PreemptionMode.swap
    /// Quanta are measured on the clock at every step: the engine must not skip any.
    public var capabilities: SchedulerCapabilities { SchedulerCapabilities(steadyDecode: false) }
    let baseNanos: Double
    let ratio: Double
    let levels: Int
    let starvationNanos: Int64
    let prefillTokensPerMs: Double

    private var level: [Int32: Int] = [:]
    private var usedAtLevel: [Int32: Double] = [:]
    private var lastServed: [Int32: Int64] = [:]
    private var lastPlan: [Int32] = []
    private var lastNow: Int64 = -1
    private var candidates: [(level: Int, arrival: Int64, request: Int32, running: Bool)] = []

    public init(baseQuantumMs: Double = 10, ratio: Double = 2, levels: Int = 8, starvationSeconds: Double = 3,
                prefillTokensPerMs: Double = 20) {
        baseNanos = baseQuantumMs * 1e6
        self.ratio = ratio
        self.levels = levels
        starvationNanos = Int64(starvationSeconds * 1e9)
        self.prefillTokensPerMs = prefillTokensPerMs
    }

    func quantum(_ k: Int) -> Double { baseNanos * pow(ratio, Double(k)) }

    func joinLevel(prompt: Int32) -> Int {
        let prefill = Double(prompt) / prefillTokensPerMs * 1e6
        var k = 0
        while k < levels - 1 && quantum(k) < prefill { k += 1 }
        return k
    }

    public func plan(_ view: InstanceView, into plan: inout StepPlan) {
        // Charge the previous step's duration to the requests it served, demoting on quantum use.
        if lastNow >= 0 {
            let elapsed = Double(view.now - lastNow)
            for r in lastPlan {
                guard let k = level[r] else { continue }
                let used = (usedAtLevel[r] ?? 0) + elapsed
                if used >= quantum(k) && k < levels - 1 {
                    level[r] = k + 1
                    usedAtLevel[r] = 0
                } else {
                    usedAtLevel[r] = used
                }
                lastServed[r] = view.now
            }
        }
        candidates.removeAll(keepingCapacity: true)
        func consider(_ r: Int32, running: Bool) {
            let arrival = view.requests.arrival[Int(r)]
            if level[r] == nil { level[r] = joinLevel(prompt: view.requests.promptTokens[Int(r)]); lastServed[r] = arrival }
            if view.now - (lastServed[r] ?? arrival) > starvationNanos {
                level[r] = 0
                usedAtLevel[r] = 0
                lastServed[r] = view.now
            }
            candidates.append((level[r]!, arrival, r, running))
        }
        for r in view.running { consider(r, running: true) }
        for r in view.waiting { consider(r, running: false) }
        candidates.sort { ($0.level, $0.arrival, $0.request) < ($1.level, $1.arrival, $1.request) }

        var budget = view.limits.tokenBudget
        var free = view.freeBlocks
        var seats = view.limits.maxSeqs - view.running.count
        // Running requests from the lowest priority up: the pool of preemption victims, as
        // positions in `candidates` so that only lower-priority requests are ever preempted.
        var victims = candidates.indices.reversed().filter { candidates[$0].running }
        var preempted = Set<Int32>()
        var served = Set<Int32>()
        /// Preempts the lowest-priority running request that ranks below `position` (and, for a
        /// seat, on a strictly lower level: equal levels never swap places).
        func preemptLowest(below position: Int, strictLevel: Bool = false) -> Bool {
            while let v = victims.first, v > position, !strictLevel || candidates[v].level > candidates[position].level {
                victims.removeFirst()
                let victim = candidates[v].request
                if preempted.contains(victim) || served.contains(victim) { continue }
                plan.preempted.append(victim)
                preempted.insert(victim)
                free += view.releasableBlocks(victim)
                seats += 1
                return true
            }
            return false
        }

        // 1. Which waiting requests join this step: in priority order, while seats and the prefill
        //    budget left after the running requests last. Seats are never taken by force: an idle
        //    running request keeps its KV (token-level preemption), which avoids swap storms.
        var prefillBudget = budget
        for c in candidates where c.running { prefillBudget -= view.requests.pendingTokens(c.request) }
        var joining: [(position: Int, request: Int32)] = []
        for (position, c) in candidates.enumerated() where !c.running {
            guard prefillBudget > 0 else { break }
            guard seats > 0 else { break }
            seats -= 1
            joining.append((position, c.request))
            prefillBudget -= view.requests.pendingTokens(c.request)
        }

        // 2. Serve: decodes first, then ongoing prefills, in priority order (stall-free), then the joiners.
        func serve(_ r: Int32, position: Int, admitting: Bool) -> Bool {
            let hit = admitting ? view.admissionHit(r) : PrefixHit()
            let pending = view.requests.pendingTokens(r) - hit.tokens
            let n = min(pending, budget)
            guard n > 0, view.limits.chunkedPrefill || n == pending else { return false }
            let need = admitting ? view.admissionBlocks(r, hit: hit, newTokens: n) : view.blocksToGrow(r, by: n)
            while need > free { if !preemptLowest(below: position, strictLevel: true) { return false } }
            plan.work.append(ScheduledWork(request: r, tokens: Int32(n)))
            served.insert(r)
            budget -= n
            free -= need
            return true
        }
        for pass in 0..<2 {
            for (position, c) in candidates.enumerated() where c.running && !preempted.contains(c.request) {
                let decoding = view.requests.pendingTokens(c.request) == 1
                guard decoding == (pass == 0), budget > 0 else { continue }
                _ = serve(c.request, position: position, admitting: false)
            }
        }
        for j in joining where budget > 0 {
            if !serve(j.request, position: j.position, admitting: true) { break }
        }
        if plan.work.isEmpty && plan.preempted.isEmpty, let v = candidates.indices.last(where: { candidates[$0].running }) {
            // Every running request needs blocks and none ranks strictly below another: preempt the
            // lowest-priority one (as vLLM would) so the rest can grow, instead of stalling.
            plan.preempted.append(candidates[v].request)
        }
        lastPlan = plan.work.map(\.request)
        lastNow = view.now
        // Forget finished requests' bookkeeping now and then (ids are never reused).
        if level.count > 4 * (view.running.count + view.waiting.count) + 1024 {
            let live = Set(view.running).union(view.waiting)
            level = level.filter { live.contains($0.key) }
            usedAtLevel = usedAtLevel.filter { live.contains($0.key) }
            lastServed = lastServed.filter { live.contains($0.key) }
        }
    }
}
