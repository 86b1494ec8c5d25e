import Forecasting
import RL
import Foundation
import ServeAPI
import Schedulers
import ServeSim
import Workbench
import Workload

// `make bench`: speed and memory figures, each case in a child process so that its peak memory
// is its own. Targets (2-core machine): loading 1,000,000 requests < 2 s and < 100 B/request;
// simulating 1,000,000 requests on one H100 with Llama-3.1-8B < 10 s and < 300 B/request.

func residentBytes() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
          let pages = Double(s.split(separator: " ")[1]) else { return .nan }
    return pages * Double(sysconf(Int32(_SC_PAGESIZE)))
}

/// The process's resident high-water mark (VmHWM; unlike ru_maxrss it is not inherited from the
/// parent across exec).
func peakBytes() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return .nan }
    return kb * 1024
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func f(_ v: Double, _ d: Int = 2) -> String { String(format: "%.\(d)f", v) }

let benchRequests = 1_000_000
let workDir = FileManager.default.temporaryDirectory.appendingPathComponent("smartserve-bench")

/// A vllm run on the H100 configuration, with the number of steps fast-forward skipped.
func simulateCounting(_ trace: Trace) throws -> (RunResult, skipped: Int) {
    let run = try Simulator(trace: trace, config: try BenchmarkWorkloads.h100(), makeScheduler: { VLLMScheduler() }).start()
    while case .decision = try run.advance() {}
    return (run.result(), run.fastForwardedSteps)
}

/// Bursty on/off arrivals that overload one A100-80G with Llama-3.1-8B and 32 seats.
func rlWorkload(_ n: Int) throws -> (Trace, ClusterConfig) {
    let trace = try SyntheticWorkload(count: n, arrivals: .onOff(onRate: 12, offRate: 2, onSeconds: 20, offSeconds: 20),
                                      prompt: .logNormal(median: 600, sigma: 1, min: 8, max: 8192),
                                      output: .logNormal(median: 150, sigma: 1, min: 2, max: 2048), seed: 2).generate()
    var config = ClusterConfig(hardware: try HardwareCatalog.resolve("A100-80G"), model: try ModelCatalog.resolve("meta-llama/Llama-3.1-8B"))
    config.knobs.maxNumSeqs = 32
    return (trace, config)
}

func runCase(_ name: String, _ arg: String) throws {
    let base = residentBytes()
    switch name {
    case "load":
        var trace = Trace()
        let t = try seconds { trace = try TraceLoader.load(arg).0 }
        let peak = peakBytes() - base
        let after = residentBytes() - base
        print("load \(URL(fileURLWithPath: arg).lastPathComponent): \(trace.count) requests in \(f(t, 3)) s (\(f(Double(trace.count) / t / 1e6, 2)) M req/s); resident trace \(f(after / Double(trace.count), 1)) B/request (columns \(f(Double(trace.footprintBytes) / Double(trace.count), 1))); peak during load \(f(peak / Double(trace.count), 1)) B/request (file bytes included)")
    case "simulate":
        var trace = Trace()
        if arg == "generated" { trace = try BenchmarkWorkloads.shareGPTLike(benchRequests, rate: 25) } else { trace = try TraceLoader.load(arg).0 }
        let config = try BenchmarkWorkloads.h100()
        var result: RunResult?
        var skipped = 0
        let t = try seconds { (result, skipped) = try simulateCounting(trace) }
        let summary = RunSummary(result!)
        let peak = peakBytes() - base
        let label = arg == "generated" ? "generated \(trace.count)-request trace" : URL(fileURLWithPath: arg).lastPathComponent
        print("simulate \(label) on H100 / Llama-3.1-8B: \(f(t, 3)) s wall, \(f(Double(trace.count) / t, 0)) simulated req/s, \(f(Double(summary.steps) / t, 0)) steps/s (\(summary.steps) steps, \(f(Double(skipped) / Double(summary.steps) * 100, 1))% fast-forwarded, \(f(summary.makespan, 0)) s simulated, mean TTFT \(f(summary.ttft.mean * 1000, 1)) ms); peak memory \(f(peak / Double(trace.count), 1)) B/request")
        let (finish, firstToken) = (result!.requests.finish, result!.requests.firstToken)
        result = nil
        let stepwise = try seconds {
            let sim = try Simulator(trace: trace, config: config, makeScheduler: { VLLMScheduler() })
            sim.fastForward = false
            result = try sim.run()
        }
        print("  the same run step by step (fast-forward off): \(f(stepwise, 3)) s wall; fast-forward speed-up \(f(stepwise / t, 2))×, results \(result!.requests.finish == finish && result!.requests.firstToken == firstToken && result!.counters.steps == summary.steps ? "identical" : "DIFFERENT")")
    case "output":
        // The same 1M-request run without outputs, then with the per-request CSV streamed: the
        // process's high-water mark after each (VmHWM never falls, so the second is the larger).
        let trace = try BenchmarkWorkloads.shareGPTLike(benchRequests, rate: 25)
        let config = try BenchmarkWorkloads.h100()
        var result: RunResult? = try Simulator(trace: trace, config: config, makeScheduler: { VLLMScheduler() }).run()
        result = nil
        let off = peakBytes() - base
        let path = workDir.appendingPathComponent("bench-requests.csv").path
        let t = try seconds {
            result = try Simulator(trace: trace, config: config, makeScheduler: { VLLMScheduler() }).run()
            try RunReport.writeRequestsCSV(result!, to: path)
        }
        let on = peakBytes() - base
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        try? FileManager.default.removeItem(atPath: path)
        print("simulate \(trace.count) requests on H100 with --output (\(size / 1_000_000) MB CSV streamed): \(f(t, 3)) s wall (target ≤ 2 s); peak memory \(f(on / Double(trace.count), 1)) B/request (target ≤ 120), \(f(on / off, 3))× the run without outputs (target ≤ 1.1×)")
    case "scale":
        let n = Int(arg) ?? 10_000_000
        var trace: Trace? = try BenchmarkWorkloads.shareGPTLike(n, rate: 25)
        var steps = 0, skipped = 0
        let t = try seconds {
            let (r, s) = try simulateCounting(trace!)
            (steps, skipped) = (r.counters.steps, s)
        }
        trace = nil
        let peak = peakBytes() - base
        print("simulate \(n) requests on H100: \(f(t, 1)) s wall (target ≤ 30 s), \(steps) steps (\(f(Double(skipped) / Double(steps) * 100, 1))% fast-forwarded); peak memory \(f(peak / 1e9, 2)) GB (target ≤ 1.5 GB, the trace included)")
    case "orchestration":
        // The same 1M-request run under vllm and under smart (learned lengths predicted first).
        let trace = try BenchmarkWorkloads.shareGPTLike(benchRequests, rate: 25)
        let config = try BenchmarkWorkloads.h100()
        var times: [Double] = []
        for spec in ["vllm", "smart"] {
            var result: RunResult?
            var predicting = 0.0
            let t = try seconds {
                var predicted: [Int32]? = nil
                if spec == "smart" {
                    predicting = seconds { predicted = LearnedPredictor(delay: 60, quantile: 0, hidden: 16, learningRate: 0.01).predict(RequestFeatures(trace), seed: 0) }
                }
                let entry = try Components.schedulers.entry(named: spec)
                result = try Simulator(trace: trace, config: config, makeScheduler: { try entry.instantiate(spec == "smart" ? ["predictor": "learned"] : [:]) },
                                       predictedOutput: predicted).run()
            }
            times.append(t)
            let s = RunSummary(result!)
            print("simulate \(trace.count) requests on H100 with \(spec)\(spec == "smart" ? " (learned predictor included: \(f(predicting, 2)) s)" : ""): \(f(t, 2)) s wall, \(s.steps) steps (\(f(Double(s.steps) / t, 0)) steps/s), mean TTFT \(f(s.ttft.mean * 1000, 1)) ms, SLO \(f(s.sloAttainment * 100, 1))%")
        }
        print("smart / vllm wall time: \(f(times[1] / times[0], 2))× (target ≤ 2×)")
    case "latency-models":
        // The same 1M-request run priced by the roofline and by the measured profile bundle.
        let trace = try BenchmarkWorkloads.shareGPTLike(benchRequests, rate: 12)
        var config = ClusterConfig(hardware: try HardwareCatalog.resolve("RTXPRO6000"), model: try ModelCatalog.resolve("meta-llama/Llama-3.1-8B"))
        config.knobs.maxNumSeqs = 128
        var times: [Double] = []
        for latency in [try LatencyModel.resolve(config), try LatencyModel.resolve(config, profile: arg)] {
            var result: RunResult?
            let t = try seconds {
                result = try Simulator(trace: trace, config: config, latency: latency, makeScheduler: { VLLMScheduler() }).run()
            }
            times.append(t)
            let s = RunSummary(result!)
            print("simulate \(trace.count) requests on RTXPRO6000 / Llama-3.1-8B with the \(latency.kind): \(f(t, 3)) s wall, \(f(Double(s.steps) / t, 0)) steps/s, mean TTFT \(f(s.ttft.mean * 1000, 1)) ms, TPOT \(f(s.tpot.mean * 1000, 2)) ms")
        }
        print("profile bundle / roofline wall time: \(f(times[1] / times[0], 2))× (target ≤ 2×)")
    case "compare":
        var load = LoadOptions()
        load.rateScale = 0.9
        let trace = try TraceLoader.load(arg, options: load).0
        let sim = try SimulationArguments.parse(["--hardware", "A100-80G", "--model_name", "meta-llama/Llama-3.1-8B", "--max-num-seqs", "32"])
        let schedulers = ["vllm", "sarathi", "sjf", "srpt", "mlfq"]
        var e: Evaluation?
        let t = try seconds { e = try Evaluation.run(trace: trace, sim: sim, resamples: 1000, schedulers: schedulers) }
        print("compare \(schedulers.joined(separator: ",")) on \(URL(fileURLWithPath: arg).lastPathComponent) (A100-80G, max_num_seqs 32, 0.9× rate), bootstrap CIs included: \(f(t, 2)) s; mean E2E " + e!.entries.map { "\($0.label) \(f($0.summary.e2e.mean, 2)) s" }.joined(separator: ", "))
    case "forecast":
        // A 3,600-point series: one hour of per-second request counts (Poisson 5/s with a slow wave).
        let trace = try SyntheticWorkload(count: 18_000, arrivals: .sinusoidal(rate: 5, amplitude: 0.5, period: 900, phase: 0),
                                          prompt: .fixed(100), output: .fixed(100), seed: 3).generate()
        let series = Array(try SeriesLoader.fromTrace(trace, step: 1, target: .requests).values.prefix(3600))
        let s = Series(values: series, step: 1)
        let models = Components.forecasters.names
        for (label, refit) in [("online protocol (fit on 1,800 points, 1,795 rolling 6-step forecasts)", false),
                               ("--protocol refit (20 origins, each model refitted at each)", true)] {
            var settings = ForecastReport.Settings(horizon: 6, season: 60)
            settings.refitProtocol = refit
            var report: ForecastReport?
            let t = try seconds { report = try ForecastReport.evaluate(s, models: [], settings: settings) }
            let slowest = report!.results.max { $0.seconds < $1.seconds }!
            print("forecast eval, all \(models.count) models on a \(series.count)-point series, \(label), one core: \(f(t, 2)) s\(refit ? "" : " (target < 5 s)"); slowest \(slowest.name) \(f(slowest.seconds, 2)) s")
        }
        let d = DLinearForecaster(), g = GRUForecaster()
        try d.fit(Array(series.prefix(2600)))
        try g.fit(Array(series.prefix(2600)))
        print("forecast: training time dlinear \(f(d.trainingSeconds, 2)) s (look-back 120, 60 epochs), gru \(f(g.trainingSeconds, 2)) s (12 hidden, 12 epochs)")
    case "rl-env":
        // Environment steps at engine-step granularity on an overloaded bursty workload (A100-80G,
        // Llama-3.1-8B, 32 seats; queues of thousands, the costly case for observing and ordering),
        // cycling through the 16 discrete actions.
        let (trace, config) = try rlWorkload(200_000)
        let env = try ServeEnv(EnvSetup(trace: trace, config: config, episodeRequests: 20_000))
        var steps = 0, episodes = 0
        let target = Int(arg) ?? 1_000_000
        let t = try seconds {
            _ = try env.reset(seed: 0)
            while steps < target {
                let o = try env.step(discrete: steps % 16)
                steps += 1
                if o.terminated || o.truncated { episodes += 1; _ = try env.reset(seed: UInt64(episodes)) }
            }
        }
        print("rl environment: \(steps) steps (\(episodes) episodes of 20,000 requests) in \(f(t, 2)) s: \(f(Double(steps) / t, 0)) env steps/s, one decision per engine step (target ≥ 100,000)")
    case "rl-train":
        let (trace, config) = try rlWorkload(20_000)
        let steps = Int(arg) ?? 100_000
        var episodes = 0
        let t = try seconds {
            _ = try Trainer(algorithm: .ppo, setup: EnvSetup(trace: trace, config: config, episodeRequests: 2_000), steps: steps, environments: 2, seed: 0)
                .train(record: TrainingRecord(), progress: { episodes = $0.episodes })
        }
        print("rl training: PPO for \(steps) environment steps (2 environments, rollouts of 512, 4 epochs of 256-minibatches, 64×64 MLPs; \(episodes) episodes) in \(f(t, 2)) s (target < 60 s)")
    default:
        fatalError("unknown case \(name)")
    }
}

func spawn(_ args: [String]) throws {
    fflush(nil)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    p.arguments = args
    try p.run()
    p.waitUntilExit()
    if p.terminationStatus != 0 { print("case \(args) failed with status \(p.terminationStatus)") }
}

let args = Array(CommandLine.arguments.dropFirst())
if args.count == 3 && args[0] == "--case" {
    try runCase(args[1], args[2])
    exit(0)
}

try FileManager.default.createDirectory(at: workDir, withIntermediateDirectories: true)
print("SmartLLMServe benchmarks (release build, \(ProcessInfo.processInfo.activeProcessorCount) cores)")
print("generating \(benchRequests)-request files…")
let trace = try BenchmarkWorkloads.shareGPTLike(benchRequests, rate: 25)
var files: [String] = []
for (format, name) in [(TraceFormat.burstGPT, "bench-1m.burstgpt.csv"), (.llmservingsimTSV, "bench-1m.tsv")] {
    let path = workDir.appendingPathComponent(name).path
    try TraceWriter.write(trace, as: format, to: path)
    files.append(path)
}
print("\n# Workload loading (target: < 2 s and < 100 B/request for 1,000,000 requests)")
for path in files { try spawn(["--case", "load", path]) }

/// Runs a case on a file from ../shared/data, or says it is absent.
func spawnOnShared(_ name: String, _ relative: String) throws {
    let path = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        .deletingLastPathComponent().appendingPathComponent("shared/data/\(relative)").path
    if FileManager.default.fileExists(atPath: path) {
        try spawn(["--case", name, path])
    } else {
        print("skipping: \(path) is absent")
    }
}

let conv = "azure2023/AzureLLMInferenceTrace_conv.csv"
print("\n# Simulation (target: 1,000,000 requests < 10 s, < 300 B/request; decode fast-forward against every step simulated)")
try spawnOnShared("simulate", conv)
try spawn(["--case", "simulate", "generated"])

print("\n# Streamed outputs and scale (targets: 1,000,000 requests with --output ≤ 2 s and ≤ 120 B/request, within 10% of the memory without outputs; 10,000,000 requests ≤ 30 s within 1.5 GB)")
try spawn(["--case", "output", "-"])
try spawn(["--case", "scale", "10000000"])

print("\n# Prediction-orchestrated scheduling (target: a 1,000,000-request run with smart ≤ 2× vllm's time)")
try spawn(["--case", "orchestration", "-"])

print("\n# Latency models (target: the profile bundle's lookups at most double a 1,000,000-request run)")
try spawnOnShared("latency-models", "llmservingsim-profiles/RTXPRO6000")

print("\n# Forecasting (target: every model evaluated on a 3,600-point series < 5 s)")
try spawn(["--case", "forecast", "-"])

print("\n# Learning schedulers (targets: ≥ 100,000 environment steps/s; a 100,000-step PPO run < 60 s)")
try spawn(["--case", "rl-env", "1000000"])
try spawn(["--case", "rl-train", "100000"])

print("\n# Scheduler comparison (target: five schedulers on the Azure conversation trace in seconds)")
try spawnOnShared("compare", conv)
for path in files { try? FileManager.default.removeItem(atPath: path) }
