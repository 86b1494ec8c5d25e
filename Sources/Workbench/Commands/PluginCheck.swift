import ArgumentParser
import Foundation
import PluginHost
import Schedulers
import ServeAPI
import ServeSim
import Workload

/// The conformance kit behind `plugin check`: every component a plugin registers goes through the
/// engine's checks in the situations that break schedulers (overload, memory pressure and
/// preemption, chunked prefill off, idle gaps, several instances), each a pass or a named fault.
public struct PluginCheck {
    public struct Case {
        public var component: String
        public var situation: String
        public var fault: String?
    }

    public var plugin: LoadedPlugin
    public var cases: [Case]
    public var failures: Int { cases.filter { $0.fault != nil }.count }
    public var passed: Bool { failures == 0 }

    public var text: String {
        var t = TextTable(["component", "situation", "result"])
        for c in cases { t.add([c.component, c.situation, c.fault.map { "FAIL: " + $0 } ?? "pass"]) }
        return "plugin \(plugin.name) \(plugin.version) (\(plugin.path))\n" + t.render()
            + "\n\(cases.count - failures) passed, \(failures) failed"
    }

    /// Loads the plugin (if it is not yet) and checks what it registered.
    public static func run(_ path: String) throws -> PluginCheck {
        let plugin = try PluginSetup.load(path)
        var cases: [Case] = []
        for component in plugin.components {
            let parts = component.split(separator: " ", maxSplits: 1).map(String.init)
            let (kind, name) = (parts[0], parts[1])
            let label = "\(kind) \(name)"
            let checks: [(String, () throws -> String?)]
            switch kind {
            case "scheduler": checks = schedulerSituations.map { s in (s.0, { try runScheduler(name, s.1) }) }
            case "router": checks = [("3 instances, bursty load", { try runRouter(name) })]
            case "predictor": checks = [("predictions for 500 requests", { try checkPredictor(name) })]
            case "forecaster": checks = [("fit 240 points, forecast 12 with 80/95% bands, update", { try checkForecaster(name) })]
            default: checks = []
            }
            for (situation, check) in checks {
                let fault: String?
                do {
                    fault = try CrashContext.during([(kind, name)]) { try check() }
                } catch {
                    fault = "\(error)"
                }
                cases.append(Case(component: label, situation: situation, fault: fault))
            }
        }
        return PluginCheck(plugin: plugin, cases: cases)
    }

    /// A run's knobs for one situation.
    struct Situation {
        var requests = 300
        var arrivals = ArrivalProcess.poisson(rate: 5)
        var maxNumSeqs = 64
        var blocks: Int? = nil
        var chunkedPrefill = true
        var instances = 1
    }

    static let schedulerSituations: [(String, Situation)] = [
        ("steady load", Situation()),
        ("overload (5× capacity)", Situation(arrivals: .poisson(rate: 200), maxNumSeqs: 32)),
        ("memory pressure, preemption", Situation(arrivals: .poisson(rate: 50), blocks: 400)),
        ("chunked prefill off", Situation(arrivals: .poisson(rate: 20), chunkedPrefill: false)),
        ("idle gaps, empty queues", Situation(requests: 40, arrivals: .onOff(onRate: 20, offRate: 0.01, onSeconds: 1, offSeconds: 60))),
        ("2 instances", Situation(arrivals: .poisson(rate: 20), instances: 2)),
    ]

    static func config(_ s: Situation, wholePrompts: Bool) throws -> ClusterConfig {
        var c = ClusterConfig(hardware: try HardwareCatalog.resolve("H100"), model: try ModelCatalog.resolve("meta-llama/Llama-3.1-8B"))
        c.knobs.maxNumSeqs = s.maxNumSeqs
        c.knobs.numGPUBlocksOverride = s.blocks
        c.knobs.chunkedPrefill = s.chunkedPrefill && !wholePrompts
        c.knobs.maxNumBatchedTokens = c.knobs.chunkedPrefill ? 2048 : 8192
        c.instances = s.instances
        return c
    }

    static func trace(_ s: Situation) throws -> Trace {
        try SyntheticWorkload(count: s.requests, arrivals: s.arrivals, prompt: .logNormal(median: 400, sigma: 1, min: 1, max: 4000),
                              output: .logNormal(median: 150, sigma: 1, min: 1, max: 2000), seed: 17).generate()
    }

    /// Runs the situation and checks what a correct run guarantees; returns the fault, if any.
    static func simulate(_ s: Situation, scheduler: @escaping () throws -> any StepScheduler, router: (any RequestRouter)?) throws -> String? {
        let trace = try trace(s)
        let whole = try scheduler().capabilities.wholePromptAdmission
        let c = try config(s, wholePrompts: whole)
        let result: RunResult
        do {
            result = try Simulator(trace: trace, config: c, makeScheduler: scheduler,
                                   router: router ?? (s.instances > 1 ? RoundRobinRouter() : nil)).run()
        } catch let e as SimulationError {
            return e.description
        }
        let q = result.requests
        for i in 0..<q.count {
            if q.finish[i] < q.firstToken[i] || q.firstToken[i] < q.arrival[i] || q.firstScheduled[i] < q.arrival[i] {
                return "request \(i) has out-of-order timestamps"
            }
        }
        if result.timeSeries.running.last != 0 { return "requests still running at the end" }
        let s = RunSummary(result)
        if !(0...1).contains(s.kvEffectiveUtilization) || !(0...1).contains(s.kvUtilization) { return "KV accounting out of [0, 1]" }
        return nil
    }

    static func runScheduler(_ name: String, _ s: Situation) throws -> String? {
        let entry = try Components.schedulers.entry(named: name)
        return try simulate(s, scheduler: { try entry.instantiate() }, router: nil)
    }

    static func runRouter(_ name: String) throws -> String? {
        let router = try Components.routers.entry(named: name).instantiate()
        var s = Situation(arrivals: .onOff(onRate: 60, offRate: 2, onSeconds: 3, offSeconds: 10), instances: 3)
        s.requests = 400
        return try simulate(s, scheduler: { VLLMScheduler() }, router: router)
    }

    static func checkPredictor(_ name: String) throws -> String? {
        let trace = try trace(Situation(requests: 500))
        let p = try Components.lengthPredictors.entry(named: name).instantiate()
        let a = p.predict(RequestFeatures(trace), seed: 3)
        guard a.count == trace.count else { return "\(a.count) predictions for \(trace.count) requests" }
        if let bad = a.firstIndex(where: { $0 < 1 }) { return "prediction \(a[bad]) for request \(bad) (must be ≥ 1)" }
        let b = try Components.lengthPredictors.entry(named: name).instantiate()
            .predict(RequestFeatures(trace), seed: 3)
        guard a == b else { return "not deterministic: two predictors with the same seed disagree" }
        return nil
    }

    static func checkForecaster(_ name: String) throws -> String? {
        let series = (0..<240).map { 10 + 5 * sin(Double($0) / 10) + Double($0 % 7) }
        let f = try Components.forecasters.entry(named: name).instantiate()
        try f.fit(series)
        let p = try f.predict(horizon: 12, levels: [80, 95])
        guard p.mean.count == 12 else { return "forecast of \(p.mean.count) steps for a horizon of 12" }
        guard p.mean.allSatisfy(\.isFinite) else { return "non-finite forecast" }
        for level in [80.0, 95.0] {
            guard let lo = p.lower[level], let hi = p.upper[level], lo.count == 12, hi.count == 12 else { return "no \(Int(level))% band of 12 steps" }
            if let k = (0..<12).first(where: { !(lo[$0] <= p.mean[$0] && p.mean[$0] <= hi[$0]) }) {
                return "step \(k + 1): the \(Int(level))% band [\(lo[k]), \(hi[k])] does not hold the mean \(p.mean[k])"
            }
        }
        f.update(series[0])
        guard (try f.predict(horizon: 1, levels: [80])).mean.count == 1 else { return "no forecast after an update" }
        return nil
    }
}

/// `smartserve plugins` and `smartserve plugin check PATH`.
public struct PluginsCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "plugins",
        abstract: "List the loaded plugins (from --plugin, SMARTSERVE_PLUGINS and the plugin folders).")
    public init() {}
    public func run() throws { Terminal.out(PluginSetup.listing()) }
}

public struct PluginCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "plugin",
        abstract: "Run the conformance kit on a plugin library.",
        subcommands: [Check.self])
    public init() {}

    public struct Check: ParsableCommand {
        public static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Load a plugin and run each component it registers through the engine's checks; prints a pass/fail table.",
            discussion: "Example: smartserve plugin check Plugins/Examples/EDF/.build/release/libEDF.so")
        @Argument(help: "The plugin library (.so).") var path: String
        public init() {}
        public func run() throws {
            let report = try PluginCheck.run(path)
            Terminal.out(report.text)
            if !report.passed { throw ExitCode(1) }
        }
    }
}
