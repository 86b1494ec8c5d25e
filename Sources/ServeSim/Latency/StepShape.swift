/// What one engine step computes, aggregated while the engine applies the plan. The latency
/// models need only these sums, so a step costs O(batch) to describe and O(1) to price.
public struct StepShape: Sendable, Equatable {
    /// New tokens computed this step (prefill chunks + decodes).
    public var tokens = 0
    /// Requests in the step.
    public var sequences = 0
    /// Requests that sample a token at the end of the step (LM head rows).
    public var sampled = 0
    /// Prompt (or recompute) tokens in the step.
    public var prefillTokens = 0
    /// Σ over prefill chunks of n × (c + (n + 1) / 2): query-key pairs of causal attention for a
    /// chunk of n tokens after c cached ones.
    public var prefillPairs = 0.0
    /// Σ over prefill chunks of the context read (c + n tokens).
    public var prefillContext = 0.0
    /// Prefill (or recompute) chunks in the step: measured attention kernels price one chunk at a time.
    public var prefillChunks = 0
    public var decodes = 0
    /// Σ over decodes of the context read (c + 1 tokens).
    public var decodeContext = 0.0
    /// Shortest and longest decode context (c + 1): decode batches of mixed lengths cost more than a
    /// uniform batch at the mean (the profile bundle's skew correction).
    public var minDecodeContext = Int.max
    public var maxDecodeContext = 0
    /// KV bytes moved between device and host this step (swap out and in), whole model.
    public var swapBytes = 0.0
    /// Prompt tokens computed as one-token chunks after cached ones (the last token of a chunked
    /// prompt): priced as the decodes they are computationally, but prompt work in the run's
    /// prompt throughput (`promptWork`).
    public var promptTokensInDecodes = 0
    /// Prompt (or recompute) tokens of the step, for the time series' prompt throughput.
    public var promptWork: Int { prefillTokens + promptTokensInDecodes }

    public init() {}

    @inline(__always)
    public mutating func add(newTokens n: Int, cached c: Int, samples: Bool) {
        tokens += n
        sequences += 1
        if samples { sampled += 1 }
        if n == 1 && c > 0 {
            decodes += 1
            decodeContext += Double(c + 1)
            minDecodeContext = min(minDecodeContext, c + 1)
            maxDecodeContext = max(maxDecodeContext, c + 1)
        } else {
            prefillChunks += 1
            prefillTokens += n
            prefillPairs += Double(n) * (Double(c) + Double(n + 1) / 2)
            prefillContext += Double(c + n)
        }
    }
}

/// The cost of a step: its duration and the work done (for MFU/MBU).
public struct StepCost: Sendable, Equatable {
    public var seconds: Double
    public var flops: Double
    public var bytes: Double
}
