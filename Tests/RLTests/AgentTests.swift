import Foundation
import XCTest
@testable import RL
@testable import ServeSim
import Learning
import Schedulers
import ServeAPI
import Workload

final class AgentTests: XCTestCase {
    func setup(_ trace: Trace, reward: RewardWeights = .standard, interval: Double = 0.25, episode: Int = 150) throws -> EnvSetup {
        EnvSetup(trace: trace, config: try a100Config(maxSeqs: 8), interval: interval, reward: reward, episodeRequests: episode)
    }

    /// The reward a run earns, from its results.
    func reward(_ trace: Trace, _ weights: RewardWeights, _ make: @escaping () -> any StepScheduler) throws -> Double {
        let r = try Simulator(trace: trace, config: try a100Config(maxSeqs: 8), makeScheduler: make).run()
        return weights.perRequest(r).reduce(0, +)
    }

    /// PPO, trained on the first 600 requests of an overloaded bursty workload, beats FCFS vLLM on
    /// its reward on the next 400 (held out), where ordering by predicted cost is what pays.
    func testPPOLearnsToBeatFCFSOnHeldOutRequests() throws {
        let all = try burstyTrace(1000, seed: 21)
        let train = all.selecting(Array(0..<600))
        var test = all.selecting(Array(600..<1000))
        let origin = test.arrivals[0]
        test.arrivals = test.arrivals.map { $0 - origin }
        let weights = RewardWeights(weights: ["ttft": 1, "goodput": 1])
        var settings = AgentSettings()
        settings.rolloutSteps = 256
        settings.minibatch = 128
        settings.learningRate = 1e-3
        let file = try Trainer(algorithm: .ppo, setup: try setup(train, reward: weights), steps: 6_000, environments: 2, seed: 1,
                               settings: settings).train(record: TrainingRecord())
        let policy = file.policy
        let learned = try reward(test, weights) {
            ControlledScheduler(name: "rl", interval: file.interval, decide: { policy.action(for: $0) })
        }
        let fcfs = try reward(test, weights) { VLLMScheduler() }
        XCTAssertGreaterThan(learned, fcfs, "PPO policy \(learned) vs FCFS \(fcfs)")
    }

    /// Four environments stepped one at a time or on several cores train the same policy, to the
    /// bit (each environment is its own simulation; the agent sees them in order either way).
    func testJobsDoNotChangeTheTrainedPolicy() throws {
        let trace = try burstyTrace(300, seed: 6)
        var settings = AgentSettings()
        settings.rolloutSteps = 64
        settings.minibatch = 64
        var files: [Data] = []
        for jobs in [1, 4] {
            var trainer = Trainer(algorithm: .ppo, setup: try setup(trace), steps: 800, environments: 4, seed: 3, settings: settings)
            trainer.jobs = jobs
            files.append(try trainer.train(record: TrainingRecord()).encoded())
        }
        XCTAssertEqual(files[0], files[1])
    }

    /// Every algorithm trains briefly, stays finite and yields a policy that runs as a scheduler.
    func testEveryAlgorithmTrainsAndDeploys() throws {
        let trace = try burstyTrace(300, seed: 5)
        var settings = AgentSettings()
        settings.learningStarts = 200
        settings.batch = 32
        settings.rolloutSteps = 64
        settings.minibatch = 64
        for algorithm in Algorithm.allCases {
            var reports = 0
            let file = try Trainer(algorithm: algorithm, setup: try setup(trace), steps: 600, environments: 2, seed: 2, settings: settings)
                .train(record: TrainingRecord()) { p in
                    reports += 1
                    XCTAssertTrue(p.losses.allSatisfy { $0.1.isFinite }, "\(algorithm) losses \(p.losses)")
                }
            XCTAssertGreaterThan(reports, 0)
            XCTAssertEqual(file.policy.space, algorithm.space)
            let decoded = try PolicyFile.decode(file.encoded(), path: "p.json")
            let policy = decoded.policy
            let r = try Simulator(trace: trace, config: try a100Config(maxSeqs: 8), makeScheduler: {
                ControlledScheduler(name: "rl", interval: decoded.interval, decide: { policy.action(for: $0) })
            }).run()
            XCTAssertEqual(r.requests.finish.filter { $0 < 0 }.count, 0, "\(algorithm): every request finishes")
        }
    }

    func testTrainingIsDeterministic() throws {
        let trace = try burstyTrace(300, seed: 5)
        var settings = AgentSettings()
        settings.rolloutSteps = 64
        func train() throws -> Data {
            try Trainer(algorithm: .a2c, setup: try setup(trace), steps: 400, environments: 2, seed: 3, settings: settings)
                .train(record: TrainingRecord()).encoded()
        }
        XCTAssertEqual(try train(), try train())
    }

    /// SAC's actor gradient (through the squashed reparameterised sample and the critic) against
    /// finite differences of α log π − Q with the noise held fixed.
    func testSACActorGradientMatchesFiniteDifferences() throws {
        let agent = SACAgent(observationSize: 3, actionSize: 2, settings: AgentSettings(), seed: 4)
        let x = [0.2, -0.4, 0.9]
        let alpha = exp(agent.logAlpha)
        let eps = [0.3, -1.1]
        func loss(_ out: [Double]) -> Double {
            var a = [Double](), logp = 0.0
            for j in 0..<2 {
                let ls = min(2, max(-5, out[2 + j])), s = exp(ls)
                let act = tanh(out[j] + s * eps[j])
                a.append(act)
                logp += -0.5 * eps[j] * eps[j] - ls - 0.5 * log(2 * Double.pi) - log(1 - act * act + 1e-6)
            }
            let q = min(agent.q1(x + a)[0], agent.q2(x + a)[0])
            return alpha * logp - q
        }
        let out = agent.actor(x)
        // Analytic: the same formulas as SACAgent.learn, for one row.
        var a = [Double](), sd = [Double]()
        for j in 0..<2 { let s = exp(out[2 + j]); sd.append(s); a.append(tanh(out[j] + s * eps[j])) }
        let c1 = agent.q1.forward(x + a, count: 1), c2 = agent.q2.forward(x + a, count: 1)
        let useFirst = c1.output[0] <= c2.output[0]
        let dIn = useFirst ? agent.q1.backward(c1, outputGradient: [1]) : agent.q2.backward(c2, outputGradient: [1])
        let h = 1e-6
        for j in 0..<2 {
            let one = 1 - a[j] * a[j], dQda = dIn[3 + j]
            let dSquash = 2 * a[j] * one / (one + 1e-6)
            let dMean = alpha * dSquash - dQda * one
            let dLogStd = alpha * (-1 + dSquash * sd[j] * eps[j]) - dQda * one * sd[j] * eps[j]
            for (k, analytic) in [(j, dMean), (2 + j, dLogStd)] {
                var up = out, down = out
                up[k] += h
                down[k] -= h
                XCTAssertEqual(analytic, (loss(up) - loss(down)) / (2 * h), accuracy: 1e-5, "output \(k)")
            }
        }
    }

    func testPolicyFileRoundTripAndRefusals() throws {
        var rng = SeededRandom(seed: 1)
        let net = MLP(sizes: [ObservationTracker.size, 8, 16], rng: &rng)
        var record = TrainingRecord()
        record.dataset = "trace.csv"
        record.end = 2400
        let file = PolicyFile(policy: Policy(space: .discrete, head: .argmax, network: net, normaliser: RunningMoments(size: ObservationTracker.size)),
                              interval: 0.5, horizon: 10, reward: RewardWeights(weights: ["ttft": 1, "frag": 0.2]), training: record)
        let data = file.encoded()
        let back = try PolicyFile.decode(data, path: "p.json")
        XCTAssertEqual(back.encoded(), data)
        XCTAssertEqual(back.interval, 0.5)
        XCTAssertEqual(back.training.end, 2400)
        XCTAssertEqual(back.reward, file.reward)
        let o = (0..<ObservationTracker.size).map { Double($0) / 10 }
        XCTAssertEqual(back.policy.action(for: o), file.policy.action(for: o))

        let text = String(decoding: data, as: UTF8.self)
        let cases: [(String, String)] = [
            ("not json", "not a JSON object"),
            (text.replacingOccurrences(of: "smartserve-policy", with: "other"), "not a policy file"),
            (text.replacingOccurrences(of: "\"discrete\"", with: "\"both\""), "action_space"),
            (text.replacingOccurrences(of: "\"interval_s\" : 0.5", with: "\"interval_s\" : 1e308"), "interval_s"),
        ]
        for (bad, expected) in cases {
            XCTAssertThrowsError(try PolicyFile.decode(Data(bad.utf8), path: "p.json")) { e in
                XCTAssertTrue("\(e)".hasPrefix("p.json: "), "\(e)")
                XCTAssertTrue("\(e)".contains(expected), "\(e) lacks \(expected)")
            }
        }
        // A network whose output does not match the action table.
        let wrong = PolicyFile(policy: Policy(space: .discrete, head: .argmax, network: MLP(sizes: [ObservationTracker.size, 4, 3], rng: &rng),
                                              normaliser: RunningMoments(size: ObservationTracker.size)),
                               interval: 0, horizon: 10, reward: .standard, training: record)
        XCTAssertThrowsError(try PolicyFile.decode(wrong.encoded(), path: "w.json")) { XCTAssertTrue("\($0)".contains("does not match")) }
        XCTAssertThrowsError(try PolicyFile.load("/nonexistent/p.json")) { XCTAssertTrue("\($0)".contains("cannot read it")) }
    }

    func testRewardWeightsParsing() throws {
        let w = try RewardWeights(parsing: "ttft=1,goodput=2,frag=0.2")
        XCTAssertEqual(w.weight("goodput"), 2)
        var v = RewardVector()
        v.goodput = 3; v.ttftViolations = 2; v.fragmentation = 5
        XCTAssertEqual(w.scalarise(v), 2 * 3 - 2 - 0.2 * 5, accuracy: 1e-12)
        for bad in ["ttft", "speed=1", "ttft=nan", "ttft=-1", "ttft=0", "ttft=1e308"] {
            XCTAssertThrowsError(try RewardWeights(parsing: bad), bad) { XCTAssertTrue("\($0)".hasPrefix("--reward"), "\($0)") }
        }
    }
}
