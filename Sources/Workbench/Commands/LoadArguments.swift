import ArgumentParser
import Workload

/// The loader options accepted wherever a trace file is read (CLI and shell alike).
public struct LoadArguments: ParsableArguments {
    @Option(help: "Force a trace format instead of detecting it (\(TraceFormat.supportedList)).")
    var format: String?

    @Option(name: [.customLong("req_num"), .customLong("req-num"), .customLong("requests-limit")],
            parsing: .unconditional, help: "Keep only the first N requests (LLMServingSim's --req_num).")
    var reqNum: Int?

    @Option(parsing: .unconditional, help: "Keep arrivals from this many seconds after the first one (0...1e9).")
    var start: Double?

    @Option(parsing: .unconditional, help: "Keep arrivals before this many seconds after the first one (0...1e9).")
    var end: Double?

    @Option(name: .customLong("rate-scale"), parsing: .unconditional, help: "Multiply the arrival rate by k (arrival times are divided by k; 1e-6...1e6).")
    var rateScale: Double = 1

    @Option(name: .customLong("model-filter"), help: "Keep requests of this model only (BurstGPT: ChatGPT or GPT-4).")
    var modelFilter: String?

    @Option(name: .customLong("max-context"), parsing: .unconditional, help: "Maximum prompt + output tokens per request.")
    var maxContext: Int?

    @Option(name: .customLong("context-policy"), help: "What to do with longer requests: cap or drop.")
    var contextPolicy: String = "cap"

    @Flag(name: .customLong("keep-failed"), help: "Keep failed requests (BurstGPT rows with zero response tokens).")
    var keepFailed = false

    public init() {}

    public func options() throws -> LoadOptions {
        var o = LoadOptions()
        o.format = try format.map { try TraceFormat(name: $0) }
        o.requestLimit = reqNum
        o.windowStart = start
        o.windowEnd = end
        o.rateScale = rateScale
        o.model = modelFilter
        o.maxContext = maxContext
        guard let policy = LoadOptions.ContextPolicy(rawValue: contextPolicy) else {
            throw UsageError("--context-policy expects cap or drop, got '\(contextPolicy)'")
        }
        o.contextPolicy = policy
        o.keepFailed = keepFailed
        try o.validate()
        return o
    }
}

/// Loads a trace and reports what normalisation did on standard error.
func loadTrace(_ path: String, _ args: LoadArguments) throws -> (Trace, LoadReport) {
    try loadTrace(TextBuffer(path: PathResolver().resolve(path)), args)
}

func loadTrace(_ text: TextBuffer, _ args: LoadArguments) throws -> (Trace, LoadReport) {
    let (trace, report) = try TraceLoader.load(text, options: args.options())
    for w in report.warnings { Terminal.warn(w) }
    return (trace, report)
}
