import Foundation
import ServeSim
import Workload

/// Runs several schedulers on the identical workload and configuration, and compares them with the
/// first (the baseline): differences, and paired bootstrap 95% confidence intervals for the mean
/// differences (request i is the same request under every scheduler).
public struct Evaluation {
    public struct Entry {
        public var label: String
        public var predictor: String?
        public var result: RunResult
        public var summary: RunSummary
    }

    public struct Interval: Equatable {
        public var difference: Double
        public var low: Double
        public var high: Double
    }

    public var entries: [Entry]
    public var resamples: Int

    /// The schedulers' runs, `jobs` at a time (the results do not depend on it).
    public static func run(trace: Trace, sim: SimulationArguments, resamples: Int = 1000, schedulers: [String],
                           hooks: Simulator.Hooks = Simulator.Hooks(), jobs: Int = 1) throws -> Evaluation {
        guard !schedulers.isEmpty else { throw UsageError("--schedulers needs at least one scheduler") }
        let runHooks = ProgressBar.combined(hooks, count: schedulers.count)
        let entries = try Parallel.map(schedulers.count, jobs: jobs) { k -> Entry in
            var s = sim
            s.scheduler = schedulers[k]
            let choice = try SchedulerChoice(schedulers[k])
            let result = try simulate(trace, s, hooks: runHooks(k))
            let predictor = try choice.predictor.map(\.description) ?? (choice.make().capabilities.usesLengthPredictor ? s.predictor : nil)
            return Entry(label: choice.label, predictor: predictor, result: result, summary: RunSummary(result))
        }
        return Evaluation(entries: entries, resamples: resamples)
    }

    /// Per-request values of a metric (seconds); nil where undefined (TPOT of 1-token outputs).
    static func perRequest(_ r: RunResult, _ metric: String) -> [Double?] {
        let q = r.requests
        return (0..<q.count).map { i in
            switch metric {
            case "ttft": return q.ttft(i)
            case "e2e": return q.e2e(i)
            case "queueing": return q.queueing(i)
            default: return q.tpot(i)
            }
        }
    }

    /// Paired bootstrap of the mean difference (candidate − baseline), seeded so it is reproducible.
    public static func bootstrap(baseline: [Double?], candidate: [Double?], resamples: Int, seed: UInt64 = 7) -> Interval {
        var diffs: [Double] = []
        for (a, b) in zip(baseline, candidate) { if let a, let b { diffs.append(b - a) } }
        guard !diffs.isEmpty else { return Interval(difference: .nan, low: .nan, high: .nan) }
        let mean = Stats.mean(diffs)
        var rng = SeededRandom(seed: seed)
        var means: [Double] = []
        means.reserveCapacity(resamples)
        for _ in 0..<resamples {
            var s = 0.0
            for _ in 0..<diffs.count { s += diffs[rng.integer(0, diffs.count - 1)] }
            means.append(s / Double(diffs.count))
        }
        means.sort()
        return Interval(difference: mean, low: Stats.percentile(sorted: means, 2.5), high: Stats.percentile(sorted: means, 97.5))
    }

    public static let intervalMetrics = ["ttft", "tpot", "e2e"]

    public func intervals(for k: Int) -> [String: Interval] {
        var out: [String: Interval] = [:]
        guard k > 0 else { return out }
        for m in Evaluation.intervalMetrics {
            out[m] = Evaluation.bootstrap(baseline: Evaluation.perRequest(entries[0].result, m),
                                          candidate: Evaluation.perRequest(entries[k].result, m), resamples: resamples)
        }
        return out
    }

    public func text() -> String {
        var out = Comparison.table(entries.map { ($0.label, $0.summary) })
        out += "\npredictors: " + entries.map { "\($0.label): \($0.predictor ?? "none")" }.joined(separator: "; ") + "\n"
        if entries.count > 1 {
            out += "\nmean differences against \(entries[0].label) (paired bootstrap, \(resamples) resamples, 95% CI):\n"
            var t = TextTable(["scheduler", "TTFT (ms)", "TPOT (ms)", "E2E (ms)"])
            for k in 1..<entries.count {
                let iv = intervals(for: k)
                func cell(_ m: String) -> String {
                    guard let i = iv[m] else { return "-" }
                    return "\(fixed(i.difference * 1000, 1)) [\(fixed(i.low * 1000, 1)), \(fixed(i.high * 1000, 1))]"
                }
                t.add([entries[k].label, cell("ttft"), cell("tpot"), cell("e2e")])
            }
            out += t.render()
        }
        return out
    }

    public func json() -> JSON {
        func pair(_ d: Distribution) -> JSON { .object([("mean", .number(d.mean)), ("p99", .number(d.p99))]) }
        var results: [(String, JSON)] = []
        for (k, e) in entries.enumerated() {
            let s = e.summary
            var fields: [(String, JSON)] = [
                ("ttft", pair(s.ttft)), ("tpot", pair(s.tpot)), ("itl", pair(s.itl)), ("e2e", pair(s.e2e)),
                ("throughput_rps", .number(s.throughputRPS)), ("goodput_rps", .number(s.goodputRPS)), ("goodput_window_rps", .number(s.goodputWindowRPS)),
                ("slo_attainment", .number(s.sloAttainment)), ("preemptions", .integer(s.preemptions)),
                ("kv_utilization", .number(s.kvUtilization)), ("predictor", e.predictor.map { .string($0) } ?? .null),
            ]
            if k > 0 {
                fields.append(("diff_vs_baseline", .object(intervals(for: k).sorted { $0.key < $1.key }.map { m, i in
                    ("\(m)_mean", .object([("value", .number(i.difference)), ("ci95", .array([.number(i.low), .number(i.high)]))]))
                })))
            }
            results.append((e.label, .object(fields)))
        }
        return .object([("baseline", .string(entries[0].label)), ("results", .object(results))])
    }
}

/// Rescales a trace to a target mean arrival rate (req/s) by dividing its arrival times.
func atRate(_ trace: Trace, _ rate: Double) throws -> Trace {
    let base = Double(trace.count - 1) / max(trace.spanSeconds, 1e-9)
    let k = rate / base
    var t = trace
    t.arrivals = try trace.arrivals.map {
        guard let ns = Checked.nanoseconds(Double($0) / k, nanosPerUnit: 1) else {
            throw UsageError("at \(rate) req/s the trace would span more than 292 years")
        }
        return ns
    }
    return t
}
