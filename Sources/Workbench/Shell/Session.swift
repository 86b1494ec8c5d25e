import ArgumentParser
import Foundation
import Schedulers
import ServeAPI
import ServeSim
import Workload

/// One run kept in a session.
public struct SessionRun {
    public var number: Int
    public var label: String
    public var result: RunResult
    public var summary: RunSummary
    public var summaryJSON: JSON
    public var folderName: String { "\(number)-\(label)" }
}

/// The shell's state: the loaded dataset, the configuration settings, the chosen components and the
/// runs. Every state-changing command is appended to the transcript as it happens (so a crash loses
/// nothing); every other file is written atomically.
public final class Session {
    public private(set) var trace: Trace?
    /// The dataset as read (resolved), and as the transcript names it.
    public private(set) var datasetPath: String?
    private var datasetTyped: String?
    public private(set) var datasetHash: String?
    /// What loading did (format, failed and filtered requests), for `dataset info`.
    public private(set) var loadReport = LoadReport()
    public private(set) var loadWords: [String] = []
    /// Settings as CLI option names (without dashes) and values, in the order first set.
    public private(set) var settings: [(key: String, value: String)] = []
    public var scheduler = "vllm"
    public var router = "round-robin"
    public var predictor = "oracle"
    public private(set) var runs: [SessionRun] = []
    /// Files that components of the session's runs read (options of kind `file`, such as an `rl`
    /// policy), with their SHA-256 when first used, in first-use order.
    public private(set) var inputFiles: [(path: String, sha256: String)] = []
    public private(set) var transcript: [String] = []
    /// Where the session persists; nil keeps everything in memory until `save`.
    public private(set) var directory: URL?
    public var name: String? { directory?.lastPathComponent }

    public init() { Components.ready() }

    // MARK: State changes

    /// Loads the trace at `path` (found where `typed`, as written in the transcript, resolved).
    public func load(_ path: String, typed: String? = nil, words: [String]) throws {
        let args: LoadArguments
        do { args = try LoadArguments.parse(words) } catch { throw UsageError("load: " + LoadArguments.message(for: error)) }
        // One read serves both the parse and the fingerprint.
        let text = try TextBuffer(path: path)
        let (trace, report) = try loadTrace(text, args)
        self.trace = trace
        loadReport = report
        datasetPath = path
        datasetTyped = typed ?? path
        datasetHash = text.sha256
        loadWords = words
    }

    /// Sets a simulation option by its CLI name (`max-num-seqs`, `hardware`, `slo-ttft`, ...),
    /// validated by parsing exactly as the CLI does.
    public func set(_ key: String, _ value: String) throws {
        let k = key.hasPrefix("--") ? String(key.dropFirst(2)) : key
        guard let option = SettingKeys.all.first(where: { $0.name == k }) else {
            let hint = closest(to: k, among: SettingKeys.all.map(\.name)).map { " — did you mean '\($0)'?" } ?? ""
            throw UsageError("unknown setting '\(k)'\(hint); `set` lists them")
        }
        var next = settings.filter { $0.key != k }
        if !(option.isFlag && ["false", "off", "no", "0"].contains(value.lowercased())) {
            if option.isFlag && !["true", "on", "yes", "1"].contains(value.lowercased()) {
                throw UsageError("setting '\(k)' is on or off, got '\(value)'")
            }
            next.append((k, value))
        }
        let sim = try Session.arguments(next, scheduler: scheduler, router: router, predictor: predictor)
        _ = try sim.config()
        settings = next
    }

    public func unset(_ key: String) { settings.removeAll { $0.key == key } }

    public func value(of key: String) -> String? { settings.last { $0.key == key }?.value }

    /// The settings as command-line words (`--key value`, flags alone).
    static func words(_ settings: [(key: String, value: String)]) -> [String] {
        var words: [String] = []
        for (k, v) in settings {
            if SettingKeys.all.first(where: { $0.name == k })?.isFlag == true { words.append("--\(k)") } else { words += ["--\(k)", v] }
        }
        return words
    }

    /// A one-shot command's words run on the session's state: its dataset (with the load options),
    /// settings and predictor first, so that what `args` gives itself wins (the last value counts).
    public func commandWords(_ args: [String]) -> [String] {
        var words: [String] = []
        if !args.contains("--dataset"), let datasetPath { words += ["--dataset", datasetPath] + loadWords }
        return words + Session.words(settings) + ["--predictor", predictor] + args
    }

    static func arguments(_ settings: [(key: String, value: String)], scheduler: String, router: String, predictor: String) throws -> SimulationArguments {
        var words = Session.words(settings)
        words += ["--scheduler", scheduler, "--router", router, "--predictor", predictor]
        do {
            return try SimulationArguments.parse(words)
        } catch {
            throw UsageError(SimulationArguments.message(for: error))
        }
    }

    public func simulationArguments() throws -> SimulationArguments {
        try Session.arguments(settings, scheduler: scheduler, router: router, predictor: predictor)
    }

    /// Validates a component spec against its registry.
    public func choose(_ kind: String, _ spec: String) throws {
        let s = try NamedSpec(parsing: spec, what: kind)
        switch kind {
        case "scheduler": scheduler = try SchedulerChoice(spec).label
        case "router": _ = try Components.routers.entry(named: s.name).instantiate(s.options); router = s.description
        case "predictor": _ = try Components.lengthPredictors.entry(named: s.name).instantiate(s.options); predictor = s.description
        default: preconditionFailure(kind)
        }
    }

    public func run(label: String?, hooks: Simulator.Hooks) throws -> SessionRun {
        guard let trace else { throw UsageError("no dataset loaded: `load FILE` first (e.g. load dataset/sharegpt-like-100.tsv)") }
        try noteFiles(of: [scheduler])
        return try keep(try simulate(trace, try simulationArguments(), hooks: hooks), label: label)
    }

    /// Runs each scheduler on the loaded dataset with the current settings; every result becomes a run.
    public func evaluate(_ schedulers: [String], resamples: Int, hooks: Simulator.Hooks) throws -> Evaluation {
        guard let trace else { throw UsageError("no dataset loaded: `load FILE` first") }
        try noteFiles(of: schedulers)
        let e = try Evaluation.run(trace: trace, sim: try simulationArguments(), resamples: resamples, schedulers: schedulers, hooks: hooks, jobs: Parallel.cores)
        for entry in e.entries { try keep(entry.result, label: entry.label) }
        return e
    }

    /// Records the files the specs' `file` options name (once each, hashed as first used).
    func noteFiles(of specs: [String]) throws {
        for spec in specs {
            let choice = try SchedulerChoice(spec)
            for option in choice.entry.options where option.kind == .file {
                let path = choice.schedulerOptions[option.name] ?? option.defaultValue
                guard !path.isEmpty, !inputFiles.contains(where: { $0.path == path }) else { continue }
                inputFiles.append((path, (try? SHA256.file(path)) ?? "(unreadable)"))
            }
        }
    }

    @discardableResult
    func keep(_ result: RunResult, label: String?) throws -> SessionRun {
        let summary = RunSummary(result)
        let clean = RunReport.folderLabel(label ?? result.schedulerName)
        // A label names one run: a repeated one gets the first free suffix (vllm, vllm-2, vllm-3).
        var unique = clean
        var k = 2
        while runs.contains(where: { $0.label == unique }) { unique = "\(clean)-\(k)"; k += 1 }
        let run = SessionRun(number: runs.count + 1, label: unique, result: result, summary: summary,
                             summaryJSON: RunReport.json(summary, result))
        runs.append(run)
        if directory != nil { try writeRun(run); try writeManifest() }
        return run
    }

    public func findRun(_ ref: String?) throws -> SessionRun {
        guard let last = runs.last else { throw UsageError("no runs yet: `run [label]` first") }
        guard let ref else { return last }
        if let n = Int(ref), n >= 1, n <= runs.count { return runs[n - 1] }
        if let r = runs.last(where: { $0.label == ref }) { return r }
        throw UsageError("no run '\(ref)' (runs: \(runs.map { "\($0.number) \($0.label)" }.joined(separator: ", ")))")
    }

    // MARK: Persistence

    /// Appends a state-changing command to the transcript (and to the file when persisting).
    public func record(_ line: String) throws {
        transcript.append(line)
        if let directory { try appendLine(line, to: directory.appendingPathComponent("transcript.sls")) }
    }

    func appendLine(_ line: String, to url: URL) throws {
        let data = Data((line + "\n").utf8)
        if !FileManager.default.fileExists(atPath: url.path) {
            try AtomicFile.write(data, to: url.path)
            return
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: data)
        try handle.synchronize()
    }

    /// Starts persisting to `dir`: writes the transcript so far, every run and the manifest.
    public func persist(to dir: URL) throws {
        if let existing = directory, existing.standardizedFileURL == dir.standardizedFileURL {
            try writeManifest()
            return
        }
        if FileManager.default.fileExists(atPath: dir.appendingPathComponent("manifest.json").path) {
            throw UsageError("\(dir.path) already holds a saved session; choose another name")
        }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try AtomicFile.write(transcript.map { $0 + "\n" }.joined(), to: dir.appendingPathComponent("transcript.sls").path)
        directory = dir
        for run in runs { try writeRun(run) }
        try writeManifest()
    }

    /// Continues persisting in `dir` (already holding this session's files).
    func adopt(_ dir: URL) { directory = dir }

    func writeRun(_ run: SessionRun) throws {
        guard let directory else { return }
        try RunReport.writeFolder(directory.appendingPathComponent("runs/\(run.folderName)"), result: run.result, summary: run.summaryJSON)
    }

    public func manifest() -> JSON {
        var config: JSON = .null
        if let sim = try? simulationArguments(), let c = try? sim.config() {
            let h = c.hardware, m = c.model
            config = .object([
                ("hardware", .object([("name", .string(h.name))] + h.constants.map { ($0.0, JSON.number($0.1)) })),
                ("model", .object([("name", .string(m.name)), ("layers", .integer(m.layers)), ("hidden", .integer(m.hidden)),
                                   ("heads", .integer(m.heads)), ("kv_heads", .integer(m.kvHeads)), ("ffn", .integer(m.ffn)),
                                   ("experts", .integer(m.experts)), ("dtype_bytes", .integer(m.dtypeBytes))])),
                ("engine", .object([("tp", .integer(c.tensorParallel)), ("pp", .integer(c.pipelineParallel)),
                                    ("instances", .integer(c.instances)), ("expert_parallel", .bool(c.expertParallel)),
                                    ("async_scheduling", .bool(c.knobs.asyncScheduling)), ("max_num_seqs", .integer(c.knobs.maxNumSeqs)),
                                    ("max_num_batched_tokens", .integer(c.knobs.maxNumBatchedTokens)),
                                    ("block_size", .integer(c.knobs.blockSize)), ("kv_blocks", .integer((try? c.kvBlocks()) ?? 0)),
                                    ("chunked_prefill", .bool(c.knobs.chunkedPrefill)), ("prefix_caching", .bool(c.knobs.prefixCaching))])),
            ])
        }
        return .object([
            ("tool", .string("smartserve")), ("version", .string(Version.string)),
            ("plugins", PluginSetup.manifest),
            ("files", .array(inputFiles.map { .object([("path", .string($0.path)), ("sha256", .string($0.sha256))]) })),
            ("dataset", datasetPath.map { path in
                // Where the dataset lies seen from the session folder: replay and open find it
                // from any directory.
                var fields: [(String, JSON)] = [("path", .string(datasetTyped ?? path)), ("sha256", .string(datasetHash ?? "")),
                                                ("options", .array(loadWords.map { .string($0) }))]
                if let directory { fields.append(("from_session", .string(PathResolver.relative(path, from: directory)))) }
                return .object(fields)
            } ?? .null),
            ("settings", .object(settings.map { ($0.key, .string($0.value)) })),
            ("scheduler", .string(scheduler)), ("router", .string(router)), ("predictor", .string(predictor)),
            ("seed", .string(value(of: "seed") ?? "0")),
            ("configuration", config),
            ("runs", .array(runs.map { r in
                .object([("number", .integer(r.number)), ("label", .string(r.label)), ("folder", .string("runs/\(r.folderName)")),
                         ("summary", r.summaryJSON)])
            })),
        ])
    }

    public func writeManifest() throws {
        guard let directory else { return }
        try AtomicFile.write(manifest().render() + "\n", to: directory.appendingPathComponent("manifest.json").path)
    }
}

/// The simulation options `set` accepts: every long option of `SimulationArguments`, read from
/// the argument parser's own description of it so the two can never disagree.
public enum SettingKeys {
    public struct Key: Sendable {
        public let name: String
        public let isFlag: Bool
        public let help: String
        public let defaultValue: String?
    }

    public static let all: [Key] = {
        guard let data = SimulationArguments._dumpHelp().data(using: .utf8),
              let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let command = root["command"] as? [String: Any],
              let arguments = command["arguments"] as? [[String: Any]] else { return [] }
        return arguments.compactMap { a in
            guard let names = a["names"] as? [[String: Any]],
                  let name = names.first(where: { $0["kind"] as? String == "long" })?["name"] as? String,
                  !["scheduler", "router", "predictor", "dataset", "help"].contains(name) else { return nil }
            return Key(name: name, isFlag: a["kind"] as? String == "flag", help: a["abstract"] as? String ?? "",
                       defaultValue: a["defaultValue"] as? String)
        }
    }()
}
