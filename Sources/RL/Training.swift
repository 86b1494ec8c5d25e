import Foundation
import Workload

/// The learning algorithms `rl train --algo` offers, with the action space each acts in.
public enum Algorithm: String, CaseIterable, Sendable {
    case ppo, a2c, dqn, sac

    public var space: ActionSpace { self == .sac ? .continuous : .discrete }

    public init(named name: String) throws {
        guard let a = Algorithm(rawValue: name.lowercased()) else {
            throw RLError("--algo: unknown algorithm '\(name)' (one of \(Algorithm.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self = a
    }

    public func makeAgent(observationSize: Int, settings: AgentSettings, seed: UInt64) -> Agent {
        switch self {
        case .ppo: return ActorCritic(.ppo, observationSize: observationSize, actions: space.size, settings: settings, seed: seed)
        case .a2c: return ActorCritic(.a2c, observationSize: observationSize, actions: space.size, settings: settings, seed: seed)
        case .dqn: return DQNAgent(observationSize: observationSize, actions: space.size, settings: settings, seed: seed)
        case .sac: return SACAgent(observationSize: observationSize, actionSize: space.size, settings: settings, seed: seed)
        }
    }
}

/// One training run: `environments` copies of the environment (episodes from seeds seed, seed + 1, …)
/// stepped in parallel, the agent trained for `steps`, and the policy file that results.
public struct Trainer {
    public var algorithm: Algorithm
    public var setup: EnvSetup
    public var steps: Int
    public var environments: Int
    public var seed: UInt64
    public var settings: AgentSettings
    /// Environments stepped at once (default: the core count; the policy does not depend on it).
    public var jobs = Parallel.cores

    public init(algorithm: Algorithm, setup: EnvSetup, steps: Int, environments: Int, seed: UInt64, settings: AgentSettings = AgentSettings()) {
        self.algorithm = algorithm
        self.setup = setup
        self.steps = steps
        self.environments = environments
        self.seed = seed
        self.settings = settings
    }

    /// Trains; `checkpoint` receives the policy so far every `checkpointEvery` steps (0: never).
    /// Checks the settings (and that the environment can be built) before any work starts.
    public func validate() throws {
        try checkCounts()
        _ = try ServeEnv(setup)
    }

    func checkCounts() throws {
        guard (1...100_000_000).contains(steps) else { throw RLError("--steps must be in 1...100000000, got \(steps)") }
        guard (1...64).contains(environments) else { throw RLError("--envs must be in 1...64, got \(environments)") }
    }

    public func train(record: TrainingRecord, checkpointEvery: Int = 0, progress: (TrainingProgress) -> Void = { _ in },
                      checkpoint: (PolicyFile) throws -> Void = { _ in }) throws -> PolicyFile {
        // The environments built next check the setup themselves.
        try checkCounts()
        var s = setup
        s.actionSpace = algorithm.space
        let envs = try (0..<environments).map { _ in try ServeEnv(s) }
        let vector = try VectorEnv(envs, seed: seed, jobs: jobs)
        let agent = algorithm.makeAgent(observationSize: ObservationTracker.size, settings: settings, seed: seed)
        var r = record
        r.algorithm = algorithm.rawValue
        r.steps = steps
        r.seed = seed
        r.environments = environments
        r.episodeRequests = s.episodeRequests
        var nextCheckpoint = checkpointEvery
        var failure: Error?
        try agent.train(vector, steps: steps) { p in
            progress(p)
            if checkpointEvery > 0, p.steps >= nextCheckpoint, failure == nil {
                nextCheckpoint += checkpointEvery
                var partial = r
                partial.steps = p.steps
                do { try checkpoint(file(agent, partial)) } catch { failure = error }
            }
        }
        if let failure { throw failure }
        return file(agent, r)
    }

    func file(_ agent: Agent, _ record: TrainingRecord) -> PolicyFile {
        PolicyFile(policy: agent.policy(), interval: setup.interval, horizon: setup.horizon, reward: setup.reward, training: record)
    }
}
