import PropertyBased
import Schedulers
import ServeAPI
@testable import ServeSim
import Testing
import Workload

/// The engine's invariants, checked on generated workloads and configurations (shrunk to a
/// smallest failing case when one breaks): whatever the scheduler, memory and batch limits,
/// every request finishes in causal order, no KV block leaks or overflows, every preemption is
/// counted once, and the same inputs give the same run.
@Suite struct EngineProperties {
    /// Up to 40 requests: (gap after the previous arrival in ms, prompt tokens, output tokens).
    static let requests = zip(Gen.int(in: 0...1500), Gen.int(in: 1...2000), Gen.int(in: 1...600)).array(of: 1...40)
    static let schedulers = ["vllm", "sarathi", "orca", "llmservingsim", "mlfq", "vllm:preemption=swap", "srpt", "sjf"]

    static func trace(_ rows: [(Int, Int, Int)]) -> Trace {
        var t = Trace()
        var clock: Int64 = 0
        for (gap, prompt, output) in rows {
            clock += Int64(gap) * 1_000_000
            t.arrivals.append(clock)
            t.promptTokens.append(Int32(prompt))
            t.outputTokens.append(Int32(output))
        }
        return t
    }

    static func run(_ trace: Trace, scheduler spec: String, blocks: Int, seats: Int, chunked: Bool,
                    blockSize: Int = 16, fastForward: Bool = true) throws -> (RunResult, Simulator) {
        Builtins.register()
        var c = ClusterConfig(hardware: try HardwareCatalog.resolve("H100"), model: try ModelCatalog.resolve("meta-llama/Llama-3.1-8B"))
        // 200 blocks of 16 tokens hold the longest generated request (2,600 tokens).
        c.knobs.numGPUBlocksOverride = blocks
        c.knobs.maxNumSeqs = seats
        c.knobs.chunkedPrefill = chunked
        c.knobs.prefixCaching = false
        c.knobs.blockSize = blockSize
        let s = try NamedSpec(parsing: spec, what: "scheduler")
        let entry = try Registries.schedulers.entry(named: s.name)
        let sim = try Simulator(trace: trace, config: c, makeScheduler: { try entry.instantiate(s.options) })
        sim.fastForward = fastForward
        return (try sim.run(), sim)
    }

    @Test func everyRequestFinishesInOrderWithinMemory() async {
        await propertyCheck(count: 60, input: Self.requests, Gen.int(in: 0...(Self.schedulers.count - 1)).map { Self.schedulers[$0] }, Gen.int(in: 200...800), Gen.int(in: 1...64), Gen.bool) {
            rows, scheduler, blocks, seats, chunked in
            let trace = Self.trace(rows)
            let (r, sim) = try Self.run(trace, scheduler: scheduler, blocks: blocks, seats: seats, chunked: chunked)
            let q = r.requests
            for i in 0..<trace.count {
                #expect(q.arrival[i] <= q.firstScheduled[i])
                #expect(q.firstScheduled[i] < q.firstToken[i])
                #expect(q.firstToken[i] <= q.finish[i])
                #expect(sim.table.generated[i] == trace.outputTokens[i], "request \(i) got every output token")
                if trace.outputTokens[i] == 1 { #expect(q.finish[i] == q.firstToken[i]) }
            }
            #expect(r.counters.peakUsedBlocks <= blocks)
            #expect(sim.instances[0].kv.used == 0, "no block outlives the run")
            #expect(r.timeSeries.running.last == 0 && r.timeSeries.waiting.last == 0)
            // Every prompt token is computed before its first token (more with recompute).
            let prompts = trace.promptTokens.reduce(0.0) { $0 + Double($1) }
            #expect(r.timeSeries.promptTokens.reduce(0, +) >= prompts)
            // One count per preemption, wherever it is read.
            let perRequest = q.preemptions.reduce(0) { $0 + Int($1) }
            #expect(perRequest == r.counters.preemptions)
            #expect(r.timeSeries.preemptions.reduce(0) { $0 + Int($1) } == perRequest)
        }
    }

    /// Decode fast-forward (stretches through finishing requests, block crossings at any block
    /// size, preemption at the KV limit) is invisible: every per-request column, counter and
    /// time-series value is the step-by-step run's.
    @Test func fastForwardGivesTheStepByStepRun() async {
        await propertyCheck(count: 40, input: Self.requests, Gen.int(in: 0...(Self.schedulers.count - 1)).map { Self.schedulers[$0] },
                            Gen.int(in: 200...800), Gen.int(in: 1...64), Gen.int(in: 1...33)) { rows, scheduler, blocks, seats, blockSize in
            let trace = Self.trace(rows)
            // 200 blocks of 16 tokens hold the longest request: keep that capacity in tokens.
            let scaled = max(blocks * 16 / blockSize, 2_600 / blockSize + 1)
            let (stepped, _) = try Self.run(trace, scheduler: scheduler, blocks: scaled, seats: seats, chunked: true, blockSize: blockSize, fastForward: false)
            let (forwarded, _) = try Self.run(trace, scheduler: scheduler, blocks: scaled, seats: seats, chunked: true, blockSize: blockSize)
            #expect(String(describing: forwarded.requests) == String(describing: stepped.requests))
            #expect(String(describing: forwarded.timeSeries) == String(describing: stepped.timeSeries))
            #expect(String(describing: forwarded.counters) == String(describing: stepped.counters))
            #expect(forwarded.itl.counts == stepped.itl.counts && forwarded.itl.sum == stepped.itl.sum)
        }
    }

    @Test func theSameInputsGiveTheSameRun() async {
        await propertyCheck(count: 25, input: Self.requests, Gen.int(in: 0...(Self.schedulers.count - 1)).map { Self.schedulers[$0] }, Gen.int(in: 200...800)) { rows, scheduler, blocks in
            let trace = Self.trace(rows)
            let (a, _) = try Self.run(trace, scheduler: scheduler, blocks: blocks, seats: 16, chunked: true)
            let (b, _) = try Self.run(trace, scheduler: scheduler, blocks: blocks, seats: 16, chunked: true)
            #expect(a.requests.finish == b.requests.finish)
            #expect(a.requests.firstToken == b.requests.firstToken)
            #expect(a.counters.steps == b.counters.steps)
        }
    }
}
