import XCTest
@testable import ServeSim
import Schedulers
import ServeAPI
import Workload

final class EngineTests: XCTestCase {
    func defaultConfig() throws -> ClusterConfig {
        ClusterConfig(hardware: try HardwareCatalog.resolve("H100"), model: try llama8B())
    }

    func randomTrace(_ n: Int, seed: UInt64, rate: Double = 20) throws -> Trace {
        try SyntheticWorkload(count: n, arrivals: .gamma(rate: rate, shape: 0.5),
                              prompt: .logNormal(median: 400, sigma: 1, min: 1, max: 3000),
                              output: .logNormal(median: 120, sigma: 1, min: 1, max: 1500), seed: seed).generate()
    }

    func checkInvariants(_ r: RunResult, _ trace: Trace, file: StaticString = #filePath, line: UInt = #line) {
        let q = r.requests
        for i in 0..<q.count {
            XCTAssertGreaterThanOrEqual(q.firstScheduled[i], q.arrival[i], file: file, line: line)
            XCTAssertGreaterThan(q.firstToken[i], q.firstScheduled[i], file: file, line: line)
            XCTAssertGreaterThanOrEqual(q.finish[i], q.firstToken[i], file: file, line: line)
            if trace.outputTokens[i] == 1 { XCTAssertEqual(q.finish[i], q.firstToken[i], file: file, line: line) }
        }
    }

    /// Most requests in service at once: overlaps of [first scheduled, finish) (no preemption).
    func maxConcurrency(_ r: RunResult) -> Int {
        var events: [(Int64, Int)] = []
        for i in 0..<r.requests.count { events.append((r.requests.firstScheduled[i], 1)); events.append((r.requests.finish[i], -1)) }
        events.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
        var now = 0, peak = 0
        for e in events { now += e.1; peak = max(peak, now) }
        return peak
    }

    /// Once a run has ended, its result frees the columns only the step loop reads; a second
    /// `advance` stays finished and a second `result` is the same result. Before the end (a
    /// paused run) nothing is freed.
    func testResultFreesTheWorkingColumnsOnlyAtTheEnd() throws {
        let trace = try randomTrace(200, seed: 9)
        let sim = try Simulator(trace: trace, config: try defaultConfig(), makeScheduler: { VLLMScheduler() })
        let run = sim.start(Simulator.Hooks(decision: { _, _ in true }))
        guard case .decision = try run.advance() else { return XCTFail("expected a decision point") }
        _ = run.result()
        XCTAssertFalse(sim.table.workingColumnsReleased)
        while case .decision = try run.advance() {}
        let first = run.result()
        XCTAssertTrue(sim.table.workingColumnsReleased)
        XCTAssertEqual(try run.advance(), .finished)
        let second = run.result()
        XCTAssertEqual(first.requests.finish, second.requests.finish)
        XCTAssertEqual(first.requests.firstToken, second.requests.firstToken)
        for i in 0..<trace.count { XCTAssertEqual(sim.table.generated[i], trace.outputTokens[i]) }
    }

    func testInvariantsOnRandomTraces() throws {
        for seed in 1...4 as ClosedRange<UInt64> {
            let trace = try randomTrace(400, seed: seed)
            var c = try defaultConfig()
            c.knobs.numGPUBlocksOverride = 800 + Int(seed) * 300     // tight memory → preemptions
            c.knobs.maxNumSeqs = 64
            let (r, sim) = try simulate(trace, c)
            checkInvariants(r, trace)
            // Every request got all its tokens: the generated counters equal the outputs.
            for i in 0..<trace.count { XCTAssertEqual(sim.table.generated[i], trace.outputTokens[i]) }
            // No block leaked.
            XCTAssertEqual(sim.instances[0].kv.used, 0)
            XCTAssertLessThanOrEqual(r.counters.peakUsedBlocks, 800 + Int(seed) * 300)
            XCTAssertEqual(r.timeSeries.running.last, 0)
        }
    }

    func testPreemptionUnderMemoryPressureStillCompletesEverything() throws {
        // 20 requests of 200 + 300 tokens at once; 40 blocks of 16 tokens = 640 slots hold only
        // two full requests, so running decodes must preempt.
        let trace = makeTrace((0..<20).map { _ in (0.0, Int32(200), Int32(300)) })
        var c = try defaultConfig()
        c.knobs.numGPUBlocksOverride = 40
        let (r, sim) = try simulate(trace, c)
        XCTAssertGreaterThan(r.counters.preemptions, 0)
        checkInvariants(r, trace)
        for i in 0..<20 { XCTAssertEqual(sim.table.generated[i], 300) }
        XCTAssertEqual(sim.instances[0].kv.used, 0)
        // The time series' preemptions per interval add up to the requests' own counts, and
        // fall in intervals that had requests waiting (a preempted request goes back to wait).
        let perRequest = r.requests.preemptions.reduce(0) { $0 + Int($1) }
        XCTAssertEqual(r.timeSeries.preemptions.reduce(0) { $0 + Int($1) }, perRequest)
        XCTAssertEqual(perRequest, r.counters.preemptions)
        XCTAssertEqual(r.timeSeries.preemptions.count, r.timeSeries.running.count)
        for (k, p) in r.timeSeries.preemptions.enumerated() where p > 0 { XCTAssertGreaterThan(r.timeSeries.waiting[k], 0) }
    }

    func testSwapPreemptionKeepsComputedTokens() throws {
        let trace = makeTrace((0..<10).map { _ in (0.0, Int32(200), Int32(300)) })
        var c = try defaultConfig()
        c.knobs.numGPUBlocksOverride = 40
        let (r, _) = try simulate(trace, c, scheduler: { VLLMScheduler(preemption: .swap) })
        XCTAssertGreaterThan(r.counters.preemptions, 0)
        let (recompute, _) = try simulate(trace, c)
        // Swapping avoids recomputing prompts: fewer prefill tokens → fewer or equal steps.
        XCTAssertLessThan(r.timeSeries.promptTokens.reduce(0, +), recompute.timeSeries.promptTokens.reduce(0, +))
    }

    /// Issue 9: with swap preemption the KV accounting went negative (effective −125%). Stored
    /// tokens can never exceed allocated slots, nor allocated blocks the cache.
    func testKVAccountingInvariantsHoldUnderSwapAndRecompute() throws {
        let trace = try randomTrace(300, seed: 5, rate: 40)
        for mode in [PreemptionMode.swap, .recompute] {
            var c = try defaultConfig()
            c.knobs.numGPUBlocksOverride = 300
            let (r, _) = try simulate(trace, c, scheduler: { VLLMScheduler(preemption: mode) })
            XCTAssertGreaterThan(r.counters.preemptions, 0, "\(mode)")
            let s = RunSummary(r)
            XCTAssertGreaterThanOrEqual(s.kvEffectiveUtilization, 0, "\(mode)")
            XCTAssertLessThanOrEqual(s.kvEffectiveUtilization, 1, "\(mode)")
            XCTAssertGreaterThanOrEqual(s.fragmentation, 0, "\(mode)")
            XCTAssertLessThanOrEqual(s.fragmentation, 1, "\(mode)")
            XCTAssertLessThanOrEqual(s.kvUtilization, 1, "\(mode)")
            // Stored tokens never exceed the slots held: the raw integral obeys it without clamping.
            XCTAssertLessThanOrEqual(r.counters.storedTokenSeconds, r.counters.usedBlockSeconds * Double(c.knobs.blockSize) * (1 + 1e-12))
            XCTAssertGreaterThan(r.counters.storedTokenSeconds, 0)
        }
    }

    func testBitIdenticalAcrossRuns() throws {
        let trace = try randomTrace(500, seed: 11)
        var c = try defaultConfig()
        c.knobs.numGPUBlocksOverride = 2000
        let (a, _) = try simulate(trace, c)
        let (b, _) = try simulate(trace, c)
        XCTAssertEqual(a.requests.finish, b.requests.finish)
        XCTAssertEqual(a.requests.firstToken, b.requests.firstToken)
        XCTAssertEqual(a.itl, b.itl)
        XCTAssertEqual(a.counters.totalFLOPs, b.counters.totalFLOPs)
    }

    func testVLLMAdmissionOrderAndBudget() throws {
        // Two 1500-token prompts at t=0 with a 2048 budget: the first is prefilled whole, the second
        // gets the remaining 548 tokens in the same step (chunked prefill), then finishes its prompt.
        let trace = makeTrace([(0, 1500, 3), (0, 1500, 3)])
        var c = ClusterConfig(hardware: simpleHardware(), model: try llama8B())
        c.knobs.maxNumBatchedTokens = 2048
        let (r, _) = try simulate(trace, c)
        XCTAssertEqual(r.requests.firstScheduled[1], 0)
        XCTAssertLessThan(r.requests.firstToken[0], r.requests.firstToken[1])
        // Steps: [1500 + 548], [decode + 952], then decodes for both: 2 + 2 more steps → 4 total.
        XCTAssertEqual(r.counters.steps, 4)
        // Without chunked prefill (whole prompts only) the second waits for the next step.
        var whole = c
        whole.knobs.chunkedPrefill = false
        let (w, _) = try simulate(trace, whole)
        XCTAssertGreaterThan(w.requests.firstScheduled[1], 0)
    }

    func testMaxNumSeqsCapsTheBatch() throws {
        let trace = makeTrace((0..<10).map { _ in (0.0, Int32(10), Int32(50)) })
        var c = try defaultConfig()
        c.knobs.maxNumSeqs = 4
        let (r, _) = try simulate(trace, c)
        XCTAssertEqual(r.requests.firstScheduled.filter { $0 == 0 }.count, 4)
        XCTAssertEqual(maxConcurrency(r), 4)
    }

    func testPrefixCacheHits() throws {
        // Three requests share a 1024-token prefix (two 512-token units); the later ones reuse it.
        var t = makeTrace([(0, 1100, 2), (1, 1100, 2), (2, 1100, 2)])
        t.prefix = PrefixBlocks(blockTokens: 512, offsets: [0, 2, 4, 6], ids: [0, 1, 0, 1, 0, 1], uniqueCount: 2)
        let c = try defaultConfig()
        let (cached, sim) = try simulate(t, c)
        XCTAssertTrue(cached.counters.prefixCachingActive)
        XCTAssertEqual(cached.counters.prefixHitTokens, 2048)
        XCTAssertEqual(sim.instances[0].kv.used, 0)
        var off = c
        off.knobs.prefixCaching = false
        let (plain, _) = try simulate(t, off)
        let ttft = { (r: RunResult, i: Int) in r.requests.firstToken[i] - r.requests.arrival[i] }
        XCTAssertLessThan(ttft(cached, 1), ttft(plain, 1) / 3)
        XCTAssertEqual(ttft(cached, 0), ttft(plain, 0))
    }

    func testOrcaReservesAndNeverPreempts() throws {
        let trace = makeTrace((0..<20).map { _ in (0.0, Int32(200), Int32(300)) })
        var c = try defaultConfig()
        c.knobs.numGPUBlocksOverride = 80
        c.knobs.chunkedPrefill = false
        c.knobs.maxNumBatchedTokens = 8192
        let (r, _) = try simulate(trace, c, scheduler: { OrcaScheduler(reservation: .oracle) })
        XCTAssertEqual(r.counters.preemptions, 0)
        // 80 blocks / ceil(500/16)=32 blocks reserved each → at most 2 running at once.
        XCTAssertEqual(maxConcurrency(r), 2)
    }

    func testRoundRobinAcrossInstances() throws {
        let trace = makeTrace((0..<9).map { (Double($0) * 0.1, Int32(10), Int32(5)) })
        var c = try defaultConfig()
        c.instances = 3
        let (r, _) = try simulate(trace, c, router: RoundRobinRouter())
        XCTAssertEqual(r.requests.instance, [0, 1, 2, 0, 1, 2, 0, 1, 2])
        // Simultaneous arrivals: each goes to the emptiest instance, lowest index on ties.
        let burst = makeTrace((0..<9).map { _ in (0.0, Int32(10), Int32(5)) })
        let (l, _) = try simulate(burst, c, router: LeastOutstandingRouter())
        XCTAssertEqual(l.requests.instance, [0, 1, 2, 0, 1, 2, 0, 1, 2])
    }

    final class GreedyScheduler: StepScheduler {
        let name = "greedy-test"
        let preemption = PreemptionMode.recompute
        func plan(_ view: InstanceView, into plan: inout StepPlan) {
            for r in view.waiting { plan.work.append(ScheduledWork(request: r, tokens: Int32(view.requests.pendingTokens(r)))) }
            for r in view.running { plan.work.append(ScheduledWork(request: r, tokens: 1)) }
        }
    }

    func testInvalidPlanIsRefusedNamingTheScheduler() throws {
        let trace = makeTrace([(0, 1500, 2), (0, 1500, 2)])
        let c = try defaultConfig()
        XCTAssertThrowsError(try simulate(trace, c, scheduler: { GreedyScheduler() })) { e in
            XCTAssertEqual("\(e)", "scheduler 'greedy-test' produced an invalid plan on instance 0: 3000 tokens exceed the budget of 2048")
        }
    }

    func testImpossibleConfigurationsAreRefused() throws {
        var big = ClusterConfig(hardware: try HardwareCatalog.resolve("RTX3090"), model: try ModelCatalog.resolve("meta-llama/Llama-3.1-70B"))
        XCTAssertThrowsError(try big.validate()) { XCTAssertTrue("\($0)".contains("does not fit on RTX3090"), "\($0)") }
        big.tensorParallel = 3
        XCTAssertThrowsError(try big.validate()) { XCTAssertTrue("\($0)".contains("TP 3 does not divide the 64 attention heads"), "\($0)") }
        var c = try defaultConfig()
        c.knobs.numGPUBlocksOverride = 10
        XCTAssertThrowsError(try simulate(makeTrace([(0, 1000, 10)]), c)) {
            XCTAssertEqual("\($0)", "request 0 needs 64 KV blocks (1010 tokens / block size 16) but the cache holds only 10 blocks per instance")
        }
        XCTAssertThrowsError(try simulate(makeTrace([(0, 10, 0)]), try defaultConfig())) { XCTAssertTrue("\($0)".contains("at least 1 of each")) }
        XCTAssertThrowsError(try HardwareCatalog.resolve("GTX1080")) { XCTAssertTrue("\($0)".contains("unknown hardware 'GTX1080'")) }
        XCTAssertEqual(try HardwareCatalog.resolve("h100-sxm").name, "H100")
        XCTAssertEqual(try HardwareCatalog.resolve("rtx-pro-6000").name, "RTXPRO6000")
        // Fine-tuned variants share the base model's shape.
        XCTAssertEqual(try ModelCatalog.resolve("Qwen/Qwen2.5-7B-Instruct").layers, 28)
        XCTAssertEqual(try ModelCatalog.resolve("meta-llama/Meta-Llama-3.1-70B-Instruct").hidden, 8192)
        XCTAssertEqual(try ModelCatalog.resolve("Llama-3.1-8B").name, "meta-llama/Llama-3.1-8B")
    }

    func testMoEAndHuggingFaceImport() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let json = """
        {"_name_or_path": "test/moe", "model_type": "mixtral", "hidden_size": 4096, "num_attention_heads": 32,
         "num_key_value_heads": 8, "num_hidden_layers": 32, "intermediate_size": 14336, "vocab_size": 32000,
         "num_local_experts": 8, "num_experts_per_tok": 2, "torch_dtype": "bfloat16", "max_position_embeddings": 32768}
        """
        try json.write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        let m = try ModelCatalog.resolve(dir.path)
        XCTAssertEqual(m.experts, 8)
        XCTAssertEqual(m.expertsPerToken, 2)
        // Mixtral-8x7B: 46.7 B parameters (public figure).
        XCTAssertEqual(Double(m.parameterCount) / 1e9, 46.7, accuracy: 0.1)
        var c = ClusterConfig(hardware: try HardwareCatalog.resolve("H100"), model: m)
        c.tensorParallel = 2
        let (r, _) = try simulate(makeTrace([(0, 100, 10)]), c)
        XCTAssertEqual(r.requests.finish.count, 1)
        try "{\"hidden_size\": 10}".write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ModelCatalog.resolve(dir.path)) { XCTAssertTrue("\($0)".contains("missing integer key 'num_attention_heads'")) }
    }

    func testSummaryDefinitions() throws {
        let trace = makeTrace([(0, 100, 11), (0.5, 100, 1)])
        var c = try defaultConfig()
        c.slo = SLO(ttft: 10, tpot: 10, e2e: nil)
        let (r, _) = try simulate(trace, c)
        let s = RunSummary(r)
        let q = r.requests
        // TPOT only over requests with more than one output token: request 0 alone.
        XCTAssertEqual(s.tpot.count, 1)
        XCTAssertEqual(s.tpot.mean, Double(q.finish[0] - q.firstToken[0]) / 1e9 / 10, accuracy: 1e-12)
        XCTAssertEqual(s.makespan, Double(max(q.finish[0], q.finish[1])) / 1e9, accuracy: 1e-12)
        XCTAssertEqual(s.throughputRPS, 2 / s.makespan, accuracy: 1e-12)
        XCTAssertEqual(s.sloAttainment, 1)
        // ITL: 10 gaps of request 0 pooled.
        XCTAssertEqual(s.itl.count, 10)
    }
}

final class RequestQueueTests: XCTestCase {
    func testPushesAndRemovals() {
        let q = RequestQueue(capacity: 16)
        for r in 0..<40 { q.pushBack(Int32(r)) }          // grows past its capacity
        q.pushFront(-1)
        q.pushFront(-2)
        XCTAssertEqual(Array(q.buffer.prefix(4)), [-2, -1, 0, 1])
        // A prefix (the FCFS case) and then scattered elements, order kept.
        q.remove(count: 2) { $0 < 0 }
        XCTAssertEqual(q[0], 0)
        q.remove(count: 3) { [5, 17, 39].contains($0) }
        XCTAssertEqual(q.count, 37)
        XCTAssertEqual(Array(q.buffer), (0..<40).map(Int32.init).filter { ![5, 17, 39].contains($0) })
        q.remove(count: 37) { _ in true }
        XCTAssertTrue(q.isEmpty)
    }
}
