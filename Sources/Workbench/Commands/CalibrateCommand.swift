import ArgumentParser
import Foundation
import Schedulers
import ServeSim
import Workload

/// Fits the roofline's device constants to a profile bundle or a measured run and writes them as a
/// hardware profile for `--hardware`.
public struct CalibrateCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Fit the roofline's efficiencies and kernel latency to a profile bundle or a measured vLLM run.",
        discussion: """
        A profile bundle: the roofline is fitted to the bundle's step times over decode, prefill and mixed steps.
        A run folder (requests.jsonl): it is fitted to the run's TTFT, TPOT and E2E means and P99s.
        Example: smartserve calibrate ../shared/data/llmservingsim-profiles/RTXPRO6000 --out rtxpro6000.json
                 smartserve validate RUN_DIR --hardware rtxpro6000.json
        """)
    @Argument(help: "A profile bundle folder, or a vLLM measurement folder.") var path: String
    @Option(help: "Where to write the hardware profile (JSON).") var out: String
    @Option(help: "Starting hardware (catalog name or JSON; default: the one the bundle or run names).") var hardware: String?
    @Option(help: "Model (default: the one the bundle or run names).") var model: String?
    @Option(parsing: .unconditional, help: "Tensor-parallel degree of the bundle to fit (bundles only).") var tp: Int = 1
    @Flag(help: "Print JSON.") var json = false
    public init() {}

    public func run() throws { Terminal.out(try output()) }

    /// Fits, writes the profile and returns the report (the shell prints it too).
    public func output() throws -> String {
        guard tp >= 1 && tp <= 1024 else { throw UsageError("--tp must be in 1...1024, got \(tp)") }
        let isRun = FileManager.default.fileExists(atPath: URL(fileURLWithPath: path).appendingPathComponent("requests.jsonl").path)
        let fit: Calibration.Fit
        let what: String
        if isRun {
            let run = try MeasuredRun.load(path, overrides: SetupOverrides(hardware: hardware, model: model))
            let measured = try MeasuredRequests.metrics(run.requestsPath)
            fit = try Calibration.fit(run.config.hardware, maxEvaluations: 400) { h in
                var c = run.config
                c.hardware = h
                let result = try Validation.simulate(run, config: c, latency: .roofline(RooflineModel(config: c)))
                return Validation.error(Validation.rows(measured, Validation.perRequest(result)))
            }
            what = "the run's TTFT, TPOT and E2E means and P99s"
        } else {
            let dir = try ProfileBundle.locate(path, model: model)
            let bundle = try ProfileBundle.load(dir, model: model, tensorParallel: tp)
            var config = ClusterConfig(hardware: try HardwareCatalog.resolve(hardware ?? bundle.hardware),
                                       model: try ModelCatalog.resolve(model ?? bundle.model))
            config.tensorParallel = tp
            try config.validate()
            let profile = try ProfileLatencyModel(bundle: bundle, config: config)
            let served = try Self.servingSteps(config: config, latency: .profile(profile))
            fit = try Calibration.fit(profile: profile, config: config, extra: served)
            let probes = Calibration.probeShapes(tokenBudget: config.knobs.maxNumBatchedTokens, maxSeqs: config.knobs.maxNumSeqs).count
            what = "\(probes) probe steps and \(served.count) steps of a simulated serving mix, priced by \(dir)/tp\(tp)"
        }
        return try write(fit, what)
    }

    /// The steps vLLM runs on a generic bursty serving mix (seeded; not any shared trace): bursts
    /// that fill the token budget with mixed prefill and decode steps, lulls of small decode
    /// batches, prompts and outputs of ShareGPT-like spread.
    static func servingSteps(config: ClusterConfig, latency: LatencyModel) throws -> [StepShape] {
        var c = config
        c.knobs.maxModelLen = min(config.maxModelLen, 8192)
        let trace = try SyntheticWorkload(count: 1500, arrivals: .onOff(onRate: 40, offRate: 2, onSeconds: 10, offSeconds: 20),
                                          prompt: .logNormal(median: 600, sigma: 1, min: 4, max: 4096),
                                          output: .logNormal(median: 250, sigma: 1, min: 2, max: 2048), seed: 1).generate()
        var steps: [StepShape] = []
        _ = try Simulator(trace: trace, config: c, latency: latency, makeScheduler: { VLLMScheduler() })
            .run(Simulator.Hooks(step: { shape, _ in steps.append(shape) }))
        return steps
    }

    func write(_ fit: Calibration.Fit, _ what: String) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(String(decoding: try encoder.encode(fit.hardware), as: UTF8.self) + "\n", to: out)
        let before = (exp(fit.errorBefore) - 1) * 100, after = (exp(fit.errorAfter) - 1) * 100
        if json {
            return JSON.object([("out", .string(out)), ("fitted_to", .string(what)),
                                      ("mean_error_pct_before", .number(before)), ("mean_error_pct_after", .number(after)),
                                      ("evaluations", .integer(fit.evaluations)),
                               ("constants", .object(Calibration.parameters.map { ($0.key, .number(fit.hardware[keyPath: $0.path])) }))]).render()
        } else {
            var t = TextTable(["constant", "fitted"])
            for p in Calibration.parameters { t.add([p.key, fixed(fit.hardware[keyPath: p.path], 3)]) }
            return """
            fitted the roofline of \(fit.hardware.name) to \(what)
            mean error \(fixed(before, 1))% → \(fixed(after, 1))% (geometric, \(fit.evaluations) evaluations)
            \(t.render())
            wrote \(out); use it with --hardware \(out)
            """
        }
    }
}
