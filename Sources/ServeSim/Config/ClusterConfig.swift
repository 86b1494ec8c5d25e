import ServeAPI
import Workload

/// Engine knobs, named as in vLLM.
public struct EngineKnobs: Sendable, Equatable {
    public var maxNumSeqs = 256
    public var maxNumBatchedTokens = 2048
    public var blockSize = 16
    public var gpuMemoryUtilization = 0.9
    /// Overrides the KV block count computed from memory (vLLM's num_gpu_blocks_override).
    public var numGPUBlocksOverride: Int? = nil
    public var chunkedPrefill = true
    public var maxModelLen: Int? = nil
    /// Prefix caching where the trace carries prefixes (vLLM's default is on).
    public var prefixCaching = true
    /// LLMServingSim's --gen: requests arrive with their prompt's KV already computed, so the
    /// simulation covers the generation phase only (a recompute preemption still loses it).
    public var skipPrefill = false
    /// vLLM V1's asynchronous scheduling: the CPU schedules and prepares step n + 1 while the device
    /// runs step n, so CPU overheads only show when they exceed the device time.
    public var asyncScheduling = true
    public init() {}
}

/// Service-level objectives for attainment and goodput (seconds). nil disables a bound.
public struct SLO: Sendable, Equatable {
    public var ttft: Double? = 2.0
    public var tpot: Double? = 0.1
    public var e2e: Double? = nil
    public init(ttft: Double? = 2.0, tpot: Double? = 0.1, e2e: Double? = nil) {
        self.ttft = ttft
        self.tpot = tpot
        self.e2e = e2e
    }

    /// Whether a request's TTFT, TPOT (nil for a one-token output, which meets any bound) and E2E,
    /// in seconds, meet their bounds, and whether it meets all of them: the one rule behind SLO
    /// attainment, goodput and the RL reward.
    public func outcome(ttft t: Double, tpot p: Double?, e2e e: Double) -> (ttft: Bool, tpot: Bool, all: Bool) {
        let ttftOK = ttft.map { t <= $0 } ?? true
        let tpotOK = tpot.map { bound in p.map { $0 <= bound } ?? true } ?? true
        let e2eOK = e2e.map { e <= $0 } ?? true
        return (ttftOK, tpotOK, ttftOK && tpotOK && e2eOK)
    }
}

/// Hardware × model × parallelism × engine knobs: everything that decides how a trace is served.
public struct ClusterConfig: Sendable {
    public var hardware: HardwareProfile
    public var model: ModelSpec
    public var tensorParallel = 1
    public var pipelineParallel = 1
    /// Data-parallel instances behind the router.
    public var instances = 1
    /// vLLM's enable_expert_parallel: a MoE model's experts are sharded whole across the TP × DP
    /// ranks (each holds experts / (TP × DP)) instead of each expert being split by TP, and every
    /// MoE layer exchanges tokens with an all-to-all dispatch and combine over the link.
    public var expertParallel = false
    public var knobs = EngineKnobs()
    public var slo = SLO()
    /// Seconds per time-series interval (LLMServingSim's --log_interval).
    public var logInterval = 1.0
    public var seed: UInt64 = 0

    /// Data-parallel instances a configuration may have.
    public static let maxInstances = 4096
    public static let logIntervalRange = 0.001...86_400.0

    public init(hardware: HardwareProfile, model: ModelSpec) {
        self.hardware = hardware
        self.model = model
    }

    public var devicesPerInstance: Int { tensorParallel * pipelineParallel }
    /// Ranks the experts are sharded over: TP × DP with expert parallelism, else 1 (TP splits each expert).
    public var expertParallelDegree: Int { expertParallel && model.isMoE ? tensorParallel * instances : 1 }
    public var maxModelLen: Int { knobs.maxModelLen ?? model.maxPositions }

    /// KV heads held by each device: split across TP ranks, replicated when TP exceeds them.
    public var kvHeadsPerDevice: Int { max(1, model.kvHeads / tensorParallel) }

    /// KV bytes per token on one device (its share of heads and of layers).
    public var kvBytesPerTokenPerDevice: Double {
        let layers = Double(model.layers) / Double(pipelineParallel)
        return 2 * layers * Double(kvHeadsPerDevice * model.headDim * model.dtypeBytes)
    }

    /// Memory one device needs for activations at the peak step (vLLM's profiling run):
    /// the budget's worth of hidden and FFN activations, plus fp32 logits for every sequence.
    public var activationBytesPerDevice: Double {
        let tokens = Double(knobs.maxNumBatchedTokens)
        let b = Double(model.dtypeBytes)
        let width = model.isMoE ? model.expertFFN * model.expertsPerToken : model.ffn
        let hidden = tokens * (4 * Double(model.hidden) + 2 * Double(width) / Double(tensorParallel)) * b
        let logits = Double(knobs.maxNumSeqs) * Double(model.vocab) / Double(tensorParallel) * 4
        return hidden + logits
    }

    /// Weights on one device: everything split by TP and PP, except experts under expert
    /// parallelism, which are held whole, experts / EP per rank.
    public var weightBytesPerDevice: Double {
        let ep = Double(expertParallelDegree)
        guard ep > 1 else { return model.weightBytes / Double(devicesPerInstance) }
        let experts = model.expertWeightBytes
        return (model.weightBytes - experts) / Double(devicesPerInstance) + experts / ep / Double(pipelineParallel)
    }

    /// The number of KV blocks per instance, as vLLM computes it: (memory × utilisation − weights −
    /// activations − non-torch overhead) / block bytes, taken over the most loaded device.
    public func kvBlocks() throws -> Int {
        if let override = knobs.numGPUBlocksOverride {
            // The override may be smaller than what memory allows, never more than the device holds.
            let need = Double(override) * Double(knobs.blockSize) * kvBytesPerTokenPerDevice
            guard need <= hardware.memoryGB * 1e9 else {
                throw ConfigError("\(override) KV blocks need \(String(format: "%.1f", need / 1e9)) GB per device, more than the \(String(format: "%.0f", hardware.memoryGB)) GB of \(hardware.name)")
            }
            return override
        }
        let memory = hardware.memoryGB * 1e9 * knobs.gpuMemoryUtilization
        let free = memory - weightBytesPerDevice - activationBytesPerDevice - hardware.nonTorchOverheadGB * 1e9
        let blockBytes = Double(knobs.blockSize) * kvBytesPerTokenPerDevice
        guard free > blockBytes else {
            throw ConfigError(String(format: "model %@ does not fit on %@ with TP %d × PP %d: %.2f GB usable per device (%.0f GB × %.2f), weights %.2f GB + activations %.2f GB + overhead %.2f GB leave no room for the KV cache",
                                     model.name, hardware.name, tensorParallel, pipelineParallel, memory / 1e9, hardware.memoryGB,
                                     knobs.gpuMemoryUtilization, weightBytesPerDevice / 1e9, activationBytesPerDevice / 1e9, hardware.nonTorchOverheadGB))
        }
        return Int(free / blockBytes)
    }

    /// Refuses configurations that cannot work, with the numbers that show why.
    public func validate() throws {
        try hardware.validate()
        try model.validate()
        guard (1...1024).contains(tensorParallel), (1...1024).contains(pipelineParallel), (1...Self.maxInstances).contains(instances) else {
            throw ConfigError("parallelism out of range: TP \(tensorParallel) and PP \(pipelineParallel) must be in 1...1024, instances \(instances) in 1...\(Self.maxInstances)")
        }
        if model.heads % tensorParallel != 0 {
            throw ConfigError("TP \(tensorParallel) does not divide the \(model.heads) attention heads of \(model.name)")
        }
        if model.kvHeads % tensorParallel != 0 && tensorParallel % model.kvHeads != 0 {
            throw ConfigError("TP \(tensorParallel) neither divides nor is a multiple of the \(model.kvHeads) KV heads of \(model.name)")
        }
        if expertParallel && model.isMoE && model.experts % expertParallelDegree != 0 {
            throw ConfigError("expert parallelism over \(expertParallelDegree) ranks (TP \(tensorParallel) × DP \(instances)) does not divide the \(model.experts) experts of \(model.name)")
        }
        if pipelineParallel > model.layers {
            throw ConfigError("PP \(pipelineParallel) exceeds the \(model.layers) layers of \(model.name)")
        }
        let k = knobs
        guard k.maxNumSeqs >= 1 else { throw ConfigError("max_num_seqs must be ≥ 1, got \(k.maxNumSeqs)") }
        guard k.maxNumBatchedTokens >= 1 else { throw ConfigError("max_num_batched_tokens must be ≥ 1, got \(k.maxNumBatchedTokens)") }
        guard k.blockSize >= 1 else { throw ConfigError("block_size must be ≥ 1, got \(k.blockSize)") }
        guard k.gpuMemoryUtilization > 0 && k.gpuMemoryUtilization <= 1 else {
            throw ConfigError("gpu_memory_utilization must be in (0, 1], got \(k.gpuMemoryUtilization)")
        }
        if let o = k.numGPUBlocksOverride, o < 1 { throw ConfigError("num_gpu_blocks_override must be ≥ 1, got \(o)") }
        if !k.chunkedPrefill && k.maxNumBatchedTokens < maxModelLen && k.maxModelLen != nil {
            throw ConfigError("without chunked prefill, max_num_batched_tokens (\(k.maxNumBatchedTokens)) must be ≥ max_model_len (\(maxModelLen))")
        }
        guard Self.logIntervalRange.contains(logInterval) else {
            throw ConfigError("the time-series interval (--log_interval) must be in 0.001...86400 s, got \(logInterval)")
        }
        guard (1...Int(Checked.maxTokens)).contains(k.maxNumBatchedTokens), (1...1_000_000).contains(k.maxNumSeqs), (1...65_536).contains(k.blockSize) else {
            throw ConfigError("engine knobs out of range: max_num_batched_tokens 1...\(Checked.maxTokens), max_num_seqs 1...1000000, block_size 1...65536")
        }
        _ = try kvBlocks()
    }

    /// Checks a workload against the configuration: every request must fit the model length, the KV
    /// cache and (without chunked prefill) the token budget.
    public func check(_ trace: Trace) throws {
        let blocks = try kvBlocks()
        for i in 0..<trace.count {
            try check(prompt: trace.promptTokens[i], output: trace.outputTokens[i], request: i, blocks: blocks)
        }
    }

    func check(prompt: Int32, output: Int32, request: Int, blocks: Int) throws {
        let total = Int(prompt) + Int(output)
        if prompt < 1 || output < 1 {
            throw ConfigError("request \(request) has \(prompt) prompt and \(output) output tokens; the simulator needs at least 1 of each (failed requests kept with --keep-failed cannot be served)")
        }
        if total > maxModelLen {
            throw ConfigError("request \(request) needs \(total) tokens (prompt \(prompt) + output \(output)) but max_model_len is \(maxModelLen); use --max-context to cap or drop such requests")
        }
        let need = (total + knobs.blockSize - 1) / knobs.blockSize
        if need > blocks {
            throw ConfigError("request \(request) needs \(need) KV blocks (\(total) tokens / block size \(knobs.blockSize)) but the cache holds only \(blocks) blocks per instance")
        }
        if !knobs.chunkedPrefill && Int(prompt) + Int(output) - 1 > knobs.maxNumBatchedTokens {
            throw ConfigError("request \(request): without chunked prefill a prompt (plus recomputed output) of up to \(total - 1) tokens must fit max_num_batched_tokens \(knobs.maxNumBatchedTokens)")
        }
    }
}
