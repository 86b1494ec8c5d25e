import ServeAPI

/// Registers the built-in schedulers, length predictors and routers. Adding one is a new type
/// plus one registration here.
public enum Builtins {
    public static func register() {
        registerOnce
    }


    private static let registerOnce: Void = {
        let s = Registries.schedulers
        let preemption = OptionSpec("preemption", .choice(["recompute", "swap"]), default: "recompute",
                                    doc: "recompute (vLLM V1 default) frees the KV; swap moves it to host memory")
        s.register(SchedulerEntry(
            name: "vllm", summary: "vLLM V1: running first, preemption of the latest, chunked prefill admission",
            options: [preemption]) { o in
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
        s.register(SchedulerEntry(
            name: "sarathi", summary: "Sarathi-Serve: decodes first, then ongoing prefill chunks, then new prefills, under a small token budget",
            options: [OptionSpec("chunk", .int, default: "512", range: 16...65536, doc: "token budget per step (capped by max_num_batched_tokens)"),
                      preemption]) { o in
            SarathiScheduler(chunk: o.int("chunk"), preemption: PreemptionMode(rawValue: o.string("preemption"))!)
        })
        let starvation = OptionSpec("starvation", .double, default: "600", range: 0...86_400,
                                    doc: "seconds of waiting after which a request is admitted before any shorter one (0: never)")
        s.register(SchedulerEntry(
            name: "sjf", summary: "shortest job first on the predicted output length, with age-based promotion",
            options: [OptionSpec.lengthPredictor, starvation]) { o in
            SJFScheduler(starvationSeconds: o.double("starvation"))
        })
        s.register(SchedulerEntry(
            name: "srpt", summary: "shortest remaining predicted output first; preempts the longest remaining",
            options: [OptionSpec.lengthPredictor, starvation]) { o in
            SRPTScheduler(starvationSeconds: o.double("starvation"))
        })
        s.register(SchedulerEntry(
            name: "ltr", summary: "learning to rank: admit by predicted rank score, promote after being overtaken too often",
            options: [OptionSpec.lengthPredictor, OptionSpec("starvation_limit", .int, default: "256", range: 1...1_000_000,
                                                  doc: "admissions of later arrivals a request may be overtaken by before promotion")]) { o in
            LTRScheduler(starvationLimit: o.int("starvation_limit"))
        })
        s.register(SchedulerEntry(
            name: "mlfq", summary: "FastServe skip-join multi-level feedback queue with token-level preemption",
            options: [OptionSpec("quantum_ms", .double, default: "10", range: 0.01...100_000, doc: "quantum of the top level, ms"),
                      OptionSpec("ratio", .double, default: "2", range: 1...100, doc: "quantum growth per level"),
                      OptionSpec("levels", .int, default: "8", range: 1...64, doc: "number of levels"),
                      OptionSpec("starvation", .double, default: "3", range: 0.001...86_400, doc: "seconds unserved before promotion to the top level"),
                      OptionSpec("prefill_tokens_per_ms", .double, default: "20", range: 0.01...1_000_000,
                                 doc: "prefill speed assumed for skip-join (prompt tokens per ms)")]) { o in
            MLFQScheduler(baseQuantumMs: o.double("quantum_ms"), ratio: o.double("ratio"), levels: o.int("levels"),
                          starvationSeconds: o.double("starvation"), prefillTokensPerMs: o.double("prefill_tokens_per_ms"))
        })
        s.register(SchedulerEntry(
            name: "priority", summary: "weighted classes (the trace's models or log types): service in proportion to weight",
            options: [OptionSpec("weights", .string, default: "", doc: "NAME:WEIGHT;NAME:WEIGHT, e.g. GPT-4:3;ChatGPT:1 (others weigh 1)")]) { o in
            PriorityScheduler(weights: try PriorityScheduler.parse(o.string("weights")))
        })

        s.register(SchedulerEntry(
            name: "smart", summary: "prediction-orchestrated: forecast-driven budget, cost-ordered admission, KV watermark; falls back when predictions fail",
            options: SmartScheduler.options) { o in try SmartScheduler.make(o) }
        )

        let p = Registries.lengthPredictors
        p.register(PredictorEntry(name: "oracle", summary: "the true output length (upper bound)") { _ in OraclePredictor() })
        p.register(PredictorEntry(
            name: "noisy-oracle", summary: "the true length with log-normal error of width sigma",
            options: [OptionSpec("sigma", .double, default: "0.5", range: 0...5, doc: "standard deviation of the log error")]) { o in
            NoisyOraclePredictor(sigma: o.double("sigma"))
        })
        p.register(PredictorEntry(
            name: "bucket", summary: "a length-bucket classifier with configurable confusion",
            options: [OptionSpec("edges", .string, default: "64;256;1024", doc: "bucket edges in tokens, ';'-separated"),
                      OptionSpec("accuracy", .double, default: "0.8", range: 0...1, doc: "probability of the right bucket (else a neighbour)")]) { o in
            BucketPredictor(edges: try BucketPredictor.parseEdges(o.string("edges")), accuracy: o.double("accuracy"))
        })
        p.register(PredictorEntry(
            name: "history", summary: "mean output by prompt-length bin, learned from the first part of the trace",
            options: [OptionSpec("train", .double, default: "0.2", range: 0.001...1, doc: "share of the trace (in arrival order) used for learning")]) { o in
            HistoryPredictor(train: o.double("train"))
        })
        p.register(PredictorEntry(
            name: "learned", summary: "online regression (ridge, or a small network) on prompt length, session, turn, model and log type",
            options: [OptionSpec("model", .choice(["ridge", "mlp"]), default: "ridge", doc: "ridge: recursive least squares; mlp: one tanh layer trained by Adam"),
                      OptionSpec("delay", .double, default: "60", range: 0...86_400,
                                 doc: "seconds after its arrival that a request's true length becomes a training label"),
                      OptionSpec("quantile", .double, default: "0", range: 0...0.99,
                                 doc: "mlp only: 0 for squared error on log length, else the quantile fitted by pinball loss"),
                      OptionSpec("hidden", .int, default: "16", range: 1...256, doc: "mlp only: hidden units"),
                      OptionSpec("lr", .double, default: "0.01", range: 1e-6...1, doc: "mlp only: Adam learning rate")]) { o in
            LearnedPredictor(delay: o.double("delay"), quantile: o.double("quantile"), hidden: o.int("hidden"), learningRate: o.double("lr"),
                             network: o.string("model") == "mlp")
        })
        p.register(PredictorEntry(
            name: "rank-tau", summary: "rank scores tuned to a target Kendall tau against the true lengths",
            options: [OptionSpec("tau", .double, default: "0.6", range: 0...1, doc: "target Kendall tau")]) { o in
            RankTauPredictor(tau: o.double("tau"))
        })

        registerAutoscalers()

        let r = Registries.routers
        r.register(RouterEntry(name: "round-robin", summary: "instances in turn") { _ in RoundRobinRouter() })
        r.register(RouterEntry(name: "least-outstanding", summary: "the instance with the fewest waiting + running requests") { _ in
            LeastOutstandingRouter()
        })
        r.register(RouterEntry(name: "vllm-dp", summary: "vLLM's data-parallel balancing: lowest 4 × waiting + running") { _ in
            VLLMDataParallelRouter()
        })
        r.register(RouterEntry(name: "least-kv", summary: "Llumnix freeness: most free KV after queued demand, per running request") { _ in
            LeastKVRouter()
        })
        r.register(RouterEntry(
            name: "power-of-two", summary: "two random instances, the less loaded wins",
            options: [OptionSpec("seed", .int, default: "0", range: 0...4_294_967_295, doc: "random seed")]) { o in
            PowerOfTwoRouter(seed: UInt64(o.int("seed")))
        })
    }()
}
