/// Descriptive statistics used across the project. Percentiles interpolate linearly between
/// order statistics (numpy's default): rank = p/100 × (n − 1).
public enum Stats {
    public static func mean<C: Collection>(_ xs: C) -> Double where C.Element: BinaryInteger {
        guard !xs.isEmpty else { return .nan }
        var s = 0.0
        for x in xs { s += Double(x) }
        return s / Double(xs.count)
    }

    public static func mean(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return .nan }
        return xs.reduce(0, +) / Double(xs.count)
    }

    /// Population variance (divides by n), as used for CV and index of dispersion.
    public static func variance(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return .nan }
        let m = mean(xs)
        var s = 0.0
        for x in xs { s += (x - m) * (x - m) }
        return s / Double(xs.count)
    }

    /// Percentile of already sorted values.
    public static func percentile(sorted xs: [Double], _ p: Double) -> Double {
        guard !xs.isEmpty else { return .nan }
        let rank = p / 100 * Double(xs.count - 1)
        let lo = Int(rank.rounded(.down))
        let hi = Swift.min(lo + 1, xs.count - 1)
        let frac = rank - Double(lo)
        return xs[lo] + (xs[hi] - xs[lo]) * frac
    }

    public static func percentile(_ xs: [Double], _ p: Double) -> Double {
        percentile(sorted: xs.sorted(), p)
    }

    /// Inter-arrival coefficient of variation (population std / mean of the gaps).
    public static func interarrivalCV(_ arrivals: [Int64]) -> Double {
        guard arrivals.count > 2 else { return .nan }
        var gaps: [Double] = []
        gaps.reserveCapacity(arrivals.count - 1)
        for i in 1..<arrivals.count { gaps.append(Double(arrivals[i] - arrivals[i - 1]) / 1e9) }
        let m = mean(gaps)
        guard m > 0 else { return .nan }
        return variance(gaps).squareRoot() / m
    }

    /// Arrival counts in consecutive bins of `width` seconds from the first arrival to the last.
    /// Arrival counts in bins of `width` seconds from the first arrival, sparsely: the number of
    /// bins and the non-empty ones as (bin, count) in order. Memory follows the arrivals, not the
    /// span (two requests a billion seconds apart are two bins, not a billion).
    public static func sparseCounts(_ arrivals: ArraySlice<Int64>, width: Double) -> (bins: Int, nonEmpty: [(bin: Int, count: Double)]) {
        guard let first = arrivals.first, let last = arrivals.last else { return (0, []) }
        let w = width * 1e9
        let span = (Double(last - first) / w).rounded(.down)
        let bins = span < 9e15 ? Int(span) + 1 : Int(9e15)
        var out: [(bin: Int, count: Double)] = []
        for a in arrivals {
            let b = Swift.min(bins - 1, Int(Swift.min(9e15, Double(a - first) / w)))
            if let lastBin = out.last?.bin, lastBin == b { out[out.count - 1].count += 1 } else { out.append((b, 1)) }
        }
        return (bins, out)
    }

    /// Index of dispersion of counts (variance / mean) in bins of `width` seconds, empty bins included.
    public static func indexOfDispersion(_ arrivals: ArraySlice<Int64>, width: Double) -> Double {
        let (bins, nonEmpty) = sparseCounts(arrivals, width: width)
        guard bins > 1 else { return .nan }
        let n = Double(bins)
        let m = Double(arrivals.count) / n
        // Population variance: the non-empty bins' squared deviations plus m² per empty bin.
        var ss = Double(bins - nonEmpty.count) * m * m
        for (_, c) in nonEmpty { ss += (c - m) * (c - m) }
        return m > 0 ? ss / n / m : .nan
    }
}

/// Mean, median, P99 and max of a token-length column.
public struct LengthSummary: Sendable, Equatable, Codable {
    public var mean: Double
    public var p50: Double
    public var p99: Double
    public var max: Double

    public init(_ values: [Int32]) {
        let sorted = values.map(Double.init).sorted()
        mean = Stats.mean(sorted)
        p50 = Stats.percentile(sorted: sorted, 50)
        p99 = Stats.percentile(sorted: sorted, 99)
        max = sorted.last ?? .nan
    }
}

/// The `dataset info` figures.
public struct TraceSummary: Sendable, Codable {
    public var format: String
    public var requests: Int
    public var failed: Int
    public var spanSeconds: Double
    public var meanRate: Double
    public var interarrivalCV: Double
    public var iod1s: Double
    public var iod60s: Double
    public var inputTokens: LengthSummary
    public var outputTokens: LengthSummary
    public var pattern: String

    enum CodingKeys: String, CodingKey {
        case format, requests, failed, pattern
        case spanSeconds = "span_seconds", meanRate = "mean_rate", interarrivalCV = "interarrival_cv"
        case iod1s = "iod_1s", iod60s = "iod_60s", inputTokens = "input_tokens", outputTokens = "output_tokens"
    }

    /// `failed` counts failed requests found in the file, whether dropped or kept.
    public init(trace: Trace, report: LoadReport, rule: PatternRule = PatternRule()) {
        format = report.format.rawValue
        requests = trace.count
        failed = report.failedDropped + report.failedKept
        spanSeconds = trace.spanSeconds
        meanRate = spanSeconds > 0 ? Double(trace.count - 1) / spanSeconds : .nan
        interarrivalCV = Stats.interarrivalCV(trace.arrivals)
        iod1s = Stats.indexOfDispersion(trace.arrivals[...], width: 1)
        iod60s = Stats.indexOfDispersion(trace.arrivals[...], width: 60)
        inputTokens = LengthSummary(trace.promptTokens)
        outputTokens = LengthSummary(trace.outputTokens)
        pattern = rule.classify(trace.arrivals[...]).rawValue
    }
}

extension Stats {
    /// Kendall's τ-b between two paired samples, in O(n log n) (Knight's algorithm): ties in either
    /// variable are handled as τ-b does (scipy.stats.kendalltau's default).
    public static func kendallTau(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count)
        let n = x.count
        guard n > 1 else { return .nan }
        var idx = Array(0..<n)
        idx.sort { (x[$0], y[$0]) < (x[$1], y[$1]) }
        func pairs(_ t: Int) -> Double { Double(t) * Double(t - 1) / 2 }
        var tiesX = 0.0, tiesXY = 0.0
        var i = 0
        while i < n {
            var j = i + 1
            while j < n && x[idx[j]] == x[idx[i]] { j += 1 }
            tiesX += pairs(j - i)
            var k = i
            while k < j {
                var m = k + 1
                while m < j && y[idx[m]] == y[idx[k]] { m += 1 }
                tiesXY += pairs(m - k)
                k = m
            }
            i = j
        }
        // Count the swaps a merge sort of y (in x order) needs: the discordant pairs.
        var ys = idx.map { y[$0] }
        var buffer = ys
        var swaps = 0.0
        var width = 1
        while width < n {
            var lo = 0
            while lo < n - width {
                let mid = lo + width, hi = min(lo + 2 * width, n)
                var a = lo, b = mid, o = lo
                while a < mid && b < hi {
                    if ys[b] < ys[a] { buffer[o] = ys[b]; b += 1; swaps += Double(mid - a) } else { buffer[o] = ys[a]; a += 1 }
                    o += 1
                }
                while a < mid { buffer[o] = ys[a]; a += 1; o += 1 }
                while b < hi { buffer[o] = ys[b]; b += 1; o += 1 }
                lo += 2 * width
            }
            if lo < n { for t in lo..<n { buffer[t] = ys[t] } }
            swap(&ys, &buffer)
            width *= 2
        }
        var tiesY = 0.0
        i = 0
        while i < n {
            var j = i + 1
            while j < n && ys[j] == ys[i] { j += 1 }
            tiesY += pairs(j - i)
            i = j
        }
        let total = pairs(n)
        let denominator = ((total - tiesX) * (total - tiesY)).squareRoot()
        guard denominator > 0 else { return .nan }
        return (total - tiesX - tiesY + tiesXY - 2 * swaps) / denominator
    }
}
