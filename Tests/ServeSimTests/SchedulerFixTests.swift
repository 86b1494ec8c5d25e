import XCTest
@testable import ServeSim
import Schedulers
import ServeAPI
import Workload

/// Regressions for the scheduler bugs found while building learned schedulers.
final class SchedulerFixTests: XCTestCase {
    func a100(_ blocks: Int, maxSeqs: Int = 256) throws -> ClusterConfig {
        var c = ClusterConfig(hardware: try HardwareCatalog.resolve("A100-80G"), model: try llama8B())
        c.knobs.numGPUBlocksOverride = blocks
        c.knobs.maxNumSeqs = maxSeqs
        return c
    }

    /// Four equal requests that all need blocks at once on one level: MLFQ used to stall ("made
    /// no progress"); now it preempts the lowest-priority one and everyone finishes.
    func testMLFQDoesNotStallWhenEveryRunningRequestNeedsBlocks() throws {
        let trace = makeTrace((0..<4).map { _ in (0, 16, 300) })
        let (r, _) = try simulate(trace, try a100(40), scheduler: { MLFQScheduler() })
        XCTAssertTrue(r.requests.finish.allSatisfy { $0 > 0 })
        XCTAssertGreaterThan(r.counters.preemptions, 0)  // 4 × 316 tokens exceed 40 × 16
    }

    /// Orca with prefix caching schedules only the uncached part of a prompt.
    func testOrcaSubtractsTheCachedPrefix() throws {
        var trace = makeTrace([(0, 64, 4), (1, 64, 4)])
        // Both prompts start with the same three 16-token prefix units.
        trace.prefix = PrefixBlocks(blockTokens: 16, offsets: [0, 3, 6], ids: [0, 1, 2, 0, 1, 2], uniqueCount: 3)
        var config = try a100(1000)
        config.knobs.chunkedPrefill = false
        config.knobs.maxNumBatchedTokens = 4096
        let (r, _) = try simulate(trace, config, scheduler: { OrcaScheduler(reservation: .oracle, maxLength: 4096) })
        XCTAssertEqual(r.counters.prefixHitTokens, 48)
        XCTAssertTrue(r.requests.finish.allSatisfy { $0 > 0 })
    }

    /// SRPT weighs what preempting costs: a long prompt half way through (4,000 computed tokens,
    /// worth 4000 × 256 / 2048 = 500 decode slots to recompute) is kept, and short requests with
    /// less remaining work are preempted instead, though its 300 remaining tokens are the most.
    func testSRPTKeepsARequestThatIsExpensiveToRecompute() throws {
        var rows: [(arrival: Double, prompt: Int32, output: Int32)] = [(0, 4000, 300)]
        for k in 0..<12 { rows.append((1 + Double(k) * 0.01, 16, 100)) }
        let (r, _) = try simulate(makeTrace(rows), try a100(300), scheduler: { SRPTScheduler() })
        XCTAssertGreaterThan(r.counters.preemptions, 0, "4300 + 12 × 116 tokens exceed 300 × 16")
        XCTAssertEqual(r.requests.preemptions[0], 0)
    }
}

/// KV accounting by hand: internal fragmentation, reservation left unused, and both together.
final class KVWasteTests: XCTestCase {
    func config() throws -> ClusterConfig {
        var c = ClusterConfig(hardware: try HardwareCatalog.resolve("A100-80G"), model: try llama8B())
        c.knobs.numGPUBlocksOverride = 100
        return c
    }

    /// One request, prompt 20, one output token: a single step holding 20 tokens in 2 blocks.
    func testInternalFragmentationOfOneStep() throws {
        let (r, _) = try simulate(makeTrace([(0, 20, 1)]), try config())
        let s = RunSummary(r)
        XCTAssertEqual(s.fragmentation, 12.0 / 32, accuracy: 1e-12)
        XCTAssertEqual(s.reservedUnused, 0)
        XCTAssertEqual(s.kvWaste, s.fragmentation, accuracy: 1e-12)
    }

    /// Orca reserving max_len 64 (4 blocks) for the same request: half the reservation is never
    /// allocated, and 20 of the 64 reserved slots hold tokens.
    func testOrcaReservationIsCountedAsWaste() throws {
        var c = try config()
        c.knobs.chunkedPrefill = false
        c.knobs.maxNumBatchedTokens = 4096
        let (r, _) = try simulate(makeTrace([(0, 20, 1)]), c, scheduler: { OrcaScheduler(reservation: .max, maxLength: 64) })
        let s = RunSummary(r)
        XCTAssertEqual(s.fragmentation, 12.0 / 32, accuracy: 1e-12)
        XCTAssertEqual(s.reservedUnused, 0.5, accuracy: 1e-12)
        XCTAssertEqual(s.kvWaste, 1 - 20.0 / 64, accuracy: 1e-12)
    }

    /// Request 1 arrives during request 0's prefill (60 tokens, 4 blocks) and shares its three
    /// cached 16-token units. Step 2 holds request 0's 61 tokens in 4 blocks and request 1's 12
    /// private tokens in a fifth: 73 distinct tokens in 80 slots (the per-request sum, 121 tokens,
    /// used to be capped at 80, hiding the tails). Effective = (60·d1 + 73·d2) / (64·d1 + 80·d2).
    func testSharedPrefixBlocksAreCountedOnce() throws {
        var trace = makeTrace([(0, 60, 2), (1e-6, 60, 1)])
        trace.prefix = PrefixBlocks(blockTokens: 16, offsets: [0, 3, 6], ids: [0, 1, 2, 0, 1, 2], uniqueCount: 3)
        var durations: [Double] = []
        let sim = try Simulator(trace: trace, config: try config(), makeScheduler: { VLLMScheduler() })
        let r = try sim.run(Simulator.Hooks(step: { _, seconds in durations.append(seconds) }))
        XCTAssertEqual(r.counters.prefixHitTokens, 48)
        XCTAssertEqual(durations.count, 2)
        let (d1, d2) = (durations[0], durations[1])
        XCTAssertEqual(RunSummary(r).kvEffectiveUtilization, (60 * d1 + 73 * d2) / (64 * d1 + 80 * d2), accuracy: 1e-6)
    }
}

final class WindowGoodputTests: XCTestCase {
    /// Requests at 0, 1 and 2 s, each finishing well within its SLOs: the first two finish
    /// before the last arrival, the third after it. Window goodput = 2 / 2 s; makespan goodput
    /// = 3 / (last finish − 0).
    func testGoodputOverTheArrivalWindowIgnoresTheDrain() throws {
        let trace = makeTrace([(0, 16, 4), (1, 16, 4), (2, 16, 4)])
        let c = ClusterConfig(hardware: try HardwareCatalog.resolve("A100-80G"), model: try llama8B())
        let (r, _) = try simulate(trace, c)
        let s = RunSummary(r)
        XCTAssertEqual(s.sloAttainment, 1)
        XCTAssertLessThan(r.requests.finish[1], r.requests.arrival[2])
        XCTAssertEqual(s.goodputWindowRPS, 1, accuracy: 1e-12)
        XCTAssertEqual(s.goodputRPS, 3 / (Double(r.requests.finish[2]) / 1e9), accuracy: 1e-12)
    }
}
