import ArgumentParser
import Foundation
import Schedulers
import ServeAPI
import ServeSim
import Workload

/// Compares a simulation with a real vLLM measurement folder (meta.json, requests.jsonl, config.json).
public struct ValidateCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Replay a real vLLM run and compare measured and simulated TTFT, TPOT, E2E and time series.",
        discussion: """
        The setup comes from the run folder (see the README for the precedence); flags override it.
        Example: smartserve validate ../shared/data/vllm-measured/RTXPRO6000-Llama-3.1-8B --latency-profile ../shared/data/llmservingsim-profiles/RTXPRO6000
        """)
    @Argument(help: "Measurement folder.") var directory: String
    @Option(help: "Hardware catalog name or JSON profile (default: config.json's constants over the catalog entry it names).") var hardware: String?
    @Option(help: "Model name or HuggingFace config.json (default: the one the run names).") var model: String?
    @Option(name: .customLong("num-gpu-blocks"), help: "KV blocks per instance (default: meta.json's measured num_gpu_blocks, else computed).")
    var numGPUBlocks: Int?
    @Option(parsing: .unconditional, help: "Data-parallel instances (default: the run's data_parallel_size).") var instances: Int?
    @Option(name: .customLong("latency-profile"), help: "LLMServingSim 2.0 profile bundle folder (default: the roofline).") var latencyProfile: String?
    @Flag(help: "Print JSON.") var json = false
    public init() {}

    public func run() throws { Terminal.out(try output()) }

    /// The report (the shell prints it too).
    public func output() throws -> String {
        if let n = numGPUBlocks, n < 1 { throw UsageError("--num-gpu-blocks must be ≥ 1, got \(n)") }
        if let n = instances, !(1...1024).contains(n) { throw UsageError("--instances must be in 1...1024, got \(n)") }
        let overrides = SetupOverrides(hardware: hardware, model: model, numGPUBlocks: numGPUBlocks, instances: instances)
        let v = try Validation.run(directory: directory, overrides: overrides, latencyProfile: latencyProfile)
        return json ? v.json().render() : v.text()
    }
}

public struct Validation {
    public struct Row {
        public var metric: String
        public var stat: String
        public var measured: Double
        public var simulated: Double
        public var diffPct: Double { (simulated - measured) / measured * 100 }
    }

    /// One time-series counter, measured and simulated per tick.
    public struct SeriesComparison {
        public var name: String
        public var t: [Double]
        public var measured: [Double]
        public var simulated: [Double]
        public var measuredMean: Double { Stats.mean(measured) }
        public var simulatedMean: Double { Stats.mean(simulated) }
        public var meanAbsoluteError: Double { Stats.mean(zip(measured, simulated).map { abs($0 - $1) }) }
        /// Pearson correlation of the two series (NaN when either is constant).
        public var correlation: Double {
            let ma = measuredMean, mb = simulatedMean
            var sab = 0.0, saa = 0.0, sbb = 0.0
            for (a, b) in zip(measured, simulated) { sab += (a - ma) * (b - mb); saa += (a - ma) * (a - ma); sbb += (b - mb) * (b - mb) }
            return saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : .nan
        }
    }

    public var rows: [Row]
    public var config: ClusterConfig
    public var setup: [SetupItem]
    public var latencyModel: String
    public var series: [SeriesComparison]
    /// Per-request TTFT, TPOT and E2E (ms), measured and simulated, for the CDF charts.
    public var samples: [(metric: String, measured: [Double], simulated: [Double])] = []

    static let stats = ["mean", "median", "p90", "p95", "p99"]

    static func values(_ xs: [Double]) -> [Double] {
        let d = Distribution(xs)
        return [d.mean, d.median, d.p90, d.p95, d.p99]
    }

    public static func run(directory: String, overrides: SetupOverrides = SetupOverrides(), latencyProfile: String? = nil) throws -> Validation {
        let run = try MeasuredRun.load(directory, overrides: overrides)
        let latency = try LatencyModel.resolve(run.config, profile: latencyProfile)
        var setup = run.setup
        if case .profile(let p) = latency {
            setup.append(SetupItem(key: "latency_model", value: "profile \(p.bundle.directory)/tp\(p.bundle.tensorParallel)", source: "--latency-profile"))
        } else {
            setup.append(SetupItem(key: "latency_model", value: "roofline", source: "default"))
        }
        if run.config.instances > 1 { setup.append(SetupItem(key: "router", value: "vllm-dp", source: "vLLM's DP balancing")) }
        let measured = try MeasuredRequests.metrics(run.requestsPath)
        let result = try simulate(run, config: run.config, latency: latency)
        let seriesPath = URL(fileURLWithPath: directory).appendingPathComponent("timeseries.csv").path
        let series = try MeasuredSeries.load(seriesPath).map { compare($0, result.timeSeries, offset: run.seriesOffset) } ?? []
        let simulated = perRequest(result)
        return Validation(rows: rows(measured, simulated), config: run.config, setup: setup, latencyModel: latency.kind, series: series,
                          samples: [("ttft", measured.ttft, simulated.ttft), ("tpot", measured.tpot, simulated.tpot), ("e2e", measured.e2e, simulated.e2e)])
    }

    /// Replays the run's workload on a configuration with vLLM's scheduler (and its DP balancing).
    static func simulate(_ run: MeasuredRun, config: ClusterConfig, latency: LatencyModel) throws -> RunResult {
        let router: (any RequestRouter)? = config.instances > 1 ? VLLMDataParallelRouter() : nil
        return try Simulator(trace: run.trace, config: config, latency: latency, makeScheduler: { VLLMScheduler() }, router: router).run()
    }

    /// The simulated requests' TTFT, TPOT (where defined) and E2E, ms.
    static func perRequest(_ result: RunResult) -> (ttft: [Double], tpot: [Double], e2e: [Double]) {
        let q = result.requests
        var sTTFT: [Double] = [], sTPOT: [Double] = [], sE2E: [Double] = []
        for i in 0..<q.count {
            sTTFT.append(q.ttft(i) * 1000)
            sE2E.append(q.e2e(i) * 1000)
            if let tpot = q.tpot(i) { sTPOT.append(tpot * 1000) }
        }
        return (sTTFT, sTPOT, sE2E)
    }

    /// Mean, median, P90, P95 and P99 of TTFT, TPOT and E2E, measured and simulated (ms).
    static func rows(_ measured: (ttft: [Double], tpot: [Double], e2e: [Double]), _ simulated: (ttft: [Double], tpot: [Double], e2e: [Double])) -> [Row] {
        var rows: [Row] = []
        for (metric, m, s) in [("ttft", measured.ttft, simulated.ttft), ("tpot", measured.tpot, simulated.tpot), ("e2e", measured.e2e, simulated.e2e)] {
            for (k, (mv, sv)) in zip(values(m), values(s)).enumerated() {
                rows.append(Row(metric: metric, stat: stats[k], measured: mv, simulated: sv))
            }
        }
        return rows
    }

    /// Mean |ln(simulated / measured)| over the means and P99s of TTFT, TPOT and E2E: what
    /// `calibrate` minimises on a run.
    static func error(_ rows: [Row]) -> Double {
        let picked = rows.filter { $0.stat == "mean" || $0.stat == "p99" }
        return picked.reduce(0) { $0 + abs(log($1.simulated / $1.measured)) } / Double(picked.count)
    }

    /// Lines the measured ticks up with the simulated intervals: measured row t covers
    /// (t − 1, t] seconds after the measurement started, i.e. simulated bucket t − 1 − offset.
    /// Counters the measurement left at zero throughout are not compared.
    static func compare(_ m: MeasuredSeries, _ s: TimeSeries, offset: Double) -> [SeriesComparison] {
        let shift = Int(offset.rounded())
        let width = s.interval
        func simulated(_ name: String, _ b: Int) -> Double {
            guard b >= 0 && b < s.promptTokens.count else { return 0 }
            switch name {
            case "prompt_throughput": return s.promptTokens[b] / width
            case "gen_throughput": return s.generatedTokens[b] / width
            case "running": return Double(s.running[b])
            case "waiting": return Double(s.waiting[b])
            default: return s.kvUsage[b]
            }
        }
        var out: [SeriesComparison] = []
        for name in MeasuredSeries.columns {
            guard let values = m.values[name], values.contains(where: { $0 != 0 }) else { continue }
            let sim = m.t.map { simulated(name, Int(($0 / width).rounded()) - 1 - shift) }
            out.append(SeriesComparison(name: name, t: m.t, measured: values, simulated: sim))
        }
        return out
    }

    public func json() -> JSON {
        var metrics: [(String, JSON)] = []
        for metric in ["ttft", "tpot", "e2e"] {
            metrics.append((metric, .object(rows.filter { $0.metric == metric }.map { row in
                (row.stat, .object([("measured", .number(row.measured)), ("simulated", .number(row.simulated)), ("diff_pct", .number(row.diffPct))]))
            })))
        }
        let setupJSON: JSON = .object(setup.map { ($0.key, .object([("value", .string($0.value)), ("source", .string($0.source))])) })
        let seriesJSON: JSON = .object(series.map { c in
            (c.name, .object([("measured_mean", .number(c.measuredMean)), ("simulated_mean", .number(c.simulatedMean)),
                              ("mean_abs_error", .number(c.meanAbsoluteError)), ("correlation", .number(c.correlation)),
                              ("t", .array(c.t.map { .number($0) })), ("measured", .array(c.measured.map { .number($0) })),
                              ("simulated", .array(c.simulated.map { .number($0) }))]))
        })
        return .object([("metrics", .object(metrics)), ("unit", .string("ms")), ("latency_model", .string(latencyModel)),
                        ("setup", setupJSON), ("timeseries", seriesJSON),
                        ("config", .object([("hardware", .string(config.hardware.name)), ("model", .string(config.model.name)),
                                            ("tp", .integer(config.tensorParallel)), ("dp", .integer(config.instances)),
                                            ("ep", .bool(config.expertParallel)),
                                            ("max_num_seqs", .integer(config.knobs.maxNumSeqs)),
                                            ("max_num_batched_tokens", .integer(config.knobs.maxNumBatchedTokens))]))])
    }

    public func text() -> String {
        var s = TextTable(["setting", "value", "source"])
        for item in setup { s.add([item.key, item.value, item.source]) }
        var t = TextTable(["metric (ms)", "measured", "simulated", "diff %"])
        for r in rows { t.add(["\(r.metric.uppercased()) \(r.stat)", fixed(r.measured, 1), fixed(r.simulated, 1), fixed(r.diffPct, 1)]) }
        var out = "validation against the measurement on \(config.hardware.name), \(config.model.name), TP \(config.tensorParallel), DP \(config.instances)\(config.expertParallel ? ", EP" : ""), \(latencyModel) latency model\n"
        out += "resolved setup:\n" + s.render() + "\n" + t.render()
        if !series.isEmpty {
            var c = TextTable(["per-second counter", "measured mean", "simulated mean", "mean |diff|", "correlation"])
            for x in series { c.add([x.name, fixed(x.measuredMean, 1), fixed(x.simulatedMean, 1), fixed(x.meanAbsoluteError, 1), fixed(x.correlation, 2)]) }
            out += "\ntime series (timeseries.csv vs simulation):\n" + c.render()
            // Where it drifts: a dozen ticks across the run.
            var w = TextTable(["t (s)"] + series.flatMap { ["\($0.name) meas", "sim"] })
            let n = series[0].t.count
            let stride = max(1, (n + 11) / 12)
            for i in Swift.stride(from: 0, to: n, by: stride) {
                w.add([fixed(series[0].t[i], 0)] + series.flatMap { [fixed($0.measured[i], 0), fixed($0.simulated[i], 0)] })
            }
            out += "\n" + w.render()
        }
        return out
    }
}
