/// The scheduler contract: once per engine step, look at one instance and write the step's plan.
///
/// The engine owns all state; a scheduler only reads it through `InstanceView` (pointers into the
/// engine's columns, valid for the duration of the call) and answers with a `StepPlan`. The engine
/// validates every plan (token budget, seats, KV memory) and refuses an invalid one naming the scheduler.
public protocol StepScheduler: AnyObject {
    /// Registered name, e.g. "vllm".
    var name: String { get }
    /// Preemption style the engine applies to requests this scheduler preempts.
    var preemption: PreemptionMode { get }
    /// What the scheduler needs from a run and how its results read (default: vLLM-like).
    var capabilities: SchedulerCapabilities { get }
    /// Fill `plan` (already emptied by the engine) for the step that starts now.
    func plan(_ view: InstanceView, into plan: inout StepPlan)
}

extension StepScheduler {
    public var capabilities: SchedulerCapabilities { SchedulerCapabilities() }
}

/// What a scheduler declares about itself. The engine and the workbench read these facts, never
/// the scheduler's name, so a plugin gets exactly the treatment a built-in with the same facts gets.
public struct SchedulerCapabilities: Sendable, Equatable {
    /// Admits whole prompts only: a run turns chunked prefill off and, unless the user gives one,
    /// uses a token budget that holds the longest prompt (Orca, LLMServingSim v0.2.1).
    public var wholePromptAdmission: Bool
    /// Reads `RequestColumns.predictedOutput`: reports name the length predictor that fed it.
    public var usesLengthPredictor: Bool
    /// How its per-request CSV's TPOT column is defined.
    public var tpot: TPOTDefinition
    /// Lets the engine fast-forward decode-only stretches without calling `plan` (default true).
    ///
    /// After a plan that schedules every running request and in which each samples a token (a
    /// decode, or the rest of its prompt: nothing preempted, the waiting queue empty after the
    /// step's admissions), the engine may advance the following steps in one go, up to the next
    /// arrival, other event, or a step the KV cache cannot grow for, assuming this scheduler would
    /// then plan one decode token for every running request, less the requests that finish on the
    /// way (with nothing waiting, a completion changes nobody else's plan). A budget that held the
    /// step's tokens holds those decodes, so a scheduler whose budget and seats do not change from
    /// step to step meets this. Per-request timestamps, counters
    /// and time series are exactly those of calling `plan` every step. Say false when `plan`
    /// depends on the clock or on being called each step (time quanta, step counters, per-step
    /// decisions of a policy): such a scheduler sees every step.
    public var steadyDecode: Bool
    /// Lets a decode stretch run on through arrivals (default false; needs `steadyDecode`, a
    /// `ContinuousBatchingScheduler` whose `plan` is the base class's, and a run of one instance
    /// without an autoscaler).
    ///
    /// Inside a stretch the engine then plans a step that decodes every running request by
    /// asking only `ContinuousBatchingScheduler.admitWaiting` which waiting requests join it, with
    /// the budget, seats and blocks the decodes leave: the same admissions `plan` would make, at
    /// the cost of the waiting queue instead of the whole batch. The running requests' columns
    /// (`computed`, `generated`, `allocatedBlocks`) lag behind inside a stretch, so say true only
    /// when the admission hooks (`budget`, `seats`, `admissionReserve`, `prepareWaiting`,
    /// `nextWaiting`, `key`, `admitted`) read the view's clock, limits, counts and free blocks and
    /// the waiting requests, never a running request's columns, and when `budget` and `seats` do
    /// not change from step to step. Results are exactly those of calling `plan` every step.
    public var steadyAdmission: Bool

    public init(wholePromptAdmission: Bool = false, usesLengthPredictor: Bool = false, tpot: TPOTDefinition = .vllm,
                steadyDecode: Bool = true, steadyAdmission: Bool = false) {
        self.wholePromptAdmission = wholePromptAdmission
        self.usesLengthPredictor = usesLengthPredictor
        self.tpot = tpot
        self.steadyDecode = steadyDecode
        self.steadyAdmission = steadyAdmission
    }
}

public enum TPOTDefinition: String, Sendable {
    /// (E2E − TTFT) / (output − 1), vLLM's.
    case vllm
    /// latency // output tokens, LLMServingSim v0.2.1's.
    case latencyOverOutput
}

/// The service-level objectives of the run, for deadline-aware policies. nil: no bound.
public struct ServiceObjectives: Sendable, Equatable {
    /// Time to first token, seconds.
    public var ttft: Double?
    /// Time per output token, seconds.
    public var tpot: Double?
    public init(ttft: Double? = nil, tpot: Double? = nil) {
        self.ttft = ttft
        self.tpot = tpot
    }
}

public enum PreemptionMode: String, Sendable {
    /// Free the request's KV blocks; it recomputes prompt + generated tokens later (vLLM V1 default).
    case recompute
    /// Move the request's KV to host memory over the host link; it resumes where it stopped.
    case swap
}

/// One scheduled request and the number of new tokens it computes this step.
public struct ScheduledWork: Sendable, Equatable {
    public var request: Int32
    public var tokens: Int32
    public init(request: Int32, tokens: Int32) {
        self.request = request
        self.tokens = tokens
    }
}

/// A step's plan. Buffers are reused across steps by the engine (no per-step allocation).
public struct StepPlan: Sendable {
    /// Running or waiting requests scheduled this step, in the order they should appear in the
    /// running queue afterwards (already running requests keep their relative order).
    public var work: [ScheduledWork] = []
    /// Running requests to preempt, in the order they were chosen.
    public var preempted: [Int32] = []
    /// KV blocks the scheduler holds for its running requests after this step, allocated or not
    /// (Orca-style reservation for the whole output at admission); 0 for paged allocation. The
    /// engine reports the reserved-but-unused share beside internal fragmentation.
    public var reservedBlocks = 0

    public init() {}

    public mutating func reset() {
        work.removeAll(keepingCapacity: true)
        preempted.removeAll(keepingCapacity: true)
        reservedBlocks = 0
    }
}

/// The step limits every plan must respect.
public struct StepLimits: Sendable {
    public var tokenBudget: Int
    public var maxSeqs: Int
    public var chunkedPrefill: Bool
    public var blockSize: Int
    public init(tokenBudget: Int, maxSeqs: Int, chunkedPrefill: Bool, blockSize: Int) {
        self.tokenBudget = tokenBudget
        self.maxSeqs = maxSeqs
        self.chunkedPrefill = chunkedPrefill
        self.blockSize = blockSize
    }

    /// New blocks of `blockSize` tokens needed to hold `tokens` tokens where `held` blocks are
    /// held: max(0, ⌈tokens / blockSize⌉ − held). It divides only when the tokens do not fit
    /// already (one decode step in a block's worth), which keeps a division out of the per-request
    /// work of every step.
    @inlinable public static func blocksToGrow(holding held: Int, toTokens tokens: Int, blockSize: Int) -> Int {
        let capacity = held * blockSize
        return tokens <= capacity ? 0 : (tokens - capacity + blockSize - 1) / blockSize
    }
}

/// What reusing cached prefix blocks would give a waiting request.
public struct PrefixHit: Sendable, Equatable {
    /// Prompt tokens whose KV is already cached (the request skips computing them).
    public var tokens: Int
    /// KV blocks those tokens occupy (shared, not newly allocated).
    public var blocks: Int
    /// Of those, blocks that are currently free-but-cached: reusing them takes them off the free pool.
    public var reclaimed: Int
    public init(tokens: Int = 0, blocks: Int = 0, reclaimed: Int = 0) {
        self.tokens = tokens
        self.blocks = blocks
        self.reclaimed = reclaimed
    }
}

/// Prefix-cache look-ups, implemented by the engine's block manager.
public protocol PrefixCacheQuery: AnyObject {
    func prefixHit(_ request: Int32) -> PrefixHit
    /// Blocks that preempting a running request would return to the free pool (shared prefix
    /// blocks still used by others stay allocated).
    func releasableBlocks(_ request: Int32) -> Int
}

/// Read-only view of one instance at the start of a step.
public struct InstanceView {
    /// Simulated time, ns.
    public let now: Int64
    public let limits: StepLimits
    /// Running requests in queue order (earliest admitted first).
    public let running: UnsafeBufferPointer<Int32>
    /// Waiting requests in queue order (front first; preempted requests are put back at the front).
    public let waiting: UnsafeBufferPointer<Int32>
    public let requests: RequestColumns
    /// KV blocks available for allocation (free-but-cached blocks count as free, as in vLLM).
    public let freeBlocks: Int
    public let totalBlocks: Int
    /// Non-nil when prefix caching is active on this instance.
    public let prefixCache: PrefixCacheQuery?
    /// Names of the request classes (e.g. the trace's model names), indexed by `requestClass`.
    public let classLabels: [String]
    /// The run's SLOs.
    public let slo: ServiceObjectives

    public init(now: Int64, limits: StepLimits, running: UnsafeBufferPointer<Int32>,
                waiting: UnsafeBufferPointer<Int32>, requests: RequestColumns,
                freeBlocks: Int, totalBlocks: Int, prefixCache: PrefixCacheQuery?, classLabels: [String] = [],
                slo: ServiceObjectives = ServiceObjectives()) {
        self.now = now
        self.limits = limits
        self.running = running
        self.waiting = waiting
        self.requests = requests
        self.freeBlocks = freeBlocks
        self.totalBlocks = totalBlocks
        self.prefixCache = prefixCache
        self.classLabels = classLabels
        self.slo = slo
    }

    /// Blocks needed to hold `tokens` tokens.
    @inlinable public func blocks(forTokens tokens: Int) -> Int {
        (tokens + limits.blockSize - 1) / limits.blockSize
    }

    /// New blocks a running (or swapped-in) request needs to compute `newTokens` more tokens.
    @inlinable public func blocksToGrow(_ r: Int32, by newTokens: Int) -> Int {
        let i = Int(r)
        return StepLimits.blocksToGrow(holding: Int(requests.allocatedBlocks[i]), toTokens: Int(requests.computed[i]) + newTokens,
                                       blockSize: limits.blockSize)
    }

    /// Prefix-cache hit for a waiting request that holds no blocks yet (zero when caching is off or
    /// the request resumes from swap with its own KV).
    @inlinable public func admissionHit(_ r: Int32) -> PrefixHit {
        guard let cache = prefixCache, requests.computed[Int(r)] == 0 else { return PrefixHit() }
        return cache.prefixHit(r)
    }

    /// Blocks that preempting running request `r` frees.
    @inlinable public func releasableBlocks(_ r: Int32) -> Int {
        prefixCache?.releasableBlocks(r) ?? Int(requests.allocatedBlocks[Int(r)])
    }

    /// Blocks a waiting request needs to be admitted with `newTokens` computed beyond `hit`.
    @inlinable public func admissionBlocks(_ r: Int32, hit: PrefixHit, newTokens: Int) -> Int {
        let base = Int(requests.computed[Int(r)]) + hit.tokens
        return blocks(forTokens: base + newTokens) - hit.blocks + hit.reclaimed
    }
}

/// Per-request columns, indexed by request id. Pointers stay valid for one `plan` call.
public struct RequestColumns {
    /// Arrival time, ns from the first arrival.
    public let arrival: UnsafePointer<Int64>
    public let promptTokens: UnsafePointer<Int32>
    /// Output tokens sampled so far.
    public let generated: UnsafePointer<Int32>
    /// Tokens whose KV is computed (and resident, unless swapped out).
    public let computed: UnsafePointer<Int32>
    public let allocatedBlocks: UnsafePointer<Int32>
    /// Predicted output length from the configured length predictor (the oracle gives the true one).
    public let predictedOutput: UnsafePointer<Int32>
    /// Times the request was preempted.
    public let preemptions: UnsafePointer<Int32>
    /// The request's class (an index into `InstanceView.classLabels`; 0 when the trace has none).
    public let requestClass: UnsafePointer<UInt8>

    public init(arrival: UnsafePointer<Int64>, promptTokens: UnsafePointer<Int32>,
                generated: UnsafePointer<Int32>, computed: UnsafePointer<Int32>,
                allocatedBlocks: UnsafePointer<Int32>, predictedOutput: UnsafePointer<Int32>,
                preemptions: UnsafePointer<Int32>, requestClass: UnsafePointer<UInt8>) {
        self.arrival = arrival
        self.promptTokens = promptTokens
        self.generated = generated
        self.computed = computed
        self.allocatedBlocks = allocatedBlocks
        self.predictedOutput = predictedOutput
        self.preemptions = preemptions
        self.requestClass = requestClass
    }

    /// Tokens still to compute before the request can sample its next token:
    /// the rest of the prompt (plus generated tokens after a recompute preemption), or 1 when decoding.
    @inlinable public func pendingTokens(_ r: Int32) -> Int {
        let i = Int(r)
        return Int(promptTokens[i]) + Int(generated[i]) - Int(computed[i])
    }
}
