import Foundation

/// Multiple seasonal decomposition in the manner of MSTL (Bandara, Hyndman & Bergmeir, 2021),
/// for long series with several cycles (e.g. daily and weekly): seasons are taken shortest
/// first; each seasonal component is estimated on the series with the other components removed,
/// as the mean per phase, over the last `cycles` cycles, of its deviation from a centred moving
/// average of one season (so a trend is not read as a season); two passes refine them jointly.
/// The deseasonalised remainder (trend + noise) is forecast by Holt's damped trend; each seasonal
/// component continues its last cycle. Seasons: given (`seasons=24+168`), or detected from the
/// data (`auto`, up to three, see `SeasonDetector`), falling back to the season option when none
/// is detected and to no season at all when that is 1.
public final class MSTLForecaster: ConformalForecaster {
    let requested: [Int]?
    let fallbackSeason: Int
    let cycles: Int
    public private(set) var seasons: [Int] = []
    /// One array per season: the component's value per phase.
    public private(set) var components: [[Double]] = []
    var remainder = ExponentialSmoothing(kind: .dampedTrend)
    var t = 0

    public init(seasons: [Int]? = nil, season: Int = 1, cycles: Int = 8) {
        requested = seasons
        fallbackSeason = season
        self.cycles = cycles
        super.init(name: "mstl")
    }

    override public var minimumLength: Int { max(8, 2 * (requested?.max() ?? 1) + 2) }

    /// The mean of y over a window of `width` centred at each point (shrunk at the edges; 2×width for an even width, as usual).
    static func centredMovingAverage(_ y: [Double], width: Int) -> [Double] {
        let n = y.count
        var prefix = [0.0]
        prefix.reserveCapacity(n + 1)
        for v in y { prefix.append(prefix.last! + v) }
        func mean(_ lo: Int, _ hi: Int) -> Double {        // y[lo...hi], clipped
            let a = max(0, lo), b = min(n - 1, hi)
            return (prefix[b + 1] - prefix[a]) / Double(b - a + 1)
        }
        let half = width / 2
        return (0..<n).map { i in
            width % 2 == 1 ? mean(i - half, i + half) : (mean(i - half, i + half - 1) + mean(i - half + 1, i + half)) / 2
        }
    }

    func value(_ k: Int, at i: Int) -> Double { components[k][i % seasons[k]] }

    override public func train(_ y: [Double]) throws {
        let n = y.count
        var chosen = requested ?? SeasonDetector.detect(y)
        if chosen.isEmpty && fallbackSeason > 1 { chosen = [fallbackSeason] }
        seasons = chosen.filter { $0 > 1 && 2 * $0 <= n }.sorted()
        components = seasons.map { Array(repeating: 0, count: $0) }
        for _ in 0..<2 {
            for (k, m) in seasons.enumerated() {
                // The series with every other component removed.
                let rest = (0..<n).map { i in y[i] - seasons.indices.reduce(0.0) { $0 + ($1 == k ? 0 : value($1, at: i)) } }
                let trend = Self.centredMovingAverage(rest, width: m)
                var sums = [Double](repeating: 0, count: m), counts = [Double](repeating: 0, count: m)
                for i in max(0, n - cycles * m)..<n {
                    sums[i % m] += rest[i] - trend[i]
                    counts[i % m] += 1
                }
                var c = (0..<m).map { counts[$0] > 0 ? sums[$0] / counts[$0] : 0 }
                let centre = c.reduce(0, +) / Double(m)
                c = c.map { $0 - centre }
                components[k] = c
            }
        }
        let adjusted = (0..<n).map { i in y[i] - seasons.indices.reduce(0.0) { $0 + value($1, at: i) } }
        remainder = ExponentialSmoothing(kind: .dampedTrend)
        try remainder.fitPointOnly(adjusted)
        t = n
    }

    override public func observe(_ y: Double) {
        remainder.update(y - seasons.indices.reduce(0.0) { $0 + value($1, at: t) })
        t += 1
    }

    override public func point(_ horizon: Int) -> [Double] {
        let base = remainder.point(horizon)
        return (0..<horizon).map { h in base[h] + seasons.indices.reduce(0.0) { $0 + value($1, at: t + h) } }
    }
}
