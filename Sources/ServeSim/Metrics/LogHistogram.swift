/// A log-bucketed histogram of positive integers (ns): 2^7 sub-buckets per power of two, so a
/// value's bucket midpoint is within 0.4% of it. Fixed memory however many tokens a run samples;
/// used for the pooled inter-token latency percentiles.
public struct LogHistogram: Sendable, Equatable {
    static let subBits = 7
    static let sub = 1 << subBits
    public private(set) var counts = [Int64](repeating: 0, count: 64 * (1 << 7))
    public private(set) var total: Int64 = 0
    /// Σ of the values, kept as an integer so that adding the same values in any grouping (one
    /// at a time, or a stretch of equal gaps at once) gives the same mean to the last bit.
    private var exactSum: Int64 = 0
    public var sum: Double { Double(exactSum) }

    public init() {}

    @inline(__always)
    static func bucket(_ v: Int64) -> Int {
        let x = UInt64(max(1, v))
        let exp = 63 - x.leadingZeroBitCount
        if exp < subBits { return Int(x) }
        let mantissa = Int((x >> UInt64(exp - subBits)) & UInt64(sub - 1))
        return (exp - subBits + 1) * sub + mantissa
    }

    /// The midpoint of a bucket's value range.
    static func value(ofBucket b: Int) -> Double {
        if b < sub { return Double(b) }
        let exp = b / sub - 1 + subBits
        let mantissa = b % sub
        let lo = Double((UInt64(sub + mantissa)) << UInt64(exp - subBits))
        let width = Double(UInt64(1) << UInt64(exp - subBits))
        return lo + width / 2
    }

    @inline(__always)
    public mutating func add(_ v: Int64) {
        counts[Self.bucket(v)] += 1
        total += 1
        exactSum &+= v
    }

    /// Adds `count` copies of `v` (a fast-forwarded stretch's equal gaps).
    @inline(__always)
    public mutating func add(_ v: Int64, count: Int) {
        counts[Self.bucket(v)] += Int64(count)
        total += Int64(count)
        exactSum &+= v &* Int64(count)
    }

    /// Equal values added one after another, held back and added as one count: most of a
    /// batch's requests share a step's gap, so a step costs one bucket lookup, not one per
    /// request. The histogram ends up exactly as if each value had been added.
    struct EqualRun {
        private var value: Int64 = 0
        private var count = 0

        @inline(__always)
        mutating func add(_ v: Int64, to h: inout LogHistogram) {
            if count > 0 && v == value {
                count += 1
            } else {
                flush(to: &h)
                value = v
                count = 1
            }
        }

        /// Adds what is held back; call before the histogram is read or the run is dropped.
        mutating func flush(to h: inout LogHistogram) {
            if count > 0 { h.add(value, count: count) }
            count = 0
        }
    }

    public var mean: Double { total > 0 ? sum / Double(total) : .nan }

    /// Percentile with numpy's linear rule applied to bucket midpoints.
    public func percentile(_ p: Double) -> Double {
        guard total > 0 else { return .nan }
        let rank = p / 100 * Double(total - 1)
        let lo = Int64(rank.rounded(.down))
        let frac = rank - Double(lo)
        let a = valueAt(rank: lo), b = frac > 0 ? valueAt(rank: min(lo + 1, total - 1)) : a
        return a + (b - a) * frac
    }

    func valueAt(rank: Int64) -> Double {
        var seen: Int64 = 0
        for (b, c) in counts.enumerated() where c > 0 {
            seen += c
            if seen > rank { return Self.value(ofBucket: b) }
        }
        return .nan
    }
}
