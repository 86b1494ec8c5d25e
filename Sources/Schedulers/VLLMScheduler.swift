import ServeAPI

/// vLLM V1 step semantics. Running requests first, in queue order: a decode needs 1 token, an
/// unfinished prefill min(remaining, budget). When a running request cannot get its next blocks,
/// the lowest-priority running request (the last admitted) is preempted, possibly the request
/// itself. Then, only if nothing was preempted, waiting requests are admitted in order while
/// budget, seats and blocks last, each with a chunk of its prompt (chunked prefill) after any
/// cached prefix.
public class VLLMScheduler: StepScheduler {
    public let name: String
    public let preemption: PreemptionMode

    public init(name: String = "vllm", preemption: PreemptionMode = .recompute) {
        self.name = name
        self.preemption = preemption
    }

    public func plan(_ view: InstanceView, into plan: inout StepPlan) {
        var budget = view.limits.tokenBudget
        var free = view.freeBlocks
        let running = view.running
        var tail = running.count - 1
        var preempted = false
        var i = 0
        while i <= tail && budget > 0 {
            let r = running[i]
            let n = min(view.requests.pendingTokens(r), budget)
            if !view.limits.chunkedPrefill && n < view.requests.pendingTokens(r) { break }
            let need = view.blocksToGrow(r, by: n)
            var selfPreempted = false
            while need > free {
                let victim = running[tail]
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
        admitWaiting(view, budget: &budget, free: &free, seats: view.limits.maxSeqs - running.count, into: &plan)
    }

    /// FCFS admission of waiting requests.
    func admitWaiting(_ view: InstanceView, budget: inout Int, free: inout Int, seats: Int, into plan: inout StepPlan) {
        var seats = seats
        for r in view.waiting {
            guard budget > 0, seats > 0 else { break }
            let hit = view.admissionHit(r)
            let pending = view.requests.pendingTokens(r) - hit.tokens
            let n = min(pending, budget)
            if !view.limits.chunkedPrefill && n < pending { break }
            let need = view.admissionBlocks(r, hit: hit, newTokens: n)
            if need > free { break }
            plan.work.append(ScheduledWork(request: r, tokens: Int32(n)))
            budget -= n
            free -= need
            seats -= 1
        }
    }
}

/// LLMServingSim v0.2.1: whole-prompt prefill mixed with decodes (no chunking, no token budget
/// beyond the engine's), and preemption by swapping KV to host memory over its --remote_bw link.
public final class LLMServingSimScheduler: VLLMScheduler {
    public init() { super.init(name: "llmservingsim", preemption: .swap) }
}
