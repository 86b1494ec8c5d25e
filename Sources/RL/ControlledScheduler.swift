import ServeAPI

/// vLLM's continuous batching with its knobs turned by a `KnobAction`: admission order, token
/// budget, seat cap and KV watermark. Every plan goes through the engine's validation like any
/// scheduler's. The action comes from outside (`ServeEnv` sets it at each decision point) or from
/// a `decide` closure (a trained policy, in the `rl` scheduler), asked every `interval` seconds of
/// simulated time (0: every step).
public final class ControlledScheduler: KeyOrderedScheduler {
    /// Read for every waiting request as admission keys are computed, so without the runtime's
    /// per-access exclusivity check (it is set only between steps, never during `plan`).
    @exclusivity(unchecked) public var action: KnobAction
    public let interval: Double
    public let tracker: ObservationTracker
    /// Turns an observation into the next action; nil when the action is set from outside.
    public let decide: (([Double]) -> KnobAction)?
    public private(set) var decisions = 0
    private var lastDecision: Int64 = .min

    public init(name: String, interval: Double = 0, horizon: Double = 10, starvation: Double = 600,
                decide: (([Double]) -> KnobAction)? = nil) {
        action = .vllm
        self.interval = interval
        tracker = ObservationTracker(horizon: horizon)
        self.decide = decide
        super.init(name: name, starvationSeconds: starvation)
    }

    /// The policy decides at its own interval on the clock, so it sees every step.
    public override var capabilities: SchedulerCapabilities { SchedulerCapabilities(usesLengthPredictor: true, steadyDecode: false) }

    /// Whether a decision is due for a step starting at `now` (ns).
    public func due(_ now: Int64) -> Bool {
        interval <= 0 || lastDecision == .min || Double(now - lastDecision) >= interval * 1e9
    }

    /// Observes the view for a decision made from outside; the caller then sets `action`.
    public func observe(_ view: InstanceView) -> [Double] {
        lastDecision = view.now
        decisions += 1
        return tracker.observe(view)
    }

    /// The first hook of a step, so the decision is taken here: the scheduler then also decides
    /// when another scheduler (`smart`'s policy) calls its hooks instead of `plan`.
    public override func budget(_ view: InstanceView) -> Int {
        if let decide, due(view.now) { action = decide(observe(view)) }
        return max(1, Int((Double(view.limits.tokenBudget) * min(1, max(0.01, action.budgetFraction))).rounded()))
    }

    public override func seats(_ view: InstanceView) -> Int {
        max(1, Int((Double(view.limits.maxSeqs) * min(1, max(0.01, action.seatFraction))).rounded()))
    }

    public override func admissionReserve(_ view: InstanceView) -> Int {
        Int(Double(view.totalBlocks) * min(0.5, max(0, action.watermark)))
    }

    public override func prepareWaiting(_ view: InstanceView) {
        if action.rule != .fcfs { super.prepareWaiting(view) }
    }

    public override func nextWaiting(_ view: InstanceView, position: Int) -> Int32? {
        action.rule == .fcfs ? (position < view.waiting.count ? view.waiting[position] : nil) : super.nextWaiting(view, position: position)
    }

    public override func key(_ r: Int32, _ view: InstanceView) -> Double {
        let i = Int(r)
        let prompt = Double(view.requests.pendingTokens(r)), out = Double(view.requests.predictedOutput[i])
        let budget = Double(max(1, view.limits.tokenBudget)), seats = Double(max(1, view.limits.maxSeqs))
        switch action.rule {
        case .fcfs, .age: return 0  // ties break by arrival
        case .cost: return prompt / budget + out / seats
        case .prompt: return prompt
        case .score:
            let w = action.weights + [0, 0, 0]
            let wait = Double(view.now - view.requests.arrival[i]) * 1e-9
            return w[0] * prompt / budget + w[1] * out / seats - w[2] * wait
        }
    }
}
