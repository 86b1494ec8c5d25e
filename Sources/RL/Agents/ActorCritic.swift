import Foundation
import Learning
import Workload

/// Progress of a training run, reported after every update.
public struct TrainingProgress: Sendable {
    public var steps: Int
    public var totalSteps: Int
    /// Mean return of the episodes finished since the last report (nil when none finished).
    public var episodeReturn: Double?
    public var episodes: Int
    /// Named losses of the last update (policy, value, entropy, q, alpha, …).
    public var losses: [(String, Double)]
}

/// Settings shared by the agents; each reads what applies to it (the defaults are the reference's).
public struct AgentSettings: Sendable {
    public var hidden = [64, 64]
    public var learningRate = 3e-4
    public var gamma = 0.99
    /// PPO / A2C
    public var lambda = 0.95
    public var clip = 0.2
    public var epochs = 4
    public var rolloutSteps = 512
    public var minibatch = 256
    public var entropy = 0.01
    public var valueCoefficient = 0.5
    public var maxGradNorm = 0.5
    /// DQN
    public var epsilonStart = 1.0
    public var epsilonEnd = 0.05
    public var explorationFraction = 0.3
    public var bufferSize = 50_000
    public var batch = 64
    public var targetUpdate = 1_000
    public var trainEvery = 4
    public var learningStarts = 1_000
    /// SAC
    public var tau = 0.005
    /// Gaussian exploration noise added to SAC's actions while learning starts (std, in [−1, 1] units).
    public var actionNoise = 0.1
    public init() {}
}

/// A learning agent over a `VectorEnv`.
public protocol Agent: AnyObject {
    var name: String { get }
    /// Trains for `steps` environment steps (summed over environments).
    func train(_ env: VectorEnv, steps: Int, progress: (TrainingProgress) -> Void) throws
    /// The deployable policy (greedy / mean action).
    func policy() -> Policy
}

/// Scales rewards by the running standard deviation of the discounted return (as PPO
/// implementations do), so the same learning rate works whatever the reward weights.
struct ReturnScaler {
    var moments = RunningMoments(size: 1)
    var returns: [Double]
    let gamma: Double

    init(envs: Int, gamma: Double) {
        returns = Array(repeating: 0, count: envs)
        self.gamma = gamma
    }

    mutating func scale(_ rewards: [Double], dones: [Bool]) -> [Double] {
        var out = rewards
        for k in rewards.indices {
            returns[k] = returns[k] * gamma + rewards[k]
            moments.update([returns[k]])
            if dones[k] { returns[k] = 0 }
        }
        let sd = max(moments.variance[0], 1e-8).squareRoot()
        for k in out.indices { out[k] = max(-10, min(10, rewards[k] / sd)) }
        return out
    }
}

/// Collects the episode returns finished since the last report.
struct EpisodeLog {
    var seen = 0
    mutating func drain(_ env: VectorEnv) -> (Double?, Int) {
        let eps = env.finishedEpisodes
        defer { seen = eps.count }
        guard eps.count > seen else { return (nil, eps.count) }
        let recent = eps[seen...]
        return (recent.reduce(0) { $0 + $1.reward } / Double(recent.count), eps.count)
    }
}

/// Policy-gradient agents with a categorical actor and a value critic over the discrete action
/// table. `ppo`: the clipped surrogate with GAE over rollouts of `rolloutSteps` per environment,
/// `epochs` passes in minibatches. `a2c`: synchronous advantage actor-critic (A3C without the
/// asynchrony), n-step returns from short rollouts over parallel environments, one gradient step
/// each. Entropy bonus for exploration; observations normalised by running moments.
public final class ActorCritic: Agent {
    public enum Variant: String, Sendable { case ppo, a2c }
    public let variant: Variant
    public var name: String { variant.rawValue }
    let settings: AgentSettings
    let actor: MLP
    let critic: MLP
    var actorAdam: Adam
    var criticAdam: Adam
    var normaliser: RunningMoments
    var rng: SeededRandom
    let actions: Int

    public init(_ variant: Variant, observationSize: Int, actions: Int, settings: AgentSettings = AgentSettings(), seed: UInt64) {
        self.variant = variant
        self.settings = settings
        self.actions = actions
        rng = SeededRandom(seed: seed ^ 0x5EED_A11C)
        actor = MLP(sizes: [observationSize] + settings.hidden + [actions], activation: .tanh, rng: &rng, outputScale: 0.01)
        critic = MLP(sizes: [observationSize] + settings.hidden + [1], activation: .tanh, rng: &rng, outputScale: 1)
        actorAdam = Adam(learningRate: settings.learningRate)
        criticAdam = Adam(learningRate: settings.learningRate)
        actorAdam.clip = settings.maxGradNorm
        criticAdam.clip = settings.maxGradNorm
        normaliser = RunningMoments(size: observationSize)
    }

    public func policy() -> Policy { Policy(space: .discrete, head: .argmax, network: actor, normaliser: normaliser) }

    public func train(_ env: VectorEnv, steps: Int, progress: (TrainingProgress) -> Void) throws {
        let n = env.count, obsSize = actor.inputSize
        let horizon = variant == .ppo ? max(8, settings.rolloutSteps) : max(2, min(settings.rolloutSteps, 5))
        var scaler = ReturnScaler(envs: n, gamma: settings.gamma)
        var log = EpisodeLog()
        var done = 0
        while done < steps {
            let t = min(horizon, max(1, (steps - done + n - 1) / n))
            var obs: [Double] = [], acts: [Int] = [], logps: [Double] = [], values: [Double] = []
            var rewards: [Double] = [], dones: [Bool] = []
            obs.reserveCapacity(t * n * obsSize)
            for _ in 0..<t {
                var stepActions: [KnobAction] = []
                for k in 0..<n {
                    normaliser.update(env.observations[k])
                    let x = normaliser.normalise(env.observations[k])
                    let p = Categorical.probabilities(actor(x)[...])
                    let a = Categorical.sample(p, &rng)
                    obs += x
                    acts.append(a)
                    logps.append(Categorical.logProbability(p, a))
                    values.append(critic(x)[0])
                    stepActions.append(env.envs[k].actionSpace.decode(discrete: a))
                }
                let (r, d) = try env.step(stepActions)
                rewards += scaler.scale(r, dones: d)
                dones += d
            }
            done += t * n
            // Bootstrap values of the states the rollout ended in.
            let last = (0..<n).map { critic(normaliser.normalise(env.observations[$0]))[0] }
            var advantages = [Double](repeating: 0, count: t * n)
            let lambda = variant == .ppo ? settings.lambda : 1
            for k in 0..<n {
                var gae = 0.0
                for s in stride(from: t - 1, through: 0, by: -1) {
                    let i = s * n + k
                    let nextValue = s == t - 1 ? last[k] : values[(s + 1) * n + k]
                    let notDone = dones[i] ? 0.0 : 1.0
                    let delta = rewards[i] + settings.gamma * nextValue * notDone - values[i]
                    gae = delta + settings.gamma * lambda * notDone * gae
                    advantages[i] = gae
                }
            }
            let returns = zip(advantages, values).map { $0 + $1 }
            let losses = update(obs: obs, actions: acts, oldLogp: logps, advantages: advantages, returns: returns)
            let (ret, eps) = log.drain(env)
            progress(TrainingProgress(steps: done, totalSteps: steps, episodeReturn: ret, episodes: eps, losses: losses))
        }
    }

    /// One PPO update (several epochs of minibatches) or one A2C gradient step.
    func update(obs: [Double], actions acts: [Int], oldLogp: [Double], advantages: [Double], returns: [Double]) -> [(String, Double)] {
        let total = acts.count, obsSize = actor.inputSize
        var adv = advantages
        if variant == .ppo, total > 1 {
            let m = adv.reduce(0, +) / Double(total)
            let sd = (adv.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(total)).squareRoot()
            for i in adv.indices { adv[i] = (adv[i] - m) / (sd + 1e-8) }
        }
        let epochs = variant == .ppo ? settings.epochs : 1
        let batch = variant == .ppo ? min(settings.minibatch, total) : total
        var index = Array(0..<total)
        var policyLoss = 0.0, valueLoss = 0.0, entropySum = 0.0, batches = 0
        for _ in 0..<epochs {
            if variant == .ppo {
                for i in stride(from: total - 1, to: 0, by: -1) { index.swapAt(i, rng.integer(0, i)) }
            }
            var start = 0
            while start < total {
                let ids = Array(index[start..<min(total, start + batch)])
                start += batch
                let b = ids.count
                var x = [Double](repeating: 0, count: b * obsSize)
                for (row, i) in ids.enumerated() {
                    for j in 0..<obsSize { x[row * obsSize + j] = obs[i * obsSize + j] }
                }
                let at = actor.forward(x, count: b)
                var gLogits = [Double](repeating: 0, count: b * actions)
                for (row, i) in ids.enumerated() {
                    let logits = at.output[(row * actions)..<((row + 1) * actions)]
                    let p = Categorical.probabilities(logits)
                    let a = acts[i]
                    let logp = Categorical.logProbability(p, a)
                    let h = Categorical.entropy(p)
                    entropySum += h
                    var coefficient: Double
                    if variant == .ppo {
                        let ratio = exp(logp - oldLogp[i])
                        let clipped = min(max(ratio, 1 - settings.clip), 1 + settings.clip)
                        policyLoss += -min(ratio * adv[i], clipped * adv[i])
                        // The unclipped term carries the gradient only where it is the minimum.
                        let active = adv[i] >= 0 ? ratio <= 1 + settings.clip : ratio >= 1 - settings.clip
                        coefficient = active ? -adv[i] * ratio : 0
                    } else {
                        policyLoss += -logp * adv[i]
                        coefficient = -adv[i]
                    }
                    let dlogp = Categorical.logProbabilityGradient(p, a)
                    let dh = Categorical.entropyGradient(p)
                    for j in 0..<actions {
                        gLogits[row * actions + j] = (coefficient * dlogp[j] - settings.entropy * dh[j]) / Double(b)
                    }
                }
                actor.backward(at, outputGradient: gLogits)
                actorAdam.update(actor.parameters)
                let vt = critic.forward(x, count: b)
                var gValue = [Double](repeating: 0, count: b)
                for (row, i) in ids.enumerated() {
                    let e = vt.output[row] - returns[i]
                    valueLoss += 0.5 * e * e
                    gValue[row] = settings.valueCoefficient * e / Double(b)
                }
                critic.backward(vt, outputGradient: gValue)
                criticAdam.update(critic.parameters)
                batches += b
            }
        }
        let d = Double(max(1, batches))
        return [("policy", policyLoss / d), ("value", valueLoss / d), ("entropy", entropySum / d)]
    }
}
