import Foundation
import Learning
import Workload

/// A ring buffer of transitions with fixed capacity (memory never grows past it).
struct ReplayBuffer {
    let capacity: Int, obsSize: Int, actionSize: Int
    var obs: [Double], next: [Double], actions: [Double], rewards: [Double], dones: [Bool]
    var count = 0, head = 0

    init(capacity: Int, obsSize: Int, actionSize: Int) {
        self.capacity = capacity
        self.obsSize = obsSize
        self.actionSize = actionSize
        obs = Array(repeating: 0, count: capacity * obsSize)
        next = obs
        actions = Array(repeating: 0, count: capacity * actionSize)
        rewards = Array(repeating: 0, count: capacity)
        dones = Array(repeating: false, count: capacity)
    }

    mutating func add(_ o: [Double], _ a: [Double], _ r: Double, _ o2: [Double], _ d: Bool) {
        for j in 0..<obsSize { obs[head * obsSize + j] = o[j]; next[head * obsSize + j] = o2[j] }
        for j in 0..<actionSize { actions[head * actionSize + j] = a[j] }
        rewards[head] = r
        dones[head] = d
        head = (head + 1) % capacity
        count = min(capacity, count + 1)
    }

    func sample(_ n: Int, _ rng: inout SeededRandom) -> [Int] { (0..<n).map { _ in rng.integer(0, count - 1) } }

    func rows(_ ids: [Int], _ from: [Double], _ width: Int) -> [Double] {
        var out = [Double](repeating: 0, count: ids.count * width)
        for (r, i) in ids.enumerated() { for j in 0..<width { out[r * width + j] = from[i * width + j] } }
        return out
    }
}

/// Double DQN over the discrete action table: ε-greedy exploration decaying linearly over
/// `explorationFraction` of training, a replay buffer, a target network synchronised every
/// `targetUpdate` steps, targets r + γ Q_target(s', argmax_a Q(s', a)), Huber loss.
public final class DQNAgent: Agent {
    public var name: String { "dqn" }
    let settings: AgentSettings
    let q: MLP, target: MLP
    var adam: Adam
    var normaliser: RunningMoments
    var rng: SeededRandom
    let actions: Int

    public init(observationSize: Int, actions: Int, settings: AgentSettings = AgentSettings(), seed: UInt64) {
        self.settings = settings
        self.actions = actions
        rng = SeededRandom(seed: seed ^ 0xD0_0D)
        q = MLP(sizes: [observationSize] + settings.hidden + [actions], activation: .relu, rng: &rng)
        target = MLP(sizes: q.sizes, activation: .relu, rng: &rng)
        target.copy(from: q)
        adam = Adam(learningRate: max(settings.learningRate, 1e-4))
        adam.clip = 10
        normaliser = RunningMoments(size: observationSize)
    }

    public func policy() -> Policy { Policy(space: .discrete, head: .argmax, network: q, normaliser: normaliser) }

    public func train(_ env: VectorEnv, steps: Int, progress: (TrainingProgress) -> Void) throws {
        let n = env.count, obsSize = q.inputSize
        var buffer = ReplayBuffer(capacity: max(1_000, settings.bufferSize), obsSize: obsSize, actionSize: 1)
        var scaler = ReturnScaler(envs: n, gamma: settings.gamma)
        var log = EpisodeLog()
        var done = 0, sinceTarget = 0, sinceReport = 0
        var lastLoss = 0.0
        // Normalisation is frozen after the warm-up so that stored observations stay comparable.
        while done < steps {
            let explore = max(1, Int(Double(steps) * settings.explorationFraction))
            let epsilon = settings.epsilonStart + (settings.epsilonEnd - settings.epsilonStart) * min(1, Double(done) / Double(explore))
            var current: [[Double]] = []
            var chosen: [Int] = []
            for k in 0..<n {
                if done < settings.learningStarts { normaliser.update(env.observations[k]) }
                let x = normaliser.normalise(env.observations[k])
                current.append(x)
                chosen.append(rng.uniform() < epsilon ? rng.integer(0, actions - 1) : Categorical.argmax(q(x)))
            }
            let (r, d) = try env.step(chosen.map { env.envs[0].actionSpace.decode(discrete: $0) })
            let scaled = scaler.scale(r, dones: d)
            for k in 0..<n {
                buffer.add(current[k], [Double(chosen[k])], scaled[k], normaliser.normalise(env.observations[k]), d[k])
            }
            done += n
            sinceTarget += n
            sinceReport += n
            if done >= settings.learningStarts && buffer.count >= settings.batch && (done / n) % max(1, settings.trainEvery / n) == 0 {
                lastLoss = learn(&buffer)
            }
            if sinceTarget >= settings.targetUpdate {
                target.copy(from: q)
                sinceTarget = 0
            }
            if sinceReport >= 2_000 || done >= steps {
                sinceReport = 0
                let (ret, eps) = log.drain(env)
                progress(TrainingProgress(steps: done, totalSteps: steps, episodeReturn: ret, episodes: eps,
                                          losses: [("q", lastLoss), ("epsilon", epsilon)]))
            }
        }
    }

    func learn(_ buffer: inout ReplayBuffer) -> Double {
        let ids = buffer.sample(settings.batch, &rng)
        let b = ids.count, obsSize = q.inputSize
        let x = buffer.rows(ids, buffer.obs, obsSize), x2 = buffer.rows(ids, buffer.next, obsSize)
        let online2 = q.forward(x2, count: b).output, target2 = target.forward(x2, count: b).output
        let trace = q.forward(x, count: b)
        var grad = [Double](repeating: 0, count: b * actions)
        var loss = 0.0
        for (row, i) in ids.enumerated() {
            let a = Int(buffer.actions[i])
            let best = Categorical.argmax(Array(online2[(row * actions)..<((row + 1) * actions)]))
            let y = buffer.rewards[i] + (buffer.dones[i] ? 0 : settings.gamma * target2[row * actions + best])
            let e = trace.output[row * actions + a] - y
            loss += abs(e) <= 1 ? 0.5 * e * e : abs(e) - 0.5
            grad[row * actions + a] = max(-1, min(1, e)) / Double(b)
        }
        q.backward(trace, outputGradient: grad)
        adam.update(q.parameters)
        return loss / Double(b)
    }
}
