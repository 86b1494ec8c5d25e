import Foundation
import XCTest
@testable import Workbench
@testable import ServeSim
import Workload

/// validate: the setup a run folder states, in the documented precedence, and the fidelity figures.
final class ValidationTests: XCTestCase {
    /// A run folder with 12 requests, 1 s apart, 300 prompt and 20 output tokens each.
    func runFolder(meta: String, cluster: String? = nil, extra: [String: String] = [:]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try meta.write(to: dir.appendingPathComponent("meta.json"), atomically: true, encoding: .utf8)
        if let cluster { try cluster.write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8) }
        var lines = ""
        for i in 0..<12 {
            let q = 1000.0 + Double(i)
            lines += "{\"request_id\": \"r\(i)\", \"input_toks\": 300, \"output_toks\": 20, \"arrival_time\": \(1_700_000_000.0 + Double(i)), \"queued_ts\": \(q), \"scheduled_ts\": \(q + 0.001), \"first_token_ts\": \(q + 0.05), \"last_token_ts\": \(q + 0.5)}\n"
        }
        try lines.write(to: dir.appendingPathComponent("requests.jsonl"), atomically: true, encoding: .utf8)
        for (name, text) in extra { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return dir
    }

    func item(_ run: MeasuredRun, _ key: String) -> SetupItem? { run.setup.first { $0.key == key } }

    func testMeasuredFactsWinOverEngineSettingsOverArgumentsOverDefaults() throws {
        let dir = try runFolder(meta: """
        {"model": "meta-llama/Llama-3.1-8B",
         "engine_kwargs": {"max_num_seqs": 64, "max_num_batched_tokens": 4096, "gpu_memory_utilization": 0.5, "block_size": 32},
         "resolved_config": {"scheduler_config": {"max_num_seqs": 48, "enable_chunked_prefill": true},
                             "cache_config": {"gpu_memory_utilization": 0.8, "block_size": 32, "enable_prefix_caching": false}},
         "kv_cache": {"num_gpu_blocks": 1234, "block_size": 16}}
        """, cluster: """
        {"link_bw": 50, "link_latency": 3000,
         "nodes": [{"instances": [{"hardware": "H100", "npu_mem": {"mem_size": 94, "mem_bw": 3350, "mem_util": 0.3}, "tp_size": 1}]}]}
        """)
        let run = try MeasuredRun.load(dir.path)
        let k = run.config.knobs
        // Measured facts first.
        XCTAssertEqual(k.numGPUBlocksOverride, 1234)
        XCTAssertEqual(item(run, "num_gpu_blocks")?.source, "meta.json kv_cache.num_gpu_blocks")
        XCTAssertEqual(k.blockSize, 16)
        XCTAssertEqual(item(run, "block_size")?.source, "meta.json kv_cache.block_size")
        // Then the engine's resolved settings over what it was started with.
        XCTAssertEqual(k.maxNumSeqs, 48)
        XCTAssertEqual(k.gpuMemoryUtilization, 0.8)       // config.json's mem_util (another simulator's) is not used
        XCTAssertFalse(k.prefixCaching)
        XCTAssertEqual(item(run, "prefix_caching")?.source, "meta.json resolved_config.cache_config.enable_prefix_caching")
        // Then the arguments, then vLLM's defaults.
        XCTAssertEqual(k.maxNumBatchedTokens, 4096)
        XCTAssertEqual(item(run, "max_num_batched_tokens")?.source, "meta.json engine_kwargs.max_num_batched_tokens")
        XCTAssertEqual(run.config.pipelineParallel, 1)
        XCTAssertEqual(item(run, "pipeline_parallel_size")?.source, "vLLM default")
        // Hardware: config.json's constants over the catalog entry, each with its source.
        let h = run.config.hardware
        XCTAssertEqual(h.memoryGB, 94)
        XCTAssertEqual(h.linkBandwidthGBs, 50)
        XCTAssertEqual(h.linkLatencyUs, 3)                 // 3000 ns
        XCTAssertEqual(h.memoryBandwidthGBs, 3350)         // the H100's specification: a peak, efficiency unchanged
        XCTAssertEqual(h.memoryEfficiency, GPUGeneration.hopper.memoryEfficiency)
        XCTAssertEqual(item(run, "memory_gb")?.source, "config.json")
        XCTAssertEqual(item(run, "link_latency_us")?.source, "config.json")
        XCTAssertEqual(item(run, "tflops")?.source, "catalog H100")
        // Flags override everything.
        let forced = try MeasuredRun.load(dir.path, overrides: SetupOverrides(hardware: "A100-80G", numGPUBlocks: 500, instances: 3))
        XCTAssertEqual(forced.config.knobs.numGPUBlocksOverride, 500)
        XCTAssertEqual(forced.config.instances, 3)
        XCTAssertEqual(forced.config.hardware.memoryGB, 80)
        XCTAssertEqual(item(forced, "memory_gb")?.source, "--hardware")
        XCTAssertEqual(item(forced, "data_parallel_size")?.source, "--instances")
    }

    func testKVSizeMeasuredInTokensOrBytes() throws {
        // 40,000 KV tokens in blocks of 16 → 2,500 blocks; 2 GiB of KV for Llama-3.1-8B
        // (131,072 B per token, 16 per block) → 1,024 blocks.
        let tokens = try runFolder(meta: "{\"model\": \"meta-llama/Llama-3.1-8B\", \"hardware\": \"H100\", \"kv_cache\": {\"num_kv_tokens\": 40000}}")
        XCTAssertEqual(try MeasuredRun.load(tokens.path).config.knobs.numGPUBlocksOverride, 2500)
        let bytes = try runFolder(meta: "{\"model\": \"meta-llama/Llama-3.1-8B\", \"hardware\": \"H100\", \"kv_cache\": {\"kv_cache_memory_bytes\": 2147483648}}")
        XCTAssertEqual(try MeasuredRun.load(bytes.path).config.knobs.numGPUBlocksOverride, 1024)
        // An absurd count is refused, naming the key.
        let absurd = try runFolder(meta: "{\"model\": \"meta-llama/Llama-3.1-8B\", \"hardware\": \"H100\", \"engine_kwargs\": {\"data_parallel_size\": 1e300}}")
        XCTAssertThrowsError(try MeasuredRun.load(absurd.path)) {
            XCTAssertTrue("\($0)".contains("key 'engine_kwargs.data_parallel_size'") && "\($0)".contains("1...1024"), "\($0)")
        }
    }

    func testABandwidthBelowTheSpecificationIsAMeasuredCeiling() throws {
        // 1597 GB/s stated for a 1792 GB/s GPU: achievable = min(1597, 1792 × 0.83) = 1487.4 GB/s.
        let dir = try runFolder(meta: "{\"model\": \"meta-llama/Llama-3.1-8B\"}", cluster: """
        {"nodes": [{"instances": [{"hardware": "RTXPRO6000", "npu_mem": {"mem_size": 96, "mem_bw": 1597}}]}]}
        """)
        let h = try MeasuredRun.load(dir.path).config.hardware
        XCTAssertEqual(h.memoryBandwidthGBs, 1597)
        XCTAssertEqual(h.memoryBandwidthGBs * h.memoryEfficiency, 1792 * 0.83, accuracy: 1e-9)
        // A throttled device (800 GB/s stated) streams at most 800.
        let slow = try runFolder(meta: "{\"model\": \"meta-llama/Llama-3.1-8B\"}", cluster: """
        {"nodes": [{"instances": [{"hardware": "RTXPRO6000", "npu_mem": {"mem_bw": 800}}]}]}
        """)
        let s = try MeasuredRun.load(slow.path).config.hardware
        XCTAssertEqual(s.memoryBandwidthGBs * s.memoryEfficiency, 800, accuracy: 1e-9)
    }

    func testDatedMoEVariantWithDataAndExpertParallelism() throws {
        let dir = try runFolder(meta: """
        {"model": "Qwen/Qwen3-30B-A3B-Instruct-2507", "hardware": "H100",
         "engine_kwargs": {"tensor_parallel_size": 1, "data_parallel_size": 2, "enable_expert_parallel": true, "max_num_seqs": 64}}
        """)
        let run = try MeasuredRun.load(dir.path)
        XCTAssertEqual(run.config.model.experts, 128)
        XCTAssertEqual(run.config.model.name, "Qwen/Qwen3-30B-A3B-Instruct-2507")
        XCTAssertEqual(run.config.instances, 2)
        XCTAssertTrue(run.config.expertParallel)
        XCTAssertEqual(run.config.expertParallelDegree, 2)
        // Each rank holds half the experts: weights per device = non-expert + expert / 2.
        let m = run.config.model
        let experts = Double(48 * 128 * 3 * 2048 * 768 * 2)
        XCTAssertEqual(m.expertWeightBytes, experts)
        XCTAssertEqual(run.config.weightBytesPerDevice, m.weightBytes - experts / 2, accuracy: 1)
        var withoutEP = run.config
        withoutEP.expertParallel = false
        XCTAssertGreaterThan(try run.config.kvBlocks(), try withoutEP.kvBlocks())
        // The replay runs on two instances behind vLLM's DP balancing.
        let v = try Validation.run(directory: dir.path)
        XCTAssertEqual(v.setup.first { $0.key == "router" }?.value, "vllm-dp")
        XCTAssertEqual(v.rows.count, 15)
    }

    func testAHuggingFaceConfigWithTheRunDefinesTheModel() throws {
        let dir = try runFolder(meta: "{\"model\": \"acme/house-model-7b\", \"hardware\": \"H100\"}", extra: ["hf_config.json": """
        {"num_hidden_layers": 20, "hidden_size": 2048, "num_attention_heads": 16, "num_key_value_heads": 4,
         "intermediate_size": 5632, "vocab_size": 32000, "torch_dtype": "bfloat16"}
        """])
        let run = try MeasuredRun.load(dir.path)
        XCTAssertEqual(run.config.model.layers, 20)
        XCTAssertEqual(run.config.model.name, "acme/house-model-7b")
        XCTAssertEqual(item(run, "model")?.source, "hf_config.json")
        // Without it, an unknown architecture is refused with the file that names it.
        let bare = try runFolder(meta: "{\"model\": \"acme/house-model-7b\", \"hardware\": \"H100\"}")
        XCTAssertThrowsError(try MeasuredRun.load(bare.path)) { XCTAssertTrue("\($0)".contains("unknown model 'acme/house-model-7b'"), "\($0)") }
    }

    func testTheShellValidatesAsTheCLIDoes() throws {
        let dir = try runFolder(meta: "{\"model\": \"meta-llama/Llama-3.1-8B\", \"hardware\": \"H100\", \"engine_kwargs\": {\"max_num_seqs\": 7}}")
        var text = ""
        let shell = ShellRunner(session: Session(), interactive: false, showProgress: false, output: { text += $0 + "\n" })
        try shell.execute("validate \(dir.path) --num-gpu-blocks 900")
        XCTAssertTrue(text.contains("resolved setup:"), text)
        XCTAssertTrue(text.contains("num_gpu_blocks") && text.contains("--num-gpu-blocks"), text)
        XCTAssertTrue(text.contains("meta.json engine_kwargs.max_num_seqs"), text)
        XCTAssertThrowsError(try shell.execute("validate \(dir.path) --num-gpu-blocks lots")) {
            XCTAssertTrue("\($0)".contains("--num-gpu-blocks"), "\($0)")
        }
    }

    func testTimeSeriesAreAlignedAndCompared() {
        // Simulated buckets of 1 s from the first request; the measurement started 1.2 s earlier,
        // so its row t covers simulated bucket t − 1 − 1.
        var sim = TimeSeries(interval: 1)
        sim.promptTokens = [100, 0, 50, 0]
        sim.generatedTokens = [0, 10, 20, 30]
        sim.running = [1, 2, 3, 3]
        sim.waiting = [0, 0, 0, 0]
        sim.kvUsage = [1, 2, 3, 4]
        var m = MeasuredSeries()
        m.t = [1, 2, 3, 4, 5]
        m.values = ["gen_throughput": [0, 0, 12, 18, 30], "running": [0, 1, 2, 4, 3], "waiting": [0, 0, 0, 0, 0]]
        let c = Validation.compare(m, sim, offset: 1.2)
        XCTAssertEqual(c.map(\.name), ["gen_throughput", "running"])      // waiting never moved: not compared
        let gen = c[0]
        XCTAssertEqual(gen.simulated, [0, 0, 10, 20, 30])
        XCTAssertEqual(gen.meanAbsoluteError, (2 + 2) / 5.0, accuracy: 1e-12)
        // Pearson: measured [0,0,12,18,30] vs simulated [0,0,10,20,30].
        let a = [0.0, 0, 12, 18, 30], b = [0.0, 0, 10, 20, 30]
        let ma = a.reduce(0, +) / 5, mb = b.reduce(0, +) / 5
        let cov = zip(a, b).reduce(0) { $0 + ($1.0 - ma) * ($1.1 - mb) }
        let r = cov / (a.reduce(0) { $0 + ($1 - ma) * ($1 - ma) } * b.reduce(0) { $0 + ($1 - mb) * ($1 - mb) }).squareRoot()
        XCTAssertEqual(gen.correlation, r, accuracy: 1e-12)
        XCTAssertEqual(c[1].simulated, [0, 1, 2, 3, 3])
    }

    /// The fidelity target on the shared run: every mean and P99 of TTFT, TPOT and E2E within 5%,
    /// profile-free and with the matching profile bundle.
    func testSharedRunWithinFivePercentInBothModes() throws {
        guard let run = sharedData("vllm-measured/RTXPRO6000-Llama-3.1-8B"),
              let bundle = sharedData("llmservingsim-profiles/RTXPRO6000") else { return }
        // Measured values from the data README.
        let measured: [String: Double] = ["ttft mean": 7097.2, "ttft p99": 19755.3, "tpot mean": 32.5,
                                          "tpot p99": 37.3, "e2e mean": 28200.7, "e2e p99": 37638.8]
        for profile in [nil, bundle] {
            let v = try Validation.run(directory: run, latencyProfile: profile)
            for row in v.rows where row.stat == "mean" || row.stat == "p99" {
                XCTAssertEqual(row.measured, measured["\(row.metric) \(row.stat)"]!, accuracy: 0.06)
                XCTAssertLessThan(abs(row.diffPct), 5, "\(profile == nil ? "roofline" : "profile") \(row.metric) \(row.stat): \(row.diffPct)%")
            }
            XCTAssertEqual(v.latencyModel, profile == nil ? "roofline" : "profile")
            // The engine kept up with the measured load second by second.
            XCTAssertGreaterThan(v.series.first { $0.name == "running" }?.correlation ?? 0, 0.9)
        }
    }
}

/// A path under ../shared/data, or nil (with the reason printed) where it is absent.
func sharedData(_ relative: String) -> String? {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let path = root.deletingLastPathComponent().appendingPathComponent("shared/data/\(relative)").path
    guard FileManager.default.fileExists(atPath: path) else {
        print("skipping: \(path) is absent")
        return nil
    }
    return path
}
