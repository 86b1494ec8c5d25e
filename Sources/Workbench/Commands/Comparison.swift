import ServeSim

/// Side-by-side comparison of run summaries, with the difference of each against the first: in
/// percent of the first's value, or in points for metrics that are percentages.
public enum Comparison {
    static let metrics: [(String, @Sendable (RunSummary) -> Double, Double, Int)] = [
        ("TTFT mean (ms)", { $0.ttft.mean }, 1000, 1), ("TTFT p99 (ms)", { $0.ttft.p99 }, 1000, 1),
        ("TPOT mean (ms)", { $0.tpot.mean }, 1000, 2), ("TPOT p99 (ms)", { $0.tpot.p99 }, 1000, 2),
        ("ITL p99 (ms)", { $0.itl.p99 }, 1000, 2), ("E2E mean (s)", { $0.e2e.mean }, 1, 3), ("E2E p99 (s)", { $0.e2e.p99 }, 1, 3),
        ("throughput (req/s)", { $0.throughputRPS }, 1, 3), ("output tok/s", { $0.outputTokensPerSecond }, 1, 1),
        ("goodput (req/s)", { $0.goodputRPS }, 1, 3), ("goodput, arrival window", { $0.goodputWindowRPS }, 1, 3), ("SLO attainment (%)", { $0.sloAttainment }, 100, 1),
        ("preemptions", { Double($0.preemptions) }, 1, 0), ("KV use (%)", { $0.kvUtilization }, 100, 1),
        ("KV fragmentation (%)", { $0.fragmentation }, 100, 2), ("KV reserved unused (%)", { $0.reservedUnused }, 100, 1),
        ("GPU-seconds", { $0.gpuSeconds }, 1, 0), ("instances (mean)", { $0.meanInstances }, 1, 2),
    ]

    public static func table(_ runs: [(String, RunSummary)]) -> String {
        var header = ["metric"]
        for (i, r) in runs.enumerated() { header.append(r.0); if i > 0 { header.append("Δ%") } }
        var t = TextTable(header)
        for (name, get, scale, digits) in metrics {
            var row = [name]
            let base = get(runs[0].1)
            for (i, r) in runs.enumerated() {
                let v = get(r.1)
                row.append(fixed(v * scale, digits))
                // Percentages differ in points (attainment 33.0 → 28.0 is −5.0 pt, not −15.2%).
                if i > 0 && name.hasSuffix("(%)") { row.append(fixed((v - base) * scale, 1) + " pt") }
                else if i > 0 { row.append(base != 0 ? fixed((v - base) / abs(base) * 100, 1) : "-") }
            }
            t.add(row)
        }
        return t.render()
    }
}
