import Foundation
import ServeAPI

/// What a learned scheduler sees at a decision point, computed from the instance's view alone, so
/// that training in `ServeEnv` and deployment as the `rl` scheduler see identical numbers.
/// Counts and times are squashed with log(1 + x); agents normalise further with running moments.
///
/// | index | feature |
/// |---|---|
/// | 0 | log(1 + waiting requests) |
/// | 1 | log(1 + running requests) |
/// | 2 | running / max_num_seqs |
/// | 3 | log(1 + waiting prompt tokens still to compute / token budget) |
/// | 4, 5, 6 | log(1 + waiting age, s) at the median, the 90th percentile and the oldest |
/// | 7 | free KV blocks / total |
/// | 8 | allocated KV blocks / total |
/// | 9 | KV fragmentation of the running requests: 1 − stored tokens / allocated slots |
/// | 10 | recent TTFT / TTFT SLO (EWMA of the first tokens seen since the last decision) |
/// | 11 | TTFT SLO margin of the oldest waiting request: 1 − its age / TTFT SLO |
/// | 12 | recent inter-step time / TPOT SLO (the decode pace) |
/// | 13 | log(1 + recent arrival rate, req/s) (EWMA over 1 s windows) |
/// | 14 | log(1 + forecast arrival rate over the next `horizon` s) (Holt's linear trend, online) |
/// | 15 | log(1 + forecast interval width, req/s) (2 × the EWMA of its absolute error) |
/// | 16 | log(1 + mean predicted output of the waiting requests, tokens) |
/// | 17 | mean predicted service cost of the waiting requests (the `cost` rule's units) |
public final class ObservationTracker {
    public static let size = 18
    public static let featureNames = [
        "waiting", "running", "seat_use", "waiting_prompt", "age_p50", "age_p90", "age_max", "kv_free", "kv_used", "kv_frag",
        "ttft_recent", "ttft_margin", "step_pace", "arrival_rate", "forecast_rate", "forecast_width", "queue_pred_output", "queue_cost",
    ]

    /// Forecast horizon of feature 14, s.
    public let horizon: Double
    private var seenFirstToken: [Bool] = []
    private var maxArrivalSeen: Int32 = -1
    private var lastNow: Int64 = -1
    private var recentTTFT = 0.0
    private var recentStep = 0.0
    // One-second arrival windows and Holt's smoothing over them.
    private var windowStart: Int64 = 0
    private var windowCount = 0
    private var rate = 0.0
    private var level = 0.0, trend = 0.0, absError = 0.0
    private var started = false

    public init(horizon: Double = 10) { self.horizon = horizon }

    /// The observation for the view; call once per decision (it advances the tracker's state).
    public func observe(_ v: InstanceView) -> [Double] {
        let now = v.now
        let ttftSLO = v.slo.ttft ?? 2, tpotSLO = v.slo.tpot ?? 0.1
        let budget = Double(max(1, v.limits.tokenBudget)), seats = Double(max(1, v.limits.maxSeqs))
        countArrivals(v)
        // First tokens that appeared since the last look.
        for r in v.running where v.requests.generated[Int(r)] > 0 {
            let i = Int(r)
            if i >= seenFirstToken.count { seenFirstToken += Array(repeating: false, count: max(i + 1 - seenFirstToken.count, seenFirstToken.count)) }
            if !seenFirstToken[i] {
                seenFirstToken[i] = true
                let ttft = Double(now - v.requests.arrival[i]) * 1e-9
                recentTTFT = started ? 0.9 * recentTTFT + 0.1 * ttft : ttft
                started = true
            }
        }
        if lastNow >= 0, now > lastNow, !v.running.isEmpty {
            recentStep = 0.9 * recentStep + 0.1 * Double(now - lastNow) * 1e-9
        }
        lastNow = now

        let w = v.waiting
        var o = [Double](repeating: 0, count: Self.size)
        o[0] = log1p(Double(w.count))
        o[1] = log1p(Double(v.running.count))
        o[2] = Double(v.running.count) / seats
        // The waiting queue is in arrival order (preempted requests at its front), so ages at
        // positions are percentiles; sums come from at most 64 evenly spaced requests.
        var agePos = [0.0, 0.0, 0.0]
        var pending = 0.0, predicted = 0.0, cost = 0.0
        if !w.isEmpty {
            func age(_ k: Int) -> Double { max(0, Double(now - v.requests.arrival[Int(w[k])]) * 1e-9) }
            let n = w.count
            agePos = [age(n - 1 - (n - 1) / 2), age(n - 1 - (n - 1) * 9 / 10), (0..<min(n, 8)).map(age).max() ?? 0]
            let stride = max(1, n / 64)
            var samples = 0
            var k = 0
            while k < n {
                let r = w[k]
                let p = Double(v.requests.pendingTokens(r)), out = Double(v.requests.predictedOutput[Int(r)])
                pending += p
                predicted += out
                cost += p / budget + out / seats
                samples += 1
                k += stride
            }
            pending *= Double(n) / Double(samples)
            predicted /= Double(samples)
            cost /= Double(samples)
        }
        o[3] = log1p(pending / budget)
        o[4] = log1p(agePos[0]); o[5] = log1p(agePos[1]); o[6] = log1p(agePos[2])
        let total = Double(max(1, v.totalBlocks))
        o[7] = Double(v.freeBlocks) / total
        o[8] = 1 - o[7]
        var slots = 0.0, stored = 0.0
        for r in v.running {
            slots += Double(v.requests.allocatedBlocks[Int(r)]) * Double(v.limits.blockSize)
            stored += Double(v.requests.computed[Int(r)])
        }
        o[9] = slots > 0 ? max(0, 1 - stored / slots) : 0
        o[10] = recentTTFT / ttftSLO
        o[11] = 1 - agePos[2] / ttftSLO
        o[12] = recentStep / tpotSLO
        o[13] = log1p(rate)
        let forecast = max(0, level + trend * horizon)
        o[14] = log1p(forecast)
        o[15] = log1p(2 * absError)
        o[16] = log1p(predicted)
        o[17] = cost
        return o
    }

    /// New arrivals are the waiting queue's tail beyond the highest id seen (ids follow arrival order).
    private func countArrivals(_ v: InstanceView) {
        var k = v.waiting.count - 1
        var newest = maxArrivalSeen
        while k >= 0, v.waiting[k] > maxArrivalSeen {
            windowCount += 1
            newest = max(newest, v.waiting[k])
            k -= 1
        }
        maxArrivalSeen = newest
        let second: Int64 = 1_000_000_000
        while v.now - windowStart >= second {
            let x = Double(windowCount)
            let predicted = level + trend
            absError = 0.9 * absError + 0.1 * abs(x - predicted)
            let newLevel = 0.3 * x + 0.7 * (level + trend)
            trend = 0.1 * (newLevel - level) + 0.9 * trend
            level = newLevel
            rate = 0.7 * rate + 0.3 * x
            windowCount = 0
            windowStart += second
            // A long idle gap: jump rather than walk it second by second.
            if v.now - windowStart > 3600 * second {
                windowStart = v.now - v.now % second
                level = 0; trend = 0; rate = 0
            }
        }
    }
}
