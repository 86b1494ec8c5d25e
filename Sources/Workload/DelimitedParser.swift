/// Reads the CSV/TSV trace formats by column name, through one table-driven parser.
struct ColumnLayout {
    enum TimeUnit { case nanoseconds, milliseconds, seconds, dateTime }

    var separator: UInt8 = 44
    var arrival: [String]
    var unit: TimeUnit
    var prompt: [String]
    var output: [String]
    var model: String? = nil
    var logType: String? = nil
    var session: String? = nil
    /// Zero-output rows are failed requests (BurstGPT), flagged rather than read as zero-length.
    var zeroOutputMeansFailed = false

    static func of(_ format: TraceFormat) -> ColumnLayout? {
        switch format {
        case .llmservingsimTSV:
            return ColumnLayout(separator: 9, arrival: ["arrival_time_ns"], unit: .nanoseconds,
                                prompt: ["input_toks"], output: ["output_toks"])
        case .burstGPT:
            return ColumnLayout(arrival: ["Timestamp"], unit: .seconds, prompt: ["Request tokens"],
                                output: ["Response tokens"], model: "Model", logType: "Log Type",
                                zeroOutputMeansFailed: true)
        case .burstGPTv3:
            return ColumnLayout(arrival: ["Timestamp"], unit: .seconds, prompt: ["Request tokens"],
                                output: ["Response tokens"], model: "Model", logType: "Log Type",
                                session: "Session ID", zeroOutputMeansFailed: true)
        case .azure:
            return ColumnLayout(arrival: ["TIMESTAMP"], unit: .dateTime, prompt: ["ContextTokens"],
                                output: ["GeneratedTokens"])
        case .vidur:
            return ColumnLayout(arrival: ["arrived_at", "arrival_timestamp"], unit: .seconds,
                                prompt: ["num_prefill_tokens", "prompt_size"], output: ["num_decode_tokens", "token_size"])
        case .llmservingsimJSONL, .mooncake, .vllmMeasured:
            return nil
        }
    }
}

/// Parsed rows before normalisation: absolute arrival times in source order.
struct RawRows {
    var trace = Trace()
    var failed: [Bool] = []
    var anyFailed = false
}

enum DelimitedParser {
    static func parse(_ text: TextBuffer, layout: ColumnLayout, format: TraceFormat) throws -> RawRows {
        var rows = RawRows()
        var fields: [Range<Int>] = []
        fields.reserveCapacity(16)
        var header: [String]? = nil
        var col = (arrival: 0, prompt: 0, output: 0, model: -1, logType: -1, session: -1)
        var needed = 0
        var modelNames: [[UInt8]] = []
        var logNames: [[UInt8]] = []
        var sessions: [String: Int32] = [:]
        var modelCol: [UInt8] = [], logCol: [UInt8] = [], sessionCol: [Int32] = []
        let path = text.path
        let estimate = text.lineCount
        rows.trace.arrivals.reserveCapacity(estimate)
        rows.trace.promptTokens.reserveCapacity(estimate)
        rows.trace.outputTokens.reserveCapacity(estimate)
        rows.failed.reserveCapacity(estimate)

        func intern(_ r: Range<Int>, _ table: inout [[UInt8]], what: String, line: Int) throws -> UInt8 {
            for (k, name) in table.enumerated() where text.equals(r, name) { return UInt8(k) }
            guard table.count < 255 else {
                throw WorkloadError(file: path, line: line, field: what, "more than 255 distinct values")
            }
            table.append(Array(text.bytes[r]))
            return UInt8(table.count - 1)
        }

        try text.forEachLine { line, range in
            if range.isEmpty { return true }
            text.fields(range, separator: layout.separator, into: &fields)
            guard let names = header else {
                let h = fields.map { text.string($0) }
                func find(_ candidates: [String]) throws -> Int {
                    for c in candidates { if let i = h.firstIndex(of: c) { return i } }
                    throw WorkloadError(file: path, line: line, field: "header",
                                        "missing column '\(candidates.joined(separator: "' or '"))' for format \(format.rawValue) (header has: \(h.joined(separator: ", ")))")
                }
                col.arrival = try find(layout.arrival)
                col.prompt = try find(layout.prompt)
                col.output = try find(layout.output)
                if let m = layout.model { col.model = h.firstIndex(of: m) ?? -1 }
                if let l = layout.logType { col.logType = h.firstIndex(of: l) ?? -1 }
                if let s = layout.session { col.session = h.firstIndex(of: s) ?? -1 }
                needed = [col.arrival, col.prompt, col.output, col.model, col.logType, col.session].max()! + 1
                header = h
                return true
            }
            guard fields.count >= needed else {
                throw WorkloadError(file: path, line: line,
                                    "expected \(names.count) fields, found \(fields.count) (truncated or malformed row)")
            }
            let arrivalField = fields[col.arrival]
            let arrival: Int64
            switch layout.unit {
            case .nanoseconds:
                guard let v = text.integer(arrivalField), v >= 0 else {
                    throw WorkloadError(file: path, line: line, field: names[col.arrival],
                                        "expected a non-negative integer (ns), got '\(text.string(arrivalField))'")
                }
                arrival = v
            case .milliseconds, .seconds:
                guard let v = text.number(arrivalField), v >= 0,
                      let ns = Checked.nanoseconds(v, nanosPerUnit: layout.unit == .seconds ? 1e9 : 1e6) else {
                    throw WorkloadError(file: path, line: line, field: names[col.arrival],
                                        "expected a non-negative number of \(layout.unit == .seconds ? "seconds" : "milliseconds") below 292 years, got '\(text.string(arrivalField))'")
                }
                arrival = ns
            case .dateTime:
                guard let v = text.dateTime(arrivalField) else {
                    throw WorkloadError(file: path, line: line, field: names[col.arrival],
                                        "expected a timestamp like 2023-11-16 18:17:03.9799600 between the years 1678 and 2262, got '\(text.string(arrivalField))'")
                }
                arrival = v
            }
            func count(_ c: Int) throws -> Int32 {
                guard let v = text.integer(fields[c]), v >= 0, v <= Checked.maxTokens else {
                    throw WorkloadError(file: path, line: line, field: names[c],
                                        "expected a token count in 0...\(Checked.maxTokens), got '\(text.string(fields[c]))'")
                }
                return Int32(v)
            }
            let prompt = try count(col.prompt)
            let output = try count(col.output)
            rows.trace.arrivals.append(arrival)
            rows.trace.promptTokens.append(prompt)
            rows.trace.outputTokens.append(output)
            let failed = layout.zeroOutputMeansFailed && output == 0
            rows.failed.append(failed)
            if failed { rows.anyFailed = true }
            if col.model >= 0 { modelCol.append(try intern(fields[col.model], &modelNames, what: names[col.model], line: line)) }
            if col.logType >= 0 { logCol.append(try intern(fields[col.logType], &logNames, what: names[col.logType], line: line)) }
            if col.session >= 0 {
                let r = fields[col.session]
                if r.isEmpty { sessionCol.append(-1) } else {
                    let key = text.string(r)
                    if let id = sessions[key] { sessionCol.append(id) } else {
                        let id = Int32(sessions.count)
                        sessions[key] = id
                        sessionCol.append(id)
                    }
                }
            }
            return true
        }
        guard header != nil else {
            throw WorkloadError(file: path, "the file is empty (expected a header line)")
        }
        if col.model >= 0 {
            rows.trace.modelIndex = modelCol
            rows.trace.labels.models = modelNames.map { String(decoding: $0, as: UTF8.self) }
        }
        if col.logType >= 0 {
            rows.trace.logTypeIndex = logCol
            rows.trace.labels.logTypes = logNames.map { String(decoding: $0, as: UTF8.self) }
        }
        if col.session >= 0 { rows.trace.sessionIndex = sessionCol }
        return rows
    }
}
