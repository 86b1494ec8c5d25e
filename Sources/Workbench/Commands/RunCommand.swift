import ArgumentParser
import Foundation
import Schedulers
import ServeAPI
import ServeSim
import Workload

/// The configuration flags of a simulation: LLMServingSim v0.2.1's names plus the modern ones.
public struct SimulationArguments: ParsableArguments {
    @Option(name: .customLong("model_name"), help: "Model: a catalog name or a HuggingFace config.json.")
    var modelName: String = "meta-llama/Llama-3.1-8B-Instruct"
    @Option(help: "Hardware: a catalog name or a JSON profile.") var hardware: String = "RTX3090"
    @Option(name: .customLong("npu_num"), help: "Accelerators per instance (TP = npu_num / npu_group). LLMServingSim's default is 16; ours 1.")
    var npuNum: Int = 1
    @Option(name: .customLong("npu_group"), parsing: .unconditional, help: "Pipeline stages (PP).") var npuGroup: Int = 1
    @Option(name: .customLong("max_batch"), parsing: .unconditional, help: "Maximum running requests (0 = engine default; same as --max-num-seqs).") var maxBatch: Int = 0
    @Option(name: .customLong("npu_mem"), parsing: .unconditional, help: "Device memory, GB (overrides the hardware profile).") var npuMem: Double?
    @Option(name: .customLong("local_bw"), parsing: .unconditional, help: "Device memory bandwidth, GB/s (overrides the profile).") var localBW: Double?
    @Option(name: .customLong("remote_bw"), parsing: .unconditional, help: "Host memory bandwidth for swap, GB/s.") var remoteBW: Double?
    @Option(name: .customLong("link_bw"), parsing: .unconditional, help: "Device link bandwidth, GB/s.") var linkBW: Double?
    @Option(name: .customLong("link_latency"), parsing: .unconditional, help: "Link latency, ns.") var linkLatency: Double?
    @Option(parsing: .unconditional, help: "Weight and KV precision in bits (16 = bf16).") var fp: Int = 16
    @Option(name: .customLong("block_size"), parsing: .unconditional, help: "KV block size in tokens.") var blockSize: Int = 16
    @Option(help: "Trace file (default: the embedded ShareGPT-like sample, identical to dataset/sharegpt-like-100.tsv).")
    var dataset: String?
    @Option(name: .customLong("log_interval"), parsing: .unconditional, help: "Time-series interval, s.") var logInterval: Double = 1.0
    @Flag(name: .customLong("gen"), help: "LLMServingSim's generation-only mode: prompts arrive already prefilled.") var generationOnly = false

    @Option(help: "Scheduler, with options: vllm, sarathi:chunk=512, sjf:predictor=noisy-oracle,sigma=0.5, orca:reserve=oracle, mlfq, priority:weights=GPT-4:3, llmservingsim, ...")
    var scheduler: String = "vllm"
    @Option(help: "Router across instances: round-robin, least-outstanding, least-kv, power-of-two.") var router: String = "round-robin"
    @Option(help: "Output-length predictor for schedulers that use one: oracle, noisy-oracle:sigma=0.5.") var predictor: String = "oracle"
    @Option(parsing: .unconditional, help: "Data-parallel instances behind the router.") var instances: Int = 1
    @Option(help: "Autoscale the fleet: forecast:model=holt,horizon=30s,target_util=0.7,cold_start=20s,min=1,max=8 or reactive:target_util=0.7,... (see `autoscalers`).")
    var autoscale: String?
    @Option(parsing: .unconditional, help: "Tensor-parallel degree (overrides --npu_num / --npu_group).") var tp: Int?
    @Option(parsing: .unconditional, help: "Pipeline-parallel degree (overrides --npu_group).") var pp: Int?
    @Option(name: .customLong("max-num-seqs"), parsing: .unconditional, help: "Most requests running at once (vLLM max_num_seqs; default 256).") var maxNumSeqs: Int?
    @Option(name: .customLong("max-num-batched-tokens"), parsing: .unconditional, help: "Token budget per step (default 2048; 16384 for whole-prompt schedulers).") var maxNumBatchedTokens: Int?
    @Option(name: .customLong("gpu-memory-utilization"), parsing: .unconditional, help: "Share of device memory the engine may use.") var gpuMemoryUtilization: Double = 0.9
    @Option(name: .customLong("num-gpu-blocks"), parsing: .unconditional, help: "Override the KV block count.") var numGPUBlocks: Int?
    @Flag(name: .customLong("no-chunked-prefill"), help: "Admit whole prompts only.") var noChunkedPrefill = false
    @Flag(name: .customLong("no-prefix-caching"), help: "Ignore the trace's shared prefixes.") var noPrefixCaching = false
    @Option(name: .customLong("max-model-len"), parsing: .unconditional, help: "Longest prompt + output accepted (default: the model's).") var maxModelLen: Int?
    @Option(name: .customLong("latency-table"), help: "Measured step-latency CSV (tokens,context_tokens,latency_ms).") var latencyTable: String?
    @Option(name: .customLong("latency-profile"), help: "LLMServingSim 2.0 profile bundle folder (its variant folder or any folder above it).")
    var latencyProfile: String?
    @Flag(name: .customLong("ep"), help: "Expert parallelism for MoE models (vLLM's --enable-expert-parallel): experts sharded across TP × instances.")
    var expertParallel = false
    @Option(name: .customLong("slo-ttft"), parsing: .unconditional, help: "TTFT SLO, s (0 disables).") var sloTTFT: Double = 2
    @Option(name: .customLong("slo-tpot"), parsing: .unconditional, help: "TPOT SLO, s (0 disables).") var sloTPOT: Double = 0.1
    @Option(name: .customLong("slo-e2e"), parsing: .unconditional, help: "E2E SLO, s (0 disables).") var sloE2E: Double = 0
    @Option(parsing: .unconditional, help: "Random seed.") var seed: UInt64 = 0
    @Flag(name: .customLong("no-fast-forward"), help: "Simulate every decode step instead of advancing decode-only stretches in one go (identical results; for timing and checks).")
    var noFastForward = false

    public init() {}


    public func config() throws -> ClusterConfig {
        var hw = try HardwareCatalog.resolve(hardware)
        HardwareDefaults.warnOnce(hardware)
        if let v = npuMem { hw.memoryGB = v }
        if let v = localBW { hw.memoryBandwidthGBs = v }
        if let v = remoteBW { hw.hostBandwidthGBs = v }
        if let v = linkBW { hw.linkBandwidthGBs = v }
        if let v = linkLatency { hw.linkLatencyUs = v / 1000 }
        var model = try ModelCatalog.resolve(modelName)
        guard [8, 16, 32].contains(fp) else { throw UsageError("--fp expects 8, 16 or 32 bits, got \(fp)") }
        model.dtypeBytes = fp / 8
        var c = ClusterConfig(hardware: hw, model: model)
        guard (1...1_048_576).contains(npuNum), (1...1024).contains(npuGroup), npuNum % npuGroup == 0 else {
            throw UsageError("--npu_num (\(npuNum)) must be a multiple of --npu_group (\(npuGroup)); --npu_num 1...1048576, --npu_group 1...1024")
        }
        c.pipelineParallel = pp ?? npuGroup
        c.tensorParallel = tp ?? npuNum / npuGroup
        c.instances = instances
        if let spec = try autoscaleSpec() {
            // Every instance the autoscaler may power is built up front.
            let most = Int(spec.options["max"] ?? "8") ?? 8
            guard (1...4096).contains(most) else { throw UsageError("--autoscale: max expects 1...4096 instances, got \(most)") }
            c.instances = max(instances, most)
        }
        c.expertParallel = expertParallel
        var k = EngineKnobs()
        if maxBatch < 0 { throw UsageError("--max_batch must be ≥ 0, got \(maxBatch)") }
        if maxBatch > 0 { k.maxNumSeqs = maxBatch }
        if let v = maxNumSeqs { k.maxNumSeqs = v }
        k.blockSize = blockSize
        k.gpuMemoryUtilization = gpuMemoryUtilization
        k.numGPUBlocksOverride = numGPUBlocks
        k.maxModelLen = maxModelLen
        k.prefixCaching = !noPrefixCaching
        k.skipPrefill = generationOnly
        let wholePrompts = try SchedulerChoice(scheduler).make().capabilities.wholePromptAdmission
        k.chunkedPrefill = !noChunkedPrefill && !wholePrompts
        // Whole prompts need a budget that holds the longest prompt: 16k tokens unless one is given
        // (LLMServingSim v0.2.1 has no budget; its ShareGPT prompts stay far below this).
        k.maxNumBatchedTokens = maxNumBatchedTokens ?? (k.chunkedPrefill ? 2048 : min(16_384, maxModelLen ?? model.maxPositions))
        c.knobs = k
        for (flag, v) in [("--slo-ttft", sloTTFT), ("--slo-tpot", sloTPOT), ("--slo-e2e", sloE2E)] where !(0...1e6).contains(v) {
            throw UsageError("\(flag) must be in 0...1e6 s (0 disables it), got \(v)")
        }
        if let m = maxModelLen, !(2...Int(Checked.maxTokens)).contains(m) {
            throw UsageError("--max-model-len must be in 2...\(Checked.maxTokens), got \(m)")
        }
        c.slo = SLO(ttft: sloTTFT > 0 ? sloTTFT : nil, tpot: sloTPOT > 0 ? sloTPOT : nil, e2e: sloE2E > 0 ? sloE2E : nil)
        c.logInterval = logInterval
        c.seed = seed
        try c.validate()
        return c
    }

    func autoscaleSpec() throws -> NamedSpec? {
        try autoscale.map { try NamedSpec(parsing: $0, what: "--autoscale") }
    }

    /// A fresh autoscaler for one run (they keep state), or nil for a fixed fleet.
    public func makeAutoscaler() throws -> (any InstanceAutoscaler)? {
        guard let spec = try autoscaleSpec() else { return nil }
        return try Components.autoscalers.entry(named: spec.name).instantiate(spec.options)
    }

    public func makeRouter(instances: Int) throws -> (any RequestRouter)? {
        guard instances > 1 else { return nil }
        let spec = try NamedSpec(parsing: router, what: "--router")
        return try Components.routers.entry(named: spec.name).instantiate(spec.options)
    }

    /// The predictor in effect: the one named in the scheduler spec, else `--predictor`.
    public func predictorSpec() throws -> NamedSpec {
        try SchedulerChoice(scheduler).predictor ?? NamedSpec(parsing: predictor, what: "--predictor")
    }

    public func predictions(for trace: Trace) throws -> [Int32] {
        let spec = try predictorSpec()
        let p = try Components.lengthPredictors.entry(named: spec.name).instantiate(spec.options)
        return p.predict(RequestFeatures(trace), seed: seed)
    }

    public func latencyModel(_ config: ClusterConfig) throws -> LatencyModel {
        if latencyTable != nil && latencyProfile != nil {
            throw UsageError("--latency-table and --latency-profile both name a latency model; give one")
        }
        return try LatencyModel.resolve(config, table: latencyTable, profile: latencyProfile)
    }
}

/// The ShareGPT-like sample that `make run` simulates, regenerated in memory when no dataset is given
/// (the same spec as `make dataset` writes to dataset/sharegpt-like-100.tsv; a test checks they agree).
public enum EmbeddedSample {
    public static let path = "dataset/sharegpt-like-100.tsv"

    public static func trace() throws -> Trace {
        try SyntheticWorkload(count: 100, arrivals: .poisson(rate: 10),
                              prompt: .logNormal(median: 180, sigma: 1, min: 1, max: 2048),
                              output: .logNormal(median: 150, sigma: 0.9, min: 1, max: 1024), seed: 42).generate()
    }
}

public struct RunCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Simulate a workload on a configuration and print the summary.",
        discussion: """
        With no arguments: the embedded ShareGPT-like sample on Llama-3.1-8B-Instruct and one RTX3090.
        Example: smartserve run --dataset trace.tsv --hardware H100 --model_name meta-llama/Llama-3.1-8B --output out.csv
        """)
    @OptionGroup var sim: SimulationArguments
    @OptionGroup var load: LoadArguments
    @Option(help: "Per-request CSV in LLMServingSim's columns (plus instance, preemptions, ITL).") var output: String?
    @Option(name: .customLong("timeseries"), help: "Per-interval CSV.") var timeseries: String?
    @Flag(help: "Print the summary as JSON.") var json = false
    @Flag(help: "Print LLMServingSim-style per-interval throughput lines.") var verbose = false
    public init() {}

    public func run() throws {
        Interrupt.catchSignal()
        let (trace, label) = try loadWorkload(sim.dataset, load)
        let started = Date()
        let result = try ProgressBar.around { try simulate(trace, sim, hooks: $0) }
        let wall = Date().timeIntervalSince(started)
        if let output { try RunReport.writeRequestsCSV(result, to: output) }
        if let timeseries { try RunReport.writeTimeSeriesCSV(result, to: timeseries) }
        let summary = RunSummary(result)
        if json {
            Terminal.out(RunReport.json(summary, result).render())
        } else {
            if verbose { Terminal.out(RunReport.intervalLines(result)) }
            Terminal.out(RunReport.text(summary, result, workload: label, trace: trace))
            Terminal.out("simulated in \(fixed(wall, 3)) s (\(fixed(Double(trace.count) / max(wall, 1e-9), 0)) requests/s, \(fixed(Double(summary.steps) / max(wall, 1e-9), 0)) steps/s)")
            if let output { Terminal.out("per-request CSV: \(output)") }
        }
    }
}

/// Loads the dataset named by --dataset, or the embedded sample.
func loadWorkload(_ path: String?, _ load: LoadArguments) throws -> (Trace, String) {
    if let path {
        let (trace, _) = try loadTrace(path, load)
        return (trace, path)
    }
    var trace = try EmbeddedSample.trace()
    let options = try load.options()
    if options != LoadOptions() {
        // Apply the same normalisation as for a file.
        let text = TextBuffer(string: TraceWriter.render(trace, as: .llmservingsimTSV), path: EmbeddedSample.path)
        trace = try TraceLoader.load(text, options: options).0
    }
    return (trace, "embedded sample (\(EmbeddedSample.path))")
}

/// Builds everything a run needs from the arguments and simulates.
public func simulate(_ trace: Trace, _ sim: SimulationArguments, hooks: Simulator.Hooks = Simulator.Hooks()) throws -> RunResult {
    let choice = try SchedulerChoice(sim.scheduler)
    let config = try sim.config()
    let router = try sim.makeRouter(instances: config.instances)
    let predictor = try sim.predictorSpec().name
    // Whose code runs, for a crash inside a plugin.
    let components = [("scheduler", choice.entry.name),
                      ("router", try NamedSpec(parsing: sim.router, what: "--router").name), ("predictor", predictor)]
    return try CrashContext.during(components) {
        let simulator = try Simulator(trace: trace, config: config, latency: try sim.latencyModel(config),
                                      makeScheduler: { try choice.make() }, router: router,
                                      predictedOutput: try sim.predictions(for: trace), requestClasses: requestClasses(trace),
                                      autoscaler: try sim.makeAutoscaler())
        simulator.fastForward = !sim.noFastForward
        return try simulator.run(hooks)
    }
}

/// Says once per file which constants a hardware JSON left to the catalog: a profile missing a
/// key silently priced with another GPU's figure is a wrong result nobody sees.
enum HardwareDefaults {
    nonisolated(unsafe) static var warned: Set<String> = []
    private static let lock = NSLock()

    static func warnOnce(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        guard !warned.contains(path), let (keys, base) = HardwareCatalog.defaultedKeys(path), !keys.isEmpty else { return }
        warned.insert(path)
        Terminal.warn("hardware file \(path) leaves \(keys.count) of \(HardwareProfile.constantKeys.count) constants to the catalog entry \(base): \(keys.joined(separator: ", "))")
    }
}
