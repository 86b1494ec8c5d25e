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
    @Option(parsing: .unconditional, help: "Schedulers run at once (default: the core count).") var jobs: Int?
    @Option(help: "Also write each run's folder (requests.csv, timeseries.csv, summary.json) under this folder, for `report`.") var save: String?
    public init() {}

    public func run() throws {
        let list = schedulers.flatMap(SchedulerChoice.splitList)
        guard !list.isEmpty else { throw UsageError("compare needs --schedulers a,b,... (e.g. --schedulers vllm,sarathi,sjf)") }
        guard (100...100_000).contains(resamples) else { throw UsageError("--resamples must be in 100...100000, got \(resamples)") }
        if let save { try CompareCommand.checkEmpty(save) }
        let (trace, workload) = try loadWorkload(sim.dataset, load)
        let config = try sim.config()
        let jobs = try Parallel.jobs(jobs)
        let e = try ProgressBar.around { try Evaluation.run(trace: trace, sim: sim, resamples: resamples, schedulers: list, hooks: $0, jobs: jobs) }
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
