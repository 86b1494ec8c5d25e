import Foundation

/// Reads the JSON-lines trace formats (Mooncake, LLMServingSim JSONL, vLLM measurements).
enum JSONLinesParser {
    /// Token-id lists are hashed into blocks of this many tokens (vLLM's default block size).
    static let tokenBlockSize = 16
    /// Each Mooncake hash id names one block of this many prompt tokens.
    static let mooncakeBlockSize = 512

    static func parse(_ text: TextBuffer, format: TraceFormat) throws -> RawRows {
        var rows = RawRows()
        let path = text.path
        let keys: (arrival: String, prompt: String, output: String, scale: Double)
        switch format {
        case .mooncake: keys = ("timestamp", "input_length", "output_length", 1e6)
        case .llmservingsimJSONL: keys = ("arrival_time_ns", "input_toks", "output_toks", 1)
        case .vllmMeasured: keys = ("queued_ts", "input_toks", "output_toks", 1e9)
        default: preconditionFailure("not a JSON-lines format")
        }
        var prefix = PrefixBlocks(blockTokens: format == .mooncake ? mooncakeBlockSize : tokenBlockSize)
        var dense: [Int64: Int32] = [:]
        var sawPrefix = false

        func denseID(_ raw: Int64) -> Int32 {
            if let id = dense[raw] { return id }
            let id = Int32(dense.count)
            dense[raw] = id
            return id
        }

        try text.forEachLine { line, range in
            let bytes = text.bytes[range]
            if bytes.allSatisfy({ $0 == 32 || $0 == 9 }) { return true }
            let object: [String: Any]
            do {
                guard let o = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                    throw WorkloadError(file: path, line: line, "expected a JSON object")
                }
                object = o
            } catch let e as WorkloadError {
                throw e
            } catch {
                throw WorkloadError(file: path, line: line, "malformed JSON (truncated line?)")
            }
            func number(_ key: String) throws -> Double {
                guard let any = object[key] else {
                    throw WorkloadError(file: path, line: line, field: "key '\(key)'", "missing (required for format \(format.rawValue))")
                }
                guard let n = any as? NSNumber, n.doubleValue.isFinite, n.doubleValue >= 0 else {
                    throw WorkloadError(file: path, line: line, field: "key '\(key)'", "expected a non-negative number, got \(any)")
                }
                return n.doubleValue
            }
            func count(_ key: String) throws -> Int32 {
                let v = try number(key)
                guard v == v.rounded(), v <= Double(Checked.maxTokens) else {
                    throw WorkloadError(file: path, line: line, field: "key '\(key)'", "expected a whole token count in 0...\(Checked.maxTokens), got \(v)")
                }
                return Int32(v)
            }
            guard let arrival = Checked.nanoseconds(try number(keys.arrival), nanosPerUnit: keys.scale) else {
                throw WorkloadError(file: path, line: line, field: "key '\(keys.arrival)'", "expected a time below 292 years, got \(try number(keys.arrival))")
            }
            let prompt = try count(keys.prompt)
            let output = try count(keys.output)
            rows.trace.arrivals.append(arrival)
            rows.trace.promptTokens.append(prompt)
            rows.trace.outputTokens.append(output)
            rows.failed.append(false)

            if format == .mooncake, let ids = object["hash_ids"] {
                guard let list = ids as? [NSNumber] else {
                    throw WorkloadError(file: path, line: line, field: "key 'hash_ids'", "expected a list of integers")
                }
                sawPrefix = true
                for h in list { prefix.ids.append(denseID(h.int64Value)) }
            } else if format == .llmservingsimJSONL, let ids = object["input_tok_ids"] {
                guard let list = ids as? [NSNumber] else {
                    throw WorkloadError(file: path, line: line, field: "key 'input_tok_ids'", "expected a list of token ids")
                }
                sawPrefix = true
                // Chain hashing: a block's id depends on every token up to and including it.
                var h: UInt64 = 0xcbf2_9ce4_8422_2325
                let full = list.count / tokenBlockSize
                for b in 0..<full {
                    for t in list[(b * tokenBlockSize)..<((b + 1) * tokenBlockSize)] {
                        h = (h ^ UInt64(bitPattern: t.int64Value)) &* 0x0000_0100_0000_01b3
                    }
                    prefix.ids.append(denseID(Int64(bitPattern: h)))
                }
            }
            prefix.offsets.append(Int32(prefix.ids.count))
            return true
        }
        if rows.trace.arrivals.isEmpty && text.count == 0 {
            throw WorkloadError(file: path, "the file is empty (expected JSON lines)")
        }
        if sawPrefix {
            prefix.uniqueCount = dense.count
            rows.trace.prefix = prefix
        }
        return rows
    }
}
