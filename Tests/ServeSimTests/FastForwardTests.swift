import XCTest
@testable import ServeSim
import Schedulers
import ServeAPI
import Workload

/// vLLM's mechanics without `steadyAdmission`, as a plugin's scheduler has them by default.
private final class PlainFCFS: ContinuousBatchingScheduler {
    init() { super.init(name: "plain") }
}

/// Decode fast-forward must be invisible: every per-request timestamp, counter, histogram and
/// time-series value equal (to the bit) to simulating every step, over loads from idle to
/// overloaded, preempting KV sizes, block sizes, chunking, several instances and autoscaling.
final class FastForwardTests: XCTestCase {
    struct Case {
        var label: String
        var trace: Trace
        var config: ClusterConfig
        var scheduler: () -> any StepScheduler = { VLLMScheduler() }
        var router: (() -> any RequestRouter)? = nil
        var autoscaler: (() -> any InstanceAutoscaler)? = nil
        /// Whether the stretches are long enough that fast-forward must have skipped steps.
        var expectSkips = true
    }

    func workload(_ n: Int, rate: Double, seed: UInt64, output: Double = 120) throws -> Trace {
        try SyntheticWorkload(count: n, arrivals: .gamma(rate: rate, shape: 0.5),
                              prompt: .logNormal(median: 300, sigma: 1, min: 1, max: 3000),
                              output: .logNormal(median: output, sigma: 1, min: 1, max: 1500), seed: seed).generate()
    }

    func config(instances: Int = 1, blocks: Int? = nil, blockSize: Int = 16, chunked: Bool = true, seats: Int = 256,
                skipPrefill: Bool = false, budget: Int = 2048) throws -> ClusterConfig {
        var c = ClusterConfig(hardware: try HardwareCatalog.resolve("A100-80G"), model: try llama8B())
        c.instances = instances
        c.knobs.numGPUBlocksOverride = blocks
        c.knobs.blockSize = blockSize
        c.knobs.chunkedPrefill = chunked
        c.knobs.maxNumSeqs = seats
        c.knobs.skipPrefill = skipPrefill
        c.knobs.maxNumBatchedTokens = budget
        c.logInterval = 0.5
        return c
    }

    func run(_ c: Case, fastForward: Bool) throws -> (RunResult, Int) {
        let sim = try Simulator(trace: c.trace, config: c.config, makeScheduler: c.scheduler, router: c.router?(),
                                autoscaler: c.autoscaler?())
        sim.fastForward = fastForward
        let run = sim.start()
        while case .decision = try run.advance() {}
        return (run.result(), run.fastForwardedSteps)
    }

    /// Runs `c` step by step and fast-forwarded, checks the two agree to the bit and that all but
    /// `planned` steps were fast-forwarded; returns the fast-forwarded run.
    func forwarded(_ c: Case, planned: Int, file: StaticString = #filePath, line: UInt = #line) throws -> RunResult {
        let (stepped, _) = try run(c, fastForward: false)
        let (forwarded, skipped) = try run(c, fastForward: true)
        XCTAssertEqual(fingerprint(forwarded), fingerprint(stepped), file: file, line: line)
        XCTAssertEqual(skipped, stepped.counters.steps - planned, "planned steps", file: file, line: line)
        return forwarded
    }

    /// Every field printed at round-trip precision: equal text means equal bits.
    func fingerprint(_ r: RunResult) -> [String] {
        [String(describing: r.requests), String(describing: r.timeSeries), String(describing: r.itl.counts),
         "\(r.itl.total) \(r.itl.sum)", String(describing: r.counters), String(describing: r.scaling)]
    }

    func testFastForwardGivesTheStepByStepRun() throws {
        var cases: [Case] = [
            Case(label: "light load", trace: try workload(400, rate: 0.5, seed: 1), config: try config()),
            Case(label: "moderate load", trace: try workload(600, rate: 4, seed: 2), config: try config()),
            Case(label: "overload with a small KV cache (preemptions)", trace: try workload(500, rate: 8, seed: 3, output: 300),
                 config: try config(blocks: 900)),
            Case(label: "block size 1", trace: try workload(300, rate: 1, seed: 4), config: try config(blocks: 20_000, blockSize: 1)),
            Case(label: "block size 7, short outputs (many finishes inside stretches)", trace: try workload(400, rate: 3, seed: 15, output: 20),
                 config: try config(blocks: 2_000, blockSize: 7)),
            Case(label: "block size 32, whole prompts", trace: try workload(300, rate: 2, seed: 5), config: try config(blockSize: 32, chunked: false, budget: 4096)),
            Case(label: "8 seats", trace: try workload(300, rate: 3, seed: 6), config: try config(seats: 8)),
            Case(label: "generation only", trace: try workload(300, rate: 1, seed: 7), config: try config(skipPrefill: true)),
            Case(label: "sarathi", trace: try workload(300, rate: 2, seed: 8), config: try config(), scheduler: { SarathiScheduler(chunk: 256) }),
            Case(label: "orca", trace: try workload(300, rate: 1, seed: 9), config: try config(chunked: false, budget: 4096), scheduler: { OrcaScheduler() }),
            Case(label: "sjf", trace: try workload(300, rate: 6, seed: 10), config: try config(seats: 16), scheduler: { SJFScheduler() }),
            // Arrivals join stretches of these (steadyAdmission), under queues and preemption.
            Case(label: "srpt, small cache", trace: try workload(400, rate: 6, seed: 16, output: 300), config: try config(blocks: 900, seats: 32),
                 scheduler: { SRPTScheduler() }),
            Case(label: "ltr", trace: try workload(300, rate: 5, seed: 17), config: try config(seats: 12), scheduler: { LTRScheduler(starvationLimit: 4) }),
            Case(label: "vllm swapping, small cache", trace: try workload(500, rate: 8, seed: 18, output: 300), config: try config(blocks: 900),
                 scheduler: { VLLMScheduler(preemption: .swap) }),
            Case(label: "llmservingsim (whole prompts, swap)", trace: try workload(300, rate: 4, seed: 19), config: try config(blocks: 1_500, chunked: false, budget: 4096),
                 scheduler: { LLMServingSimScheduler() }),
            Case(label: "vllm, generation only, 4 seats", trace: try workload(300, rate: 3, seed: 20), config: try config(seats: 4, skipPrefill: true)),
            Case(label: "three instances, least-kv", trace: try workload(600, rate: 3, seed: 11), config: try config(instances: 3),
                 router: { LeastKVRouter() }),
            Case(label: "two instances, round-robin, small caches", trace: try workload(500, rate: 6, seed: 12, output: 300),
                 config: try config(instances: 2, blocks: 700), router: { RoundRobinRouter() }),
            Case(label: "reactive autoscaling", trace: try workload(600, rate: 3, seed: 13), config: try config(instances: 3),
                 router: { LeastKVRouter() },
                 autoscaler: { ReactiveAutoscaler(interval: 5, coldStart: 2, min: 1, max: 3, targetUtilisation: 0.6, stabilization: 10) }),
        ]
        // Steps that never fast-forward must not be skipped either.
        cases.append(Case(label: "mlfq (opts out)", trace: try workload(200, rate: 1, seed: 14), config: try config(),
                          scheduler: { MLFQScheduler() }, expectSkips: false))
        for c in cases {
            let (stepped, none) = try run(c, fastForward: false)
            let (forwarded, skipped) = try run(c, fastForward: true)
            XCTAssertEqual(none, 0, c.label)
            XCTAssertEqual(fingerprint(forwarded), fingerprint(stepped), c.label)
            XCTAssertEqual(forwarded.counters.steps, stepped.counters.steps, c.label)
            if c.expectSkips {
                XCTAssertGreaterThan(skipped, 0, "\(c.label): nothing was fast-forwarded")
            } else {
                XCTAssertEqual(skipped, 0, c.label)
            }
        }
    }

    /// Two requests admitted together, outputs 3 and 20: step 1 prefills both (first tokens) and
    /// nothing waits, so from there the stretch runs on through the short request's finish (its
    /// last token comes with step 3) to the step that finishes the long one, step 20 = 1 + 19
    /// decodes, left in flight. So 20 steps, of which steps 2 ... 20 are not planned but the
    /// last is completed as usual: 19 fast-forwarded.
    func testAStretchGoesOnPastARequestThatFinishes() throws {
        let c = Case(label: "two", trace: makeTrace([(0, 100, 3), (0, 100, 20)]), config: try config())
        let (stepped, _) = try run(c, fastForward: false)
        let (forwarded, skipped) = try run(c, fastForward: true)
        XCTAssertEqual(stepped.counters.steps, 20)
        XCTAssertEqual(skipped, 19)
        XCTAssertEqual(fingerprint(forwarded), fingerprint(stepped))
        // The short request's last token is step 3's; the long one's step 20's.
        XCTAssertLessThan(forwarded.requests.finish[0], forwarded.requests.finish[1])
    }

    /// A stretch that begins at a step admitting arrivals: request 0 (output 2000, tens of
    /// seconds of decodes) runs alone from t = 0; requests 1 (output 1) and 2 (output 4) arrive
    /// together at 1 s and are admitted in one step beside its decode. That step samples for all
    /// three and nothing waits, so no later step is planned: its completion finishes request 1
    /// (its first token is its last), request 2 finishes 3 decodes later, and request 0 decodes
    /// on to its end. Planned: request 0's prefill and the admitting step, all others skipped.
    /// (A scheduler without `steadyAdmission`: with it the arrivals would join the stretch.)
    func testAStretchBeginsAtTheStepThatAdmits() throws {
        let c = Case(label: "admitting", trace: makeTrace([(0, 100, 2000), (1.0, 50, 1), (1.0, 60, 4)]),
                     config: try config(), scheduler: { PlainFCFS() })
        let forwarded = try forwarded(c, planned: 2)
        XCTAssertEqual(forwarded.requests.firstToken[1], forwarded.requests.finish[1])
        XCTAssertEqual(forwarded.requests.firstToken[2], forwarded.requests.finish[1])
        XCTAssertLessThan(forwarded.requests.finish[1], forwarded.requests.finish[2])
        XCTAssertLessThan(forwarded.requests.finish[2], forwarded.requests.finish[0])
    }

    let joiningTrace = makeTrace([(0, 100, 4000), (1.0, 50, 1), (1.0, 60, 4), (2.0, 80, 30), (5.0, 5000, 5)])

    /// Arrivals joining a stretch (vllm declares `steadyAdmission`). Request 0 (prompt 100,
    /// output 4000: about 30 s of decodes on an A100) runs alone from t = 0; requests 1 (output
    /// 1) and 2 (output 4) arrive at 1 s, request 3 (output 30) at 2 s: each is admitted beside
    /// the decodes inside the stretch that began after request 0's prefill, so no step after that
    /// first one is planned until request 4 arrives at 5 s (the others done by then) with a
    /// 5,000-token prompt and a budget of 2,048: its admitting step takes 2,047 tokens beside
    /// request 0's decode and leaves prompt to compute, so the stretch ends there; steps with its
    /// chunks of 2,047 and 906 are planned, the second samples for both, and the stretch that
    /// begins there lasts to the end. Planned: 3 steps.
    func testArrivalsJoinAStretch() throws {
        let forwarded = try forwarded(Case(label: "joining", trace: joiningTrace, config: try config()), planned: 3)
        // Request 1's first token is its last; 2 and 3 start at their admitting steps' ends.
        XCTAssertEqual(forwarded.requests.firstToken[1], forwarded.requests.finish[1])
        XCTAssertEqual(forwarded.requests.firstToken[2], forwarded.requests.finish[1])
        XCTAssertLessThan(forwarded.requests.finish[3], forwarded.requests.firstToken[4])
        XCTAssertLessThan(forwarded.requests.finish[4], forwarded.requests.finish[0])
    }

    /// The same without `steadyAdmission` (a plugin's default): stretches stop at arrivals, and
    /// every admitting step is planned (here 1 + 3 admitting steps + the two chunk steps).
    func testWithoutSteadyAdmissionArrivalsEndStretches() throws {
        _ = try forwarded(Case(label: "plain", trace: joiningTrace, config: try config(), scheduler: { PlainFCFS() }), planned: 6)
    }

    /// The stretch's largest gap from a completion on, against the maximum taken over the gaps
    /// themselves, after every addition (gaps from a small range, so ties and runs occur).
    func testSuffixMaximaIsTheLargestGapFromACompletionOn() {
        var peaks = SuffixMaxima()
        var gaps: [Int64] = []
        var state: UInt64 = 12345
        for completion in Int32(2)...Int32(120) {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let gap = Int64(state >> 59)  // 0 ... 31
            peaks.add(gap, at: completion)
            gaps.append(gap)
            for from in Int32(0)...(completion + 1) {
                let expected = gaps.indices.filter { Int32($0) + 2 >= from }.map { gaps[$0] }.max() ?? 0
                XCTAssertEqual(peaks.largest(from: from), expected, "after completion \(completion), from \(from)")
            }
        }
    }

    /// New blocks to grow by, against ⌈tokens / size⌉ − held by definition.
    func testBlocksToGrowIsTheCeilingLessTheBlocksHeld() {
        for size in [1, 7, 16] {
            for held in 0...4 {
                for tokens in 0...80 {
                    let ceiling = (tokens + size - 1) / size
                    XCTAssertEqual(StepLimits.blocksToGrow(holding: held, toTokens: tokens, blockSize: size), max(0, ceiling - held),
                                   "size \(size), held \(held), tokens \(tokens)")
                }
            }
        }
    }

    /// Idle stretches are long at low load: most steps are skipped (not a timing test: the count).
    func testMostDecodeStepsOfALightLoadAreSkipped() throws {
        let c = Case(label: "light", trace: try workload(200, rate: 0.2, seed: 21, output: 400), config: try config())
        let (result, skipped) = try run(c, fastForward: true)
        XCTAssertGreaterThan(Double(skipped), 0.8 * Double(result.counters.steps))
    }
}

/// The last token of a chunked prompt, computed alone after cached ones, is priced like a decode
/// but is prompt work: the time series' prompt tokens add up to every prompt (found by the
/// property tests: sarathi splitting a 1,310-token prompt left a one-token chunk).
final class PromptWorkTests: XCTestCase {
    func testOneTokenPromptChunksCountAsPromptWork() throws {
        let trace = makeTrace([(0, 1, 3), (0, 1310, 1), (0, 87, 1), (0, 137, 1)])
        var c = ClusterConfig(hardware: try HardwareCatalog.resolve("H100"), model: try llama8B())
        c.knobs.numGPUBlocksOverride = 200
        c.knobs.maxNumSeqs = 4
        let (r, _) = try simulate(trace, c, scheduler: { SarathiScheduler() })
        XCTAssertEqual(r.counters.preemptions, 0)
        XCTAssertEqual(r.timeSeries.promptTokens.reduce(0, +), 1 + 1310 + 87 + 137)
    }
}
