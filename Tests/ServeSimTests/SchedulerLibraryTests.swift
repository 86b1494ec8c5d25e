import XCTest
@testable import ServeSim
@testable import Schedulers
import ServeAPI
import Workload

/// Each policy on small traces whose outcome can be worked out by hand.
final class SchedulerLibraryTests: XCTestCase {
    func h100() throws -> ClusterConfig { ClusterConfig(hardware: try HardwareCatalog.resolve("H100"), model: try llama8B()) }

    /// Order in which requests finished.
    func finishOrder(_ r: RunResult) -> [Int] { (0..<r.requests.count).sorted { (r.requests.finish[$0], $0) < (r.requests.finish[$1], $1) } }

    func testSJFRunsShortJobsFirst() throws {
        // One seat; four requests arrive together. FCFS serves them in arrival order; SJF by output
        // length: 2 (10 tokens), 3 (20), 1 (30), 0 (40).
        let trace = makeTrace([(0, 10, 40), (0, 10, 30), (0, 10, 10), (0, 10, 20)])
        var c = try h100()
        c.knobs.maxNumSeqs = 1
        let (fcfs, _) = try simulate(trace, c)
        XCTAssertEqual(finishOrder(fcfs), [0, 1, 2, 3])
        let (sjf, _) = try simulate(trace, c, scheduler: { SJFScheduler() })
        XCTAssertEqual(finishOrder(sjf), [2, 3, 1, 0])
        // Mean completion falls: cumulative output lengths 40+70+80+100 (FCFS) vs 10+30+60+100.
        XCTAssertLessThan(RunSummary(sjf).e2e.mean, RunSummary(fcfs).e2e.mean)
    }

    func testStarvationGuardPromotesOldRequests() throws {
        // A long request waits behind a stream of short ones; with a 1 s guard it is served once it
        // has waited 1 s, before shorter later arrivals.
        var rows: [(arrival: Double, prompt: Int32, output: Int32)] = [(0, 10, 5), (0.001, 10, 200)]
        // Short jobs every 10 ms, each needing about 35 ms of service: a backlog that lasts seconds.
        for k in 0..<200 { rows.append((0.002 + Double(k) * 0.01, 10, 5)) }
        let trace = makeTrace(rows)
        var c = try h100()
        c.knobs.maxNumSeqs = 1
        let (strict, _) = try simulate(trace, c, scheduler: { SJFScheduler(starvationSeconds: 0) })
        let (guarded, _) = try simulate(trace, c, scheduler: { SJFScheduler(starvationSeconds: 1) })
        let waitStrict = strict.requests.firstScheduled[1], waitGuarded = guarded.requests.firstScheduled[1]
        XCTAssertGreaterThan(waitStrict, 5_000_000_000)             // starved behind the stream
        XCTAssertGreaterThanOrEqual(waitGuarded, 1_000_000_000)      // promoted after 1 s
        XCTAssertLessThan(waitGuarded, 1_500_000_000)
    }

    func testSarathiServesDecodesFirstUnderASmallBudget() throws {
        // A decode in flight and a 2000-token prompt arriving: vLLM gives the prompt a 2047-token
        // chunk next to the decode; Sarathi cuts it to 256, keeping the decode's step short.
        let trace = makeTrace([(0, 10, 50), (0.05, 2000, 2)])
        var c = ClusterConfig(hardware: simpleHardware(), model: try llama8B())
        c.knobs.maxNumBatchedTokens = 2048
        let (v, _) = try simulate(trace, c)
        let (s, _) = try simulate(trace, c, scheduler: { SarathiScheduler(chunk: 256) })
        XCTAssertLessThan(s.requests.maxITL[0], v.requests.maxITL[0])
        // 2000 tokens in chunks of ≤ 256 (less the decode's 1): at least 8 prefill steps before its first token.
        XCTAssertGreaterThan(s.requests.firstToken[1], v.requests.firstToken[1])
    }

    func testSRPTPreemptsTheLongestRemaining() throws {
        // 24 blocks of 16 tokens. Request 0 (100 + 280 tokens) has about 300 computed when request 1
        // (50 + 20) arrives and is admitted; both then grow until memory runs out. vLLM preempts the
        // later admitted (request 1, itself); SRPT the one with more predicted work left (request 0).
        let trace = makeTrace([(0, 100, 280), (3.3, 50, 20)])
        var c = ClusterConfig(hardware: simpleHardware(), model: try llama8B())
        c.knobs.numGPUBlocksOverride = 24
        let (v, _) = try simulate(trace, c)
        let (s, _) = try simulate(trace, c, scheduler: { SRPTScheduler() })
        XCTAssertGreaterThan(v.requests.preemptions[1], 0)
        XCTAssertEqual(v.requests.preemptions[0], 0)
        XCTAssertEqual(s.requests.preemptions[1], 0)
        XCTAssertGreaterThan(s.requests.preemptions[0], 0)
        XCTAssertLessThan(s.requests.finish[1], v.requests.finish[1])
    }

    func testMLFQSkipJoinAndDemotion() {
        let m = MLFQScheduler(baseQuantumMs: 10, ratio: 2, levels: 8, starvationSeconds: 3, prefillTokensPerMs: 20)
        // Prefill estimates: 100 tokens = 5 ms → level 0 (10 ms); 1000 = 50 ms → level 3 (80 ms).
        XCTAssertEqual(m.joinLevel(prompt: 100), 0)
        XCTAssertEqual(m.joinLevel(prompt: 1000), 3)
        XCTAssertEqual(m.joinLevel(prompt: 10_000_000), 7)
        XCTAssertEqual(m.quantum(3), 80e6)
    }

    func testMLFQFavoursShortJobsWithoutStarvation() throws {
        // Thirty mixed jobs on four seats under MLFQ: every job completes and no block leaks.
        var rows: [(arrival: Double, prompt: Int32, output: Int32)] = []
        for k in 0..<30 {
            let output: Int32 = k % 2 == 0 ? 400 : 10
            rows.append((Double(k) * 0.01, Int32(50 + k * 40), output))
        }
        let trace = makeTrace(rows)
        var c = try h100()
        c.knobs.maxNumSeqs = 4
        let (r, sim) = try simulate(trace, c, scheduler: { MLFQScheduler() })
        for i in 0..<trace.count { XCTAssertEqual(sim.table.generated[i], trace.outputTokens[i]) }
        XCTAssertEqual(sim.instances[0].kv.used, 0)
        XCTAssertGreaterThan(r.counters.steps, 0)
    }

    func testLTRPromotesAfterBeingOvertaken() throws {
        // One seat; a long job (rank 100) waits while short jobs keep arriving; with a limit of 3
        // it is admitted after being overtaken 3 times.
        var rows: [(arrival: Double, prompt: Int32, output: Int32)] = [(0, 10, 5), (0.0001, 10, 100)]
        for k in 0..<10 { rows.append((0.0002 + Double(k) * 0.0001, 10, 5)) }
        let trace = makeTrace(rows)
        var c = try h100()
        c.knobs.maxNumSeqs = 1
        let (r, _) = try simulate(trace, c, scheduler: { LTRScheduler(starvationLimit: 3) })
        let order = finishOrder(r)
        XCTAssertEqual(order.firstIndex(of: 1), 4)   // after request 0 and three overtakers
    }

    func testPriorityWeightsShareService() throws {
        // Two classes with equal demand, one seat, weights 3:1: the heavy class is admitted about
        // three times as often while both are backlogged.
        var t = makeTrace((0..<40).map { k in (0.0, Int32(10), Int32(10)) })
        t.labels.models = ["gold", "bronze"]
        t.modelIndex = (0..<40).map { UInt8($0 % 2) }
        var c = try h100()
        c.knobs.maxNumSeqs = 1
        let sim = try Simulator(trace: t, config: c, makeScheduler: { PriorityScheduler(weights: ["gold": 3]) },
                                requestClasses: (t.labels.models, t.modelIndex!))
        let r = try sim.run()
        let firstTwenty = finishOrder(r).prefix(20)
        let gold = firstTwenty.filter { $0 % 2 == 0 }.count
        XCTAssertEqual(gold, 15)   // 3 of every 4 admissions
        XCTAssertThrowsError(try PriorityScheduler.parse("gold=3")) { XCTAssertTrue("\($0)".contains("NAME:WEIGHT")) }
    }

    func testRouters() {
        let loads = [InstanceLoad(outstanding: 5, waiting: 2, running: 3, freeBlocks: 100, totalBlocks: 1000, queuedDemandBlocks: 50),
                     InstanceLoad(outstanding: 9, waiting: 0, running: 9, freeBlocks: 900, totalBlocks: 1000, queuedDemandBlocks: 0),
                     InstanceLoad(outstanding: 2, waiting: 0, running: 2, freeBlocks: 200, totalBlocks: 1000, queuedDemandBlocks: 0)]
        loads.withUnsafeBufferPointer { buf in
            // Freeness: (100−50)/3 = 16.7, 900/9 = 100, 200/2 = 100 → the first of the two best.
            XCTAssertEqual(LeastKVRouter().route(0, instances: buf), 1)
            XCTAssertEqual(LeastOutstandingRouter().route(0, instances: buf), 2)
            let p = PowerOfTwoRouter(seed: 1), q = PowerOfTwoRouter(seed: 1)
            let a = (0..<50).map { p.route($0, instances: buf) }, b = (0..<50).map { q.route($0, instances: buf) }
            XCTAssertEqual(a, b)                       // seeded
            XCTAssertFalse(a.contains(1))              // instance 1 (9 outstanding) always loses its pair
        }
    }
}

final class PredictorTests: XCTestCase {
    let outputs: [Int32] = [5, 50, 500, 5000, 20, 200, 2000, 7]
    var prompts: [Int32] { [10, 10, 100, 100, 1000, 1000, 3, 3] }

    func testKendallTauAgainstBruteForce() {
        var rng = SeededRandom(seed: 4)
        for _ in 0..<20 {
            let n = 40
            let x = (0..<n).map { _ in Double(rng.integer(0, 9)) }, y = (0..<n).map { _ in Double(rng.integer(0, 9)) }
            var c = 0.0, d = 0.0, tx = 0.0, ty = 0.0
            for i in 0..<n { for j in (i + 1)..<n {
                let a = (x[i] - x[j]).sign, b = (y[i] - y[j]).sign
                if x[i] == x[j] && y[i] == y[j] { continue }
                if x[i] == x[j] { tx += 1 } else if y[i] == y[j] { ty += 1 } else if a == b { c += 1 } else { d += 1 }
            } }
            let brute = (c - d) / ((c + d + tx) * (c + d + ty)).squareRoot()
            XCTAssertEqual(Stats.kendallTau(x, y), brute, accuracy: 1e-12)
        }
        XCTAssertEqual(Stats.kendallTau([1, 2, 3], [3, 2, 1]), -1)
    }

    func testPredictors() {
        XCTAssertEqual(OraclePredictor().predict(prompts: prompts, outputs: outputs, seed: 1), outputs)
        XCTAssertEqual(NoisyOraclePredictor(sigma: 0).predict(prompts: prompts, outputs: outputs, seed: 1), outputs)
        // Buckets 64/256/1024, always right: middles √(1·64)=8, √(256·1024)=512, √(1024·4096)=2048, √(64·256)=128.
        let b = BucketPredictor(edges: [64, 256, 1024], accuracy: 1).predict(prompts: prompts, outputs: outputs, seed: 1)
        XCTAssertEqual(b, [8, 8, 512, 2048, 8, 128, 2048, 8])
        // History from the first half (4 requests): bins log2(10)=3 → mean(5, 50) = 27.5 → 28;
        // log2(100)=6 → mean(500, 5000) = 2750; unseen bins get the overall mean 1388.75 → 1389.
        let h = HistoryPredictor(train: 0.5).predict(prompts: prompts, outputs: outputs, seed: 1)
        XCTAssertEqual(h, [28, 28, 2750, 2750, 1389, 1389, 1389, 1389])
    }

    func testRankTauHitsItsTarget() throws {
        let t = try SyntheticWorkload(count: 3000, arrivals: .poisson(rate: 1), prompt: .fixed(10),
                                      output: .logNormal(median: 200, sigma: 1, min: 1, max: 4000), seed: 3).generate()
        for target in [0.8, 0.5, 0.2] {
            let p = RankTauPredictor(tau: target).predict(prompts: t.promptTokens, outputs: t.outputTokens, seed: 9)
            XCTAssertEqual(Stats.kendallTau(p.map(Double.init), t.outputTokens.map(Double.init)), target, accuracy: 0.02)
        }
    }
}
