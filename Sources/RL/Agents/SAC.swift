import Foundation
import Learning
import Workload

/// Soft actor-critic for the continuous knobs: a squashed Gaussian actor (tanh of mean + σ·ε,
/// reparameterised), twin Q critics with Polyak-averaged targets, and the entropy temperature α
/// tuned towards a target entropy of −(action dimension). Gaussian noise of `actionNoise` is
/// added to the sampled actions before learning starts.
public final class SACAgent: Agent {
    public var name: String { "sac" }
    let settings: AgentSettings
    let dim: Int
    let actor: MLP
    let q1: MLP, q2: MLP, t1: MLP, t2: MLP
    var actorAdam: Adam, q1Adam: Adam, q2Adam: Adam
    var logAlpha = log(0.1)
    var alphaMoment = (m: 0.0, v: 0.0, step: 0)
    var normaliser: RunningMoments
    var rng: SeededRandom
    static let logStdRange = -5.0...2.0

    public init(observationSize: Int, actionSize: Int, settings: AgentSettings = AgentSettings(), seed: UInt64) {
        self.settings = settings
        dim = actionSize
        rng = SeededRandom(seed: seed ^ 0x5AC)
        actor = MLP(sizes: [observationSize] + settings.hidden + [2 * actionSize], activation: .relu, rng: &rng, outputScale: 0.1)
        let qs = [observationSize + actionSize] + settings.hidden + [1]
        q1 = MLP(sizes: qs, activation: .relu, rng: &rng)
        q2 = MLP(sizes: qs, activation: .relu, rng: &rng)
        t1 = MLP(sizes: qs, activation: .relu, rng: &rng)
        t2 = MLP(sizes: qs, activation: .relu, rng: &rng)
        t1.copy(from: q1)
        t2.copy(from: q2)
        actorAdam = Adam(learningRate: settings.learningRate)
        q1Adam = Adam(learningRate: settings.learningRate)
        q2Adam = Adam(learningRate: settings.learningRate)
        normaliser = RunningMoments(size: observationSize)
    }

    public func policy() -> Policy { Policy(space: .continuous, head: .tanhMean, network: actor, normaliser: normaliser) }

    /// Samples squashed actions for `count` rows of actor output; returns actions, log π, and the
    /// pieces the actor's gradient needs (ε, σ, whether log σ was clamped).
    func sample(_ out: [Double], count: Int) -> (a: [Double], logp: [Double], eps: [Double], sd: [Double], clamped: [Bool]) {
        var a = [Double](repeating: 0, count: count * dim), eps = a, sd = a
        var clamped = [Bool](repeating: false, count: count * dim)
        var logp = [Double](repeating: 0, count: count)
        for r in 0..<count {
            for j in 0..<dim {
                let mean = out[r * 2 * dim + j], raw = out[r * 2 * dim + dim + j]
                let ls = min(Self.logStdRange.upperBound, max(Self.logStdRange.lowerBound, raw))
                let e = rng.normal(), s = exp(ls)
                let act = Foundation.tanh(mean + s * e)
                a[r * dim + j] = act
                eps[r * dim + j] = e
                sd[r * dim + j] = s
                clamped[r * dim + j] = raw != ls
                logp[r] += -0.5 * e * e - ls - 0.5 * log(2 * Double.pi) - log(1 - act * act + 1e-6)
            }
        }
        return (a, logp, eps, sd, clamped)
    }

    func joined(_ x: [Double], _ a: [Double], count: Int) -> [Double] {
        let o = actor.inputSize
        var out = [Double](repeating: 0, count: count * (o + dim))
        for r in 0..<count {
            for j in 0..<o { out[r * (o + dim) + j] = x[r * o + j] }
            for j in 0..<dim { out[r * (o + dim) + o + j] = a[r * dim + j] }
        }
        return out
    }

    public func train(_ env: VectorEnv, steps: Int, progress: (TrainingProgress) -> Void) throws {
        let n = env.count
        var buffer = ReplayBuffer(capacity: max(1_000, settings.bufferSize), obsSize: actor.inputSize, actionSize: dim)
        var scaler = ReturnScaler(envs: n, gamma: settings.gamma)
        var log = EpisodeLog()
        var done = 0, sinceReport = 0
        var losses: [(String, Double)] = []
        while done < steps {
            var current: [[Double]] = [], chosen: [[Double]] = []
            for k in 0..<n {
                if done < settings.learningStarts { normaliser.update(env.observations[k]) }
                let x = normaliser.normalise(env.observations[k])
                var a = sample(actor(x), count: 1).a
                if done < settings.learningStarts {
                    for j in a.indices { a[j] = max(-1, min(1, a[j] + settings.actionNoise * rng.normal())) }
                }
                current.append(x)
                chosen.append(a)
            }
            let (r, d) = try env.step(chosen.map { env.envs[0].actionSpace.decode(continuous: $0) })
            let scaled = scaler.scale(r, dones: d)
            for k in 0..<n { buffer.add(current[k], chosen[k], scaled[k], normaliser.normalise(env.observations[k]), d[k]) }
            done += n
            sinceReport += n
            if done >= settings.learningStarts && buffer.count >= settings.batch && (done / n) % max(1, settings.trainEvery / n) == 0 {
                losses = learn(&buffer)
            }
            if sinceReport >= 2_000 || done >= steps {
                sinceReport = 0
                let (ret, eps) = log.drain(env)
                progress(TrainingProgress(steps: done, totalSteps: steps, episodeReturn: ret, episodes: eps, losses: losses))
            }
        }
    }

    func learn(_ buffer: inout ReplayBuffer) -> [(String, Double)] {
        let ids = buffer.sample(settings.batch, &rng)
        let b = ids.count, o = actor.inputSize
        let x = buffer.rows(ids, buffer.obs, o), x2 = buffer.rows(ids, buffer.next, o), a = buffer.rows(ids, buffer.actions, dim)
        let alpha = exp(logAlpha)
        // Critic targets from the current policy at s'.
        let next = sample(actor.forward(x2, count: b).output, count: b)
        let n1 = t1.forward(joined(x2, next.a, count: b), count: b).output, n2 = t2.forward(joined(x2, next.a, count: b), count: b).output
        var y = [Double](repeating: 0, count: b)
        for (r, i) in ids.enumerated() {
            y[r] = buffer.rewards[i] + (buffer.dones[i] ? 0 : settings.gamma * (min(n1[r], n2[r]) - alpha * next.logp[r]))
        }
        var qLoss = 0.0
        for (net, opt) in [(q1, 0), (q2, 1)] {
            let tr = net.forward(joined(x, a, count: b), count: b)
            var g = [Double](repeating: 0, count: b)
            for r in 0..<b {
                let e = tr.output[r] - y[r]
                qLoss += 0.5 * e * e / Double(2 * b)
                g[r] = e / Double(b)
            }
            net.backward(tr, outputGradient: g)
            if opt == 0 { q1Adam.update(q1.parameters) } else { q2Adam.update(q2.parameters) }
        }
        // Actor: minimise α log π(a|s) − min Q(s, a) through the reparameterised sample.
        let at = actor.forward(x, count: b)
        let s = sample(at.output, count: b)
        let input = joined(x, s.a, count: b)
        let c1 = q1.forward(input, count: b), c2 = q2.forward(input, count: b)
        var pick1 = [Double](repeating: 0, count: b), pick2 = pick1
        for r in 0..<b { if c1.output[r] <= c2.output[r] { pick1[r] = 1 } else { pick2[r] = 1 } }
        // dQ/d(input) of the smaller critic; the critics' own gradients are discarded.
        let d1 = q1.backward(c1, outputGradient: pick1), d2 = q2.backward(c2, outputGradient: pick2)
        q1.zeroGradients()
        q2.zeroGradients()
        var g = [Double](repeating: 0, count: b * 2 * dim)
        var actorLoss = 0.0, entropy = 0.0
        for r in 0..<b {
            actorLoss += (alpha * s.logp[r] - min(c1.output[r], c2.output[r])) / Double(b)
            entropy -= s.logp[r] / Double(b)
            for j in 0..<dim {
                let k = r * dim + j
                let act = s.a[k], one = 1 - act * act
                let dQda = d1[r * (o + dim) + o + j] + d2[r * (o + dim) + o + j]
                let dSquash = 2 * act * one / (one + 1e-6)
                let dMean = alpha * dSquash - dQda * one
                let dLogStd = s.clamped[k] ? 0 : alpha * (-1 + dSquash * s.sd[k] * s.eps[k]) - dQda * one * s.sd[k] * s.eps[k]
                g[r * 2 * dim + j] = dMean / Double(b)
                g[r * 2 * dim + dim + j] = dLogStd / Double(b)
            }
        }
        actor.backward(at, outputGradient: g)
        actorAdam.update(actor.parameters)
        // Temperature: d/d log α of −log α (log π + target) = −(log π + target).
        let targetEntropy = -Double(dim)
        let gradAlpha = -(-entropy + targetEntropy)
        alphaMoment.step += 1
        alphaMoment.m = 0.9 * alphaMoment.m + 0.1 * gradAlpha
        alphaMoment.v = 0.999 * alphaMoment.v + 0.001 * gradAlpha * gradAlpha
        let mh = alphaMoment.m / (1 - pow(0.9, Double(alphaMoment.step))), vh = alphaMoment.v / (1 - pow(0.999, Double(alphaMoment.step)))
        logAlpha -= settings.learningRate * mh / (vh.squareRoot() + 1e-8)
        t1.copy(from: q1, blend: settings.tau)
        t2.copy(from: q2, blend: settings.tau)
        return [("q", qLoss), ("actor", actorLoss), ("alpha", exp(logAlpha)), ("entropy", entropy)]
    }
}
