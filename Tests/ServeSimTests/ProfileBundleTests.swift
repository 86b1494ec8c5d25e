import XCTest
@testable import ServeSim
import Workload

/// A hand-made LLMServingSim 2.0 bundle whose tables are linear (or bilinear) in each axis, so
/// interpolation is exact and every step time can be worked out by hand.
final class ProfileBundleTests: XCTestCase {
    /// Attention of one block, µs: linear in each axis, bilinear in decodes × decode KV.
    func attention(_ pc: Double, _ kp: Double, _ n: Double, _ kv: Double) -> Double {
        5 + 0.02 * pc + 0.001 * kp + 0.5 * n + 0.002 * n * kv
    }

    func writeBundle(model: String = "meta-llama/Llama-3.1-8B", moe: Bool = false) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bundle-\(UUID().uuidString)")
        let variant = root.appendingPathComponent("TESTGPU/org/model/bf16")
        let tp = variant.appendingPathComponent("tp1")
        try FileManager.default.createDirectory(at: tp, withIntermediateDirectories: true)
        try """
        hardware: TESTGPU
        model: \(model)
        variant: bf16
        vllm_version: 0.19.0
        tp_degrees: [1]
        skew_fit:
          bucket_axes:
            n_bins: [0, 4, 1000000]
            n_labels: [n<=4, n>4]
            skew_rate_bins: [-0.01, 0.5, 1.01]
            skew_rate_labels: [sr<=50%, sr>50%]
            kv_big_bins: [0, 1024, 1000000000]
            kv_big_labels: [kvB<=1k, kvB>1k]
            kp_bins: [-1, 0, 1000000000]
            kp_labels: [kp=0, kp>0]
          per_tp:
            1:
              alpha_default: 0.1

        """.write(to: variant.appendingPathComponent("meta.yaml"), atomically: true, encoding: .utf8)
        // Per-block layers: 1 + 0.01 × tokens µs each; embedding and final norm 2 + 0.001 × tokens.
        var dense = "layer,tokens,time_us\n"
        for layer in ["act_fn", "down_proj", "gate_up_proj", "layernorm", "o_proj", "qkv_proj", "rotary_emb"] {
            for t in [1.0, 1024] { dense += "\(layer),\(Int(t)),\(1 + 0.01 * t)\n" }
        }
        for layer in ["embedding", "final_layernorm"] { for t in [1.0, 1024] { dense += "\(layer),\(Int(t)),\(2 + 0.001 * t)\n" } }
        try dense.write(to: tp.appendingPathComponent("dense.csv"), atomically: true, encoding: .utf8)
        try "layer,sequences,time_us\nlm_head,1,101\nlm_head,256,356\nsampler,1,10.5\nsampler,256,138\n"
            .write(to: tp.appendingPathComponent("per_sequence.csv"), atomically: true, encoding: .utf8)
        var att = "prefill_chunk,kv_prefill,n_decode,kv_decode,time_us\n"
        for n in [1.0, 256] { for kv in [16.0, 4096] { att += "0,0,\(Int(n)),\(Int(kv)),\(attention(0, 0, n, kv))\n" } }
        for pc in [16.0, 2048] {
            for kp in [0.0, 1024] {
                att += "\(Int(pc)),\(Int(kp)),0,0,\(attention(pc, kp, 0, 0))\n"
                for n in [1.0, 256] { for kv in [16.0, 4096] { att += "\(Int(pc)),\(Int(kp)),\(Int(n)),\(Int(kv)),\(attention(pc, kp, n, kv))\n" } }
            }
        }
        try att.write(to: tp.appendingPathComponent("attention.csv"), atomically: true, encoding: .utf8)
        try "pc,n_label,skew_rate_label,kv_big_label,kp_label,alpha,n_samples\n0,n>4,sr<=50%,kvB>1k,kp=0,0.5,12\n"
            .write(to: tp.appendingPathComponent("skew_fit.csv"), atomically: true, encoding: .utf8)
        if moe {
            // 10 µs + 0.1 µs per token + 3 µs per activated expert.
            var m = "tokens,activated_experts,time_us\n"
            for t in [1.0, 1024] { for e in [1.0, 128] { m += "\(Int(t)),\(Int(e)),\(10 + 0.1 * t + 3 * e)\n" } }
            try m.write(to: tp.appendingPathComponent("moe.csv"), atomically: true, encoding: .utf8)
        }
        return root
    }

    func model(_ root: URL, _ config: ClusterConfig) throws -> ProfileLatencyModel {
        let bundle = try ProfileBundle.load(root.path, model: config.model.name, tensorParallel: config.tensorParallel)
        return try ProfileLatencyModel(bundle: bundle, config: config)
    }

    func testDecodeStepWithMixedLengthsGetsTheSkewCorrection() throws {
        let root = try writeBundle()
        let p = try model(root, ClusterConfig(hardware: simpleHardware(), model: try llama8B()))
        // 8 decodes, 4 over 500 tokens and 4 over 2500: mean 1500, share of long ones 0.5 →
        // bucket (n>4, sr<=50%, kvB>1k, kp=0), alpha 0.5.
        var s = StepShape()
        for i in 0..<8 { s.add(newTokens: 1, cached: i % 2 == 0 ? 499 : 2499, samples: true) }
        let mean = attention(0, 0, 8, 1500), longest = attention(0, 0, 8, 2500)
        XCTAssertEqual(p.attention(s), mean + 0.5 * (longest - mean), accuracy: 1e-9)      // 33 + 0.5 × 16 = 41
        // Step: 32 × (8 per-block layer units at 8 tokens + attention) + embedding + final norm + LM head + sampler.
        let block = 8 * (1 + 0.01 * 8) + 41.0
        let expected = 32 * block + 2 * (2 + 0.001 * 8) + (100 + 8) + (10 + 0.5 * 8)
        XCTAssertEqual(p.cost(s).seconds, expected * 1e-6, accuracy: 1e-12)
    }

    func testPrefillChunkAfterCachedTokensBesideUniformDecodes() throws {
        let root = try writeBundle()
        let p = try model(root, ClusterConfig(hardware: simpleHardware(), model: try llama8B()))
        // A 100-token chunk after 1000 cached tokens (kp = 1000) and two decodes over 2001 tokens.
        var s = StepShape()
        s.add(newTokens: 100, cached: 1000, samples: true)
        s.add(newTokens: 1, cached: 2000, samples: true)
        s.add(newTokens: 1, cached: 2000, samples: true)
        XCTAssertEqual(p.attention(s), attention(100, 1000, 2, 2001), accuracy: 1e-9)      // 17.004, no skew
        let expected = 32 * (8 * (1 + 0.01 * 102) + attention(100, 1000, 2, 2001)) + 2 * (2 + 0.001 * 102) + 103 + 11.5
        XCTAssertEqual(p.cost(s).seconds, expected * 1e-6, accuracy: 1e-12)
    }

    func testSeveralPrefillChunksArePricedAsEqualChunksLessOneLaunchEach() throws {
        let root = try writeBundle()
        let p = try model(root, ClusterConfig(hardware: simpleHardware(), model: try llama8B()))
        // Chunks of 100 and 300 with no cache: 400 tokens, causal pairs 100·50.5 + 300·150.5 = 50200;
        // two equal chunks of 200 with the same pairs sit after kp = 50200/400 − 100.5 = 25 tokens.
        var s = StepShape()
        s.add(newTokens: 100, cached: 0, samples: true)
        s.add(newTokens: 300, cached: 0, samples: true)
        let one = attention(200, 25, 0, 0)
        // The smallest kernel in the table: one decode (its smallest KV sample, 16).
        let launch = attention(0, 0, 1, 16)
        XCTAssertEqual(p.attention(s), one + (one - launch), accuracy: 1e-9)
    }

    func testNestedGridClampsBelowExtrapolatesAboveAndKeepsZeroApart() throws {
        // Zero decodes is its own regime: a chunk with no decodes never blends with one decode.
        let g = NestedGrid(depth: 2, zeroApart: [true, false], rows: [([0, 0], 100), ([1, 10], 1), ([1, 20], 2), ([3, 10], 3), ([3, 20], 6)])
        XCTAssertEqual(g.value(0, 0), 100)
        XCTAssertEqual(g.value(2, 15), 3, accuracy: 1e-12)              // mean of 1.5 and 4.5
        XCTAssertEqual(g.value(0.5, 10), 1, accuracy: 1e-12)            // below the first positive key: clamped
        XCTAssertEqual(g.value(5, 10), 5, accuracy: 1e-12)              // above: extrapolated from 1 and 3
        XCTAssertEqual(g.value(1, 30), 3, accuracy: 1e-12)              // extrapolated on the inner axis
        // A continuous axis runs through 0: halfway between 0 and 10 on the inner axis.
        let h = NestedGrid(depth: 2, rows: [([1, 0], 0), ([1, 10], 10)])
        XCTAssertEqual(h.value(1, 5), 5, accuracy: 1e-12)
        let c = Curve([(x: 4, y: 40), (x: 2, y: 20), (x: 2, y: 22)])    // repeated x averaged: (2, 21)
        XCTAssertEqual(c.at(3), 30.5, accuracy: 1e-12)
        XCTAssertEqual(c.at(1), 21, accuracy: 1e-12)
        XCTAssertEqual(c.at(6), 59, accuracy: 1e-12)
    }

    func testSkewBucketsFollowPandasCut() {
        // Bucket i holds edges[i] < v ≤ edges[i+1].
        XCTAssertNil(SkewFit.bucket([0, 2, 4], 0))
        XCTAssertEqual(SkewFit.bucket([0, 2, 4], 2), 0)
        XCTAssertEqual(SkewFit.bucket([0, 2, 4], 2.5), 1)
        XCTAssertNil(SkewFit.bucket([0, 2, 4], 5))
    }

    func testMoEBlockByActivatedExpertsOnEachRank() throws {
        let root = try writeBundle(model: "Qwen/Qwen3-30B-A3B", moe: true)
        let qwen = try ModelCatalog.resolve("Qwen/Qwen3-30B-A3B")
        var c = ClusterConfig(hardware: simpleHardware(), model: qwen)
        let p = try model(root, c)
        // 4 tokens × top-8 of 128 experts: expected distinct experts 128 × (1 − (1 − 8/128)^4).
        let activated: Double = 128 * (1 - pow(1 - 8.0 / 128.0, 4.0))
        XCTAssertEqual(p.moe(4), 10 + 0.1 * 4 + 3 * activated, accuracy: 1e-9)
        // Expert parallelism over 2 ranks (DP 2): each holds 64 experts, hit by both ranks' tokens.
        c.instances = 2
        c.expertParallel = true
        let ep = try model(root, c)
        let perRank: Double = 64 * (1 - pow(1 - 8.0 / 128.0, 8.0))
        XCTAssertEqual(ep.moe(4), 10 + 0.1 * 4 + 3 * perRank, accuracy: 1e-9)
        // A MoE model with a bundle lacking moe.csv is refused.
        let dense = try writeBundle(model: "Qwen/Qwen3-30B-A3B")
        XCTAssertThrowsError(try model(dense, ClusterConfig(hardware: simpleHardware(), model: qwen))) {
            XCTAssertTrue("\($0)".contains("no moe.csv"), "\($0)")
        }
    }

    func testRefusalsNameTheFileAndWhatWasExpected() throws {
        let root = try writeBundle()
        var c = ClusterConfig(hardware: simpleHardware(), model: try llama8B())
        c.tensorParallel = 2
        XCTAssertThrowsError(try ProfileBundle.load(root.path, model: c.model.name, tensorParallel: 2)) {
            XCTAssertTrue("\($0)".contains("no tp2 folder") && "\($0)".contains("profiled TP degrees: 1"), "\($0)")
        }
        XCTAssertThrowsError(try model(root, ClusterConfig(hardware: simpleHardware(), model: try ModelCatalog.resolve("Qwen/Qwen2.5-7B")))) {
            XCTAssertTrue("\($0)".contains("no bundle for model Qwen/Qwen2.5-7B"), "\($0)")
        }
        // A bundle of one catalog GPU is refused for another.
        let h100 = ClusterConfig(hardware: try HardwareCatalog.resolve("H100"), model: try llama8B())
        let rtx = try writeBundle()
        let meta = rtx.appendingPathComponent("TESTGPU/org/model/bf16/meta.yaml")
        try String(contentsOf: meta, encoding: .utf8).replacingOccurrences(of: "hardware: TESTGPU", with: "hardware: RTXPRO6000")
            .write(to: meta, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try model(rtx, h100)) {
            XCTAssertTrue("\($0)".contains("was measured on RTXPRO6000, but the run uses H100"), "\($0)")
        }
        // A dated fine-tune of the same shape finds the bundle.
        XCTAssertNoThrow(try ProfileBundle.load(root.path, model: "meta-llama/Llama-3.1-8B-Instruct-2507", tensorParallel: 1))
        let dense = root.appendingPathComponent("TESTGPU/org/model/bf16/tp1/dense.csv")
        try "layer,tokens,latency\nqkv_proj,1,2\n".write(to: dense, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ProfileBundle.load(root.path, model: c.model.name, tensorParallel: 1)) {
            XCTAssertTrue("\($0)".contains("dense.csv:1: header: expected the columns layer,tokens,time_us; no 'time_us'"), "\($0)")
        }
        try "layer,tokens,time_us\nqkv_proj,1,fast\n".write(to: dense, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ProfileBundle.load(root.path, model: c.model.name, tensorParallel: 1)) {
            XCTAssertTrue("\($0)".contains("dense.csv:2: column 'time_us': expected a non-negative number, got 'fast'"), "\($0)")
        }
        try "hardware: [unclosed\n".write(to: root.appendingPathComponent("TESTGPU/org/model/bf16/meta.yaml"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ProfileBundle.load(root.appendingPathComponent("TESTGPU/org/model/bf16").path, model: nil, tensorParallel: 1)) {
            XCTAssertTrue("\($0)".contains("meta.yaml: malformed YAML"), "\($0)")
        }
    }

    /// The shared bundle: every layer of one block is read, and a decode step of 128 requests
    /// costs what its kernels sum to (hand-summed from the CSVs at 128 tokens: per block 361.8 µs
    /// of dense layers; attention at 1600 tokens, between 1152 and 1728, 603.3 µs; LM head 734.3 + sampler 63.8 µs).
    func testSharedBundleSumsItsKernels() throws {
        let path = "../shared/data/llmservingsim-profiles/RTXPRO6000"
        guard FileManager.default.fileExists(atPath: path) else { print("skipping: \(path) is absent"); return }
        var c = ClusterConfig(hardware: simpleHardware(), model: try llama8B())
        c.knobs.maxNumSeqs = 128
        let p = try model(URL(fileURLWithPath: path), c)
        XCTAssertEqual(p.bundle.tensorParallel, 1)
        XCTAssertEqual(p.bundle.vllmVersion, "0.19.0")
        XCTAssertEqual(p.bundle.skew?.alphaDefault, 0.0543)
        var s = StepShape()
        for _ in 0..<128 { s.add(newTokens: 1, cached: 1599, samples: true) }
        XCTAssertEqual(p.perBlockDense(128), 361.8, accuracy: 0.1)
        let between: Double = 449.869 + (647.159 - 449.869) * 448.0 / 576.0        // (1600 − 1152) / (1728 − 1152)
        XCTAssertEqual(p.attention(s), between, accuracy: 1e-3)
        let expected = 32 * (361.8 + 603.3) + (3.0 + 3.2) + 734.3 + 63.8
        XCTAssertEqual(p.cost(s).seconds * 1e6, expected, accuracy: expected * 0.002)
    }
}

extension ProfileBundleTests {
    /// Absurd samples in a bundle (a token count of 1e308) are read and priced without a trap.
    func testAbsurdSamplesDoNotTrap() throws {
        let root = try writeBundle()
        let dense = root.appendingPathComponent("TESTGPU/org/model/bf16/tp1/dense.csv")
        try (try String(contentsOf: dense, encoding: .utf8) + "qkv_proj,1e308,5\n").write(to: dense, atomically: true, encoding: .utf8)
        let p = try model(root, ClusterConfig(hardware: simpleHardware(), model: try llama8B()))
        var s = StepShape()
        s.add(newTokens: 100, cached: 0, samples: true)
        XCTAssertTrue(p.cost(s).seconds.isFinite)
    }
}
