import ArgumentParser
import Foundation
import Schedulers
import ServeAPI
import ServeSim
import Workload

public struct CompareCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Run several schedulers on the identical workload and configuration and compare them.",
        discussion: """
        The first scheduler is the baseline; the table shows each metric, the difference in %, and paired bootstrap
        95% confidence intervals for the mean TTFT, TPOT and E2E differences.
        Example: smartserve compare --schedulers vllm,sarathi,sjf,sjf:predictor=noisy-oracle,sigma=1 \\
                   --dataset ../shared/data/azure2023/AzureLLMInferenceTrace_conv.csv --hardware A100-80G --rate-scale 2
        """)
    @Option(parsing: .singleValue, help: "Schedulers, comma-separated (options follow each name: sjf:predictor=noisy-oracle,sigma=0.5).")
    var schedulers: [String] = []
    @OptionGroup var sim: SimulationArguments
    @OptionGroup var load: LoadArguments
    @Option(parsing: .unconditional, help: "Bootstrap resamples.") var resamples: Int = 1000
    @Flag(help: "Print JSON.") var json = false
    @Option(help: "Also write each run's folder (requests.csv, timeseries.csv, summary.json) under this folder, for `report`.") var save: String?
    public init() {}

    public func run() throws {
        let list = schedulers.flatMap(SchedulerChoice.splitList)
        guard !list.isEmpty else { throw UsageError("compare needs --schedulers a,b,... (e.g. --schedulers vllm,sarathi,sjf)") }
        guard (100...100_000).contains(resamples) else { throw UsageError("--resamples must be in 100...100000, got \(resamples)") }
        if let save { try CompareCommand.checkEmpty(save) }
        let (trace, workload) = try loadWorkload(sim.dataset, load)
        let config = try sim.config()
        let e = try ProgressBar.around { try Evaluation.run(trace: trace, sim: sim, resamples: resamples, schedulers: list, hooks: $0) }
        if let save {
            let root = URL(fileURLWithPath: save)
            for (k, entry) in e.entries.enumerated() {
                try RunReport.writeFolder(root.appendingPathComponent("\(k + 1)-\(RunReport.folderLabel(entry.label))"),
                                          result: entry.result, summary: RunReport.json(entry.summary, entry.result))
            }
        }
        if json {
            guard case .object(var fields) = e.json() else { return }
            fields.insert(("setup", RunReport.setupJSON(workload: workload, trace: trace, config: config)), at: 0)
            Terminal.out(JSON.object(fields).render())
        } else {
            Terminal.out(RunReport.setupLine(workload: workload, trace: trace, config: config) + "\n\n" + e.text()
                         + (save.map { "\nruns written under \($0)/ (smartserve report \($0) --out report.html)" } ?? ""))
        }
    }

    /// A folder to write runs into must be new or empty: runs of another comparison would mix in.
    static func checkEmpty(_ path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return }
        guard isDir.boolValue else { throw UsageError("--save \(path): a file of that name exists; give a folder") }
        if let items = try? FileManager.default.contentsOfDirectory(atPath: path), !items.isEmpty {
            throw UsageError("--save \(path): the folder is not empty; choose a new one")
        }
    }
}

public struct SweepCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "SLO attainment and goodput across arrival rates, or the capacity: the highest rate keeping attainment ≥ 90%.",
        discussion: """
        Rates are absolute (req/s): the workload's arrival times are rescaled to each rate.
        Example: smartserve sweep --schedulers vllm,sarathi --rates 2,4,6,8 --hardware H100
                 smartserve sweep --schedulers vllm,sjf --find-capacity --slo-ttft 2 --slo-tpot 0.1
        """)
    @Option(parsing: .singleValue, help: "Schedulers, comma-separated.") var schedulers: [String] = []
    @Option(help: "Arrival rates to try, req/s, comma-separated.") var rates: String?
    @Flag(name: .customLong("find-capacity"), help: "Binary-search the highest rate keeping SLO attainment ≥ --target.") var findCapacity = false
    @Option(parsing: .unconditional, help: "Attainment target for --find-capacity.") var target: Double = 0.9
    @OptionGroup var sim: SimulationArguments
    @OptionGroup var load: LoadArguments
    @Flag(help: "Print JSON.") var json = false
    public init() {}

    public func run() throws {
        let list = schedulers.isEmpty ? [sim.scheduler] : schedulers.flatMap(SchedulerChoice.splitList)
        let (trace, workload) = try loadWorkload(sim.dataset, load)
        guard trace.count > 1, trace.spanSeconds > 0 else { throw UsageError("sweep needs a workload with at least two arrival times") }
        guard target > 0 && target <= 1 else { throw UsageError("--target must be in (0, 1], got \(target)") }
        let setup = RunReport.setupLine(workload: workload, trace: trace, config: try sim.config())
        // With --json on standard error, so that standard output stays one document of results.
        if json { Terminal.note(setup) } else { Terminal.out(setup + "\n") }
        if findCapacity {
            var rows: [(String, Double)] = []
            for spec in list { rows.append((spec, try Sweep.capacity(trace: trace, sim: sim, scheduler: spec, target: target))) }
            if json {
                Terminal.out(JSON.object([("target", .number(target)), ("capacity_rps", .object(rows.map { ($0.0, .number($0.1)) }))]).render())
            } else {
                var t = TextTable(["scheduler", "capacity (req/s at ≥ \(fixed(target * 100, 0))% SLO attainment)"])
                for (s, c) in rows { t.add([s, fixed(c, 3)]) }
                Terminal.out(t.render())
            }
            return
        }
        guard let rates else { throw UsageError("sweep needs --rates r1,r2,... or --find-capacity") }
        let values = try rates.split(separator: ",").map { piece -> Double in
            guard let v = Double(piece), ArrivalProcess.rateRange.contains(v) else {
                throw UsageError("--rates expects rates in 1e-06...1e+06 req/s, got '\(piece)'")
            }
            return v
        }
        var cells: [(String, Double, RunSummary)] = []
        for spec in list {
            for r in values {
                var s = sim
                s.scheduler = spec
                cells.append((spec, r, RunSummary(try simulate(try atRate(trace, r), s))))
            }
        }
        if json {
            var perScheduler: [(String, JSON)] = []
            for spec in list {
                let points: [JSON] = cells.filter { $0.0 == spec }.map { c in
                    JSON.object([("rate", .number(c.1)), ("slo_attainment", .number(c.2.sloAttainment)), ("goodput_rps", .number(c.2.goodputRPS)),
                                 ("ttft_p99", .number(c.2.ttft.p99)), ("tpot_p99", .number(c.2.tpot.p99)), ("throughput_rps", .number(c.2.throughputRPS))])
                }
                perScheduler.append((spec, .array(points)))
            }
            Terminal.out(JSON.object(perScheduler).render())
        } else {
            var t = TextTable(["scheduler", "rate (req/s)", "SLO attainment %", "goodput (req/s)", "TTFT p99 (s)", "TPOT p99 (ms)"])
            for c in cells {
                t.add([c.0, fixed(c.1, 2), fixed(c.2.sloAttainment * 100, 1), fixed(c.2.goodputRPS, 3), fixed(c.2.ttft.p99, 2), fixed(c.2.tpot.p99 * 1000, 1)])
            }
            Terminal.out(t.render())
        }
    }
}

enum Sweep {
    /// DistServe's goodput capacity: the highest arrival rate whose SLO attainment stays ≥ target.
    /// Doubles the rate from the trace's own until attainment falls below the target, then bisects
    /// to 1% of the rate.
    static func capacity(trace: Trace, sim: SimulationArguments, scheduler: String, target: Double) throws -> Double {
        var s = sim
        s.scheduler = scheduler
        func attains(_ rate: Double) throws -> Bool { RunSummary(try simulate(try atRate(trace, rate), s)).sloAttainment >= target }
        let base = Double(trace.count - 1) / trace.spanSeconds
        var lo = 0.0, hi = base
        var doublings = 0
        while try attains(hi) {
            lo = hi
            hi *= 2
            doublings += 1
            if doublings > 20 {
                throw UsageError("\(scheduler): SLO attainment stays ≥ \(target) even at \(JSON.format(hi)) req/s; the workload is too small (or the SLOs too loose) to find a capacity")
            }
        }
        if lo == 0 {
            // Even the trace's own rate misses the target: search below it.
            lo = hi / 1024
            if try !attains(lo) { return 0 }
        }
        while (hi - lo) / hi > 0.01 {
            let mid = (lo + hi) / 2
            if try attains(mid) { lo = mid } else { hi = mid }
        }
        return lo
    }
}

public struct PredictorsCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "predictors",
        abstract: "List the length predictors; with --dataset, their accuracy on it (MAE in tokens, Kendall τ).",
        discussion: "Example: smartserve predictors --dataset ../shared/data/azure2023/AzureLLMInferenceTrace_conv.csv")
    @Option(help: "Trace to score the predictors on.") var dataset: String?
    @Option(parsing: .singleValue, help: "Predictor specs to score (default: each registered one with its defaults).") var predictors: [String] = []
    @Option(parsing: .unconditional, help: "Seed for the noisy predictors.") var seed: UInt64 = 0
    @OptionGroup var load: LoadArguments
    @Flag(help: "Print JSON.") var json = false
    public init() {}

    public func run() throws {
        guard let dataset else {
            var t = TextTable(["name", "description"])
            for e in Components.lengthPredictors.all { t.add([e.name, e.summary]) }
            Terminal.out(t.render())
            return
        }
        let (trace, _) = try loadTrace(dataset, load)
        let specs = predictors.isEmpty ? Components.lengthPredictors.names : predictors.flatMap(SchedulerChoice.splitList)
        let rows = try specs.map { try PredictorAccuracy.score($0, trace: trace, seed: seed) }
        Terminal.out(json ? PredictorAccuracy.json(rows).render() : PredictorAccuracy.text(rows))
    }
}

public struct PredictorAccuracy {
    public var spec: String
    public var mae: Double
    public var tau: Double

    public static func score(_ text: String, trace: Trace, seed: UInt64) throws -> PredictorAccuracy {
        let spec = try NamedSpec(parsing: text, what: "predictor")
        let p = try Components.lengthPredictors.entry(named: spec.name).instantiate(spec.options)
        let predicted = p.predict(RequestFeatures(trace), seed: seed)
        var errors = 0.0
        for i in 0..<trace.count { errors += abs(Double(predicted[i]) - Double(trace.outputTokens[i])) }
        return PredictorAccuracy(spec: spec.description, mae: errors / Double(trace.count),
                                 tau: Stats.kendallTau(predicted.map(Double.init), trace.outputTokens.map(Double.init)))
    }

    static func text(_ rows: [PredictorAccuracy]) -> String {
        var t = TextTable(["predictor", "MAE (tokens)", "Kendall tau"])
        for r in rows { t.add([r.spec, fixed(r.mae, 1), fixed(r.tau, 3)]) }
        return t.render()
    }

    static func json(_ rows: [PredictorAccuracy]) -> JSON {
        .object(rows.map { ($0.spec, .object([("mae", .number($0.mae)), ("kendall_tau", .number($0.tau))])) })
    }
}
