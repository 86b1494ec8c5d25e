import ServeAPI

/// Sarathi-Serve (OSDI'24) stall-free batching: every step first serves all decodes, then the
/// ongoing prefill chunks, then new prefills, all cut to a small token budget (the chunk size),
/// so a long prompt never stalls the decodes behind it and inter-token latency stays flat.
public final class SarathiScheduler: ContinuousBatchingScheduler {
    let chunk: Int

    /// - Parameter chunk: the per-step token budget (the paper uses 512–2048; smaller gives
    ///   lower tail TBT at some throughput cost). Never above the engine's budget.
    public init(chunk: Int = 512, preemption: PreemptionMode = .recompute) {
        self.chunk = chunk
        super.init(name: "sarathi", preemption: preemption)
    }

    // A fixed budget, FCFS admission: only the running order reads running requests.
    public override var capabilities: SchedulerCapabilities { SchedulerCapabilities(steadyAdmission: true) }

    public override func budget(_ view: InstanceView) -> Int { min(chunk, view.limits.tokenBudget) }

    public override func orderRunning(_ view: InstanceView, into order: inout [Int32]) {
        for r in view.running where view.requests.pendingTokens(r) == 1 { order.append(r) }
        for r in view.running where view.requests.pendingTokens(r) > 1 { order.append(r) }
    }
}
