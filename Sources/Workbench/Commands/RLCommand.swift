import ArgumentParser
import Foundation
import RL
import ServeSim
import Workload

/// `smartserve rl train|eval`: learning schedulers over the simulated engine.
public struct RLCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "rl", abstract: "Train a scheduling policy by reinforcement learning, and evaluate it against hand-written schedulers.",
        subcommands: [RLTrainCommand.self, RLEvalCommand.self, RLParetoCommand.self])
    public init() {}
}

/// The environment options shared by `rl train` and `env serve`.
public struct EnvironmentArguments: ParsableArguments {
    @Option(help: "Reward weights: ttft, tpot (SLO violations), goodput (SLO-meeting completions), frag (KV waste, cache-seconds), preempt, latency (request-seconds).")
    var reward: String = RewardWeights.standard.description
    @Option(parsing: .unconditional, help: "Seconds of simulated time between decisions (0: every engine step).") var interval: Double = 0
    @Option(parsing: .unconditional, help: "Forecast horizon of the observation, s.") var horizon: Double = 10
    @Option(name: .customLong("episode-requests"), parsing: .unconditional, help: "Requests per episode: a window at a seeded random start (0: the whole workload).")
    var episodeRequests: Int = 1000
    @Option(name: .customLong("max-decisions"), parsing: .unconditional, help: "Decisions after which an episode is truncated (0: never).")
    var maxDecisions: Int = 0
    public init() {}

    func setup(_ trace: Trace, _ sim: SimulationArguments, space: ActionSpace) throws -> EnvSetup {
        guard (0...100_000_000).contains(episodeRequests) else { throw UsageError("--episode-requests must be in 0...100000000, got \(episodeRequests)") }
        guard (0...1_000_000_000).contains(maxDecisions) else { throw UsageError("--max-decisions must be in 0...1000000000, got \(maxDecisions)") }
        let config = try sim.config()
        let latency = try sim.latencyModel(config)
        let instances = config.instances
        return EnvSetup(trace: trace, config: config, latency: latency, predictions: try sim.predictions(for: trace),
                        requestClasses: requestClasses(trace), makeRouter: { try sim.makeRouter(instances: instances) },
                        actionSpace: space, interval: interval, horizon: horizon, reward: try RewardWeights(parsing: reward),
                        episodeRequests: episodeRequests, maxDecisions: maxDecisions)
    }
}

public struct RLTrainCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train a policy on a workload (a trace or its training window) and write a policy file.",
        discussion: """
        The policy acts at every decision point: admission rule, token budget, seats and KV watermark (discrete table for
        ppo, a2c and dqn; continuous knobs for sac). Train on the first part of a trace and evaluate on the rest:
          smartserve rl train --algo ppo --dataset ../shared/data/azure2023/AzureLLMInferenceTrace_code.csv --end 2400 \\
              --hardware A100-80G --model_name meta-llama/Llama-3.1-8B --steps 100000 --reward ttft=1,goodput=1,frag=0.2 --out policy.json
          smartserve rl eval policy.json --start 2400
        """)
    @OptionGroup var sim: SimulationArguments
    @OptionGroup var load: LoadArguments
    @OptionGroup var env: EnvironmentArguments
    @Option(help: "Algorithm: ppo, a2c, dqn or sac.") var algo: String = "ppo"
    @Option(parsing: .unconditional, help: "Environment steps to train for (summed over environments).") var steps: Int = 100_000
    @Option(parsing: .unconditional, help: "Parallel environments (A2C's workers; each its own seeds).") var envs: Int = 2
    @Option(parsing: .unconditional, help: "Environments stepped at once (default: the core count; the policy does not depend on it).") var jobs: Int?
    @Option(help: "Policy file to write.") var out: String = "policy.json"
    @Option(name: .customLong("checkpoint-every"), parsing: .unconditional, help: "Write the policy so far every N steps (0: only at the end).")
    var checkpointEvery: Int = 0
    @Option(name: .customLong("learning-rate"), parsing: .unconditional, help: "Adam's learning rate.") var learningRate: Double = 3e-4
    @Option(parsing: .unconditional, help: "Entropy bonus (ppo, a2c).") var entropy: Double = 0.01
    @Flag(help: "No progress output.") var quiet = false
    public init() {}

    public func run() throws { Terminal.out(try train()) }

    /// Trains and writes the policy file; returns the closing line.
    public func train() throws -> String {
        let algorithm = try Algorithm(named: algo)
        guard learningRate.isFinite, (1e-7...1).contains(learningRate) else { throw UsageError("--learning-rate must be in 1e-7...1, got \(learningRate)") }
        guard entropy.isFinite, (0...10).contains(entropy) else { throw UsageError("--entropy must be in 0...10, got \(entropy)") }
        guard (0...100_000_000).contains(checkpointEvery) else { throw UsageError("--checkpoint-every must be in 0...100000000, got \(checkpointEvery)") }
        let (trace, label) = try loadWorkload(sim.dataset, load)
        let started = Date()
        let file = try trainPolicy(algorithm: algorithm, trace: trace, label: label, sim: sim, load: load, env: env, steps: steps, envs: envs,
                                   learningRate: learningRate, entropy: entropy, quiet: quiet, checkpointEvery: checkpointEvery, checkpointPath: out,
                                   jobs: try Parallel.jobs(jobs))
        try AtomicFile.write(file.encoded(), to: out)
        return ("wrote \(out): \(algorithm.rawValue) policy, \(steps) steps in \(fixed(Date().timeIntervalSince(started), 1)) s, reward \(file.reward)")
    }
}

/// Trains a policy on `trace` as `rl train` does (progress on standard error unless `quiet`).
func trainPolicy(algorithm: Algorithm, trace: Trace, label: String, sim: SimulationArguments, load: LoadArguments, env: EnvironmentArguments,
                 steps: Int, envs: Int, learningRate: Double, entropy: Double, quiet: Bool,
                 checkpointEvery: Int = 0, checkpointPath: String? = nil, jobs: Int = Parallel.cores) throws -> PolicyFile {
    var settings = AgentSettings()
    settings.learningRate = learningRate
    settings.entropy = entropy
    var trainer = Trainer(algorithm: algorithm, setup: try env.setup(trace, sim, space: algorithm.space), steps: steps,
                          environments: envs, seed: sim.seed, settings: settings)
    trainer.jobs = jobs
    var record = TrainingRecord()
    record.dataset = sim.dataset ?? EmbeddedSample.path
    record.datasetSHA256 = try sim.dataset.map { try SHA256.file($0) } ?? ""
    record.start = load.start
    record.end = load.end
    record.requests = trace.count
    let config = trainer.setup.config
    record.hardware = config.hardware.name
    record.model = config.model.name
    record.predictor = try sim.predictorSpec().description
    try trainer.validate()
    if !quiet {
        FileHandle.standardError.write(Data("training \(algorithm.rawValue) on \(trace.count) requests of \(label) for \(steps) steps with \(envs) environment(s), reward \(trainer.setup.reward)\n".utf8))
    }
    let bar = ProgressLine(enabled: !quiet)
    defer { bar.finish() }
    return try trainer.train(record: record, checkpointEvery: checkpointEvery, progress: { bar.show($0) }, checkpoint: { partial in
        if let checkpointPath { try AtomicFile.write(partial.encoded(), to: checkpointPath) }
    })
}

/// One line of training progress on standard error (rewritten in place on a terminal, every
/// tenth of the way otherwise).
final class ProgressLine {
    let enabled: Bool
    let terminal = isatty(STDERR_FILENO) != 0
    var lastTenth = -1
    var lastReturn: Double?

    init(enabled: Bool) { self.enabled = enabled }

    func show(_ p: TrainingProgress) {
        guard enabled else { return }
        if let r = p.episodeReturn { lastReturn = r }
        let fraction = Double(p.steps) / Double(max(1, p.totalSteps))
        let width = 24, filled = Int(fraction * Double(width))
        let losses = p.losses.map { "\($0.0) \(fixed($0.1, 4))" }.joined(separator: ", ")
        let line = "[\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] \(p.steps)/\(p.totalSteps) steps, \(p.episodes) episodes, return \(lastReturn.map { fixed($0, 2) } ?? "-"), \(losses)"
        if terminal {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
        } else {
            let tenth = Int(fraction * 10)
            if tenth > lastTenth {
                lastTenth = tenth
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
        }
    }

    func finish() { if enabled && terminal { FileHandle.standardError.write(Data("\n".utf8)) } }
}

public struct RLEvalCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Run a policy against baseline schedulers on the same workload and score each on the policy's reward.",
        discussion: """
        Without --dataset, the policy's own training trace is used; give --start/--end for its held-back part. Prints the
        comparison table and each scheduler's total reward with a paired bootstrap 95% CI of its difference from the first baseline.
        """)
    @Argument(help: "Policy file from `smartserve rl train`.") var policy: String
    @OptionGroup var sim: SimulationArguments
    @OptionGroup var load: LoadArguments
    @Option(help: "Schedulers to compare with, the first being the baseline.") var baselines: String = "vllm,sarathi,sjf"
    @Option(parsing: .unconditional, help: "Bootstrap resamples.") var resamples: Int = 1000
    @Flag(help: "Print JSON.") var json = false
    public init() {}

    public func run() throws { Terminal.out(try output()) }

    public func output() throws -> String {
        let file = try PolicyFile.load(policy)
        guard (100...100_000).contains(resamples) else { throw UsageError("--resamples must be in 100...100000, got \(resamples)") }
        var s = sim
        if s.dataset == nil, !file.training.dataset.isEmpty, file.training.dataset != EmbeddedSample.path { s.dataset = file.training.dataset }
        let (trace, label) = try loadWorkload(s.dataset, load)
        let predictor = file.training.predictor.isEmpty ? "" : ",predictor=\(file.training.predictor.replacingOccurrences(of: ":", with: ","))"
        let specs = SchedulerChoice.splitList(baselines) + ["rl:policy=\(policy)\(predictor)"]
        let e = try Evaluation.run(trace: trace, sim: s, resamples: resamples, schedulers: specs)
        // Per scheduler: total and mean reward, and the paired interval of the difference from
        // the baseline (zero for the baseline itself).
        let baseline = file.reward.perRequest(e.entries[0].result)
        let scores = e.entries.enumerated().map { k, entry in
            let r = k == 0 ? baseline : file.reward.perRequest(entry.result)
            let total = r.reduce(0, +)
            let diff = k == 0 ? Evaluation.Interval(difference: 0, low: 0, high: 0)
                : Evaluation.bootstrap(baseline: baseline.map { $0 }, candidate: r.map { $0 }, resamples: resamples)
            return (label: entry.label, total: total, mean: total / Double(max(1, r.count)), diff: diff)
        }
        if json {
            return JSON.object([
                ("policy", .string(policy)), ("workload", .string(label)), ("reward", .string(file.reward.description)),
                ("comparison", e.json()),
                ("rewards", .object(scores.map { sc in
                    (sc.label, .object([("total", .number(sc.total)), ("per_request", .number(sc.mean)),
                                        ("diff_vs_baseline_per_request", .object([("value", .number(sc.diff.difference)),
                                                                                  ("ci95", .array([.number(sc.diff.low), .number(sc.diff.high)]))]))]))
                })),
            ]).render()
        }
        var out = "policy \(policy): \(file.training.algorithm) trained on \(file.training.dataset) \(window(file.training)) for \(file.training.steps) steps; evaluated on \(label) (\(trace.count) requests)\n\n"
        out += e.text()
        out += "\nreward \(file.reward) (per request; paired bootstrap 95% CI of the difference from \(e.entries[0].label)):\n"
        var t = TextTable(["scheduler", "total", "per request", "diff [95% CI]"])
        for (k, sc) in scores.enumerated() {
            let cell = k == 0 ? "-" : "\(fixed(sc.diff.difference, 4)) [\(fixed(sc.diff.low, 4)), \(fixed(sc.diff.high, 4))]"
            t.add([sc.label, fixed(sc.total, 2), fixed(sc.mean, 4), cell])
        }
        return out + t.render()
    }

    func window(_ t: TrainingRecord) -> String {
        switch (t.start, t.end) {
        case (nil, nil): return "(whole trace)"
        case let (s, e): return "(\(s.map { fixed($0, 0) } ?? "0")–\(e.map { fixed($0, 0) } ?? "end") s)"
        }
    }
}

/// `rl pareto`: one policy per reward weighting, each scored on every reward component on a
/// held-back part of the trace, with the non-dominated ones marked.
public struct RLParetoCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pareto", abstract: "Train a policy per reward weighting; report each one's reward components on a held-back part and the Pareto front.",
        discussion: """
        Example: smartserve rl pareto --weights "ttft=1,goodput=1;ttft=1,goodput=1,frag=20;latency=0.05,goodput=1" \\
                     --dataset TRACE --end 2400 --eval-start 2400 --steps 50000 --out-dir pareto
        """)
    @OptionGroup var sim: SimulationArguments
    @OptionGroup var load: LoadArguments
    @OptionGroup var env: EnvironmentArguments
    @Option(help: "Reward weightings separated by ';' (each as --reward).") var weights: String
    @Option(help: "Algorithm: ppo, a2c, dqn or sac.") var algo: String = "ppo"
    @Option(parsing: .unconditional, help: "Training steps per weighting.") var steps: Int = 50_000
    @Option(parsing: .unconditional, help: "Parallel environments.") var envs: Int = 2
    @Option(name: .customLong("eval-start"), parsing: .unconditional, help: "Held-back part: arrivals from this many seconds (default: the training window's end).")
    var evalStart: Double?
    @Option(name: .customLong("eval-end"), parsing: .unconditional, help: "Held-back part: arrivals before this many seconds.") var evalEnd: Double?
    @Option(name: .customLong("eval-rate-scale"), parsing: .unconditional, help: "Rate scale of the held-back part (default: the training one's).")
    var evalRateScale: Double?
    @Option(help: "Schedulers scored beside the policies.") var baselines: String = "vllm,sarathi"
    @Option(name: .customLong("out-dir"), help: "Folder for the policy files (policy-1.json, …).") var outDir: String = "pareto"
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "No progress output.") var quiet = false
    public init() {}

    public func run() throws { Terminal.out(try output()) }

    public func output() throws -> String {
        let algorithm = try Algorithm(named: algo)
        let sets = try weights.split(separator: ";").map { try RewardWeights(parsing: String($0)) }
        guard (1...32).contains(sets.count) else { throw UsageError("--weights needs 1...32 weightings separated by ';'") }
        guard load.end != nil || evalStart != nil else { throw UsageError("rl pareto needs a training window (--end) or --eval-start: the policies are scored on a held-back part") }
        let (trace, label) = try loadWorkload(sim.dataset, load)
        var held = load
        held.start = evalStart ?? load.end
        held.end = evalEnd
        if let k = evalRateScale { held.rateScale = k }
        let (test, testLabel) = try loadWorkload(sim.dataset, held)
        try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
        var rows: [(label: String, weights: String, vector: RewardVector)] = []
        func score(_ spec: String) throws -> RewardVector {
            var s = sim
            s.scheduler = spec
            return RewardVector.perRequest(try simulate(test, s)).reduce(RewardVector(), +)
        }
        for spec in SchedulerChoice.splitList(baselines) { rows.append((spec, "-", try score(spec))) }
        for (k, w) in sets.enumerated() {
            var e = env
            e.reward = w.description
            let file = try trainPolicy(algorithm: algorithm, trace: trace, label: label, sim: sim, load: load, env: e, steps: steps, envs: envs,
                                       learningRate: 3e-4, entropy: 0.01, quiet: quiet)
            let path = (outDir as NSString).appendingPathComponent("policy-\(k + 1).json")
            try AtomicFile.write(file.encoded(), to: path)
            rows.append(("rl:policy=\(path)", w.description, try score("rl:policy=\(path)")))
        }
        let front = Set(RewardVector.paretoFront(rows.map(\.vector)))
        if json {
            return JSON.object([("workload", .string(testLabel)), ("requests", .integer(test.count)),
                                ("results", .array(rows.enumerated().map { k, r in
                                    .object([("scheduler", .string(r.label)), ("weights", .string(r.weights)), ("pareto", .bool(front.contains(k))),
                                             ("totals", .object(zip(RewardVector.names, r.vector.values).map { ($0, JSON.number($1)) }))])
                                }))]).render()
        }
        var t = TextTable(["scheduler", "trained for", "TTFT viol.", "TPOT viol.", "goodput", "frag (cache-s)", "preempt", "latency (req-s)", "Pareto"])
        for (k, r) in rows.enumerated() {
            let v = r.vector
            t.add([r.label, r.weights, fixed(v.ttftViolations, 0), fixed(v.tpotViolations, 0), fixed(v.goodput, 0), fixed(v.fragmentation, 2),
                   fixed(v.preemptions, 0), fixed(v.latency, 1), front.contains(k) ? "yes" : ""])
        }
        return "reward components on \(testLabel) (\(test.count) requests; counts and sums over the requests):\n" + t.render()
    }
}
