/// Every trace format the loader reads and the writer emits.
public enum TraceFormat: String, CaseIterable, Sendable, Equatable {
    case llmservingsimTSV = "llmservingsim-tsv"
    case llmservingsimJSONL = "llmservingsim-jsonl"
    case burstGPT = "burstgpt"
    case burstGPTv3 = "burstgpt-v3"
    case azure = "azure"
    case mooncake = "mooncake"
    case vidur = "vidur"
    case vllmMeasured = "vllm"

    public var summary: String {
        switch self {
        case .llmservingsimTSV: return "LLMServingSim TSV: input_toks, output_toks, arrival_time_ns"
        case .llmservingsimJSONL: return "LLMServingSim JSONL: same keys, optional input_tok_ids/output_tok_ids"
        case .burstGPT: return "BurstGPT v1/v2 CSV: Timestamp, Model, Request tokens, Response tokens, Total tokens, Log Type"
        case .burstGPTv3: return "BurstGPT v3 CSV: adds Session ID and Elapsed time"
        case .azure: return "Azure LLM inference CSV (2023/2024): TIMESTAMP, ContextTokens, GeneratedTokens"
        case .mooncake: return "Mooncake JSONL: timestamp (ms), input_length, output_length, hash_ids"
        case .vidur: return "Vidur/Splitwise CSV: arrived_at (s), num_prefill_tokens, num_decode_tokens"
        case .vllmMeasured: return "vLLM measurement requests.jsonl: input_toks, output_toks, queued_ts (s)"
        }
    }

    public static var supportedList: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// Accepts the canonical names and common aliases.
    public init(name: String) throws {
        let key = name.lowercased()
        let aliases: [String: TraceFormat] = [
            "tsv": .llmservingsimTSV, "llmservingsim": .llmservingsimTSV,
            "jsonl": .llmservingsimJSONL, "burstgpt-v1": .burstGPT, "burstgpt-v2": .burstGPT,
            "azure2023": .azure, "azure2024": .azure, "splitwise": .vidur, "vllm-measured": .vllmMeasured,
        ]
        if let f = TraceFormat(rawValue: key) ?? aliases[key] {
            self = f
        } else {
            throw UsageError("unknown trace format '\(name)' (supported: \(TraceFormat.supportedList))")
        }
    }

    /// Detects the format from the first non-empty line (a header or a JSON object).
    public static func detect(_ text: TextBuffer) throws -> TraceFormat {
        var first: Range<Int>? = nil
        var firstLine = 0
        text.forEachLine { n, r in
            if text.string(r).trimmingCharactersInWhitespace().isEmpty { return true }
            first = r
            firstLine = n
            return false
        }
        guard let line = first else { throw WorkloadError(file: text.path, "the file is empty (expected a header line or JSON lines)") }
        let s = text.string(line)
        if s.hasPrefix("{") {
            if s.contains("\"hash_ids\"") || s.contains("\"input_length\"") { return .mooncake }
            if s.contains("\"queued_ts\"") { return .vllmMeasured }
            if s.contains("\"input_toks\"") { return .llmservingsimJSONL }
            throw WorkloadError(file: text.path, line: firstLine,
                                "unrecognised JSON keys (expected Mooncake hash_ids/input_length, vLLM queued_ts or LLMServingSim input_toks); supported formats: \(supportedList)")
        }
        if s.contains("input_toks") && s.contains("\t") { return .llmservingsimTSV }
        if s.contains("Request tokens") { return s.contains("Session ID") ? .burstGPTv3 : .burstGPT }
        if s.contains("ContextTokens") { return .azure }
        if s.contains("arrived_at") || s.contains("arrival_timestamp") { return .vidur }
        if s.contains("input_toks") { return .llmservingsimTSV }
        throw WorkloadError(file: text.path, line: firstLine,
                            "unrecognised header '\(s.prefix(80))'; supported formats: \(supportedList) (use --format to force one)")
    }
}

extension String {
    func trimmingCharactersInWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
