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
