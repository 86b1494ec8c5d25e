import Foundation
import ServeAPI
import ServeSim
import Workload

/// Everything an environment needs to build an episode: the workload, the cluster, and how the
/// agent acts and is rewarded.
public struct EnvSetup {
    public var trace: Trace
    public var config: ClusterConfig
    public var latency: LatencyModel?
    /// Predicted output per request of `trace` (what the length predictor said), for the `cost`
    /// and `score` rules and the observation.
    public var predictions: [Int32]?
    public var requestClasses: (labels: [String], classes: [UInt8])?
    public var makeRouter: () throws -> (any RequestRouter)?
    public var actionSpace: ActionSpace
    /// Seconds of simulated time between decisions (0: every engine step).
    public var interval: Double
    /// Forecast horizon of the observation, s.
    public var horizon: Double
    public var reward: RewardWeights
    /// Requests per episode: a window of consecutive requests at a seeded random start (0: the
    /// whole trace every episode).
    public var episodeRequests: Int
    /// Decisions after which an episode is truncated (0: never).
    public var maxDecisions: Int

    public init(trace: Trace, config: ClusterConfig, latency: LatencyModel? = nil, predictions: [Int32]? = nil,
                requestClasses: (labels: [String], classes: [UInt8])? = nil, makeRouter: @escaping () throws -> (any RequestRouter)? = { nil },
                actionSpace: ActionSpace = .discrete, interval: Double = 0, horizon: Double = 10,
                reward: RewardWeights = .standard, episodeRequests: Int = 0, maxDecisions: Int = 0) {
        self.trace = trace
        self.config = config
        self.latency = latency
        self.predictions = predictions
        self.requestClasses = requestClasses
        self.makeRouter = makeRouter
        self.actionSpace = actionSpace
        self.interval = interval
        self.horizon = horizon
        self.reward = reward
        self.episodeRequests = episodeRequests
        self.maxDecisions = maxDecisions
    }
}

/// One transition's outcome, Gymnasium's `step` return.
public struct StepOutcome {
    public var observation: [Double]
    public var reward: Double
    public var terminated: Bool
    public var truncated: Bool
    public var info: StepInfo
}

public struct StepInfo: Sendable, Equatable {
    /// The decision's instance and simulated time (s).
    public var instance = 0
    public var time = 0.0
    public var rewardVector = RewardVector()
    public var tallies = RunTallies()
    /// Requests of the episode and where its window starts in the trace.
    public var requests = 0
    public var windowStart = 0
}

/// The serving engine as a Gymnasium-style environment: `reset(seed:)` starts an episode on a
/// window of the workload, `step(action)` applies the agent's action to the paused instance's
/// next step(s) and runs the engine to the next decision point. Decision points are every engine
/// step or every `interval` s of simulated time, per instance (one policy acts for every instance).
/// The same seed gives the same episode and, with the same actions, the same trajectory.
public final class ServeEnv {
    public private(set) var setup: EnvSetup
    public var observationSize: Int { ObservationTracker.size }
    public var actionSpace: ActionSpace { setup.actionSpace }

    private var run: SimulationRun?
    private var schedulers: [ControlledScheduler] = []
    private var paused = 0
    private var lastTallies = RunTallies()
    private var decisions = 0
    private var episode = StepInfo()
    public private(set) var done = true

    public init(_ setup: EnvSetup) throws {
        guard !setup.trace.isEmpty else { throw RLError("the training workload has no requests") }
        guard setup.interval.isFinite, (0...86_400).contains(setup.interval) else { throw RLError("--interval must be in 0...86400 s, got \(setup.interval)") }
        guard setup.horizon.isFinite, (0.001...86_400).contains(setup.horizon) else { throw RLError("--horizon must be in 0.001...86400 s, got \(setup.horizon)") }
        if let p = setup.predictions, p.count != setup.trace.count { throw RLError("length predictions cover \(p.count) of \(setup.trace.count) requests") }
        self.setup = setup
        try setup.config.validate()
        try setup.config.check(setup.trace)
    }

    /// Starts an episode on another workload (a trace or a generator's output) with the same
    /// cluster, action space and reward; `predictions` are its length predictions (nil: the true
    /// lengths, the oracle), `classes` its request classes. The new workload stays for later resets.
    public func reset(seed: UInt64, workload: Trace, predictions: [Int32]? = nil,
                      classes: (labels: [String], classes: [UInt8])? = nil) throws -> (observation: [Double], info: StepInfo) {
        guard !workload.isEmpty else { throw RLError("the workload has no requests") }
        if let p = predictions, p.count != workload.count { throw RLError("length predictions cover \(p.count) of \(workload.count) requests") }
        if let c = classes, c.classes.count != workload.count { throw RLError("request classes cover \(c.classes.count) of \(workload.count) requests") }
        try setup.config.check(workload)
        setup.trace = workload
        setup.predictions = predictions
        setup.requestClasses = classes
        return try reset(seed: seed)
    }

    /// Starts an episode; returns its first observation.
    public func reset(seed: UInt64) throws -> (observation: [Double], info: StepInfo) {
        var rng = SeededRandom(seed: seed)
        let n = setup.trace.count
        let len = setup.episodeRequests <= 0 ? n : min(n, setup.episodeRequests)
        let start = len == n ? 0 : rng.integer(0, n - len)
        let window = Array(start..<(start + len))
        var trace = setup.trace.selecting(window)
        let origin = trace.arrivals[0]
        for i in trace.arrivals.indices { trace.arrivals[i] -= origin }
        var config = setup.config
        config.seed = seed
        var made: [ControlledScheduler] = []
        let (interval, horizon) = (setup.interval, setup.horizon)
        let sim = try Simulator(trace: trace, config: config, latency: setup.latency,
                                makeScheduler: {
                                    let s = ControlledScheduler(name: "rl-env", interval: interval, horizon: horizon)
                                    made.append(s)
                                    return s
                                },
                                router: try setup.makeRouter(),
                                predictedOutput: setup.predictions.map { p in window.map { p[$0] } },
                                requestClasses: setup.requestClasses.map { rc in (rc.labels, window.map { rc.classes[$0] }) })
        schedulers = made
        let list = made
        run = sim.start(Simulator.Hooks(decision: { k, now in list[k].due(now) }))
        decisions = 0
        done = false
        lastTallies = RunTallies()
        episode = StepInfo(requests: len, windowStart: start)
        let (obs, _) = try advance()
        return (obs, info())
    }

    /// Applies a discrete action (an index into the action table).
    public func step(discrete a: Int) throws -> StepOutcome { try step(setup.actionSpace.decode(discrete: a)) }

    /// Applies a continuous action (values in [−1, 1]).
    public func step(continuous x: [Double]) throws -> StepOutcome { try step(setup.actionSpace.decode(continuous: x)) }

    public func step(_ action: KnobAction) throws -> StepOutcome {
        guard let run, !done else { throw RLError("step called on a finished episode: reset first") }
        schedulers[paused].action = action
        decisions += 1
        let (obs, finished) = try advance()
        let t = run.tallies
        let vector = RewardVector(from: lastTallies, to: t)
        lastTallies = t
        let truncated = !finished && setup.maxDecisions > 0 && decisions >= setup.maxDecisions
        if finished || truncated { done = true }
        var i = info()
        i.rewardVector = vector
        return StepOutcome(observation: obs, reward: setup.reward.scalarise(vector), terminated: finished, truncated: truncated, info: i)
    }

    /// The finished episode's results (after `terminated`).
    public func result() -> RunResult? { done ? run?.result() : nil }

    private func info() -> StepInfo {
        var i = episode
        i.instance = paused
        i.time = Double(run?.time ?? 0) * 1e-9
        i.tallies = run?.tallies ?? RunTallies()
        return i
    }

    /// Runs to the next decision; returns its observation (zeros at the end) and whether the run finished.
    private func advance() throws -> ([Double], Bool) {
        guard let run else { throw RLError("reset first") }
        switch try run.advance() {
        case .finished:
            return ([Double](repeating: 0, count: ObservationTracker.size), true)
        case .decision(let k, _):
            paused = k
            let s = schedulers[k]
            return (run.withView(k) { s.observe($0) }, false)
        }
    }
}

/// Several environments stepped together, each on its own core when there are enough: one per
/// workload or seed. Each resets itself when its episode ends (seeds `seed`, `seed + count`, …),
/// so the batch is always full. Results are gathered in order, so runs are deterministic.
public final class VectorEnv {
    public let envs: [ServeEnv]
    public private(set) var observations: [[Double]]
    private var seeds: [UInt64]
    public private(set) var finishedEpisodes: [(reward: Double, decisions: Int)] = []
    private var episodeReward: [Double]
    private var episodeLength: [Int]
    /// Environments stepped at once (the results do not depend on it).
    public let jobs: Int

    public init(_ envs: [ServeEnv], seed: UInt64, jobs: Int = Parallel.cores) throws {
        precondition(!envs.isEmpty)
        self.envs = envs
        self.jobs = jobs
        seeds = (0..<envs.count).map { seed &+ UInt64($0) }
        observations = []
        for (k, e) in envs.enumerated() { observations.append(try e.reset(seed: seeds[k]).observation) }
        episodeReward = Array(repeating: 0, count: envs.count)
        episodeLength = Array(repeating: 0, count: envs.count)
    }

    public var count: Int { envs.count }

    /// Steps every environment with its action; returns rewards and whether each episode ended
    /// (its observation is then the next episode's first).
    public func step(_ actions: [KnobAction]) throws -> (rewards: [Double], dones: [Bool]) {
        let n = envs.count
        // Each job touches only its own environment.
        let outcomes = try Parallel.map(n, jobs: jobs) { k in try envs[k].step(actions[k]) }
        var rewards = [Double](repeating: 0, count: n), dones = [Bool](repeating: false, count: n)
        for k in 0..<n {
            let o = outcomes[k]
            rewards[k] = o.reward
            episodeReward[k] += o.reward
            episodeLength[k] += 1
            if o.terminated || o.truncated {
                dones[k] = true
                finishedEpisodes.append((episodeReward[k], episodeLength[k]))
                episodeReward[k] = 0
                episodeLength[k] = 0
                seeds[k] &+= UInt64(n)
                observations[k] = try envs[k].reset(seed: seeds[k]).observation
            } else {
                observations[k] = o.observation
            }
        }
        return (rewards, dones)
    }
}
