import Foundation
import Learning
import Workload

/// A trained policy as deployed: observation normalisation frozen, one network, and how its output
/// becomes an action (the most probable discrete action, or the mean of a squashed Gaussian).
public final class Policy {
    public enum Head: String, Sendable { case argmax, tanhMean = "tanh_mean" }

    public let space: ActionSpace
    public let head: Head
    public let network: MLP
    public let normaliser: RunningMoments

    public init(space: ActionSpace, head: Head, network: MLP, normaliser: RunningMoments) {
        self.space = space
        self.head = head
        self.network = network
        self.normaliser = normaliser
    }

    public func action(for observation: [Double]) -> KnobAction {
        let y = network(normaliser.normalise(observation))
        switch head {
        case .argmax: return space.decode(discrete: Categorical.argmax(y))
        case .tanhMean: return space.decode(continuous: y.prefix(space.size).map { Foundation.tanh($0) })
        }
    }
}

/// What a policy file records about its training, so a result can be traced to its inputs.
public struct TrainingRecord: Sendable, Equatable {
    public var algorithm = ""
    public var dataset = ""
    public var datasetSHA256 = ""
    /// The training window, s from the trace's start (nil: the whole trace).
    public var start: Double?
    public var end: Double?
    public var requests = 0
    public var hardware = ""
    public var model = ""
    public var predictor = ""
    public var steps = 0
    public var seed: UInt64 = 0
    public var episodeRequests = 0
    public var environments = 1
    public init() {}
}

/// A policy file: the weights, the observation normalisation, the action space, the reward it was
/// trained for and what it was trained on. JSON, written atomically by the workbench.
public struct PolicyFile {
    public static let format = "smartserve-policy"
    public static let version = 1

    public var policy: Policy
    public var interval: Double
    public var horizon: Double
    public var reward: RewardWeights
    public var training: TrainingRecord

    public init(policy: Policy, interval: Double, horizon: Double, reward: RewardWeights, training: TrainingRecord) {
        self.policy = policy
        self.interval = interval
        self.horizon = horizon
        self.reward = reward
        self.training = training
    }

    public func encoded() -> Data {
        let n = policy.network
        let t = training
        var trained: [String: Any] = [
            "algorithm": t.algorithm, "dataset": t.dataset, "dataset_sha256": t.datasetSHA256, "requests": t.requests,
            "hardware": t.hardware, "model": t.model, "predictor": t.predictor, "steps": t.steps, "seed": String(t.seed),
            "episode_requests": t.episodeRequests, "environments": t.environments,
        ]
        if let s = t.start { trained["start_s"] = s }
        if let e = t.end { trained["end_s"] = e }
        let object: [String: Any] = [
            "format": Self.format, "version": Self.version,
            "action_space": policy.space.name, "head": policy.head.rawValue,
            "interval_s": interval, "horizon_s": horizon,
            "observation": ["features": ObservationTracker.featureNames, "mean": policy.normaliser.mean,
                            "variance": policy.normaliser.variance, "count": policy.normaliser.count],
            "network": ["sizes": n.sizes, "activation": n.activation.rawValue,
                        "weights": n.weights.map(\.value), "biases": n.biases.map(\.value)],
            "reward": reward.weights,
            "trained_on": trained,
        ]
        // Sorted keys and shortest round-trip numbers: the same policy gives the same bytes.
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])) ?? Data()
    }

    /// Reads a policy file; every problem is an error naming the file and the field.
    public static func decode(_ data: Data, path: String) throws -> PolicyFile {
        func bad(_ what: String) -> RLError { RLError("\(path): \(what)") }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { throw bad("not a JSON object (a policy file from `smartserve rl train` was expected)") }
        guard root["format"] as? String == format else { throw bad("\"format\" is not \"\(format)\": not a policy file") }
        guard let v = root["version"] as? Int, v == version else { throw bad("policy file version \(root["version"] ?? "missing") is not \(version)") }
        guard let spaceName = root["action_space"] as? String, let space = ActionSpace(name: spaceName) else { throw bad("\"action_space\" must be discrete or continuous") }
        guard let headName = root["head"] as? String, let head = Policy.Head(rawValue: headName) else { throw bad("\"head\" must be argmax or tanh_mean") }
        func number(_ o: [String: Any], _ k: String, _ range: ClosedRange<Double>) throws -> Double {
            guard let x = (o[k] as? NSNumber)?.doubleValue, x.isFinite, range.contains(x) else { throw bad("\"\(k)\" must be a number in \(range.lowerBound)...\(range.upperBound)") }
            return x
        }
        func numbers(_ any: Any?, _ what: String, limit: Int = 10_000_000) throws -> [Double] {
            guard let a = any as? [Any], a.count <= limit else { throw bad("\(what) must be an array of numbers") }
            return try a.map {
                guard let x = ($0 as? NSNumber)?.doubleValue, x.isFinite else { throw bad("\(what) holds a value that is not a finite number") }
                return x
            }
        }
        let interval = try number(root, "interval_s", 0...86_400)
        let horizon = try number(root, "horizon_s", 0.001...86_400)
        guard let obs = root["observation"] as? [String: Any] else { throw bad("\"observation\" is missing") }
        let mean = try numbers(obs["mean"], "observation.mean"), variance = try numbers(obs["variance"], "observation.variance")
        let count = try number(obs, "count", 0...1e15)
        guard mean.count == ObservationTracker.size, variance.count == mean.count, variance.allSatisfy({ $0 >= 0 }) else {
            throw bad("observation statistics must have \(ObservationTracker.size) entries (this smartserve's observation) and variances ≥ 0")
        }
        guard let net = root["network"] as? [String: Any], let sizesAny = net["sizes"] as? [Any] else { throw bad("\"network.sizes\" is missing") }
        let sizes = try sizesAny.map { (x: Any) -> Int in
            guard let s = x as? Int, (1...4096).contains(s) else { throw bad("network.sizes must be integers in 1...4096") }
            return s
        }
        guard sizes.count >= 2, sizes.count <= 16, sizes.first == ObservationTracker.size else {
            throw bad("network.sizes must start with the observation size \(ObservationTracker.size) and have 2...16 layers")
        }
        let expectedOut = head == .argmax ? space.size : 2 * space.size
        guard sizes.last == expectedOut || (head == .tanhMean && sizes.last == space.size) else {
            throw bad("network output \(sizes.last!) does not match the \(space.name) action space (\(expectedOut))")
        }
        guard let actName = net["activation"] as? String, let activation = Activation(rawValue: actName) else { throw bad("network.activation must be tanh or relu") }
        guard let wAny = net["weights"] as? [Any], let bAny = net["biases"] as? [Any], wAny.count == sizes.count - 1, bAny.count == wAny.count else {
            throw bad("network.weights and network.biases must hold one array per layer (\(sizes.count - 1))")
        }
        let w = try wAny.enumerated().map { try numbers($0.element, "network.weights[\($0.offset)]") }
        let b = try bAny.enumerated().map { try numbers($0.element, "network.biases[\($0.offset)]") }
        guard let mlp = MLP(sizes: sizes, activation: activation, weights: w, biases: b) else {
            throw bad("network weights do not match network.sizes \(sizes)")
        }
        guard let rewardAny = root["reward"] as? [String: Any] else { throw bad("\"reward\" is missing") }
        var weights: [String: Double] = [:]
        for (k, v) in rewardAny {
            guard RewardVector.names.contains(k), let x = (v as? NSNumber)?.doubleValue, x.isFinite else { throw bad("reward weight '\(k)' is not one of \(RewardVector.names.joined(separator: ", ")) with a number") }
            weights[k] = x
        }
        var t = TrainingRecord()
        if let tr = root["trained_on"] as? [String: Any] {
            t.algorithm = tr["algorithm"] as? String ?? ""
            t.dataset = tr["dataset"] as? String ?? ""
            t.datasetSHA256 = tr["dataset_sha256"] as? String ?? ""
            t.start = (tr["start_s"] as? NSNumber)?.doubleValue
            t.end = (tr["end_s"] as? NSNumber)?.doubleValue
            t.requests = tr["requests"] as? Int ?? 0
            t.hardware = tr["hardware"] as? String ?? ""
            t.model = tr["model"] as? String ?? ""
            t.predictor = tr["predictor"] as? String ?? ""
            t.steps = tr["steps"] as? Int ?? 0
            t.seed = UInt64(tr["seed"] as? String ?? "") ?? 0
            t.episodeRequests = tr["episode_requests"] as? Int ?? 0
            t.environments = tr["environments"] as? Int ?? 1
        }
        let policy = Policy(space: space, head: head, network: mlp, normaliser: RunningMoments(mean: mean, variance: variance, count: count))
        return PolicyFile(policy: policy, interval: interval, horizon: horizon, reward: RewardWeights(weights: weights), training: t)
    }
}
