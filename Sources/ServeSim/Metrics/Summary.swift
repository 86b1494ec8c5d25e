import Workload

/// Mean, median and tail of one latency metric, seconds.
public struct Distribution: Sendable, Equatable {
    public var mean: Double
    public var median: Double
    public var p90: Double
    public var p95: Double
    public var p99: Double
    public var max: Double
    public var count: Int

    public init(_ values: [Double]) {
        let s = values.sorted()
        mean = Stats.mean(s)
        median = Stats.percentile(sorted: s, 50)
        p90 = Stats.percentile(sorted: s, 90)
        p95 = Stats.percentile(sorted: s, 95)
        p99 = Stats.percentile(sorted: s, 99)
        max = s.last ?? .nan
        count = s.count
    }

    init(histogram h: LogHistogram) {
        mean = h.mean / 1e9
        median = h.percentile(50) / 1e9
        p90 = h.percentile(90) / 1e9
        p95 = h.percentile(95) / 1e9
        p99 = h.percentile(99) / 1e9
        max = h.percentile(100) / 1e9
        count = Int(h.total)
    }
}

/// The run summary (reference §3). Definitions, per request i:
/// TTFT = first token − arrival (queueing included); E2E = last token − arrival;
/// TPOT = (E2E − TTFT) / (output − 1), over requests with more than one output token;
/// ITL = every gap between consecutive tokens, pooled over all requests (log-histogram, ≤0.4% error);
/// queueing = first scheduled − arrival. Percentiles interpolate linearly (numpy's default).
/// Throughput divides by the makespan (first arrival to last completion). A request meets the SLO
/// when it meets every bound at once; goodput = SLO-meeting requests per second of makespan; window
/// goodput = those finished by the last arrival per second of the arrival window.
/// KV utilisation = allocated / total blocks, time-weighted over steps; effective utilisation =
/// stored tokens / allocated slots (shared prefix blocks once); fragmentation = 1 − effective (the
/// internal part: unfilled tails of last blocks); reserved-but-unused = the share of the KV capacity
/// a scheduler reserved (Orca) that no block occupied; KV waste = 1 − stored / reserved slots,
/// both parts together. MFU and MBU divide the FLOPs and
/// bytes of all steps by the makespan × peak × devices.
public struct RunSummary: Sendable {
    public var requests: Int
    public var makespan: Double
    public var ttft: Distribution
    public var tpot: Distribution
    public var itl: Distribution
    public var e2e: Distribution
    public var queueing: Distribution
    public var normalizedLatency: Distribution
    public var throughputRPS: Double
    public var outputTokensPerSecond: Double
    public var totalTokensPerSecond: Double
    public var slo: SLO
    public var sloAttainment: Double
    public var goodputRPS: Double
    /// SLO-meeting requests finished by the last arrival, per second of the arrival window: what
    /// a system sustains while load keeps coming, not inflated by draining the queue afterwards.
    public var goodputWindowRPS: Double
    public var kvUtilization: Double
    public var kvPeakUtilization: Double
    public var kvEffectiveUtilization: Double
    public var fragmentation: Double
    public var reservedUnused: Double
    public var kvWaste: Double
    public var preemptions: Int
    public var steps: Int
    public var mfu: Double
    public var mbu: Double
    public var prefixHitRate: Double
    public var kvBlocks: Int
    /// Σ instances powered × time, s (instances × makespan for a fixed fleet), and the
    /// time-weighted mean number of instances.
    public var gpuSeconds: Double
    public var meanInstances: Double
    public var autoscaled: Bool

    public init(_ r: RunResult) {
        let q = r.requests
        let n = q.count
        requests = n
        var ttfts: [Double] = [], tpots: [Double] = [], e2es: [Double] = [], queues: [Double] = [], norm: [Double] = []
        ttfts.reserveCapacity(n); e2es.reserveCapacity(n); queues.reserveCapacity(n); tpots.reserveCapacity(n); norm.reserveCapacity(n)
        var lastFinish: Int64 = 0
        var met = 0, metInWindow = 0
        let firstArrival = q.arrival.first ?? 0, lastArrival = q.arrival.last ?? 0
        var outputTokens = 0.0, promptTokens = 0.0
        for i in 0..<n {
            let ttft = q.ttft(i), e2e = q.e2e(i), tpot = q.tpot(i)
            ttfts.append(ttft)
            e2es.append(e2e)
            queues.append(q.queueing(i))
            norm.append(e2e / Double(q.outputTokens[i]))
            if let tpot { tpots.append(tpot) }
            lastFinish = Swift.max(lastFinish, q.finish[i])
            outputTokens += Double(q.outputTokens[i])
            promptTokens += Double(q.promptTokens[i])
            let ok = r.config.slo.outcome(ttft: ttft, tpot: tpot, e2e: e2e).all
            if ok { met += 1 }
            if ok && q.finish[i] <= lastArrival { metInWindow += 1 }
        }
        makespan = Double(lastFinish - (q.arrival.first ?? 0)) / 1e9
        ttft = Distribution(ttfts)
        tpot = Distribution(tpots)
        itl = Distribution(histogram: r.itl)
        e2e = Distribution(e2es)
        queueing = Distribution(queues)
        normalizedLatency = Distribution(norm)
        throughputRPS = Double(n) / makespan
        outputTokensPerSecond = outputTokens / makespan
        totalTokensPerSecond = (outputTokens + promptTokens) / makespan
        slo = r.config.slo
        sloAttainment = Double(met) / Double(n)
        goodputRPS = Double(met) / makespan
        let window = Double(lastArrival - firstArrival) / 1e9
        goodputWindowRPS = window > 0 ? Double(metInWindow) / window : goodputRPS
        gpuSeconds = r.gpuSeconds
        meanInstances = r.scaling?.meanInstances ?? Double(r.config.instances)
        autoscaled = r.scaling != nil
        let c = r.counters
        let blocks = Double(r.kvBlocksPerInstance)
        kvBlocks = r.kvBlocksPerInstance
        kvUtilization = c.busySeconds > 0 ? c.usedBlockSeconds / c.busySeconds / blocks : 0
        kvPeakUtilization = Double(c.peakUsedBlocks) / blocks
        let slots = c.usedBlockSeconds * Double(r.config.knobs.blockSize)
        kvEffectiveUtilization = slots > 0 ? Swift.min(1, c.storedTokenSeconds / slots) : 0
        fragmentation = slots > 0 ? 1 - kvEffectiveUtilization : 0
        let reserved = Swift.max(c.reservedBlockSeconds, c.usedBlockSeconds)
        reservedUnused = reserved > 0 ? 1 - c.usedBlockSeconds / reserved : 0
        kvWaste = reserved > 0 ? 1 - Swift.min(1, c.storedTokenSeconds / (reserved * Double(r.config.knobs.blockSize))) : 0
        preemptions = c.preemptions
        steps = c.steps
        // Device-seconds: every device of the fleet over the makespan, or only while powered when autoscaling.
        let deviceSeconds = r.scaling.map { $0.gpuSeconds * Double(r.config.devicesPerInstance) }
            ?? makespan * Double(r.config.devicesPerInstance * r.config.instances)
        mfu = c.totalFLOPs / (deviceSeconds * r.config.hardware.tflops * 1e12)
        mbu = c.totalBytes / (deviceSeconds * r.config.hardware.memoryBandwidthGBs * 1e9)
        prefixHitRate = promptTokens > 0 ? Double(c.prefixHitTokens) / promptTokens : 0
    }
}
