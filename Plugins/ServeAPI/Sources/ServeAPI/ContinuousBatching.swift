/// Continuous batching with vLLM V1's step semantics, the base of most schedulers (built-in or
/// plugin): subclass it and override the hooks; the mechanics stay vLLM's.
///
/// Each step: running requests are served in `orderRunning` order (a decode needs 1 token, an
/// unfinished prefill min(remaining, budget)). When one cannot get its next blocks, the request at
/// the end of that order (the lowest priority) is preempted, possibly the request itself. Then,
/// only if nothing was preempted, waiting requests are admitted in `nextWaiting` order while
/// budget, seats and blocks last, each with a chunk of its prompt (chunked prefill) after any
/// cached prefix; `admitted` is told of each.
open class ContinuousBatchingScheduler: StepScheduler {
    public let name: String
    public let preemption: PreemptionMode
    /// Scratch buffer for the running order (kept to avoid per-step allocation). Touched only
    /// inside `plan`, which the engine never re-enters: the runtime's exclusivity check per access
    /// would cost more than the step's work.
    @exclusivity(unchecked) private var order: [Int32] = []

    public init(name: String, preemption: PreemptionMode = .recompute) {
        self.name = name
        self.preemption = preemption
    }

    /// Override to declare what the scheduler needs (whole prompts, a length predictor).
    open var capabilities: SchedulerCapabilities { SchedulerCapabilities() }

    /// Tokens this step may compute (default: the engine's `max_num_batched_tokens`). Asked first
    /// in every step, before any other hook: take per-step decisions here, so that they are also
    /// taken when another scheduler (such as `smart` delegating to a policy) calls the hooks.
    open func budget(_ view: InstanceView) -> Int { view.limits.tokenBudget }

    /// Most requests running after this step's admissions (default: the engine's `max_num_seqs`;
    /// a smaller cap leaves seats empty; values above the engine's limit are clipped to it).
    open func seats(_ view: InstanceView) -> Int { view.limits.maxSeqs }

    /// KV blocks admission keeps free while something runs (default 0): a watermark that holds new
    /// prompts back before running requests would have to be preempted to grow. An idle instance
    /// ignores it, so a queued request is always admitted when it fits.
    open func admissionReserve(_ view: InstanceView) -> Int { 0 }

    /// Running requests, highest priority first (default: queue order, earliest admitted first).
    /// Append every running request exactly once.
    open func orderRunning(_ view: InstanceView, into order: inout [Int32]) {
        order.append(contentsOf: view.running)
    }

    /// Called once per step before admission; `nextWaiting` then yields candidates in order.
    open func prepareWaiting(_ view: InstanceView) {}

    /// The next waiting request to consider (default: FCFS queue order), nil when none is left.
    /// `position` counts the candidates already returned this step.
    open func nextWaiting(_ view: InstanceView, position: Int) -> Int32? {
        position < view.waiting.count ? view.waiting[position] : nil
    }

    /// Notified of each admission (for schedulers that keep accounts).
    open func admitted(_ r: Int32, view: InstanceView) {}

    open func plan(_ view: InstanceView, into plan: inout StepPlan) {
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
        admitWaiting(view, budget: budget, freeBlocks: free, into: &plan)
    }

    /// The admission half of `plan`: appends the waiting requests admitted in `nextWaiting` order
    /// while `budget` tokens, the seats `seats` leaves beside `view.running` and `freeBlocks`
    /// blocks (what the running requests' work left of each) last, telling `admitted` of each.
    /// `plan` calls it after serving the running requests; the engine calls it alone inside a
    /// decode stretch of a scheduler that declares `steadyAdmission`.
    public final func admitWaiting(_ view: InstanceView, budget: Int, freeBlocks: Int, into plan: inout StepPlan) {
        var budget = budget, free = freeBlocks
        var seats = min(view.limits.maxSeqs, max(1, seats(view))) - view.running.count
        // No seat or no budget left: no admission this step, so the waiting order is not needed
        // (under overload this skips ordering a long queue every step).
        guard seats > 0, budget > 0, !view.waiting.isEmpty else { return }
        let reserve = view.running.isEmpty ? 0 : max(0, admissionReserve(view))
        prepareWaiting(view)
        var position = 0
        while budget > 0, seats > 0, let r = nextWaiting(view, position: position) {
            position += 1
            let hit = view.admissionHit(r)
            let pending = view.requests.pendingTokens(r) - hit.tokens
            let n = min(pending, budget)
            if !view.limits.chunkedPrefill && n < pending { break }
            let need = view.admissionBlocks(r, hit: hit, newTokens: n)
            if need > free - reserve { break }
            plan.work.append(ScheduledWork(request: r, tokens: Int32(n)))
            admitted(r, view: view)
            budget -= n
            free -= need
            seats -= 1
        }
    }
}

/// Admission by a per-request key, smallest first, with a starvation guard: a request that has
/// waited longer than `starvationSeconds` since arrival is promoted ahead of every key, oldest
/// first (0 disables the guard). Running requests keep vLLM's treatment. Override `key`:
///
///     final class EDF: KeyOrderedScheduler {
///         init() { super.init(name: "edf") }
///         override func key(_ r: Int32, _ view: InstanceView) -> Double {
///             Double(view.requests.arrival[Int(r)]) + (view.slo.ttft ?? 2) * 1e9
///         }
///     }
open class KeyOrderedScheduler: ContinuousBatchingScheduler {
    public let starvationNanos: Int64
    /// Rebuilt in `prepareWaiting` and drained by `nextWaiting` within one `plan` call (see `order`).
    @exclusivity(unchecked) private var queue = KeyedQueue()

    public init(name: String, starvationSeconds: Double = 0, preemption: PreemptionMode = .recompute) {
        starvationNanos = Int64(min(max(0, starvationSeconds), 1e9) * 1e9)
        super.init(name: name, preemption: preemption)
    }

    /// The request's admission key; smaller goes first (ties: earlier arrival, then lower id).
    open func key(_ r: Int32, _ view: InstanceView) -> Double { 0 }

    open override func prepareWaiting(_ view: InstanceView) {
        queue.reset()
        for r in view.waiting {
            let arrival = view.requests.arrival[Int(r)]
            let starved = starvationNanos > 0 && view.now - arrival > starvationNanos
            queue.add(r, key: starved ? -.infinity : key(r, view), tie: arrival)
        }
        queue.heapify()
    }

    open override func nextWaiting(_ view: InstanceView, position: Int) -> Int32? { queue.popMin() }
}

/// Picks waiting requests in increasing key order with a binary heap built once per step: O(W)
/// to build, O(log W) per admitted request, so a long queue costs little when few are admitted.
/// Use it from `prepareWaiting` (`reset`, `add` each request, `heapify`) and `nextWaiting` (`popMin`).
public struct KeyedQueue {
    private var heap: [(key: Double, tie: Int64, request: Int32)] = []

    public init() {}

    /// Empties the queue, keeping its storage.
    public mutating func reset() { heap.removeAll(keepingCapacity: true) }

    /// Adds a request with its key (smaller first) and tie-break (smaller first, then lower id).
    public mutating func add(_ request: Int32, key: Double, tie: Int64) { heap.append((key, tie, request)) }

    static func less(_ a: (key: Double, tie: Int64, request: Int32), _ b: (key: Double, tie: Int64, request: Int32)) -> Bool {
        a.key < b.key || (a.key == b.key && (a.tie < b.tie || (a.tie == b.tie && a.request < b.request)))
    }

    /// Orders what was added; call once before the first `popMin`.
    public mutating func heapify() {
        guard heap.count > 1 else { return }
        for start in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(start) }
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count && Self.less(heap[l], heap[m]) { m = l }
            if r < heap.count && Self.less(heap[r], heap[m]) { m = r }
            if m == i { return }
            heap.swapAt(i, m)
            i = m
        }
    }

    /// The request with the smallest key, removed; nil when empty.
    public mutating func popMin() -> Int32? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
        return top.request
    }
}
