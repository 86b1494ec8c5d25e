/// Options applied on every load, in this order: failed rows, model filter, stable sort,
/// time window, first N, context cap, rate scaling.
public struct LoadOptions: Sendable, Equatable {
    public enum ContextPolicy: String, Sendable, CaseIterable { case cap, drop }

    /// Force a format instead of detecting it.
    public var format: TraceFormat? = nil
    /// Keep only the first N requests (LLMServingSim's `--req_num`).
    public var requestLimit: Int? = nil
    /// Keep arrivals in [start, end) seconds after the first arrival.
    public var windowStart: Double? = nil
    public var windowEnd: Double? = nil
    /// Multiplies the arrival rate: arrival times are divided by this factor.
    public var rateScale: Double = 1
    /// Keep requests whose model name equals this (case-insensitive), e.g. BurstGPT's ChatGPT or GPT-4.
    public var model: String? = nil
    /// Maximum prompt + output tokens per request.
    public var maxContext: Int? = nil
    public var contextPolicy: ContextPolicy = .cap
    /// Keep failed requests (BurstGPT rows with zero response tokens), flagged in `Trace.failed`.
    public var keepFailed = false

    public init() {}

    /// The ranges every option must fall in (documented in the README): finite, and small enough
    /// that nothing derived from them overflows.
    public static let rateScaleRange = 1e-6...1e6
    public static let windowRange = 0.0...1e9

    public func validate() throws {
        if let n = requestLimit, n <= 0 { throw UsageError("--req_num must be a positive integer, got \(n)") }
        guard Self.rateScaleRange.contains(rateScale) else {
            throw UsageError("--rate-scale must be in 1e-06...1e+06 (a factor on the arrival rate), got \(rateScale)")
        }
        if let s = windowStart, !Self.windowRange.contains(s) { throw UsageError("--start must be in 0...1e9 seconds, got \(s)") }
        if let e = windowEnd, !(e > 0 && e <= Self.windowRange.upperBound) { throw UsageError("--end must be in (0, 1e9] seconds, got \(e)") }
        if let s = windowStart, let e = windowEnd, e <= s { throw UsageError("--end (\(e)) must be after --start (\(s))") }
        if let m = maxContext, m < 2 || m > Int(Checked.maxTokens) {
            throw UsageError("--max-context must be in 2...\(Checked.maxTokens) tokens, got \(m)")
        }
    }
}

public enum TraceLoader {
    /// Loads and normalises a trace file.
    public static func load(_ path: String, options: LoadOptions = LoadOptions()) throws -> (Trace, LoadReport) {
        try load(TextBuffer(path: path), options: options)
    }

    public static func load(_ text: TextBuffer, options: LoadOptions = LoadOptions()) throws -> (Trace, LoadReport) {
        try options.validate()
        let format = try options.format ?? TraceFormat.detect(text)
        let rows: RawRows
        if let layout = ColumnLayout.of(format) {
            rows = try DelimitedParser.parse(text, layout: layout, format: format)
        } else {
            rows = try JSONLinesParser.parse(text, format: format)
        }
        var report = LoadReport()
        report.format = format
        report.rowsRead = rows.trace.count
        let trace = try normalise(rows, options: options, report: &report, path: text.path)
        return (trace, report)
    }

    static func normalise(_ rows: RawRows, options: LoadOptions, report: inout LoadReport, path: String) throws -> Trace {
        var trace = rows.trace
        var keep: [Int] = []
        keep.reserveCapacity(trace.count)
        let modelKey = options.model?.lowercased()
        var modelMatch: [Bool]? = nil
        if let key = modelKey {
            guard trace.modelIndex != nil else {
                throw UsageError("--model-filter: \(path) has no model column (only BurstGPT traces name models)")
            }
            modelMatch = trace.labels.models.map { $0.lowercased() == key }
            if !modelMatch!.contains(true) {
                throw UsageError("--model-filter: no requests for model '\(options.model!)' in \(path) (models: \(trace.labels.models.joined(separator: ", ")))")
            }
        }
        var previous = Int64.min
        for i in 0..<trace.count {
            if trace.arrivals[i] < previous { report.outOfOrder += 1 }
            previous = max(previous, trace.arrivals[i])
            if rows.failed[i] {
                if options.keepFailed { report.failedKept += 1 } else { report.failedDropped += 1; continue }
            }
            if let match = modelMatch, !match[Int(trace.modelIndex![i])] { report.modelFiltered += 1; continue }
            keep.append(i)
        }
        if report.outOfOrder > 0 {
            keep.sort { (trace.arrivals[$0], $0) < (trace.arrivals[$1], $1) }
            report.warnings.append("\(report.outOfOrder) out-of-order timestamp(s) in \(path); requests sorted by arrival (stable)")
        }
        if let first = keep.first.map({ trace.arrivals[$0] }), options.windowStart != nil || options.windowEnd != nil {
            // The window is validated to 0...1e9 s, so it fits in ns; the sums saturate.
            func after(_ seconds: Double) -> Int64 {
                let (t, overflow) = first.addingReportingOverflow(Checked.nanoseconds(seconds, nanosPerUnit: 1e9) ?? Int64.max)
                return overflow ? Int64.max : t
            }
            let lo = after(options.windowStart ?? 0)
            let hi = options.windowEnd.map(after) ?? Int64.max
            let before = keep.count
            keep.removeAll { trace.arrivals[$0] < lo || trace.arrivals[$0] >= hi }
            report.outsideWindow = before - keep.count
        }
        if let n = options.requestLimit, keep.count > n {
            report.beyondLimit = keep.count - n
            keep.removeLast(keep.count - n)
        }
        let wasFailed = rows.failed
        let identity = keep.count == trace.count && report.outOfOrder == 0
        if !identity { trace = trace.selecting(keep) }
        if rows.anyFailed && options.keepFailed {
            trace.failed = identity ? wasFailed : keep.map { wasFailed[$0] }
        }
        if let limit = options.maxContext {
            try applyContextLimit(&trace, limit: limit, policy: options.contextPolicy, report: &report)
        }
        guard !trace.isEmpty else {
            throw WorkloadError(file: path, "no requests left after loading (read \(report.rowsRead) rows; check the filters)")
        }
        let origin = trace.arrivals[0]
        trace.clockOrigin = origin
        let scale = options.rateScale
        for i in 0..<trace.count {
            let (rel, overflow) = trace.arrivals[i].subtractingReportingOverflow(origin)
            guard !overflow else {
                throw WorkloadError(file: path, "the timestamps span more than 292 years (what nanoseconds hold); is a date or unit wrong?")
            }
            guard scale != 1 else { trace.arrivals[i] = rel; continue }
            guard let scaled = Checked.nanoseconds(Double(rel) / scale, nanosPerUnit: 1) else {
                throw UsageError("--rate-scale \(scale) stretches \(path)'s span beyond 292 years")
            }
            trace.arrivals[i] = scaled
        }
        if report.failedDropped > 0 {
            report.warnings.append("dropped \(report.failedDropped) failed request(s) (zero response tokens); --keep-failed keeps them")
        }
        if report.contextCapped > 0 { report.warnings.append("capped \(report.contextCapped) request(s) to --max-context") }
        if report.contextDropped > 0 { report.warnings.append("dropped \(report.contextDropped) request(s) longer than --max-context") }
        return trace
    }

    static func applyContextLimit(_ trace: inout Trace, limit: Int, policy: LoadOptions.ContextPolicy, report: inout LoadReport) throws {
        var drop: [Int] = []
        for i in 0..<trace.count {
            let p = Int(trace.promptTokens[i]), o = Int(trace.outputTokens[i])
            guard p + o > limit else { continue }
            switch policy {
            case .drop:
                drop.append(i)
            case .cap:
                // Keep the output where possible (it drives decode time); shorten the prompt first.
                let output = min(o, limit - 1)
                trace.promptTokens[i] = Int32(max(1, limit - output))
                trace.outputTokens[i] = Int32(output)
                report.contextCapped += 1
            }
        }
        if !drop.isEmpty {
            let dropped = Set(drop)
            trace = trace.selecting((0..<trace.count).filter { !dropped.contains($0) })
            report.contextDropped = drop.count
        }
    }
}
