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

    /// The file's layout. Coded with JSONEncoder/JSONDecoder, whose numbers round-trip exactly
    /// (Foundation's JSONSerialization parser drops the last digit), so a reloaded policy acts
    /// bit-identically.
    struct Layout: Codable {
        struct Observation: Codable { var features: [String]; var mean: [Double]; var variance: [Double]; var count: Double }
        struct Network: Codable { var sizes: [Int]; var activation: String; var weights: [[Double]]; var biases: [[Double]] }
        struct Trained: Codable {
            var algorithm: String?, dataset: String?, dataset_sha256: String?, start_s: Double?, end_s: Double?
            var requests: Int?, hardware: String?, model: String?, predictor: String?, steps: Int?, seed: String?
            var episode_requests: Int?, environments: Int?
        }
        var format: String
        var version: Int
        var action_space: String
        var head: String
        var interval_s: Double
        var horizon_s: Double
        var observation: Observation
        var network: Network
        var reward: [String: Double]
        var trained_on: Trained?
    }

    public func encoded() -> Data {
        let n = policy.network, t = training
        let layout = Layout(
            format: Self.format, version: Self.version, action_space: policy.space.name, head: policy.head.rawValue,
            interval_s: interval, horizon_s: horizon,
            observation: .init(features: ObservationTracker.featureNames, mean: policy.normaliser.mean,
                               variance: policy.normaliser.variance, count: policy.normaliser.count),
            network: .init(sizes: n.sizes, activation: n.activation.rawValue, weights: n.weights.map(\.value), biases: n.biases.map(\.value)),
            reward: reward.weights,
            trained_on: .init(algorithm: t.algorithm, dataset: t.dataset, dataset_sha256: t.datasetSHA256, start_s: t.start, end_s: t.end,
                              requests: t.requests, hardware: t.hardware, model: t.model, predictor: t.predictor, steps: t.steps,
                              seed: String(t.seed), episode_requests: t.episodeRequests, environments: t.environments))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return (try? encoder.encode(layout)) ?? Data()
    }

    /// Reads a policy file; every problem is an error naming the file and the field.
    public static func decode(_ data: Data, path: String) throws -> PolicyFile {
        func bad(_ what: String) -> RLError { RLError("\(path): \(what)") }
        let root: Layout
        do {
            root = try JSONDecoder().decode(Layout.self, from: data)
        } catch DecodingError.dataCorrupted {
            throw bad("not a JSON object (a policy file from `smartserve rl train` was expected)")
        } catch DecodingError.keyNotFound(let key, _) {
            throw bad("\"\(key.stringValue)\" is missing: not a policy file from `smartserve rl train`")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            throw bad("\"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type")
        } catch {
            throw bad("not a policy file (\(error))")
        }
        guard root.format == format else { throw bad("\"format\" is not \"\(format)\": not a policy file") }
        guard root.version == version else { throw bad("policy file version \(root.version) is not \(version)") }
        guard let space = ActionSpace(name: root.action_space) else { throw bad("\"action_space\" must be discrete or continuous") }
        guard let head = Policy.Head(rawValue: root.head) else { throw bad("\"head\" must be argmax or tanh_mean") }
        guard root.interval_s.isFinite, (0...86_400).contains(root.interval_s) else { throw bad("\"interval_s\" must be a number in 0...86400") }
        guard root.horizon_s.isFinite, (0.001...86_400).contains(root.horizon_s) else { throw bad("\"horizon_s\" must be a number in 0.001...86400") }
        let obs = root.observation
        guard obs.mean.count == ObservationTracker.size, obs.variance.count == obs.mean.count,
              (obs.mean + obs.variance).allSatisfy(\.isFinite), obs.variance.allSatisfy({ $0 >= 0 }), obs.count.isFinite, obs.count >= 0 else {
            throw bad("observation statistics must have \(ObservationTracker.size) finite entries (this smartserve's observation) and variances ≥ 0")
        }
        let sizes = root.network.sizes
        guard sizes.count >= 2, sizes.count <= 16, sizes.allSatisfy({ (1...4096).contains($0) }), sizes.first == ObservationTracker.size else {
            throw bad("network.sizes must start with the observation size \(ObservationTracker.size) and have 2...16 layers of 1...4096")
        }
        let expectedOut = head == .argmax ? space.size : 2 * space.size
        guard sizes.last == expectedOut || (head == .tanhMean && sizes.last == space.size) else {
            throw bad("network output \(sizes.last!) does not match the \(space.name) action space (\(expectedOut))")
        }
        guard let activation = Activation(rawValue: root.network.activation) else { throw bad("network.activation must be tanh or relu") }
        guard let mlp = MLP(sizes: sizes, activation: activation, weights: root.network.weights, biases: root.network.biases) else {
            throw bad("network weights do not match network.sizes \(sizes) (or hold a value that is not finite)")
        }
        for (k, v) in root.reward where !RewardVector.names.contains(k) || !v.isFinite {
            throw bad("reward weight '\(k)' is not one of \(RewardVector.names.joined(separator: ", ")) with a finite number")
        }
        var t = TrainingRecord()
        if let tr = root.trained_on {
            t.algorithm = tr.algorithm ?? ""
            t.dataset = tr.dataset ?? ""
            t.datasetSHA256 = tr.dataset_sha256 ?? ""
            t.start = tr.start_s
            t.end = tr.end_s
            t.requests = tr.requests ?? 0
            t.hardware = tr.hardware ?? ""
            t.model = tr.model ?? ""
            t.predictor = tr.predictor ?? ""
            t.steps = tr.steps ?? 0
            t.seed = UInt64(tr.seed ?? "") ?? 0
            t.episodeRequests = tr.episode_requests ?? 0
            t.environments = tr.environments ?? 1
        }
        let policy = Policy(space: space, head: head, network: mlp,
                            normaliser: RunningMoments(mean: obs.mean, variance: obs.variance, count: obs.count))
        return PolicyFile(policy: policy, interval: root.interval_s, horizon: root.horizon_s, reward: RewardWeights(weights: root.reward), training: t)
    }
}
