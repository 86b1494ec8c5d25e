import ServeAPI

/// vLLM V1: FCFS, recompute preemption of the latest admitted request (or swap, as an option).
public final class VLLMScheduler: ContinuousBatchingScheduler {
    public init(preemption: PreemptionMode = .recompute) { super.init(name: "vllm", preemption: preemption) }
    // FCFS admission reads only the waiting queue.
    public override var capabilities: SchedulerCapabilities { SchedulerCapabilities(steadyAdmission: true) }
}

/// LLMServingSim v0.2.1: whole-prompt prefill mixed with decodes (no chunking, no token budget
/// beyond the engine's), and preemption by swapping KV to host memory over its --remote_bw link.
public final class LLMServingSimScheduler: ContinuousBatchingScheduler {
    public init() { super.init(name: "llmservingsim", preemption: .swap) }
    public override var capabilities: SchedulerCapabilities { SchedulerCapabilities(wholePromptAdmission: true, tpot: .latencyOverOutput, steadyAdmission: true) }
}
