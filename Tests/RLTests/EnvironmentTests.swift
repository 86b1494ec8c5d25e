import Foundation
import XCTest
@testable import RL
@testable import ServeSim
import Learning
import Schedulers
import ServeAPI
import Workload

func makeTrace(_ rows: [(arrival: Double, prompt: Int32, output: Int32)]) -> Trace {
    var t = Trace()
    t.arrivals = rows.map { Int64(($0.arrival * 1e9).rounded()) }
    t.promptTokens = rows.map(\.prompt)
    t.outputTokens = rows.map(\.output)
    return t
}

/// A bursty synthetic workload: on/off arrivals, lognormal lengths (seeded).
func burstyTrace(_ n: Int = 400, seed: UInt64 = 3) throws -> Trace {
    try SyntheticWorkload(count: n, arrivals: .onOff(onRate: 30, offRate: 1, onSeconds: 4, offSeconds: 10),
                          prompt: .logNormal(median: 400, sigma: 1, min: 8, max: 4096),
                          output: .logNormal(median: 120, sigma: 1, min: 2, max: 1024), seed: seed).generate()
}

func a100Config(maxSeqs: Int = 32) throws -> ClusterConfig {
    var c = ClusterConfig(hardware: try HardwareCatalog.resolve("A100-80G"), model: try ModelCatalog.resolve("meta-llama/Llama-3.1-8B"))
    c.knobs.maxNumSeqs = maxSeqs
    return c
}

final class EnvironmentTests: XCTestCase {
    /// A run advanced through a pause before every step is the same run as one without pauses.
    func testPausingAtEveryStepChangesNothing() throws {
        let trace = try burstyTrace(200)
        let config = try a100Config()
        let plain = try Simulator(trace: trace, config: config, makeScheduler: { VLLMScheduler() }).run()
        let sim = try Simulator(trace: trace, config: config, makeScheduler: { VLLMScheduler() })
        let run = sim.start(Simulator.Hooks(decision: { _, _ in true }))
        var pauses = 0
        while case .decision = try run.advance() { pauses += 1 }
        let paused = run.result()
        XCTAssertEqual(paused.requests.finish, plain.requests.finish)
        XCTAssertEqual(paused.requests.firstToken, plain.requests.firstToken)
        XCTAssertEqual(paused.counters.steps, plain.counters.steps)
        // One pause per step started (preemption-only steps included), so at least one per step.
        XCTAssertGreaterThanOrEqual(pauses, plain.counters.steps)
    }

    /// The controlled scheduler holding vLLM's knobs is vLLM, request for request.
    func testVLLMKnobsReproduceVLLM() throws {
        let trace = try burstyTrace(300)
        let config = try a100Config(maxSeqs: 16)
        let vllm = try Simulator(trace: trace, config: config, makeScheduler: { VLLMScheduler() }).run()
        let knobs = try Simulator(trace: trace, config: config, makeScheduler: { ControlledScheduler(name: "knobs", starvation: 0) }).run()
        XCTAssertEqual(knobs.requests.finish, vllm.requests.finish)
        XCTAssertEqual(knobs.counters.preemptions, vllm.counters.preemptions)
    }

    /// The tallies the engine keeps as tokens appear agree with the summary computed from records.
    func testTalliesAgreeWithTheSummary() throws {
        let trace = try burstyTrace(300)
        let config = try a100Config(maxSeqs: 8)
        let sim = try Simulator(trace: trace, config: config, makeScheduler: { VLLMScheduler() })
        let run = sim.start()
        _ = try run.advance()
        let t = run.tallies, r = run.result()
        let q = r.requests
        var ttftLate = 0, tpotLate = 0, met = 0
        var seconds = 0.0
        for i in 0..<q.count {
            let late = q.ttft(i) > 2
            let slow = (q.tpot(i) ?? 0) > 0.1
            if late { ttftLate += 1 }
            if slow { tpotLate += 1 }
            if !late && !slow { met += 1 }
            seconds += q.e2e(i)
        }
        XCTAssertGreaterThan(ttftLate, 0, "the workload should overload 8 seats")
        XCTAssertEqual(t.ttftViolations, ttftLate)
        XCTAssertEqual(t.tpotViolations, tpotLate)
        XCTAssertEqual(t.sloMet, met)
        XCTAssertEqual(Double(met) / Double(q.count), RunSummary(r).sloAttainment, accuracy: 1e-12)
        XCTAssertEqual(t.requestSeconds, seconds, accuracy: 1e-6 * seconds)
        XCTAssertEqual(t.finished, q.count)
    }

    func env(_ trace: Trace, reward: RewardWeights = .standard, interval: Double = 0, episode: Int = 0, space: ActionSpace = .discrete) throws -> ServeEnv {
        try ServeEnv(EnvSetup(trace: trace, config: try a100Config(maxSeqs: 8), actionSpace: space, interval: interval,
                              reward: reward, episodeRequests: episode))
    }

    /// Σ of the step rewards over an episode equals the reward computed afterwards from the run's
    /// records (two independent paths: incremental tallies vs per-request outcomes).
    func testEpisodeRewardsSumToThePerRequestReward() throws {
        let weights = RewardWeights(weights: ["ttft": 1, "tpot": 0.5, "goodput": 2, "frag": 3, "preempt": 0.1, "latency": 0.01])
        let e = try env(try burstyTrace(250), reward: weights)
        _ = try e.reset(seed: 1)
        var total = 0.0, steps = 0
        var vector = RewardVector()
        var rng = SeededRandom(seed: 9)
        while true {
            let o = try e.step(discrete: rng.integer(0, 15))
            total += o.reward
            vector = vector + o.info.rewardVector
            steps += 1
            if o.terminated { break }
        }
        let result = try XCTUnwrap(e.result())
        let perRequest = weights.perRequest(result)
        XCTAssertEqual(total, perRequest.reduce(0, +), accuracy: 1e-6 * max(1, abs(total)))
        XCTAssertEqual(Int(vector.goodput), Int((RunSummary(result).sloAttainment * Double(result.requests.count)).rounded()))
        XCTAssertEqual(Int(vector.preemptions), result.counters.preemptions)
        XCTAssertGreaterThan(steps, 100)
    }

    func testSameSeedSameTrajectoryAndSeedsPickWindows() throws {
        let trace = try burstyTrace(400)
        func trajectory(_ seed: UInt64) throws -> ([Double], Int) {
            let e = try env(trace, episode: 100)
            let (first, info) = try e.reset(seed: seed)
            var out = first
            var rng = SeededRandom(seed: 4)
            for _ in 0..<200 {
                let o = try e.step(discrete: rng.integer(0, 15))
                out.append(o.reward)
                out += o.observation
                if o.terminated || o.truncated { break }
            }
            return (out, info.windowStart)
        }
        let (a, wa) = try trajectory(7), (b, wb) = try trajectory(7), (_, wc) = try trajectory(8)
        XCTAssertEqual(a, b)
        XCTAssertEqual(wa, wb)
        XCTAssertNotEqual(wa, wc)
        XCTAssertTrue((0...300).contains(wa))
    }

    func testTruncationAndStepAfterTheEnd() throws {
        let e = try ServeEnv(EnvSetup(trace: try burstyTrace(200), config: try a100Config(), maxDecisions: 5))
        _ = try e.reset(seed: 0)
        for k in 1...5 {
            let o = try e.step(.vllm)
            XCTAssertEqual(o.truncated, k == 5)
            XCTAssertFalse(o.terminated)
        }
        XCTAssertThrowsError(try e.step(.vllm)) { XCTAssertTrue("\($0)".contains("reset first")) }
    }

    /// The first observation of three requests arriving together, worked out by hand.
    func testFirstObservationByHand() throws {
        let trace = makeTrace([(0, 1000, 10), (0, 200, 20), (0, 48, 30)])
        let e = try env(trace)
        let (o, _) = try e.reset(seed: 0)
        XCTAssertEqual(o.count, ObservationTracker.size)
        XCTAssertEqual(o[0], log1p(3), accuracy: 1e-12)                  // waiting
        XCTAssertEqual(o[1], 0)                                          // running
        XCTAssertEqual(o[3], log1p(1248.0 / 2048), accuracy: 1e-12)      // prompt tokens / budget
        XCTAssertEqual(o[6], 0)                                          // nobody has waited yet
        XCTAssertEqual(o[7], 1)                                          // KV all free
        XCTAssertEqual(o[11], 1)                                         // full TTFT margin
        XCTAssertEqual(o[16], log1p(20), accuracy: 1e-12)                // mean predicted (oracle) output
        XCTAssertEqual(o[17], 1248.0 / 2048 / 3 + 60.0 / 8 / 3, accuracy: 1e-12)  // mean cost
    }

    func testDiscreteActionTable() {
        let s = ActionSpace.discrete
        XCTAssertEqual(s.decode(discrete: 0), KnobAction.vllm)
        XCTAssertEqual(s.decode(discrete: 5), KnobAction(rule: .cost, budgetFraction: 1, watermark: 0.05))
        XCTAssertEqual(s.decode(discrete: 10), KnobAction(rule: .prompt, budgetFraction: 0.25, watermark: 0))
        XCTAssertEqual(s.decode(discrete: 15), KnobAction(rule: .age, budgetFraction: 0.25, watermark: 0.05))
        let c = ActionSpace.continuous.decode(continuous: [-1, 1, 0.5, -0.5, 2, 0])
        XCTAssertEqual(c.rule, .score)
        XCTAssertEqual(c.budgetFraction, 0.05, accuracy: 1e-12)
        XCTAssertEqual(c.seatFraction, 1, accuracy: 1e-12)
        XCTAssertEqual(c.weights, [0.5, -0.5, 1])   // clipped to [−1, 1]
        XCTAssertEqual(c.watermark, 0.1, accuracy: 1e-12)
        XCTAssertEqual(ActionSpace.continuous.decode(continuous: [.nan, .infinity]).budgetFraction, 1)
    }

    /// One seat, a long prompt queued before a short one: the `prompt` rule serves the short one
    /// first, FCFS the long one.
    func testAdmissionRulesOrderTheQueue() throws {
        let trace = makeTrace([(0, 3000, 5), (0.0, 20, 5)])
        var config = try a100Config(maxSeqs: 1)
        config.knobs.maxNumSeqs = 1
        func firstTokens(_ rule: AdmissionRule) throws -> [Int64] {
            let r = try Simulator(trace: trace, config: config, makeScheduler: {
                let s = ControlledScheduler(name: "t")
                s.action = KnobAction(rule: rule)
                return s
            }).run()
            return r.requests.firstToken
        }
        let fcfs = try firstTokens(.fcfs), prompt = try firstTokens(.prompt), cost = try firstTokens(.cost)
        XCTAssertLessThan(fcfs[0], fcfs[1])
        XCTAssertLessThan(prompt[1], prompt[0])
        XCTAssertLessThan(cost[1], cost[0])
    }

    /// A watermark keeps admission from taking the last free blocks while something runs.
    func testWatermarkHoldsAdmissionBack() throws {
        let trace = makeTrace([(0, 100, 150), (0.001, 100, 150)])
        var config = try a100Config()
        // 20 blocks of 16 tokens. Request 0 is admitted with 7 blocks; request 1 needs 7 of the 13
        // left: without a watermark it is admitted at once, with half the cache kept free
        // (10 blocks) only 3 are available, so it waits for request 0 to finish.
        config.knobs.numGPUBlocksOverride = 20
        func overlap(_ watermark: Double) throws -> Bool {
            let r = try Simulator(trace: trace, config: config, makeScheduler: {
                let s = ControlledScheduler(name: "t")
                s.action = KnobAction(watermark: watermark)
                return s
            }).run()
            return r.requests.firstScheduled[1] < r.requests.finish[0]
        }
        XCTAssertTrue(try overlap(0))
        XCTAssertFalse(try overlap(0.5))
    }
}

final class EnvironmentWorkloadTests: XCTestCase {
    /// A generator's workload swapped in at reset: the episode covers it, and the same seed and
    /// workload give the same first observation as a fresh environment built on it.
    func testResetOnAnotherWorkload() throws {
        let config = try a100Config(maxSeqs: 8)
        let generated = try burstyTrace(120, seed: 77)
        let env = try ServeEnv(EnvSetup(trace: try burstyTrace(300), config: config))
        let (o1, info) = try env.reset(seed: 4, workload: generated)
        XCTAssertEqual(info.requests, 120)
        let fresh = try ServeEnv(EnvSetup(trace: generated, config: config))
        XCTAssertEqual(try fresh.reset(seed: 4).observation, o1)
        XCTAssertThrowsError(try env.reset(seed: 0, workload: Trace()))
        XCTAssertThrowsError(try env.reset(seed: 0, workload: generated, predictions: [1, 2]))
    }

    func testParetoFrontByHand() {
        func v(_ ttft: Double, _ good: Double, _ lat: Double) -> RewardVector {
            var r = RewardVector()
            r.ttftViolations = ttft; r.goodput = good; r.latency = lat
            return r
        }
        // 0 and 1 trade TTFT against goodput; 2 is worse than 0 on everything; 3 equals 0.
        let vs = [v(5, 90, 100), v(8, 95, 100), v(6, 89, 120), v(5, 90, 100)]
        XCTAssertTrue(vs[0].dominates(vs[2]))
        XCTAssertFalse(vs[0].dominates(vs[3]))
        XCTAssertEqual(RewardVector.paretoFront(vs), [0, 1, 3])
    }
}
