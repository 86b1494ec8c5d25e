/// Burst / steady / sparse classification.
///
/// The rule, applied to a whole trace or to one window of it:
/// 1. sparse when the mean rate is below `sparseRate` req/s (too few arrivals for batching to matter);
/// 2. burst when the inter-arrival CV exceeds `burstCV` or the index of dispersion of 1 s counts
///    exceeds `burstIoD` (a Poisson stream has CV = 1 and IoD = 1);
/// 3. steady otherwise.
/// IoD at 60 s is reported but not used: over an hour it mostly measures slow drift in the rate
/// (Azure conversation: 20 at 60 s with CV 1.09), not bursts.
public enum TrafficPattern: String, Sendable, Codable, CaseIterable {
    case burst, steady, sparse
}

public struct PatternRule: Sendable, Equatable {
    public var sparseRate = 0.1
    public var burstCV = 2.0
    public var burstIoD = 3.0
    /// A burst episode is a run of 1 s bins whose count exceeds `episodeFactor` × the mean rate.
    public var episodeFactor = 3.0
    /// At least this many requests in a bin for it to count towards an episode.
    public var episodeMinCount = 3.0

    public init() {}

    public func classify(_ arrivals: ArraySlice<Int64>) -> TrafficPattern {
        guard arrivals.count >= 3, let first = arrivals.first, let last = arrivals.last, last > first else { return .sparse }
        let span = Double(last - first) / 1e9
        let rate = Double(arrivals.count - 1) / span
        if rate < sparseRate { return .sparse }
        let cv = Stats.interarrivalCV(Array(arrivals))
        let iod = Stats.indexOfDispersion(arrivals, width: 1)
        if cv > burstCV || (iod.isFinite && iod > burstIoD) { return .burst }
        return .steady
    }
}

public struct WindowPattern: Sendable, Equatable, Codable {
    public var start: Double
    public var end: Double
    public var requests: Int
    public var rate: Double
    public var pattern: TrafficPattern
}

public struct BurstEpisode: Sendable, Equatable, Codable {
    public var start: Double
    public var end: Double
    /// Highest 1 s count in the episode, req/s.
    public var peakRate: Double
    public var requests: Int
}

public struct PatternReport: Sendable, Codable {
    public var overall: TrafficPattern
    public var windows: [WindowPattern]
    public var episodes: [BurstEpisode]
}

public enum PatternAnalysis {
    /// Traces spanning more windows than this list only the windows that hold arrivals.
    public static let denseWindows = 100_000

    /// Classifies the trace and each window of `window` seconds, and lists burst episodes.
    public static func analyse(_ trace: Trace, window: Double = 60, rule: PatternRule = PatternRule()) -> PatternReport {
        let a = trace.arrivals
        var windows: [WindowPattern] = []
        if let last = a.last {
            let w = Int64(window * 1e9)
            var lo = 0
            var start: Int64 = 0
            // Past `denseWindows` windows, empty ones are skipped (memory follows the arrivals).
            let sparse = Double(last) / Double(w) > Double(Self.denseWindows)
            while start <= last {
                if sparse && lo < a.count && a[lo] >= start + w { start += (a[lo] - start) / w * w; continue }
                var hi = lo
                while hi < a.count && a[hi] < start + w { hi += 1 }
                let n = hi - lo
                windows.append(WindowPattern(start: Double(start) / 1e9, end: Double(start + w) / 1e9, requests: n,
                                             rate: Double(n) / window, pattern: n >= 3 ? rule.classify(a[lo..<hi]) : .sparse))
                lo = hi
                start += w
            }
        }
        return PatternReport(overall: rule.classify(a[...]), windows: windows, episodes: episodes(a, rule: rule))
    }

    /// Runs of consecutive 1 s bins above the threshold; only non-empty bins can be above it, so
    /// the sparse counts suffice.
    static func episodes(_ a: [Int64], rule: PatternRule) -> [BurstEpisode] {
        let (bins, counts) = Stats.sparseCounts(a[...], width: 1)
        guard bins > 1 else { return [] }
        let meanRate = Double(a.count) / Double(bins)
        let threshold = Swift.max(rule.episodeFactor * meanRate, rule.episodeMinCount)
        var out: [BurstEpisode] = []
        let origin = Double(a[0]) / 1e9
        var i = 0
        while i < counts.count {
            guard counts[i].count > threshold else { i += 1; continue }
            var j = i
            var peak = 0.0, total = 0.0
            while j < counts.count && counts[j].count > threshold && counts[j].bin == counts[i].bin + (j - i) {
                peak = Swift.max(peak, counts[j].count)
                total += counts[j].count
                j += 1
            }
            out.append(BurstEpisode(start: origin + Double(counts[i].bin), end: origin + Double(counts[i].bin + (j - i)),
                                    peakRate: peak, requests: Int(total)))
            i = j
        }
        return out
    }
}
