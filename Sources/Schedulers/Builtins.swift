import ServeAPI

/// Registers the built-in schedulers and routers. Adding one is a new type plus one line here.
public enum Builtins {
    public static func register() {
        registerOnce
    }

    private static let registerOnce: Void = {
        let s = Registries.schedulers
        s.register(SchedulerEntry(
            name: "vllm", summary: "vLLM V1: running first, preemption of the latest, chunked prefill admission",
            options: [OptionSpec("preemption", .choice(["recompute", "swap"]), default: "recompute",
                                 doc: "recompute (vLLM V1 default) frees the KV; swap moves it to host memory")]) { o in
            VLLMScheduler(preemption: PreemptionMode(rawValue: o.string("preemption"))!)
        })
        s.register(SchedulerEntry(
            name: "orca", summary: "Orca: whole prompts, KV reserved for the maximum length at admission",
            options: [OptionSpec("reserve", .choice(OrcaScheduler.Reservation.allCases.map(\.rawValue)), default: "max",
                                 doc: "max: max_len tokens; oracle: the request's (predicted) total; pow2: that rounded up to a power of two"),
                      OptionSpec("max_len", .int, default: "4096", range: 1...1_048_576, doc: "maximum sequence length reserved by reserve=max")]) { o in
            OrcaScheduler(reservation: OrcaScheduler.Reservation(rawValue: o.string("reserve"))!, maxLength: o.int("max_len"))
        })
        s.register(SchedulerEntry(name: "llmservingsim", summary: "LLMServingSim v0.2.1: whole-prompt prefill, swap preemption over the host link") { _ in
            LLMServingSimScheduler()
        })
        let p = Registries.lengthPredictors
        p.register(PredictorEntry(name: "oracle", summary: "the true output length (upper bound)") { _ in OraclePredictor() })
        p.register(PredictorEntry(
            name: "noisy-oracle", summary: "the true length with log-normal error of width sigma",
            options: [OptionSpec("sigma", .double, default: "0.5", range: 0...5, doc: "standard deviation of the log error")]) { o in
            NoisyOraclePredictor(sigma: o.double("sigma"))
        })
        let r = Registries.routers
        r.register(RouterEntry(name: "round-robin", summary: "instances in turn") { _ in RoundRobinRouter() })
        r.register(RouterEntry(name: "least-outstanding", summary: "the instance with the fewest waiting + running requests") { _ in
            LeastOutstandingRouter()
        })
    }()
}
