import Foundation
import ServeAPI
import Workload

/// The true output length: the upper bound for length-aware scheduling.
public final class OraclePredictor: LengthPredictor {
    public let name = "oracle"
    public init() {}
    public func predict(prompts: [Int32], outputs: [Int32], seed: UInt64) -> [Int32] { outputs }
}

/// The true length times a log-normal error exp(σ·N(0,1)): σ = 0 is the oracle, larger σ a worse
/// predictor. Seeded, so a run is reproducible.
public final class NoisyOraclePredictor: LengthPredictor {
    public let name = "noisy-oracle"
    let sigma: Double
    public init(sigma: Double) { self.sigma = sigma }
    public func predict(prompts: [Int32], outputs: [Int32], seed: UInt64) -> [Int32] {
        NoisyOraclePredictor.noisy(outputs, sigma: sigma, seed: seed)
    }

    static func noisy(_ outputs: [Int32], sigma: Double, seed: UInt64) -> [Int32] {
        var rng = SeededRandom(seed: seed ^ 0x1E57_0FA1_1000)
        // Clamped to a million tokens: wide noise must not overflow the column.
        return outputs.map { Int32(min(1_000_000, max(1, (Double($0) * exp(sigma * rng.normal())).rounded()))) }
    }
}

/// A classifier over length buckets: with probability `accuracy` it names the request's true
/// bucket, otherwise a neighbouring one (either side, evenly); the prediction is the bucket's
/// geometric middle. Bucket edges default to 64, 256, 1024 tokens.
public final class BucketPredictor: LengthPredictor {
    public let name = "bucket"
    let edges: [Int]
    let accuracy: Double

    public init(edges: [Int], accuracy: Double) {
        self.edges = edges.sorted()
        self.accuracy = accuracy
    }

    public static func parseEdges(_ text: String) throws -> [Int] {
        let values = text.split(separator: ";").map { Int($0) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw OptionError("bucket: edges expects positive integers separated by ';', got '\(text)'")
        }
        return values.map { $0! }
    }

    func bucket(_ length: Int32) -> Int { edges.firstIndex { Int(length) < $0 } ?? edges.count }

    func middle(_ b: Int) -> Int32 {
        let lo = Double(b == 0 ? 1 : edges[b - 1])
        let hi = Double(b < edges.count ? edges[b] : edges[edges.count - 1] * 4)
        return Int32((lo * hi).squareRoot().rounded())
    }

    public func predict(prompts: [Int32], outputs: [Int32], seed: UInt64) -> [Int32] {
        var rng = SeededRandom(seed: seed ^ 0xB0C_4E7)
        return outputs.map { o in
            var b = bucket(o)
            if rng.uniform() >= accuracy {
                let canDown = b > 0, canUp = b < edges.count
                if canDown && (!canUp || rng.uniform() < 0.5) { b -= 1 } else if canUp { b += 1 }
            }
            return middle(b)
        }
    }
}

/// Learned from history: the first `train` share of the trace (in arrival order) gives the mean
/// output length per prompt-length bin (powers of two); every request is predicted by its bin's
/// mean, or the overall training mean for bins never seen.
public final class HistoryPredictor: LengthPredictor {
    public let name = "history"
    let train: Double

    public init(train: Double) { self.train = train }

    static func bin(_ prompt: Int32) -> Int { Int(log2(Double(max(1, prompt)))) }

    public func predict(prompts: [Int32], outputs: [Int32], seed: UInt64) -> [Int32] {
        let n = max(1, Int((Double(prompts.count) * train).rounded()))
        var sum = [Int: Double](), count = [Int: Double]()
        var total = 0.0
        for i in 0..<min(n, prompts.count) {
            let b = HistoryPredictor.bin(prompts[i])
            sum[b, default: 0] += Double(outputs[i])
            count[b, default: 0] += 1
            total += Double(outputs[i])
        }
        let overall = total / Double(min(n, prompts.count))
        return prompts.map { p in
            let b = HistoryPredictor.bin(p)
            let mean = count[b].map { sum[b]! / $0 } ?? overall
            return Int32(max(1, mean.rounded()))
        }
    }
}

/// Rank scores with a chosen Kendall τ against the true lengths: log-normal noise whose width is
/// found by bisection on this trace so that τ(scores, lengths) lands within 0.01 of `tau`.
public final class RankTauPredictor: LengthPredictor {
    public let name = "rank-tau"
    let tau: Double

    public init(tau: Double) { self.tau = tau }

    public func predict(prompts: [Int32], outputs: [Int32], seed: UInt64) -> [Int32] {
        let truth = outputs.map(Double.init)
        func scores(_ sigma: Double) -> [Int32] { NoisyOraclePredictor.noisy(outputs, sigma: sigma, seed: seed) }
        func tauOf(_ s: [Int32]) -> Double { Stats.kendallTau(s.map(Double.init), truth) }
        if tau >= 0.999 { return outputs }
        var lo = 0.0, hi = 8.0
        var best = scores(hi)
        for _ in 0..<40 {
            let mid = (lo + hi) / 2
            let s = scores(mid)
            let t = tauOf(s)
            best = s
            if abs(t - tau) < 0.01 { break }
            if t > tau { lo = mid } else { hi = mid }
        }
        return best
    }
}
