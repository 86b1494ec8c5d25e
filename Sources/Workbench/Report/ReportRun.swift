import Foundation
import ServeSim
import Workload

/// What a chart needs of one run, whether it was just simulated or read back from disk: each
/// request's times (seconds) and the run's time series by column.
public struct ReportRun {
    public var label: String
    /// Where it was read from ("" for a run in memory).
    public var source: String
    public var arrival: [Double]
    public var ttft: [Double]
    /// Per-request TPOT (mean inter-token latency); nil for one-token outputs.
    public var tpot: [Double?]
    public var itlMax: [Double?]
    public var e2e: [Double]
    public var promptTokens: [Double]
    public var outputTokens: [Double]
    /// Interval ends (s) and the time-series columns by name (`running`, `kv_cache_pct`, ...).
    public var seriesTime: [Double]
    public var series: [(name: String, values: [Double])]
    /// The run's summary (`summary.json`), when there is one.
    public var summary: JSON?

    public func column(_ name: String) -> [Double]? { series.first { $0.name == name }?.values }

    /// A run in memory (the shell's session runs).
    public init(label: String, result r: RunResult, summary: JSON?) {
        self.label = label
        source = ""
        let q = r.requests
        arrival = q.arrival.map { Double($0) * 1e-9 }
        ttft = (0..<q.count).map { q.ttft($0) }
        tpot = (0..<q.count).map { q.tpot($0) }
        itlMax = (0..<q.count).map { q.outputTokens[$0] > 1 ? Double(q.maxITL[$0]) * 1e-9 : nil }
        e2e = (0..<q.count).map { q.e2e($0) }
        promptTokens = q.promptTokens.map(Double.init)
        outputTokens = q.outputTokens.map(Double.init)
        let t = r.timeSeries
        seriesTime = (0..<t.promptTokens.count).map { Double($0 + 1) * t.interval }
        series = [("prompt_throughput", t.promptTokens.map { $0 / t.interval }), ("gen_throughput", t.generatedTokens.map { $0 / t.interval }),
                  ("running", t.running.map(Double.init)), ("waiting", t.waiting.map(Double.init)), ("kv_cache_pct", t.kvUsage),
                  ("preemptions", t.preemptions.map(Double.init))]
        if !t.instances.isEmpty { series.append(("instances", t.instances.map(Double.init))) }
        self.summary = summary
    }

    /// A run folder (`requests.csv`, optional `timeseries.csv` and `summary.json`) or a requests
    /// CSV alone, as `run --output` and LLMServingSim write them (times in ns).
    public static func load(_ path: String, label: String? = nil) throws -> ReportRun {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw UsageError("report: no file or folder '\(path)'") }
        let folder = URL(fileURLWithPath: path)
        let requests = isDir.boolValue ? folder.appendingPathComponent("requests.csv").path : path
        var run = try parse(requests: try TextBuffer(path: requests), label: label ?? ReportRun.defaultLabel(path, isFolder: isDir.boolValue), source: path)
        if isDir.boolValue {
            let ts = folder.appendingPathComponent("timeseries.csv").path
            if FileManager.default.fileExists(atPath: ts) { try run.readSeries(try TextBuffer(path: ts)) }
            let summary = folder.appendingPathComponent("summary.json").path
            if FileManager.default.fileExists(atPath: summary) {
                do { run.summary = try JSON.parse(try Data(contentsOf: URL(fileURLWithPath: summary))) } catch {
                    throw UsageError("\(summary): not a JSON summary (\(error.localizedDescription))")
                }
            }
        }
        return run
    }

    /// The requests of a requests CSV (times in ns), every value checked.
    static func parse(requests text: TextBuffer, label: String, source: String) throws -> ReportRun {
        let requests = text.path
        let rows = try HeaderedCSV.read(text, columns: [
            .init("arrival"), .init("end_time"), .init("TTFT"), .init("input"), .init("output"),
            .init("itl_mean", optional: true, blank: true), .init("TPOT", optional: true, blank: true),
            .init("itl_max", optional: true, blank: true),
        ])
        var run = ReportRun(label: label, source: source)
        for (line, row) in rows.enumerated() {
            let arrival = row.number(0), end = row.number(1), ttft = row.number(2)
            let prompt = row.number(3), total = row.number(4)
            guard end >= arrival else {
                throw WorkloadError(file: requests, line: line + 2, field: "column 'end_time'", "ends before it arrives (\(JSON.format(end)) < \(JSON.format(arrival)) ns)")
            }
            run.arrival.append(arrival * 1e-9)
            run.e2e.append((end - arrival) * 1e-9)
            run.ttft.append(ttft * 1e-9)
            run.promptTokens.append(prompt)
            // LLMServingSim's `output` column counts the prompt too.
            run.outputTokens.append(max(0, total - prompt))
            // Our files carry vLLM's TPOT as itl_mean; LLMServingSim's have only its TPOT column.
            run.tpot.append(total - prompt > 1 ? (row.numbers[5] ?? row.numbers[6]).map { $0 * 1e-9 } : nil)
            run.itlMax.append(row.numbers[7].map { $0 * 1e-9 })
        }
        return run
    }

    private init(label: String, source: String) {
        self.label = label
        self.source = source
        arrival = []; ttft = []; tpot = []; itlMax = []; e2e = []; promptTokens = []; outputTokens = []
        seriesTime = []; series = []
    }

    /// A session's run folder `3-sarathi` is labelled `sarathi`; a file by its name.
    static func defaultLabel(_ path: String, isFolder: Bool) -> String {
        let name = URL(fileURLWithPath: path).lastPathComponent
        if isFolder, let dash = name.firstIndex(of: "-"), Int(name[..<dash]) != nil { return String(name[name.index(after: dash)...]) }
        return isFolder ? name : URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    }

    /// The numeric columns of a time-series CSV (text columns such as modes and events skipped).
    mutating func readSeries(_ text: TextBuffer) throws {
        let path = text.path
        var fields: [Range<Int>] = []
        var names: [String] = []
        var numeric: [Bool] = []
        var columns: [[Double]] = []
        try text.forEachLine { line, r in
            if r.isEmpty { return true }
            text.fields(r, separator: 44, into: &fields)
            if names.isEmpty {
                names = fields.map { text.string($0) }
                guard names.first == "t" else { throw WorkloadError(file: path, line: line, field: "header", "expected a time series whose first column is 't'") }
                numeric = Array(repeating: true, count: names.count)
                columns = Array(repeating: [], count: names.count)
                return true
            }
            for k in 0..<names.count where numeric[k] {
                let cell = k < fields.count ? fields[k] : 0..<0
                if let v = text.number(cell), v.isFinite { columns[k].append(v) }
                else if cell.isEmpty { columns[k].append(.nan) }
                else if k == 0 { throw WorkloadError(file: path, line: line, field: "column 't'", "expected a number, got '\(text.string(cell))'") }
                else { numeric[k] = false }
            }
            return true
        }
        guard !names.isEmpty else { return }
        seriesTime = columns[0]
        series = (1..<names.count).compactMap { k in numeric[k] && columns[k].count == columns[0].count ? (names[k], columns[k]) : nil }
    }

    /// Every run an input names: a session folder (its runs in order), a folder of run folders
    /// (`compare --save`), one run folder, or a requests CSV.
    public static func collect(_ path: String) throws -> [ReportRun] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw UsageError("report: no file or folder '\(path)'") }
        guard isDir.boolValue else { return [try load(path)] }
        let folder = URL(fileURLWithPath: path)
        if FileManager.default.fileExists(atPath: folder.appendingPathComponent("requests.csv").path) { return [try load(path)] }
        let runsFolder = FileManager.default.fileExists(atPath: folder.appendingPathComponent("runs").path) ? folder.appendingPathComponent("runs") : folder
        let names = (try? FileManager.default.contentsOfDirectory(atPath: runsFolder.path)) ?? []
        let runs = names.filter { FileManager.default.fileExists(atPath: runsFolder.appendingPathComponent($0).appendingPathComponent("requests.csv").path) }
            .sorted { a, b in
                let na = Int(a.prefix { $0.isNumber }) ?? Int.max, nb = Int(b.prefix { $0.isNumber }) ?? Int.max
                return na != nb ? na < nb : a < b
            }
        guard !runs.isEmpty else {
            throw UsageError("report: \(path) holds no runs (expected requests.csv, or folders of runs such as a session's runs/)")
        }
        return try runs.map { try load(runsFolder.appendingPathComponent($0).path) }
    }
}
