import Benchmark
import Foundation
import Schedulers
import ServeSim
import Workbench
import Workload

// The standard harness's suite (`make bench`; `make bench-baseline` records a baseline,
// `make bench-compare` prints the change against it). Each benchmark is one whole operation on
// the same 1,000,000-request ShareGPT-like workload `smartserve-bench` reports, so a regression
// shows here as a ratio and there as a figure against its target.

/// Built once, outside any measurement.
nonisolated(unsafe) var workload: Trace?
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("smartserve-benchmarks")

func trace() throws -> Trace {
    if let workload { return workload }
    let t = try BenchmarkWorkloads.shareGPTLike(1_000_000)
    workload = t
    return t
}

func simulate(fastForward: Bool) throws -> RunResult {
    let sim = try Simulator(trace: try trace(), config: try BenchmarkWorkloads.h100(), makeScheduler: { VLLMScheduler() })
    sim.fastForward = fastForward
    return try sim.run()
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .cpuTotal, .instructions, .mallocCountTotal, .peakMemoryResident],
                                           warmupIterations: 0, maxDuration: .seconds(120), maxIterations: 3)
    let burstGPT = folder.appendingPathComponent("bench-1m.burstgpt.csv").path

    Benchmark("load 1M requests (BurstGPT CSV)", closure: { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try TraceLoader.load(burstGPT).0.count) }
    }, setup: {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try TraceWriter.write(try trace(), as: .burstGPT, to: burstGPT)
    }, teardown: { try? FileManager.default.removeItem(atPath: burstGPT) })

    Benchmark("simulate 1M requests on H100 (fast-forward)", closure: { benchmark in
        _ = try trace()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(try simulate(fastForward: true).counters.steps) }
    })

    Benchmark("simulate 1M requests on H100 (every step)", closure: { benchmark in
        _ = try trace()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(try simulate(fastForward: false).counters.steps) }
    })

    let output = folder.appendingPathComponent("requests.csv").path
    Benchmark("simulate 1M requests on H100 with --output", closure: { benchmark in
        _ = try trace()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { try RunReport.writeRequestsCSV(try simulate(fastForward: true), to: output) }
    }, setup: { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) },
       teardown: { try? FileManager.default.removeItem(atPath: output) })
}
