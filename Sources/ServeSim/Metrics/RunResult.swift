import ServeAPI
/// Everything a simulation produced, as plain values (the engine does no I/O).
public struct RunResult: Sendable {
    public var schedulerName: String
    public var routerName: String
    public var config: ClusterConfig
    public var kvBlocksPerInstance: Int
    public var requests: RequestRecords
    public var timeSeries: TimeSeries
    public var itl: LogHistogram
    public var counters: RunCounters
    /// TPOT as LLMServingSim v0.2.1 writes it (latency // output tokens) instead of vLLM's.
    public var llmservingsimTPOT: Bool
    /// What schedulers that report telemetry logged (mode switches and their reasons), in time order.
    public var schedulerEvents: [SchedulerEvent] = []
    /// What the autoscaler did (nil for a fixed fleet).
    public var scaling: ScalingRecord? = nil

    /// Σ instances powered × time, s: the autoscaler's figure, else instances × makespan.
    public var gpuSeconds: Double {
        if let s = scaling { return s.gpuSeconds }
        let end = requests.finish.max() ?? 0
        return Double(config.instances) * Double(end) * 1e-9
    }
}

/// Per-request outcomes as columns (times in ns from the first arrival; -1 = never).
public struct RequestRecords: Sendable {
    public var arrival: [Int64] = []
    public var promptTokens: [Int32] = []
    public var outputTokens: [Int32] = []
    public var firstScheduled: [Int64] = []
    public var firstToken: [Int64] = []
    public var finish: [Int64] = []
    public var maxITL: [Int64] = []
    public var preemptions: [Int32] = []
    public var instance: [Int16] = []
    public var count: Int { arrival.count }

    // The per-request metric definitions (reference §3), in seconds, used by every report.

    /// First token − arrival (queueing included).
    public func ttft(_ i: Int) -> Double { Double(firstToken[i] - arrival[i]) / 1e9 }
    /// Last token − arrival.
    public func e2e(_ i: Int) -> Double { Double(finish[i] - arrival[i]) / 1e9 }
    /// First scheduled − arrival.
    public func queueing(_ i: Int) -> Double { Double(firstScheduled[i] - arrival[i]) / 1e9 }
    /// vLLM's (E2E − TTFT) / (output − 1); undefined for one-token outputs.
    public func tpot(_ i: Int) -> Double? {
        outputTokens[i] > 1 ? (e2e(i) - ttft(i)) / Double(outputTokens[i] - 1) : nil
    }
}

/// Per-interval figures, as vLLM logs them: tokens processed in the interval, and the queue and
/// KV state at its last event.
public struct TimeSeries: Sendable {
    public var interval: Double
    public var promptTokens: [Double] = []
    public var generatedTokens: [Double] = []
    public var running: [Int32] = []
    public var waiting: [Int32] = []
    public var kvUsage: [Double] = []
    /// Preemptions decided in each interval (at the start of the step that preempted).
    public var preemptions: [Int32] = []
    /// Figures reported by schedulers with telemetry, one row per interval (`telemetryColumns`
    /// wide), and each such scheduler's mode per interval; empty when no scheduler reports any.
    /// Instances powered per interval, when autoscaling (empty otherwise).
    public var instances: [Int32] = []
    public var telemetryColumns: [String] = []
    public var telemetry: [[Double]] = []
    public var modeColumns: [String] = []
    public var modes: [[String]] = []
}

public struct RunCounters: Sendable {
    public var steps = 0
    public var preemptions = 0
    public var totalFLOPs = 0.0
    public var totalBytes = 0.0
    /// Σ step durations over instances, s.
    public var busySeconds = 0.0
    /// Σ used blocks × duration and Σ stored tokens × duration over steps (for time-weighted KV use).
    public var usedBlockSeconds = 0.0
    public var storedTokenSeconds = 0.0
    /// Σ max(reserved, used) blocks × duration: the KV capacity the scheduler held (equal to
    /// `usedBlockSeconds` for schedulers that reserve nothing beyond what they allocate).
    public var reservedBlockSeconds = 0.0
    public var peakUsedBlocks = 0
    public var prefixHitTokens: Int64 = 0
    public var prefixCachingActive = false
    public var evictions = 0

    /// Σ (allocated slots − stored tokens) × step time, token-seconds: the KV the run held empty.
    public func wastedSlotSeconds(blockSize: Int) -> Double {
        max(0, usedBlockSeconds * Double(blockSize) - storedTokenSeconds)
    }
}
