import Foundation
import Forecasting
import PluginHost
import ServeAPI
import ServeSim
import Workload

/// Executes shell lines against a session: the same code serves the interactive shell, script
/// files, `source`, `open` and `replay`.
public final class ShellRunner {
    public private(set) var session: Session
    public let interactive: Bool
    public let showProgress: Bool
    public var quitRequested = false
    /// Where sessions are saved (`sessions/` under the working directory).
    public var sessionsRoot = URL(fileURLWithPath: "sessions")
    let output: (String) -> Void
    var sourceDepth = 0

    public init(session: Session = Session(), interactive: Bool = false, showProgress: Bool = false,
                output: @escaping (String) -> Void = { Terminal.out($0) }) {
        self.session = session
        self.interactive = interactive
        self.showProgress = showProgress
        self.output = output
    }

    func out(_ s: String) { output(s) }

    /// Where this runner's relative input paths are found (a script's folder, a session's
    /// recorded places, the data folders).
    public var resolver = PathResolver()

    public static func command(named name: String) -> ShellCommand? {
        let key = name.lowercased()
        return shellCommands.first { $0.name == key || $0.aliases.contains(key) }
    }

    static func unknownCommand(_ name: String) -> UsageError {
        let names = shellCommands.flatMap { [$0.name] + $0.aliases }
        let hint = closest(to: name, among: names).map { " — did you mean '\($0)'?" } ?? ""
        return UsageError("unknown command '\(name)'\(hint); `help` lists commands")
    }

    /// Executes one line. State-changing commands that succeed are appended to the transcript.
    public func execute(_ line: String) throws {
        let words = try Tokenizer.split(line)
        guard let name = words.first else { return }
        guard let command = ShellRunner.command(named: name) else { throw ShellRunner.unknownCommand(name) }
        try command.action(self, Array(words.dropFirst()))
        if command.records && command.recordsArguments?(Array(words.dropFirst())) != false { try recordRan(words) }
    }

    /// Executes a transcript line for `replay` or `open`: only what the shell itself records
    /// (state and run commands), so a crafted transcript cannot write files, open or replay other
    /// sessions, or load a plugin the session's manifest does not vouch for.
    func executeTranscript(_ line: String) throws {
        let words = try Tokenizer.split(line)
        guard let name = words.first else { return }
        guard let command = ShellRunner.command(named: name), command.records,
              command.recordsArguments?(Array(words.dropFirst())) != false else {
            throw UsageError("`\(Terminal.escaped(name))` is not allowed in a transcript (replay and open run state and run commands only)")
        }
        if command.name == "plugin", words.count > 2, !PluginHost.loaded.contains(where: { $0.path == URL(fileURLWithPath: words[2]).resolvingSymlinksInPath().path }) {
            throw UsageError("plugin \(Terminal.escaped(words[2])) is not among the session's recorded plugins")
        }
        try execute(line)
    }

    /// Appends a command that changed state or ran something to the transcript.
    func recordRan(_ words: [String]) throws {
        if interactive && session.directory == nil { try autosave() }
        try session.record(words.map(Tokenizer.quote).joined(separator: " "))
    }

    /// Runs script lines; an error stops the script (reported with its line number) unless
    /// `keepGoing`. Returns whether every line succeeded.
    @discardableResult
    public func runScript(_ lines: [String], name: String, keepGoing: Bool = false) -> Bool {
        var ok = true
        for (i, line) in lines.enumerated() {
            if quitRequested { break }
            do {
                try execute(line)
            } catch {
                Terminal.error("\(name):\(i + 1): \(ShellRunner.message(error))")
                if ok { scriptStatus = ShellRunner.status(error) }
                ok = false
                if !keepGoing { break }
            }
        }
        return ok
    }

    /// The exit status of the first failed line of the last script (0 when every line ran).
    public private(set) var scriptStatus: Int32 = ExitStatus.success

    /// The CLI's exit status for an error raised by a shell line.
    static func status(_ error: Error) -> Int32 { ProjectError.describe(error)?.1 ?? ExitStatus.usage }

    /// One line for any error: the project's own messages as they are, anything else described.
    public static func message(_ error: Error) -> String {
        if let (m, _) = ProjectError.describe(error) { return m }
        return "\(error)"
    }

    // MARK: Sessions

    func autosave() throws {
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        f.timeZone = TimeZone(identifier: "UTC")
        var dir = sessionsRoot.appendingPathComponent("session-\(f.string(from: Date()))")
        var k = 2
        while FileManager.default.fileExists(atPath: dir.path) {
            dir = sessionsRoot.appendingPathComponent("session-\(f.string(from: Date()))-\(k)")
            k += 1
        }
        try session.persist(to: dir)
        out("(session autosaved in \(dir.path); `save NAME` names it)")
    }

    /// A session name: one folder name under sessions/ (`sessions/NAME` also reads as NAME), never
    /// `.`, `..`, a path or control characters, so `save` stays inside sessions/.
    static func sessionName(_ text: String) throws -> String {
        let name = text.hasPrefix("sessions/") ? String(text.dropFirst("sessions/".count)) : text
        guard !name.isEmpty, name != ".", name != "..", !name.contains("/"), !name.contains("\\"),
              !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw UsageError("save: a session name is one folder name (saved under sessions/), got '\(Terminal.escaped(text))'")
        }
        return name
    }

    func save(_ name: String?) throws {
        if let name {
            let target = sessionsRoot.appendingPathComponent(try ShellRunner.sessionName(name))
            if let current = session.directory, current.lastPathComponent.hasPrefix("session-"),
               !FileManager.default.fileExists(atPath: target.path) {
                // Name the autosaved session: move it, so nothing is left behind.
                try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                try FileManager.default.moveItem(at: current, to: target)
                session.adopt(target)
                try session.writeManifest()
            } else {
                try session.persist(to: target)
            }
        } else if session.directory == nil {
            try autosave()
        } else {
            try session.writeManifest()
        }
        out("saved \(session.directory!.path)")
    }

    /// Saves on the way out (Ctrl-D, quit) when there is anything to keep.
    public func saveOnExit() {
        guard session.directory != nil else { return }
        do { try session.writeManifest() } catch { Terminal.error(ShellRunner.message(error)) }
    }

    func open(_ path: String) throws {
        try Replay.nested("open \(path)") { try reopen(path) }
    }

    private func reopen(_ path: String) throws {
        let dir = URL(fileURLWithPath: path)
        let manifestPath = dir.appendingPathComponent("manifest.json").path
        let manifest = Replay.manifest(dir)
        if manifest == nil && FileManager.default.fileExists(atPath: manifestPath) {
            throw WorkloadError(file: manifestPath, "not valid JSON; open leaves it as it is (fix or remove it, then open again)")
        }
        let lines = try Replay.transcript(dir)
        for problem in Replay.housekeeping(dir, manifest: manifest) { out("warning: " + problem) }
        for problem in PluginSetup.restore(manifest?["plugins"]) { out("warning: " + problem) }
        let fresh = ShellRunner(session: Session(), interactive: false, showProgress: false, output: { _ in })
        fresh.resolver = PathResolver(bases: resolver.bases, known: PathResolver.recorded(in: manifest, session: dir))
        for (i, line) in lines.enumerated() {
            do { try fresh.executeTranscript(line) } catch {
                throw UsageError("open \(path): transcript line \(i + 1) failed: \(ShellRunner.message(error))")
            }
        }
        fresh.session.adopt(dir)
        try fresh.session.writeManifest()
        session = fresh.session
        out("opened \(path): \(lines.count) commands, \(session.runs.count) runs")
    }

    func source(_ path: String) throws {
        guard sourceDepth < 8 else { throw UsageError("source: scripts nested more than 8 deep") }
        let file = resolver.resolve(path)
        let lines = try TextBuffer(path: file).lines()
        sourceDepth += 1
        // While it runs, the sourced script's own folder is a place its paths are found.
        let saved = resolver.bases
        resolver.bases.insert(URL(fileURLWithPath: file).deletingLastPathComponent(), at: 0)
        defer { sourceDepth -= 1; resolver.bases = saved }
        for (i, line) in lines.enumerated() {
            do { try execute(line) } catch {
                throw UsageError("\(path):\(i + 1): \(ShellRunner.message(error))")
            }
        }
    }

    // MARK: Progress and interruption

    /// A fresh interrupt flag per command: a Ctrl-C at the prompt does not stop the next run.
    func hooks() -> Simulator.Hooks {
        Interrupt.clear()
        return ProgressBar.hooks(show: showProgress)
    }

    func clearProgress() { ProgressBar.clear(show: showProgress) }

    // MARK: Rendering helpers

    static func listing(_ items: [(String, String)]) -> String {
        var t = TextTable(["name", "description"])
        for (n, s) in items { t.add([n, s]) }
        return t.render()
    }

    /// The hardware catalog with the figures that size a run.
    static func hardwareCatalog() -> String {
        var t = TextTable(["hardware", "memory (GB)", "bandwidth (GB/s)", "dense bf16 (TFLOP/s)", "link (GB/s)"])
        for h in HardwareCatalog.entries {
            t.add([h.name, JSON.format(h.memoryGB), JSON.format(h.memoryBandwidthGBs), JSON.format(h.tflops), JSON.format(h.linkBandwidthGBs)])
        }
        return t.render()
    }

    /// The model catalog with parameters, shape and KV cost.
    static func modelCatalog() -> String {
        var t = TextTable(["model", "parameters (B)", "layers", "hidden", "KV heads", "KV bytes/token", "experts"])
        for m in ModelCatalog.entries {
            t.add([m.name, fixed(Double(m.parameterCount) / 1e9, 2), "\(m.layers)", "\(m.hidden)", "\(m.kvHeads)", "\(m.kvBytesPerToken)",
                   m.isMoE ? "\(m.experts) (top \(m.expertsPerToken))" : "-"])
        }
        return t.render()
    }

    static func spec(_ args: [String]) -> String {
        args.count == 1 ? args[0] : args[0] + ":" + args.dropFirst().joined(separator: ",")
    }

    static func oneLine(_ s: RunSummary) -> String {
        "\(s.requests) requests, TTFT mean \(duration(s.ttft.mean)) (p99 \(duration(s.ttft.p99))), TPOT mean \(duration(s.tpot.mean)), E2E mean \(fixed(s.e2e.mean, 2)) s, \(fixed(s.throughputRPS, 2)) req/s, SLO \(fixed(s.sloAttainment * 100, 1))%, preemptions \(s.preemptions)"
            + (s.autoscaled ? ", \(fixed(s.gpuSeconds, 0)) GPU-seconds (mean \(fixed(s.meanInstances, 2)) instances)" : "")
    }

    static func describe(_ name: String) throws -> String {
        let lists: [(String, [(String, String, [OptionSpec])])] = [
            ("scheduler", Components.schedulers.all.map { ($0.name, $0.summary, $0.options) }),
            ("router", Components.routers.all.map { ($0.name, $0.summary, $0.options) }),
            ("predictor", Components.lengthPredictors.all.map { ($0.name, $0.summary, $0.options) }),
            ("forecaster", Components.forecasters.all.map { ($0.name, $0.summary, $0.options) }),
            ("autoscaler", Components.autoscalers.all.map { ($0.name, $0.summary, $0.options) }),
        ]
        for (kind, entries) in lists {
            guard let e = entries.first(where: { $0.0 == name.lowercased() }) else { continue }
            var s = "\(kind) \(e.0): \(e.1)\n"
            if e.2.isEmpty { return s + "no options" }
            var t = TextTable(["option", "type", "default", "range", "meaning"])
            for o in e.2 {
                let range = o.range.map { "\(JSON.format($0.lowerBound))...\(JSON.format($0.upperBound))" } ?? ""
                t.add([o.name, o.kind.label, o.defaultValue, range, o.doc])
            }
            s += t.render()
            return s
        }
        if let h = try? HardwareCatalog.resolve(name) {
            return "hardware \(h.name): \(JSON.format(h.memoryGB)) GB, \(JSON.format(h.memoryBandwidthGBs)) GB/s, \(JSON.format(h.tflops)) TFLOP/s dense bf16, link \(JSON.format(h.linkBandwidthGBs)) GB/s; efficiencies compute \(h.computeEfficiency), memory \(h.memoryEfficiency); overhead \(h.stepOverheadMs) ms/step + \(h.perSequenceOverheadUs) µs/sequence"
        }
        if let m = try? ModelCatalog.resolve(name) {
            return "model \(m.name): \(m.layers) layers, hidden \(m.hidden), heads \(m.heads)/\(m.kvHeads) KV, head dim \(m.headDim), FFN \(m.ffn)\(m.isMoE ? ", \(m.experts) experts top-\(m.expertsPerToken) width \(m.expertFFN)" : ""), vocab \(m.vocab); \(fixed(Double(m.parameterCount) / 1e9, 2)) B parameters"
        }
        let all = lists.flatMap { $0.1.map(\.0) } + HardwareCatalog.names + ModelCatalog.names
        let hint = closest(to: name, among: all).map { " — did you mean '\($0)'?" } ?? ""
        throw UsageError("nothing called '\(name)'\(hint); try `schedulers`, `routers`, `predictors`")
    }

    func configText() throws -> String {
        let sim = try session.simulationArguments()
        let c = try sim.config()
        let k = c.knobs
        return """
        hardware    \(c.hardware.name) (\(JSON.format(c.hardware.memoryGB)) GB, \(JSON.format(c.hardware.memoryBandwidthGBs)) GB/s, \(JSON.format(c.hardware.tflops)) TFLOP/s)
        model       \(c.model.name) (\(fixed(Double(c.model.parameterCount) / 1e9, 2)) B parameters)
        parallelism TP \(c.tensorParallel) × PP \(c.pipelineParallel), \(c.instances) instance(s), router \(session.router)
        engine      max_num_seqs \(k.maxNumSeqs), max_num_batched_tokens \(k.maxNumBatchedTokens), block \(k.blockSize), gpu_memory_utilization \(k.gpuMemoryUtilization), chunked prefill \(k.chunkedPrefill ? "on" : "off"), prefix caching \(RunReport.prefixCachingText(setting: k.prefixCaching, active: session.trace.map { $0.prefix != nil } ?? true))
        latency     \(sim.latencyProfile.map { "profile bundle \($0)" } ?? sim.latencyTable.map { "step table \($0)" } ?? "roofline (\(c.hardware.name) constants)")
        KV cache    \(try c.kvBlocks()) blocks per instance (\(fixed(Double(try c.kvBlocks() * k.blockSize) * c.kvBytesPerTokenPerDevice / 1e9, 2)) GB per device)
        scheduler   \(session.scheduler)   predictor \(session.predictor)
        SLO         TTFT \(c.slo.ttft.map { "\(JSON.format($0)) s" } ?? "-"), TPOT \(c.slo.tpot.map { "\(JSON.format($0 * 1000)) ms" } ?? "-"), E2E \(c.slo.e2e.map { "\(JSON.format($0)) s" } ?? "-")
        seed        \(c.seed)
        dataset     \(session.datasetPath ?? "(none: load FILE)")\(session.trace.map { ", \($0.count) requests" } ?? "")
        """
    }

    /// The shell prompt: the loaded dataset and model.
    public var prompt: String {
        let data = session.datasetPath.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "no data"
        let model = (session.value(of: "model_name") ?? "meta-llama/Llama-3.1-8B-Instruct").split(separator: "/").last.map(String.init) ?? ""
        return "smartserve [\(data) | \(model)]> "
    }
}
