import ServeAPI

/// Continuous batching with vLLM V1 step semantics, parameterised by two orders.
///
/// Running requests are served in `orderRunning` order: a decode needs 1 token, an unfinished
/// prefill min(remaining, budget). When one cannot get its next blocks, the request at the end of
/// that order (the lowest priority) is preempted, possibly the request itself. Then, only if
/// nothing was preempted, waiting requests are admitted in `nextWaiting` order while budget, seats
/// and blocks last, each with a chunk of its prompt (chunked prefill) after any cached prefix.
/// Subclasses change the orders and the budget; the mechanics stay vLLM's.
public class ContinuousBatchingScheduler: StepScheduler {
    public let name: String
    public let preemption: PreemptionMode
    /// Scratch buffer for the running order (kept to avoid per-step allocation).
    var order: [Int32] = []

    init(name: String, preemption: PreemptionMode) {
        self.name = name
        self.preemption = preemption
    }

    /// Tokens this step may compute.
    func budget(_ view: InstanceView) -> Int { view.limits.tokenBudget }

    /// Running requests, highest priority first (default: queue order, earliest admitted first).
    func orderRunning(_ view: InstanceView, into order: inout [Int32]) {
        order.append(contentsOf: view.running)
    }

    /// Called once per step before admission; `nextWaiting` then yields candidates in order.
    func prepareWaiting(_ view: InstanceView) {}

    /// The next waiting request to consider (default: FCFS queue order), nil when none is left.
    func nextWaiting(_ view: InstanceView, position: Int) -> Int32? {
        position < view.waiting.count ? view.waiting[position] : nil
    }

    public func plan(_ view: InstanceView, into plan: inout StepPlan) {
        var budget = budget(view)
        var free = view.freeBlocks
        order.removeAll(keepingCapacity: true)
        orderRunning(view, into: &order)
        var tail = order.count - 1
        var preempted = false
        var i = 0
        while i <= tail && budget > 0 {
            let r = order[i]
            let pending = view.requests.pendingTokens(r)
            let n = min(pending, budget)
            if !view.limits.chunkedPrefill && n < pending { break }
            let need = view.blocksToGrow(r, by: n)
            var selfPreempted = false
            while need > free {
                let victim = order[tail]
                tail -= 1
                plan.preempted.append(victim)
                free += view.releasableBlocks(victim)
                preempted = true
                if victim == r { selfPreempted = true; break }
            }
            if selfPreempted { break }
            plan.work.append(ScheduledWork(request: r, tokens: Int32(n)))
            budget -= n
            free -= need
            i += 1
        }
        guard !preempted else { return }
        var seats = view.limits.maxSeqs - view.running.count
        prepareWaiting(view)
        var position = 0
        while budget > 0, seats > 0, let r = nextWaiting(view, position: position) {
            position += 1
            let hit = view.admissionHit(r)
            let pending = view.requests.pendingTokens(r) - hit.tokens
            let n = min(pending, budget)
            if !view.limits.chunkedPrefill && n < pending { break }
            let need = view.admissionBlocks(r, hit: hit, newTokens: n)
            if need > free { break }
            plan.work.append(ScheduledWork(request: r, tokens: Int32(n)))
            admitted(r, view: view)
            budget -= n
            free -= need
            seats -= 1
        }
    }

    /// Notified of each admission (for schedulers that keep accounts).
    func admitted(_ r: Int32, view: InstanceView) {}
}

/// vLLM V1: FCFS, recompute preemption of the latest admitted request (or swap, as an option).
public final class VLLMScheduler: ContinuousBatchingScheduler {
    public init(preemption: PreemptionMode = .recompute) { super.init(name: "vllm", preemption: preemption) }
}

/// LLMServingSim v0.2.1: whole-prompt prefill mixed with decodes (no chunking, no token budget
/// beyond the engine's), and preemption by swapping KV to host memory over its --remote_bw link.
public final class LLMServingSimScheduler: ContinuousBatchingScheduler {
    public init() { super.init(name: "llmservingsim", preemption: .swap) }
}
