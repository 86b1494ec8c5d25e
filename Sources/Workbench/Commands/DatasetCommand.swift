import ArgumentParser
import Foundation
import Workload

public struct DatasetCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Inspect, generate, convert and analyse workload traces.",
        subcommands: [Info.self, Generate.self, Convert.self, Features.self, Patterns.self])

    public init() {}

    public struct Info: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Summarise a trace: size, rate, burstiness, token lengths, pattern.",
            discussion: "Example: smartserve dataset info ../shared/data/azure2023/AzureLLMInferenceTrace_code.csv --json")
        @Argument(help: "Trace file.") var file: String
        @OptionGroup var load: LoadArguments
        @Flag(help: "Print one JSON object.") var json = false
        public init() {}

        public func run() throws {
            let (trace, report) = try loadTrace(file, load)
            let summary = TraceSummary(trace: trace, report: report)
            Terminal.out(json ? DatasetReport.json(summary).render() : DatasetReport.text(summary, file: file))
        }
    }

    public struct Generate: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Generate a seeded synthetic workload.",
            discussion: """
            Arrival processes: poisson:rate=R, gamma:rate=R,cv=C (or shape=K), onoff:on_rate=R,off_rate=R,on=S,off=S,
            sinusoidal:rate=R,amplitude=A,period=S, replay (needs --from).
            Lengths: fixed:n=N (or just N), uniform:min=A,max=B, zipf:s=S,min=A,max=B,
            lognormal:median=M (or mean=M),sigma=S,min=A,max=B, resample (needs --from; --paired keeps pairs).
            Example: smartserve dataset generate --requests 1000 --arrivals gamma:rate=5,cv=3 --out burst.tsv
            """)
        @Option(parsing: .unconditional, help: "Number of requests.") var requests: Int = 100
        @Option(help: "Arrival process spec.") var arrivals: String = "poisson:rate=10"
        @Option(name: .customLong("prompt-len"), help: "Prompt length distribution.") var promptLen: String = "lognormal:median=180,sigma=1,max=2048"
        @Option(name: .customLong("output-len"), help: "Output length distribution.") var outputLen: String = "lognormal:median=150,sigma=0.9,max=1024"
        @Option(help: "Trace to replay arrivals or resample lengths from.") var from: String?
        @Flag(help: "Resample prompt and output lengths together from --from.") var paired = false
        @Option(parsing: .unconditional, help: "Random seed.") var seed: UInt64 = 42
        @Option(help: "Output format (\(TraceFormat.supportedList)).") var format: String = "llmservingsim-tsv"
        @Option(name: [.short, .customLong("out")], help: "Output file (standard output if omitted).") var out: String?
        public init() {}

        public func run() throws {
            let trace = try generate()
            try Terminal.emit(TraceWriter.render(trace, as: try TraceFormat(name: format)), to: out,
                              note: "wrote \(trace.count) requests to \(out ?? "-")")
        }

        public func generate() throws -> Trace {
            let source = try from.map { try TraceLoader.load($0).0 }
            let workload = SyntheticWorkload(
                count: requests,
                arrivals: try ArrivalProcess(NamedSpec(parsing: arrivals, what: "--arrivals"), replaySource: source),
                prompt: try LengthDistribution(NamedSpec(parsing: promptLen, what: "--prompt-len"), source: source?.promptTokens),
                output: try LengthDistribution(NamedSpec(parsing: outputLen, what: "--output-len"), source: source?.outputTokens),
                pairedSource: paired ? source : nil,
                seed: seed)
            if paired && source == nil { throw UsageError("--paired needs --from FILE") }
            return try workload.generate()
        }
    }

    public struct Convert: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Convert a trace to another format.",
            discussion: "The output format comes from --to, or from the extension (.tsv: llmservingsim-tsv, .jsonl: llmservingsim-jsonl).")
        @Argument(help: "Input trace.") var input: String
        @Argument(help: "Output file.") var output: String
        @Option(help: "Output format (\(TraceFormat.supportedList)).") var to: String?
        @OptionGroup var load: LoadArguments
        public init() {}

        public func run() throws {
            let target: TraceFormat
            if let to { target = try TraceFormat(name: to) } else if output.hasSuffix(".tsv") { target = .llmservingsimTSV }
            else if output.hasSuffix(".jsonl") { target = .llmservingsimJSONL }
            else { throw UsageError("cannot tell the output format from '\(output)': give --to (\(TraceFormat.supportedList))") }
            let (trace, _) = try loadTrace(input, load)
            try TraceWriter.write(trace, as: target, to: output)
            Terminal.out("wrote \(trace.count) requests to \(output) as \(target.rawValue)")
        }
    }

    public struct Features: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Per-window features: request count, prompt and output token sums, means, rolling statistics.",
            discussion: "Example: smartserve dataset features trace.csv --freq 1s --output features.csv")
        @Argument(help: "Trace file.") var file: String
        @Option(help: "Window width: 100ms, 1s, 1m, ...") var freq: String = "1s"
        @Option(parsing: .unconditional, help: "Rolling window, in rows.") var rolling: Int = 10
        @Option(name: [.short, .customLong("output")], help: "CSV file (standard output if omitted).") var output: String?
        @OptionGroup var load: LoadArguments
        public init() {}

        public func run() throws {
            guard (1...1_000_000).contains(rolling) else { throw UsageError("--rolling must be in 1...1000000 rows, got \(rolling)") }
            let width = try parseDuration(freq, what: "--freq")
            let (trace, _) = try loadTrace(file, load)
            let table = try FeatureTable(trace: trace, frequency: width, rollingWindow: rolling)
            try Terminal.emit(table.csv(), to: output, note: "wrote \(table.rows.count) windows of \(freq) to \(output ?? "-")")
        }
    }

    public struct Patterns: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Classify the trace and each window as burst, steady or sparse; list burst episodes.",
            discussion: """
            Rule: sparse when the rate is below --sparse-rate; burst when the inter-arrival CV exceeds --burst-cv
            or the index of dispersion of 1 s counts exceeds --burst-iod; steady otherwise.
            Episodes: runs of 1 s bins above --episode-factor × the mean rate.
            """)
        @Argument(help: "Trace file.") var file: String
        @Option(help: "Window width for per-window classes.") var window: String = "60s"
        @Option(name: .customLong("sparse-rate")) var sparseRate: Double = 0.1
        @Option(name: .customLong("burst-cv")) var burstCV: Double = 2
        @Option(name: .customLong("burst-iod")) var burstIoD: Double = 3
        @Option(name: .customLong("episode-factor")) var episodeFactor: Double = 3
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var load: LoadArguments
        public init() {}

        public func run() throws {
            for (flag, v) in [("--sparse-rate", sparseRate), ("--burst-cv", burstCV), ("--burst-iod", burstIoD), ("--episode-factor", episodeFactor)]
                where !(0...1e9).contains(v) {
                throw UsageError("\(flag) must be in 0...1e9, got \(v)")
            }
            var rule = PatternRule()
            rule.sparseRate = sparseRate
            rule.burstCV = burstCV
            rule.burstIoD = burstIoD
            rule.episodeFactor = episodeFactor
            let width = try parseDuration(window, what: "--window")
            let (trace, _) = try loadTrace(file, load)
            let report = PatternAnalysis.analyse(trace, window: width, rule: rule)
            Terminal.out(json ? DatasetReport.json(report).render() : DatasetReport.text(report))
        }
    }
}
