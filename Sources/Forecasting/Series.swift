import Foundation
import Workload

/// A series at a fixed frequency: what forecasters fit.
public struct Series: Sendable, Equatable {
    public var values: [Double]
    /// Seconds between points.
    public var step: Double
    /// Time of the first point, seconds (relative for traces, epoch for dated CSVs).
    public var start: Double

    public init(values: [Double], step: Double, start: Double = 0) {
        self.values = values
        self.step = step
        self.start = start
    }
}

/// What to forecast from a trace.
public enum SeriesTarget: String, CaseIterable, Sendable {
    case requests, promptTokens = "prompt_tokens", outputTokens = "output_tokens"
}

public enum SeriesLoader {
    /// True when the file is a plain series CSV (header `timestamp,value`).
    public static func isSeriesCSV(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = String(decoding: handle.readData(ofLength: 256), as: UTF8.self)
        let first = head.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() } ?? ""
        return first == "timestamp,value"
    }

    /// Reads `timestamp,value` rows: timestamps in seconds or ISO dates, one row per window.
    public static func loadCSV(_ path: String) throws -> Series { try parseCSV(try TextBuffer(path: path)) }

    public static func parseCSV(_ text: TextBuffer) throws -> Series {
        let path = text.path
        var times: [Double] = [], values: [Double] = []
        var fields: [Range<Int>] = []
        var header = true
        try text.forEachLine { line, r in
            if r.isEmpty { return true }
            if header { header = false; return true }
            text.fields(r, separator: 44, into: &fields)
            guard fields.count == 2 else { throw WorkloadError(file: path, line: line, "expected 2 fields (timestamp,value), found \(fields.count)") }
            let t: Double
            if let s = text.number(fields[0]) { t = s } else if let ns = text.dateTime(fields[0]) { t = Double(ns) / 1e9 } else {
                throw WorkloadError(file: path, line: line, field: "timestamp", "expected seconds or an ISO date, got '\(text.string(fields[0]))'")
            }
            let raw = text.string(fields[1])
            guard let v = Double(raw) else { throw WorkloadError(file: path, line: line, field: "value", "expected a number, got '\(raw)'") }
            guard v.isFinite else { throw WorkloadError(file: path, line: line, field: "value", "is \(raw); the series must be finite") }
            if let last = times.last, t <= last {
                throw WorkloadError(file: path, line: line, field: "timestamp", "timestamps must increase (one row per window)")
            }
            times.append(t)
            values.append(v)
            return true
        }
        guard values.count >= 2 else { throw WorkloadError(file: path, "a series needs at least 2 rows, found \(values.count)") }
        return Series(values: values, step: times[1] - times[0], start: times[0])
    }

    /// Per-window sums of a trace at frequency `step` seconds.
    public static func fromTrace(_ trace: Trace, step: Double, target: SeriesTarget, alignment: BinAlignment = .firstArrival) throws -> Series {
        let table = try FeatureTable(trace: trace, frequency: step, alignment: alignment)
        let values: [Double]
        switch target {
        case .requests: values = table.rows.map(\.requests)
        case .promptTokens: values = table.rows.map(\.promptTokens)
        case .outputTokens: values = table.rows.map(\.outputTokens)
        }
        return Series(values: values, step: step, start: table.rows.first?.start ?? 0)
    }

    /// Loads a series CSV, or builds the series from any trace format.
    public static func load(_ path: String, step: Double, target: SeriesTarget, options: LoadOptions = LoadOptions(),
                            alignment: BinAlignment = .firstArrival) throws -> Series {
        if isSeriesCSV(path) { return try loadCSV(path) }
        return try fromTrace(try TraceLoader.load(path, options: options).0, step: step, target: target, alignment: alignment)
    }
}
