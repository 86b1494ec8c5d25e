import XCTest
@testable import ServeSim
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

/// A deliberately simple device: round numbers, perfect efficiency (attention included), no kernel
/// latency, no mixed-batch penalty and no CPU overhead, so step times can be worked out by hand.
func simpleHardware() -> HardwareProfile {
    HardwareProfile(name: "test", memoryGB: 80, memoryBandwidthGBs: 1000, tflops: 100, linkBandwidthGBs: 100,
                    linkLatencyUs: 0, hostBandwidthGBs: 10, computeEfficiency: 1, memoryEfficiency: 1, attentionEfficiency: 1,
                    stepOverheadMs: 0, perSequenceOverheadUs: 0, nonTorchOverheadGB: 0, kernelLatencyUs: 0, mixedBatchAttentionFactor: 1)
}

func llama8B() throws -> ModelSpec { try ModelCatalog.resolve("meta-llama/Llama-3.1-8B") }

func simulate(_ trace: Trace, _ config: ClusterConfig, scheduler: @escaping () -> any StepScheduler = { VLLMScheduler() },
         router: (any RequestRouter)? = nil) throws -> (RunResult, Simulator) {
    let sim = try Simulator(trace: trace, config: config, makeScheduler: scheduler, router: router)
    return (try sim.run(), sim)
}
