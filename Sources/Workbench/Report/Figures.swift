import Charts
import Forecasting
import Foundation
import ServeAPI
import ServeSim
import Workload

/// The charts a serving study needs, built from runs and results; each is a `Chart` value that
/// the HTML report, `plot --out` (SVG) and the shell's `plot` (characters) draw alike.
public enum Figures {
    /// A per-request latency a chart can show.
    public enum Latency: String, CaseIterable, Sendable {
        case ttft, tpot, itl, e2e

        var title: String {
            switch self {
            case .ttft: return "TTFT"
            case .tpot: return "TPOT"
            case .itl: return "worst inter-token gap per request"
            case .e2e: return "E2E latency"
            }
        }

        func values(_ r: ReportRun) -> [Double] {
            switch self {
            case .ttft: return r.ttft
            case .tpot: return r.tpot.compactMap { $0 }
            case .itl: return r.itlMax.compactMap { $0 }
            case .e2e: return r.e2e
            }
        }

        /// Per request, nil where undefined (paired with arrivals).
        func perRequest(_ r: ReportRun) -> [Double?] {
            switch self {
            case .ttft: return r.ttft
            case .tpot: return r.tpot
            case .itl: return r.itlMax
            case .e2e: return r.e2e
            }
        }

        public init(parsing text: String) throws {
            guard let m = Latency(rawValue: text.lowercased()) else {
                throw UsageError("--metric expects ttft, tpot, itl or e2e, got '\(text)'")
            }
            self = m
        }
    }

    /// The unit that keeps latencies short (the same rule as the text reports): ms below 10 s.
    static func timeUnit(_ seconds: [Double]) -> (name: String, scale: Double) {
        let top = seconds.filter(\.isFinite).max() ?? 0
        if top < 10 { return ("ms", 1000) }
        if top < 600 { return ("s", 1) }
        if top < 36_000 { return ("min", 1.0 / 60) }
        return ("h", 1.0 / 3600)
    }

    // MARK: Latency distributions

    /// Empirical CDFs of one latency, a step curve per run, on a log axis when the values span
    /// more than a factor of 50 between their 1st and 99th percentiles.
    public static func cdf(_ runs: [ReportRun], _ metric: Latency) -> Chart {
        let sorted = runs.map { metric.values($0).filter(\.isFinite).sorted() }
        let unit = timeUnit(sorted.compactMap(\.last))
        var wide = false
        for s in sorted where s.count > 1 {
            let lo = Stats.percentile(sorted: s, 1), hi = Stats.percentile(sorted: s, 99)
            if lo > 0 && hi / lo > 50 { wide = true }
        }
        var series: [ChartSeries] = []
        for (k, s) in sorted.enumerated() {
            let (x, y) = cdfPoints(s)
            series.append(ChartSeries(runs[k].label, x: x.map { $0 * unit.scale }, y: y, mark: .step, colour: k))
        }
        return .xy(XYChart(title: "\(metric.title): distribution over requests",
                           x: Axis("\(metric.title) (\(unit.name))\(wide ? ", log scale" : "")", scale: wide ? .log : .linear),
                           y: Axis("fraction of requests", min: 0, max: 1), series: series))
    }

    /// At most ~500 points of an empirical CDF: every value when few, else evenly spaced ranks
    /// plus the maximum, so the tail's end is exact.
    static func cdfPoints(_ sorted: [Double]) -> ([Double], [Double]) {
        let n = sorted.count
        guard n > 0 else { return ([], []) }
        let ranks = n <= 500 ? Array(0..<n) : (0..<500).map { $0 * (n - 1) / 499 }
        return (ranks.map { sorted[$0] }, ranks.map { Double($0 + 1) / Double(n) })
    }

    /// Mean latency by arrival time (bins across the arrival span), a line per run; with one
    /// small run also every request as a dot.
    public static func latencyOverTime(_ runs: [ReportRun], _ metric: Latency) -> Chart {
        let unit = timeUnit(runs.flatMap { metric.values($0) })
        var series: [ChartSeries] = []
        var binWidth = 0.0
        for (k, r) in runs.enumerated() {
            let values = metric.perRequest(r)
            guard let first = r.arrival.min(), let last = r.arrival.max() else { continue }
            let bins = max(1, min(120, r.arrival.count / 20))
            let width = max(1e-9, (last - first) / Double(bins))
            var sum = Array(repeating: 0.0, count: bins), count = Array(repeating: 0, count: bins)
            for (a, v) in zip(r.arrival, values) {
                guard let v, v.isFinite else { continue }
                let b = min(bins - 1, Int((a - first) / width))
                sum[b] += v
                count[b] += 1
            }
            var x: [Double] = [], y: [Double] = []
            for b in 0..<bins where count[b] > 0 {
                x.append(first + (Double(b) + 0.5) * width)
                y.append(sum[b] / Double(count[b]) * unit.scale)
            }
            if runs.count == 1 && r.arrival.count <= 5000 {
                var px: [Double] = [], py: [Double] = []
                for (a, v) in zip(r.arrival, values) { if let v, v.isFinite { px.append(a); py.append(v * unit.scale) } }
                series.append(ChartSeries("each request", x: px, y: py, mark: .points, colour: k + 1))
            }
            series.append(ChartSeries(runs.count == 1 ? "mean" : r.label, x: x, y: y, colour: k))
            binWidth = width
        }
        return .xy(XYChart(title: "\(metric.title) by arrival time (mean per \(fixedTrim(binWidth)) s of arrivals)", x: Axis("arrival time (s)"),
                           y: Axis("\(metric.title) (\(unit.name))", fromZero: true), series: series))
    }

    // MARK: Time series

    /// The engine's counters over time: requests running and waiting, KV use, token throughput,
    /// and preemptions and instances where a run has any.
    public static func timeSeries(_ runs: [ReportRun]) -> [Chart] {
        func panel(_ title: String, _ y: String, _ columns: [(String, String, Bool)]) -> Chart? {
            var series: [ChartSeries] = []
            for (k, r) in runs.enumerated() {
                for (column, name, dashed) in columns {
                    guard let v = r.column(column) else { continue }
                    series.append(ChartSeries(runs.count > 1 ? "\(r.label) \(name)" : name, x: r.seriesTime, y: v, mark: .step, dashed: dashed, colour: k))
                }
            }
            guard !series.isEmpty else { return nil }
            return .xy(XYChart(title: title, x: Axis("time (s)"), y: Axis(y, fromZero: true), series: series))
        }
        var charts: [Chart] = []
        charts += [panel("Requests running and waiting", "requests", [("running", "running", false), ("waiting", "waiting", true)]),
                   panel("KV cache in use", "KV blocks used (%)", [("kv_cache_pct", "KV use", false)]),
                   panel("Token throughput", "tokens/s", [("prompt_throughput", "prompt", false), ("gen_throughput", "generation", true)])].compactMap { $0 }
        if runs.contains(where: { ($0.column("preemptions") ?? []).contains { $0 > 0 } }),
           let p = panel("Preemptions", "preemptions per interval", [("preemptions", "preemptions", false)]) { charts.append(p) }
        if let p = panel("Instances powered (autoscaling)", "instances", [("instances", "instances", false)]) { charts.append(p) }
        return charts
    }

    // MARK: Comparison

    /// Runs of the same workload: request i is the same request in each (same arrivals and
    /// prompts), so differences can be paired.
    static func paired(_ runs: [ReportRun]) -> Bool {
        guard let first = runs.first else { return false }
        return runs.allSatisfy { $0.arrival == first.arrival && $0.promptTokens == first.promptTokens }
    }

    /// Each run's mean TTFT, TPOT and E2E against the first's, in %, with paired bootstrap 95%
    /// confidence intervals; nil unless there are two or more paired runs.
    public static func comparison(_ runs: [ReportRun], resamples: Int = 1000) -> Chart? {
        guard runs.count > 1, paired(runs) else { return nil }
        let metrics: [Latency] = [.ttft, .tpot, .e2e]
        var groups: [BarChart.Group] = []
        for k in 1..<runs.count {
            var values: [Double] = [], low: [Double] = [], high: [Double] = []
            for m in metrics {
                let base = Stats.mean(m.values(runs[0]))
                let i = Evaluation.bootstrap(baseline: m.perRequest(runs[0]), candidate: m.perRequest(runs[k]), resamples: resamples)
                values.append(i.difference / base * 100)
                low.append(i.low / base * 100)
                high.append(i.high / base * 100)
            }
            groups.append(BarChart.Group(runs[k].label, values: values, low: low, high: high, colour: k))
        }
        return .bars(BarChart(title: "Mean latency against \(runs[0].label) (paired bootstrap 95% CI)",
                              y: Axis("difference from \(runs[0].label) (%)"), categories: ["TTFT", "TPOT", "E2E"], groups: groups))
    }

    // MARK: Sweeps

    /// Curves of a `sweep --json` result (SLO attainment, P99 TTFT and goodput against the
    /// arrival rate), or bars of a `sweep --find-capacity --json` one.
    public static func sweep(_ json: JSON, source: String) throws -> [Chart] {
        if let capacities = json["capacity_rps"], case .object(let pairs) = capacities {
            let target = json["target"]?.doubleValue ?? 0.9
            return [.bars(BarChart(title: "Capacity at ≥ \(fixedTrim(target * 100))% SLO attainment", y: Axis("req/s"), categories: ["capacity"],
                                   groups: pairs.enumerated().map { k, p in BarChart.Group(p.0, values: [p.1.doubleValue ?? .nan], colour: k) }))]
        }
        guard case .object(let schedulers) = json, !schedulers.isEmpty else {
            throw UsageError("\(source): not a sweep result (expected the JSON of `sweep --json`)")
        }
        var curves: [(String, [(rate: Double, point: JSON)])] = []
        for (name, value) in schedulers {
            guard case .array(let points) = value else { throw UsageError("\(source): '\(name)' is not a list of sweep points") }
            let rows = try points.map { p -> (rate: Double, point: JSON) in
                guard let rate = p["rate"]?.doubleValue else { throw UsageError("\(source): a point of '\(name)' has no 'rate'") }
                return (rate, p)
            }
            curves.append((name, rows.sorted { $0.rate < $1.rate }))
        }
        func chart(_ title: String, _ key: String, _ y: String, _ scale: Double, min: Double? = nil, max: Double? = nil) -> Chart {
            .xy(XYChart(title: title, x: Axis("arrival rate (req/s)"), y: Axis(y, min: min, max: max, fromZero: true),
                        series: curves.enumerated().map { k, c in
                            ChartSeries(c.0, x: c.1.map(\.rate), y: c.1.map { ($0.point[key]?.doubleValue ?? .nan) * scale }, colour: k)
                        }))
        }
        return [chart("SLO attainment against load", "slo_attainment", "requests meeting every SLO (%)", 100, min: 0, max: 100),
                chart("P99 TTFT against load", "ttft_p99", "P99 TTFT (s)", 1),
                chart("Goodput against load", "goodput_rps", "goodput (req/s)", 1)]
    }

    // MARK: Forecasts

    /// The last `horizon` steps held back, the model fitted on the rest: its forecast with 80% and
    /// 95% intervals against what happened, after the preceding history.
    public static func forecast(_ s: Series, model spec: String, horizon: Int, season: Int, what: String) throws -> Chart {
        let n = s.values.count
        guard n > horizon + 2 else {
            throw UsageError("the series has \(n) steps: too short to hold back \(horizon) and fit on the rest (use a finer --freq or a shorter --horizon)")
        }
        let model = try makeForecaster(spec, season: season)
        try model.fit(Array(s.values[0..<(n - horizon)]))
        let f = try model.predict(horizon: horizon, levels: [80, 95]).respectingSign(of: s.values)
        return forecastChart(s, origin: n - horizon, forecast: f, title: "Forecast of \(what) by \(spec), \(horizon) steps held back", what: what)
    }

    /// Actual values up to `origin` (and after it, when the series goes on: a held-back test),
    /// then the forecast's mean and its 95% and 80% bands from `origin` on.
    public static func forecastChart(_ s: Series, origin: Int, forecast f: Forecast, title: String, what: String) -> Chart {
        let horizon = f.mean.count
        let shown = min(origin, max(4 * horizon, 60))
        let t = { (k: Int) in s.start + Double(k + 1) * s.step }
        let history = (origin - shown)..<min(s.values.count, origin + horizon)
        let ahead = origin..<(origin + horizon)
        return .xy(XYChart(title: title, x: Axis("time (s)"), y: Axis("\(what) per \(fixedTrim(s.step)) s", fromZero: true),
                           series: [ChartSeries("actual", x: history.map(t), y: history.map { s.values[$0] }, colour: 6),
                                    ChartSeries("forecast (mean)", x: ahead.map(t), y: f.mean, dashed: true, colour: 0)],
                           bands: [Band("95% interval", x: ahead.map(t), lower: f.lower[95] ?? f.mean, upper: f.upper[95] ?? f.mean, colour: 5),
                                   Band("80% interval", x: ahead.map(t), lower: f.lower[80] ?? f.mean, upper: f.upper[80] ?? f.mean, colour: 0)],
                           rules: [(t(origin - 1), "forecast origin")]))
    }

    // MARK: Validation

    /// Measured against simulated CDFs of TTFT, TPOT and E2E, then the counters over time.
    public static func validation(_ v: Validation) -> [Chart] {
        var charts: [Chart] = []
        for sample in v.samples {
            let title = ["ttft": "TTFT", "tpot": "TPOT", "e2e": "E2E latency"][sample.metric] ?? sample.metric
            let unit = timeUnit([(sample.measured + sample.simulated).max() ?? 0].map { $0 / 1000 })
            let m = cdfPoints(sample.measured.sorted()), s = cdfPoints(sample.simulated.sorted())
            charts.append(.xy(XYChart(title: "\(title): measured vs simulated", x: Axis("\(title) (\(unit.name))"), y: Axis("fraction of requests", min: 0, max: 1),
                                      series: [ChartSeries("measured (vLLM)", x: m.0.map { $0 / 1000 * unit.scale }, y: m.1, mark: .step, colour: 6),
                                               ChartSeries("simulated", x: s.0.map { $0 / 1000 * unit.scale }, y: s.1, mark: .step, dashed: true, colour: 1)])))
        }
        for c in v.series {
            charts.append(.xy(XYChart(title: "\(c.name): measured vs simulated (correlation \(fixed(c.correlation, 2)))", x: Axis("time (s)"), y: Axis(c.name, fromZero: true),
                                      series: [ChartSeries("measured (vLLM)", x: c.t, y: c.measured, mark: .step, colour: 6),
                                               ChartSeries("simulated", x: c.t, y: c.simulated, mark: .step, dashed: true, colour: 1)])))
        }
        return charts
    }
}

/// A number without trailing zeros (2.5, 10, 0.1).
func fixedTrim(_ v: Double) -> String { JSON.format((v * 1000).rounded() / 1000) }
