import XCTest
@testable import ServeSim
import ServeAPI
import Workload

/// Every kind of invalid plan is refused, with the fault named (the engine's `PlanValidator`).
final class PlanValidatorTests: XCTestCase {
    /// A scheduler that plays a script: step number (from 1), the view, the plan to fill. It
    /// counts steps, so it must see every one (no decode fast-forward).
    final class Scripted: StepScheduler {
        let name = "scripted"
        let preemption = PreemptionMode.recompute
        var capabilities: SchedulerCapabilities { SchedulerCapabilities(steadyDecode: false) }
        var step = 0
        let script: (Int, InstanceView, inout StepPlan) -> Void
        init(_ script: @escaping (Int, InstanceView, inout StepPlan) -> Void) { self.script = script }
        func plan(_ view: InstanceView, into plan: inout StepPlan) {
            step += 1
            script(step, view, &plan)
        }
    }

    /// Admits every waiting request's whole prompt and decodes every running one, with no checks.
    static func naive(_ view: InstanceView, _ plan: inout StepPlan) {
        for r in view.running { plan.work.append(ScheduledWork(request: r, tokens: Int32(view.requests.pendingTokens(r)))) }
        for r in view.waiting { plan.work.append(ScheduledWork(request: r, tokens: Int32(view.requests.pendingTokens(r)))) }
    }

    func fault(_ rows: [(Double, Int32, Int32)], blocks: Int? = nil, budget: Int = 2048, seats: Int = 256, chunked: Bool = true,
               _ script: @escaping (Int, InstanceView, inout StepPlan) -> Void) throws -> PlanFault? {
        var c = ClusterConfig(hardware: simpleHardware(), model: try llama8B())
        c.knobs.numGPUBlocksOverride = blocks
        c.knobs.maxNumBatchedTokens = budget
        c.knobs.maxNumSeqs = seats
        c.knobs.chunkedPrefill = chunked
        do {
            _ = try Simulator(trace: makeTrace(rows), config: c, makeScheduler: { Scripted(script) }).run()
            return nil
        } catch let e as SimulationError {
            XCTAssertTrue(e.description.hasPrefix("scheduler 'scripted' produced an invalid plan on instance 0: "), e.description)
            return e.fault
        }
    }

    let two: [(Double, Int32, Int32)] = [(0, 64, 40), (0, 64, 40)]

    func testPreemptingAWaitingRequest() throws {
        XCTAssertEqual(try fault(two) { _, v, p in p.preempted.append(v.waiting[0]) }, .preemptedNotRunning(request: 0))
    }

    func testPreemptingTwice() throws {
        XCTAssertEqual(try fault(two) { step, v, p in
            if step == 1 { Self.naive(v, &p) } else { p.preempted += [v.running[0], v.running[0]] }
        }, .preemptedTwice(request: 0))
    }

    func testSchedulingARequestThatIsNotHere() throws {
        XCTAssertEqual(try fault(two) { _, _, p in p.work.append(ScheduledWork(request: 7, tokens: 1)) }, .notHere(request: 7))
    }

    func testSchedulingTwice() throws {
        XCTAssertEqual(try fault(two) { _, v, p in p.work += [ScheduledWork(request: v.waiting[0], tokens: 1), ScheduledWork(request: v.waiting[0], tokens: 1)] },
                       .scheduledTwice(request: 0))
    }

    func testAdmittingBeyondFreeBlocks() throws {
        // 8 blocks of 16 tokens; two 100-token prompts need 7 each: the second finds 1 free.
        XCTAssertEqual(try fault([(0, 100, 10), (0, 100, 10)], blocks: 8) { _, v, p in Self.naive(v, &p) },
                       .admissionBlocks(request: 1, need: 7, free: 1))
    }

    func testGrowingBeyondFreeBlocks() throws {
        // Two 64-token prompts fill the 8 blocks; their first decodes each need a fifth block.
        XCTAssertEqual(try fault(two, blocks: 8) { _, v, p in Self.naive(v, &p) }, .growthBlocks(request: 0, need: 1, free: 0))
    }

    func testZeroOrTooManyTokens() throws {
        XCTAssertEqual(try fault(two) { _, v, p in p.work.append(ScheduledWork(request: v.waiting[0], tokens: 0)) },
                       .tokenCount(request: 0, tokens: 0, pending: 64))
        XCTAssertEqual(try fault(two) { _, v, p in p.work.append(ScheduledWork(request: v.waiting[0], tokens: 65)) },
                       .tokenCount(request: 0, tokens: 65, pending: 64))
    }

    func testSplittingAPromptWithChunkedPrefillOff() throws {
        XCTAssertEqual(try fault(two, chunked: false) { _, v, p in p.work.append(ScheduledWork(request: v.waiting[0], tokens: 32)) },
                       .splitPrompt(request: 0, tokens: 32, pending: 64))
    }

    func testExceedingTheBudget() throws {
        XCTAssertEqual(try fault(two, budget: 100) { _, v, p in Self.naive(v, &p) }, .overBudget(tokens: 128, budget: 100))
    }

    func testExceedingTheSeats() throws {
        XCTAssertEqual(try fault(two, seats: 1) { _, v, p in Self.naive(v, &p) }, .overSeats(running: 2, maxSeqs: 1))
    }

    func testAValidPlanRunsToTheEnd() throws {
        // The same naive plan is valid with room for both: the run completes.
        XCTAssertNil(try fault(two) { _, v, p in Self.naive(v, &p) })
    }
}
