import XCTest
@testable import ServeSim
import Workload
import Schedulers

/// A single request alone, priced by hand from the model's shape (reference §2, §6) on a device
/// with 100 TFLOP/s, 1000 GB/s, perfect efficiency, no kernel latency and no overhead.
final class RooflineHandTests: XCTestCase {
    let F = 100e12, B = 1000e9

    /// A kernel's time: compute and memory time blended as √(compute² + memory²).
    func max(_ compute: Double, _ memory: Double) -> Double { (compute * compute + memory * memory).squareRoot() }

    /// A GEMM of T tokens by a K×N bf16 weight.
    func gemm(_ T: Double, _ K: Double, _ N: Double) -> Double {
        max(2 * T * K * N / F, (K * N + T * (K + N)) * 2 / B)
    }

    /// One Llama-3.1-8B step on one device: T new tokens, `pairs` causal attention pairs,
    /// `ctx` context tokens read, `prefill` whether the tokens are a prompt chunk.
    func llamaStep(T: Double, pairs: Double, ctx: Double, prefillTokens: Double, decodes: Double, sampled: Double) -> Double {
        let H = 4096.0, d = 128.0, q = 32.0, kv = 8.0, ffn = 14336.0, V = 128256.0
        var layer = gemm(T, H, (q + 2 * kv) * d) + gemm(T, q * d, H) + gemm(T, H, 2 * ffn) + gemm(T, ffn, H)
        let kvBytesPerToken = 2 * kv * d * 2                       // K and V, bf16, one layer
        if prefillTokens > 0 {
            layer += max(4 * q * d * pairs / F, (ctx * kvBytesPerToken + prefillTokens * 2 * q * d * 2) / B)
        }
        if decodes > 0 {
            layer += max(4 * q * d * ctx / F, (ctx * kvBytesPerToken + decodes * 2 * q * d * 2) / B)
        }
        layer += max(10 * T * H / F, (10 * T * H + 3 * T * ffn) * 2 / B)   // norms, residuals, activation
        // The LM head runs only when some row samples a token.
        let lmHead = sampled > 0 ? max(2 * sampled * H * V / F, (H * V + sampled * H) * 2 / B + sampled * V * 4 / B) : 0
        return 32 * layer + lmHead
    }

    func testSingleRequestTTFTAndDecodeSteps() throws {
        var c = ClusterConfig(hardware: simpleHardware(), model: try llama8B())
        c.knobs.maxNumBatchedTokens = 2048
        let trace = makeTrace([(0, 1000, 5)])
        let (r, _) = try simulate(trace, c)
        // Prefill: 1000 tokens, causal pairs 1000 × (0 + 1001/2), context 1000, samples the first token.
        let prefill = llamaStep(T: 1000, pairs: 1000 * 500.5, ctx: 1000, prefillTokens: 1000, decodes: 0, sampled: 1)
        let ttft = Double(r.requests.firstToken[0]) / 1e9
        XCTAssertEqual(ttft, prefill, accuracy: 2e-9)
        // Then exactly output − 1 = 4 decode steps, the k-th reading 1000 + k context tokens.
        XCTAssertEqual(r.counters.steps, 5)
        var e2e = prefill
        for k in 1...4 { e2e += llamaStep(T: 1, pairs: 0, ctx: 1000 + Double(k), prefillTokens: 0, decodes: 1, sampled: 1) }
        XCTAssertEqual(Double(r.requests.finish[0]) / 1e9, e2e, accuracy: 1e-8)
        // Sanity on magnitudes: a decode step reads the 16.06 GB of weights, ≈ 16 ms at 1000 GB/s.
        let decode = llamaStep(T: 1, pairs: 0, ctx: 1001, prefillTokens: 0, decodes: 1, sampled: 1)
        XCTAssertEqual(decode, 16.06e9 / B, accuracy: 0.001)
    }

    func testGenerationOnlyModeSkipsThePrefill() throws {
        // LLMServingSim's --gen: the prompt's KV is there on arrival; the first step is a decode
        // over 1000 tokens of context, and it samples the first token.
        var c = ClusterConfig(hardware: simpleHardware(), model: try llama8B())
        c.knobs.skipPrefill = true
        let (r, _) = try simulate(makeTrace([(0, 1000, 3)]), c)
        let first = llamaStep(T: 1, pairs: 0, ctx: 1000, prefillTokens: 0, decodes: 1, sampled: 1)
        XCTAssertEqual(Double(r.requests.firstToken[0]) / 1e9, first, accuracy: 2e-9)
        XCTAssertEqual(r.counters.steps, 3)
    }

    func testChunkedPrefillSplitsALongPrompt() throws {
        var c = ClusterConfig(hardware: simpleHardware(), model: try llama8B())
        c.knobs.maxNumBatchedTokens = 512
        let (r, _) = try simulate(makeTrace([(0, 1200, 2)]), c)
        // Chunks of 512, 512, 176 (the last samples the first token), then one decode.
        XCTAssertEqual(r.counters.steps, 4)
        let chunks = llamaStep(T: 512, pairs: 512 * 256.5, ctx: 512, prefillTokens: 512, decodes: 0, sampled: 0)
            + llamaStep(T: 512, pairs: 512 * (512 + 256.5), ctx: 1024, prefillTokens: 512, decodes: 0, sampled: 0)
            + llamaStep(T: 176, pairs: 176 * (1024 + 88.5), ctx: 1200, prefillTokens: 176, decodes: 0, sampled: 1)
        XCTAssertEqual(Double(r.requests.firstToken[0]) / 1e9, chunks, accuracy: 3e-9)
    }

    func testKVCapacityFormula() throws {
        // 80 GB × 0.9 = 72 GB; weights 16.06 GB; activations 2048 × (4·4096 + 2·14336) × 2 B
        // + 256 × 128256 × 4 B; block = 16 × 131072 B.
        var c = ClusterConfig(hardware: simpleHardware(), model: try llama8B())
        c.knobs.maxNumSeqs = 256
        let weights = 8_030_261_248.0 * 2
        let hiddenActivations: Double = 2048.0 * (4.0 * 4096.0 + 2.0 * 14336.0) * 2.0
        let logits: Double = 256.0 * 128256.0 * 4.0
        let act = hiddenActivations + logits
        let blockBytes: Double = 16.0 * 131072.0
        let expected = Int((72e9 - weights - act) / blockBytes)
        XCTAssertEqual(c.model.parameterCount, 8_030_261_248)
        XCTAssertEqual(c.model.kvBytesPerToken, 131_072)
        XCTAssertEqual(try c.kvBlocks(), expected)
        c.knobs.numGPUBlocksOverride = 100
        XCTAssertEqual(try c.kvBlocks(), 100)
    }

    func testTensorParallelAddsAllReduce() throws {
        var c = ClusterConfig(hardware: simpleHardware(), model: try llama8B())
        c.tensorParallel = 2
        let one = RooflineModel(config: ClusterConfig(hardware: simpleHardware(), model: try llama8B()))
        let two = RooflineModel(config: c)
        var s = StepShape()
        s.add(newTokens: 1, cached: 100, samples: true)
        // Halving the weights per device roughly halves a decode step; the all-reduce adds
        // 2 per layer × 32 layers × (2·(2−1)/2 × 4096 × 2 B / 100 GB/s).
        let allReduce = 64 * (4096.0 * 2 / 100e9)
        XCTAssertLessThan(two.cost(s).seconds, one.cost(s).seconds * 0.55 + allReduce)
        XCTAssertGreaterThan(two.cost(s).seconds, one.cost(s).seconds * 0.45)
    }

    /// The run's pricer keeps the per-batch-size terms between steps: decode batches of 3, 1 and
    /// 3 again (contexts differing each time), a prompt step with as many tokens as a decode batch
    /// but one sampled row, and an empty step, each against the hand formula, and to the bit
    /// against `cost` of the same shape.
    func testThePricerKeepsNoStaleTerms() throws {
        let model = RooflineModel(config: ClusterConfig(hardware: simpleHardware(), model: try llama8B()))
        let price = model.pricer
        func decodes(_ contexts: [Int]) -> StepShape {
            var s = StepShape()
            for c in contexts { s.add(newTokens: 1, cached: c - 1, samples: true) }
            return s
        }
        var prompt = StepShape()
        prompt.add(newTokens: 3, cached: 0, samples: true)
        let steps: [(StepShape, Double)] = [
            (decodes([100, 200, 300]), llamaStep(T: 3, pairs: 0, ctx: 600, prefillTokens: 0, decodes: 3, sampled: 3)),
            (decodes([1000]), llamaStep(T: 1, pairs: 0, ctx: 1000, prefillTokens: 0, decodes: 1, sampled: 1)),
            (decodes([101, 201, 301]), llamaStep(T: 3, pairs: 0, ctx: 603, prefillTokens: 0, decodes: 3, sampled: 3)),
            // A 3-token prompt: 3 × (0 + 4/2) causal pairs, 3 tokens of context, one row sampled.
            (prompt, llamaStep(T: 3, pairs: 6, ctx: 3, prefillTokens: 3, decodes: 0, sampled: 1)),
            (decodes([100, 200, 300]), llamaStep(T: 3, pairs: 0, ctx: 600, prefillTokens: 0, decodes: 3, sampled: 3)),
            (StepShape(), 0),
        ]
        for (k, (shape, seconds)) in steps.enumerated() {
            let kept = price(shape)
            XCTAssertEqual(kept, model.cost(shape), "step \(k)")
            XCTAssertEqual(kept.seconds, seconds, accuracy: seconds * 1e-12, "step \(k)")
        }
    }
}

final class RooflineShapeTests: XCTestCase {
    /// A decode step of one request over 1000 tokens of context.
    func decodeStep() -> StepShape {
        var s = StepShape()
        s.add(newTokens: 1, cached: 1000, samples: true)
        return s
    }

    func testKernelLatencyIsPaidOncePerKernel() throws {
        // A decode step runs, per layer, 4 GEMMs, 1 attention kernel and 4 small kernels (2 norms,
        // rotary, activation), then the LM head: 32 × 9 + 1 = 289 kernels. All are memory-bound
        // here, so 10 µs each adds ≈ 2.89 ms (compute terms shift it by well under 1%).
        var h = simpleHardware()
        let base = RooflineModel(config: ClusterConfig(hardware: h, model: try llama8B())).cost(decodeStep()).seconds
        h.kernelLatencyUs = 10
        let slow = RooflineModel(config: ClusterConfig(hardware: h, model: try llama8B())).cost(decodeStep()).seconds
        XCTAssertEqual(slow - base, 289 * 10e-6, accuracy: 289 * 10e-6 * 0.01)
    }

    func testMixedBatchesSlowDecodeAttentionOnly() throws {
        // One 100-token chunk beside one decode over 1000 tokens: the factor multiplies the decode
        // attention alone, 32 layers × √((4·32·128·1001 / F)² + ((1001·4096 + 2·32·128·2) / B)²).
        var h = simpleHardware()
        var s = decodeStep()
        s.add(newTokens: 100, cached: 0, samples: false)
        let F = 100e12, B = 1000e9
        let decodeAttention = ((4 * 32 * 128 * 1001 / F) * (4 * 32 * 128 * 1001 / F)
            + ((1001 * 4096 + 2 * 32 * 128 * 2) / B) * ((1001 * 4096 + 2 * 32 * 128 * 2) / B)).squareRoot()
        let one = RooflineModel(config: ClusterConfig(hardware: h, model: try llama8B())).cost(s).seconds
        h.mixedBatchAttentionFactor = 3
        let three = RooflineModel(config: ClusterConfig(hardware: h, model: try llama8B())).cost(s).seconds
        XCTAssertEqual(three - one, 32 * 2 * decodeAttention, accuracy: 1e-12)
        // A decode-only step is not affected.
        XCTAssertEqual(RooflineModel(config: ClusterConfig(hardware: h, model: try llama8B())).cost(decodeStep()).seconds,
                       RooflineModel(config: ClusterConfig(hardware: simpleHardware(), model: try llama8B())).cost(decodeStep()).seconds)
    }

    func testAsynchronousSchedulingHidesCPUUnderDeviceTime() throws {
        // Device time of a decode step ≈ 16 ms (16.06 GB of weights at 1000 GB/s); CPU 2 ms + 15 µs.
        var h = simpleHardware()
        let device = RooflineModel(config: ClusterConfig(hardware: h, model: try llama8B())).cost(decodeStep()).seconds
        h.stepOverheadMs = 2
        h.perSequenceOverheadUs = 15
        var c = ClusterConfig(hardware: h, model: try llama8B())
        XCTAssertEqual(RooflineModel(config: c).cost(decodeStep()).seconds, device, accuracy: 1e-15)
        c.knobs.asyncScheduling = false
        XCTAssertEqual(RooflineModel(config: c).cost(decodeStep()).seconds, device + 0.002015, accuracy: 1e-12)
        // A CPU longer than the device shows through even with asynchronous scheduling.
        h.stepOverheadMs = 40
        c = ClusterConfig(hardware: h, model: try llama8B())
        XCTAssertEqual(RooflineModel(config: c).cost(decodeStep()).seconds, 0.040015, accuracy: 1e-12)
    }
}

extension RooflineShapeTests {
    func testExpertParallelismAllToAllAndExpertMemory() throws {
        // Qwen3-30B-A3B, DP 2 with expert parallelism: per MoE layer, dispatch and combine each move
        // T × k × H × 2 B × (ep − 1)/ep over the link, plus its latency.
        let qwen = try ModelCatalog.resolve("Qwen/Qwen3-30B-A3B")
        var h = simpleHardware()
        h.linkLatencyUs = 2
        var c = ClusterConfig(hardware: h, model: qwen)
        c.instances = 2
        c.expertParallel = true
        let r = RooflineModel(config: c)
        let T = 100.0
        XCTAssertEqual(r.communicationPerLayer(tokens: T), 2 * (T * 8 * 2048 * 2 * 0.5 / 100e9 + 2e-6), accuracy: 1e-15)
        c.expertParallel = false
        XCTAssertEqual(RooflineModel(config: c).communicationPerLayer(tokens: T), 0)
        // Three ranks cannot share 128 experts evenly.
        c.instances = 3
        c.expertParallel = true
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("does not divide the 128 experts"), "\($0)") }
    }
}

final class StepTableAndProfileTests: XCTestCase {
    func testBilinearInterpolationAndExtrapolation() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("table-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("t.csv").path
        // latency = 10 + tokens/100 + context/1000 ms on a 2 × 2 grid: bilinear is exact for it.
        try "tokens,context_tokens,latency_ms\n0,0,10\n100,0,11\n0,1000,11\n100,1000,12\n".write(toFile: path, atomically: true, encoding: .utf8)
        let t = try StepTable.load(path)
        XCTAssertEqual(t.seconds(tokens: 50, context: 500), 0.011, accuracy: 1e-12)
        // Beyond the grid: linear extrapolation, 10 + 300/100 + 4000/1000 = 17 ms.
        XCTAssertEqual(t.seconds(tokens: 300, context: 4000), 0.017, accuracy: 1e-12)
        // A one-request run: prefill of 100 tokens (context 100) then 1 decode (1 token, context 101).
        var c = ClusterConfig(hardware: simpleHardware(), model: try llama8B())
        c.knobs.maxNumBatchedTokens = 2048
        let sim = try Simulator(trace: makeTrace([(0, 100, 2)]), config: c, latency: .table(t, RooflineModel(config: c)),
                                makeScheduler: { VLLMScheduler() })
        let r = try sim.run()
        XCTAssertEqual(r.requests.firstToken[0], 11_100_000)                 // 10 + 1 + 0.1 ms
        XCTAssertEqual(r.requests.finish[0], 11_100_000 + 10_111_000)        // + 10 + 0.01 + 0.101 ms

        try "tokens,context_tokens,latency_ms\n0,0,10\n100,1000,12\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try StepTable.load(path)) { XCTAssertTrue("\($0)".contains("not a full grid"), "\($0)") }
        try "tokens,latency\n1,2\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try StepTable.load(path)) { XCTAssertTrue("\($0)".contains("expected 'tokens,context_tokens,latency_ms'"), "\($0)") }
    }

    func testDeviceNamesAsDriversPrintThem() throws {
        XCTAssertEqual(try HardwareCatalog.resolve("NVIDIA H100 80GB HBM3").name, "H100")
        XCTAssertEqual(try HardwareCatalog.resolve("NVIDIA RTX PRO 6000 Blackwell Server Edition").name, "RTXPRO6000")
        XCTAssertEqual(try HardwareCatalog.resolve("NVIDIA A100-SXM4-40GB").name, "A100-40G")
        XCTAssertEqual(try HardwareCatalog.resolve("NVIDIA A100-SXM4-80GB").name, "A100-80G")
        XCTAssertEqual(try HardwareCatalog.resolve("NVIDIA H100 PCIe").name, "H100-PCIe")
        XCTAssertEqual(try HardwareCatalog.resolve("NVIDIA GeForce RTX 4090").name, "RTX4090")
        XCTAssertThrowsError(try HardwareCatalog.resolve("NVIDIA T4"))
    }

    func testUserHardwareFileFallsBackToItsBase() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("gpu.json").path
        try "{\"name\": \"H100\", \"memory_gb\": 94, \"memory_efficiency\": 0.9}".write(toFile: path, atomically: true, encoding: .utf8)
        let h = try HardwareCatalog.resolve(path)
        XCTAssertEqual(h.memoryGB, 94)
        XCTAssertEqual(h.memoryEfficiency, 0.9)
        XCTAssertEqual(h.tflops, 989)             // from the H100 entry
        try "{\"memory_efficiency\": 1.5}".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try HardwareCatalog.resolve(path)) { XCTAssertTrue("\($0)".contains("memory_efficiency must be in 0.01...1"), "\($0)") }
    }
}
