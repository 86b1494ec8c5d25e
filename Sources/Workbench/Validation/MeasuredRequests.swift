import Foundation
import Workload

/// The measured side of a vLLM run: per-request latencies from `requests.jsonl` and the engine's
/// per-tick counters from `timeseries.csv`.
enum MeasuredRequests {
    /// The data README's definitions (ms): TTFT = first_token_ts − queued_ts; TPOT =
    /// (last_token_ts − first_token_ts) / (output − 1) for outputs > 1; E2E = last_token_ts − queued_ts.
    static func metrics(_ path: String) throws -> (ttft: [Double], tpot: [Double], e2e: [Double]) {
        var out: (ttft: [Double], tpot: [Double], e2e: [Double]) = ([], [], [])
        try forEachRequest(path) { o, line in
            func num(_ k: String) throws -> Double {
                guard let v = (o[k] as? NSNumber)?.doubleValue, v.isFinite else {
                    throw WorkloadError(file: path, line: line, field: "key '\(k)'", "missing or not a number")
                }
                return v
            }
            let q = try num("queued_ts"), f = try num("first_token_ts"), l = try num("last_token_ts"), n = try num("output_toks")
            out.ttft.append((f - q) * 1000)
            out.e2e.append((l - q) * 1000)
            if n > 1 { out.tpot.append((l - f) * 1000 / (n - 1)) }
        }
        return out
    }

    /// The earliest wall-clock `arrival_time` (epoch seconds), to align the measured time series.
    static func firstArrivalTime(_ path: String) throws -> Double? {
        var first: Double? = nil
        try forEachRequest(path) { o, _ in
            if let a = (o["arrival_time"] as? NSNumber)?.doubleValue, a.isFinite { first = min(first ?? a, a) }
        }
        return first
    }

    static func forEachRequest(_ path: String, _ body: ([String: Any], Int) throws -> Void) throws {
        let text = try TextBuffer(path: path)
        try text.forEachLine { line, r in
            if r.isEmpty { return true }
            guard let o = (try? JSONSerialization.jsonObject(with: Data(text.bytes[r]))) as? [String: Any] else {
                throw WorkloadError(file: path, line: line, "malformed JSON")
            }
            try body(o, line)
            return true
        }
    }
}

/// `timeseries.csv`: one row per tick, `t` (end of the tick, s) and the engine's counters.
struct MeasuredSeries {
    static let columns = ["prompt_throughput", "gen_throughput", "running", "waiting", "kv_cache_pct"]
    var t: [Double] = []
    /// Values by column name (those of `columns` the file has).
    var values: [String: [Double]] = [:]

    static func load(_ path: String) throws -> MeasuredSeries? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let rows = try HeaderedCSV.read(path, columns: [.init("t")] + columns.map { .init($0, .number, optional: true) })
        var s = MeasuredSeries()
        s.t = rows.map { $0.number(0) }
        for (k, c) in columns.enumerated() where rows.first?.numbers[k + 1] != nil {
            s.values[c] = rows.map { $0.number(k + 1) }
        }
        return s
    }
}
