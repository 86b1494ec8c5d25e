import Foundation
import Workload

/// One accelerator as the latency model sees it. Every constant the model uses lives here,
/// documented and overridable from a JSON file with the same keys.
public struct HardwareProfile: Sendable, Equatable, Codable {
    public var name: String
    /// Device memory, GB (10^9 bytes).
    public var memoryGB: Double
    /// Peak memory bandwidth, GB/s.
    public var memoryBandwidthGBs: Double
    /// Peak dense bf16/fp16 tensor throughput, TFLOP/s (no sparsity).
    public var tflops: Double
    /// Device-to-device link bandwidth per direction, GB/s (NVLink, PCIe).
    public var linkBandwidthGBs: Double
    /// Per-message link latency, µs.
    public var linkLatencyUs: Double
    /// Host memory bandwidth for KV swap, GB/s (LLMServingSim's --remote_bw).
    public var hostBandwidthGBs: Double
    /// Achievable fraction of peak FLOP/s on large GEMMs (public measurements: 60–80%).
    public var computeEfficiency: Double
    /// Achievable fraction of peak bandwidth on memory-bound kernels (public measurements: 70–90%).
    public var memoryEfficiency: Double
    /// Fixed CPU-side cost per engine step (scheduling, input preparation, launch), ms.
    public var stepOverheadMs: Double
    /// CPU-side cost per scheduled sequence (input preparation, sampling, detokenisation), µs.
    public var perSequenceOverheadUs: Double
    /// Memory outside PyTorch's allocator (CUDA context, NCCL, CUDA graphs), GB.
    public var nonTorchOverheadGB: Double
    /// Fixed device time of one kernel however small (launch, ramp-up, tail), µs.
    public var kernelLatencyUs: Double
    /// Achievable fraction of peak FLOP/s in attention kernels (FlashAttention-style; below GEMMs').
    public var attentionEfficiency: Double
    /// How much slower decode attention runs in a step that also prefills (the generic
    /// variable-length kernel instead of the decode path); 1 = no penalty.
    public var mixedBatchAttentionFactor: Double

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name
        case memoryGB = "memory_gb", memoryBandwidthGBs = "memory_bandwidth_gbs", tflops
        case linkBandwidthGBs = "link_bandwidth_gbs", linkLatencyUs = "link_latency_us"
        case hostBandwidthGBs = "host_bandwidth_gbs", computeEfficiency = "compute_efficiency"
        case memoryEfficiency = "memory_efficiency", stepOverheadMs = "step_overhead_ms"
        case perSequenceOverheadUs = "per_sequence_overhead_us", nonTorchOverheadGB = "non_torch_overhead_gb"
        case kernelLatencyUs = "kernel_latency_us", attentionEfficiency = "attention_efficiency"
        case mixedBatchAttentionFactor = "mixed_batch_attention_factor"
    }

    /// Efficiencies and kernel latency default to the generation's figures (`GPUGeneration`);
    /// CPU overheads to those of a vLLM V1 step.
    public init(name: String, generation: GPUGeneration = .hopper, memoryGB: Double, memoryBandwidthGBs: Double, tflops: Double,
                linkBandwidthGBs: Double, linkLatencyUs: Double = 5, hostBandwidthGBs: Double = 25,
                computeEfficiency: Double? = nil, memoryEfficiency: Double? = nil, attentionEfficiency: Double? = nil,
                stepOverheadMs: Double = 2.0, perSequenceOverheadUs: Double = 15,
                nonTorchOverheadGB: Double = 1.0, kernelLatencyUs: Double? = nil, mixedBatchAttentionFactor: Double? = nil) {
        self.name = name
        self.memoryGB = memoryGB
        self.memoryBandwidthGBs = memoryBandwidthGBs
        self.tflops = tflops
        self.linkBandwidthGBs = linkBandwidthGBs
        self.linkLatencyUs = linkLatencyUs
        self.hostBandwidthGBs = hostBandwidthGBs
        self.computeEfficiency = computeEfficiency ?? generation.computeEfficiency
        self.memoryEfficiency = memoryEfficiency ?? generation.memoryEfficiency
        self.attentionEfficiency = attentionEfficiency ?? generation.attentionEfficiency
        self.stepOverheadMs = stepOverheadMs
        self.perSequenceOverheadUs = perSequenceOverheadUs
        self.nonTorchOverheadGB = nonTorchOverheadGB
        self.kernelLatencyUs = kernelLatencyUs ?? GPUGeneration.kernelLatencyUs
        self.mixedBatchAttentionFactor = mixedBatchAttentionFactor ?? GPUGeneration.mixedBatchAttentionFactor
    }

    /// Partial profiles in user files fall back to a catalog entry named by `base` (or an A100-80G).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let baseName = try c.decodeIfPresent(String.self, forKey: .name) ?? "custom"
        var p = HardwareCatalog.entries.first { $0.name.lowercased() == baseName.lowercased() }
            ?? HardwareCatalog.entries.first { $0.name == "A100-80G" }!
        p.name = baseName
        func take(_ key: CodingKeys, _ path: WritableKeyPath<HardwareProfile, Double>) throws {
            if let v = try c.decodeIfPresent(Double.self, forKey: key) { p[keyPath: path] = v }
        }
        try take(.memoryGB, \.memoryGB)
        try take(.memoryBandwidthGBs, \.memoryBandwidthGBs)
        try take(.tflops, \.tflops)
        try take(.linkBandwidthGBs, \.linkBandwidthGBs)
        try take(.linkLatencyUs, \.linkLatencyUs)
        try take(.hostBandwidthGBs, \.hostBandwidthGBs)
        try take(.computeEfficiency, \.computeEfficiency)
        try take(.memoryEfficiency, \.memoryEfficiency)
        try take(.stepOverheadMs, \.stepOverheadMs)
        try take(.perSequenceOverheadUs, \.perSequenceOverheadUs)
        try take(.nonTorchOverheadGB, \.nonTorchOverheadGB)
        try take(.kernelLatencyUs, \.kernelLatencyUs)
        try take(.attentionEfficiency, \.attentionEfficiency)
        try take(.mixedBatchAttentionFactor, \.mixedBatchAttentionFactor)
        self = p
    }

    /// The latency-relevant constants under their JSON keys, in the file's order.
    public var constants: [(String, Double)] {
        [("memory_gb", memoryGB), ("memory_bandwidth_gbs", memoryBandwidthGBs), ("tflops", tflops),
         ("link_bandwidth_gbs", linkBandwidthGBs), ("link_latency_us", linkLatencyUs), ("host_bandwidth_gbs", hostBandwidthGBs),
         ("compute_efficiency", computeEfficiency), ("memory_efficiency", memoryEfficiency), ("step_overhead_ms", stepOverheadMs),
         ("per_sequence_overhead_us", perSequenceOverheadUs), ("non_torch_overhead_gb", nonTorchOverheadGB),
         ("kernel_latency_us", kernelLatencyUs), ("attention_efficiency", attentionEfficiency),
         ("mixed_batch_attention_factor", mixedBatchAttentionFactor)]
    }

    public static var constantKeys: [String] { CodingKeys.allCases.filter { $0 != .name }.map(\.rawValue) }

    public func validate() throws {
        let positives: [(String, Double)] = [("memory_gb", memoryGB), ("memory_bandwidth_gbs", memoryBandwidthGBs),
                                             ("tflops", tflops), ("link_bandwidth_gbs", linkBandwidthGBs),
                                             ("host_bandwidth_gbs", hostBandwidthGBs)]
        // Far beyond any device either way (a thousandth to a million GB, GB/s or TFLOP/s), so
        // absurd values never reach the capacity and timing arithmetic.
        for (k, v) in positives where !(v >= 1e-3 && v <= 1e6) {
            throw ConfigError("hardware '\(name)': \(k) must be in 0.001...1e6, got \(v)")
        }
        for (k, v) in [("compute_efficiency", computeEfficiency), ("memory_efficiency", memoryEfficiency),
                       ("attention_efficiency", attentionEfficiency)] where !(v >= 0.01 && v <= 1) {
            throw ConfigError("hardware '\(name)': \(k) must be in 0.01...1, got \(v)")
        }
        if !(mixedBatchAttentionFactor >= 1 && mixedBatchAttentionFactor <= 100) {
            throw ConfigError("hardware '\(name)': mixed_batch_attention_factor must be in [1, 100], got \(mixedBatchAttentionFactor)")
        }
        for (k, v) in [("step_overhead_ms", stepOverheadMs), ("per_sequence_overhead_us", perSequenceOverheadUs),
                       ("link_latency_us", linkLatencyUs), ("non_torch_overhead_gb", nonTorchOverheadGB),
                       ("kernel_latency_us", kernelLatencyUs)] where !(v >= 0 && v <= 1e6) {
            throw ConfigError("hardware '\(name)': \(k) must be in [0, 1e6], got \(v)")
        }
    }
}

/// Achievable fractions of peak by GPU generation. Each figure says where it comes from; a
/// generation without a measurement of its own takes the mid-range of the public ranges
/// (reference §5: large GEMMs 60–80% of peak FLOP/s, memory-bound kernels 70–90% of peak
/// bandwidth). How efficiency varies with a kernel's shape is the roofline's blend and kernel
/// latency, learned once from the RTX PRO 6000 profile bundle; `smartserve calibrate` refits all
/// of it for a GPU from its own bundle or run.
public enum GPUGeneration: String, Sendable, CaseIterable {
    case ampere, ada, hopper, blackwell, cdna3, tpu

    public var computeEfficiency: Double {
        switch self {
        case .hopper: return 0.80      // H200: 8192³ bf16 matmul ≈ 790 of 989 TFLOP/s (reference §5, measured)
        case .blackwell: return 0.82   // RTX PRO 6000 profile bundle (calibrate fits 0.82–0.84)
        default: return 0.70           // mid-range of 60–80% (reference §5)
        }
    }

    public var memoryEfficiency: Double {
        switch self {
        case .hopper: return 0.90      // H200: device-to-device copy ≈ 4.3 of 4.8 TB/s (reference §5, measured)
        case .blackwell: return 0.83   // RTX PRO 6000 profile bundle vs its 1792 GB/s (calibrate fit: 0.827)
        default: return 0.80           // mid-range of 70–90% (reference §5)
        }
    }

    public var attentionEfficiency: Double {
        switch self {
        case .hopper: return 0.60      // FlashAttention-3 on H100: 75% at best, causal forward lower (Shah et al., 2024)
        case .blackwell: return 0.56   // RTX PRO 6000 profile bundle (calibrate fits 0.52–0.56)
        case .ampere: return 0.55      // FlashAttention-2 on A100: 50–73% of peak forward (Dao, 2023), causal at the low end
        default: return 0.50           // below GEMMs: the lower end of 60–80% less the causal mask's idle tiles
        }
    }

    /// The smallest kernel's device time, µs: the profile bundle's 1-token norms and activations
    /// take 2.4–2.7 µs and its GEMMs carry 4–5 µs beyond their bytes (calibrate fit of whole steps:
    /// 4.5); one figure for every generation, launch latency being much the same.
    public static let kernelLatencyUs = 4.5

    /// The profile bundle's attention table: decodes beside a prefill chunk cost 1.3–3× their
    /// decode-only time (2× at 128 decodes of 2048 tokens; calibrate fit of whole steps: 2.67);
    /// FlashAttention's kernel paths, not the GPU, so one figure for every generation until measured.
    public static let mixedBatchAttentionFactor = 2.7

    public var source: String {
        switch self {
        case .hopper: return "H200 measurements (reference §5)"
        case .blackwell: return "RTX PRO 6000 profile bundle fit"
        default: return "mid-range of public ranges (reference §5)"
        }
    }
}

/// Public specifications (reference §5): dense tensor throughput, no sparsity.
public enum HardwareCatalog {
    public static let entries: [HardwareProfile] = [
        HardwareProfile(name: "RTX3090", generation: .ampere, memoryGB: 24, memoryBandwidthGBs: 936, tflops: 71, linkBandwidthGBs: 32, linkLatencyUs: 10),
        HardwareProfile(name: "RTX4090", generation: .ada, memoryGB: 24, memoryBandwidthGBs: 1008, tflops: 165, linkBandwidthGBs: 32, linkLatencyUs: 10),
        HardwareProfile(name: "A6000", generation: .ampere, memoryGB: 48, memoryBandwidthGBs: 768, tflops: 155, linkBandwidthGBs: 112),
        HardwareProfile(name: "L40S", generation: .ada, memoryGB: 48, memoryBandwidthGBs: 864, tflops: 362, linkBandwidthGBs: 32, linkLatencyUs: 10),
        HardwareProfile(name: "A100-40G", generation: .ampere, memoryGB: 40, memoryBandwidthGBs: 1555, tflops: 312, linkBandwidthGBs: 300),
        HardwareProfile(name: "A100-80G", generation: .ampere, memoryGB: 80, memoryBandwidthGBs: 2039, tflops: 312, linkBandwidthGBs: 300),
        HardwareProfile(name: "H100", generation: .hopper, memoryGB: 80, memoryBandwidthGBs: 3350, tflops: 989, linkBandwidthGBs: 450, hostBandwidthGBs: 55),
        HardwareProfile(name: "H100-PCIe", generation: .hopper, memoryGB: 80, memoryBandwidthGBs: 2000, tflops: 756, linkBandwidthGBs: 64, linkLatencyUs: 10, hostBandwidthGBs: 55),
        HardwareProfile(name: "H200", generation: .hopper, memoryGB: 141, memoryBandwidthGBs: 4800, tflops: 989, linkBandwidthGBs: 450, hostBandwidthGBs: 55),
        HardwareProfile(name: "B200", generation: .blackwell, memoryGB: 180, memoryBandwidthGBs: 8000, tflops: 2250, linkBandwidthGBs: 900, hostBandwidthGBs: 55),
        HardwareProfile(name: "RTXPRO6000", generation: .blackwell, memoryGB: 96, memoryBandwidthGBs: 1792, tflops: 500, linkBandwidthGBs: 64, linkLatencyUs: 10, hostBandwidthGBs: 55),
        HardwareProfile(name: "MI300X", generation: .cdna3, memoryGB: 192, memoryBandwidthGBs: 5300, tflops: 1307, linkBandwidthGBs: 448, hostBandwidthGBs: 55),
        HardwareProfile(name: "TPUv5e", generation: .tpu, memoryGB: 16, memoryBandwidthGBs: 819, tflops: 197, linkBandwidthGBs: 200),
        HardwareProfile(name: "TPUv6e", generation: .tpu, memoryGB: 32, memoryBandwidthGBs: 1640, tflops: 918, linkBandwidthGBs: 400),
    ]
    // Link figures are per direction: NVLink 600/900/1800 GB/s bidirectional → 300/450/900; PCIe 4/5 x16 ≈ 32/64.

    static let aliases: [String: String] = [
        "3090": "RTX3090", "rtx-3090": "RTX3090", "4090": "RTX4090", "rtx-4090": "RTX4090",
        "rtxa6000": "A6000", "rtx-a6000": "A6000", "a100": "A100-80G", "a100-80gb": "A100-80G",
        "a100-40gb": "A100-40G", "a100-sxm": "A100-80G", "h100-sxm": "H100", "h100-80g": "H100",
        "h100pcie": "H100-PCIe", "h200-sxm": "H200", "rtx-pro-6000": "RTXPRO6000", "rtxpro6000-blackwell": "RTXPRO6000",
        "rtx-pro-6000-blackwell": "RTXPRO6000", "pro6000": "RTXPRO6000", "tpu-v5e": "TPUv5e", "tpu-v6e": "TPUv6e",
        "v5e": "TPUv5e", "v6e": "TPUv6e", "mi300": "MI300X",
    ]

    public static var names: [String] { entries.map(\.name) }

    /// The entry for a device name as drivers and tools print it ("NVIDIA H100 80GB HBM3",
    /// "NVIDIA RTX PRO 6000 Blackwell Server Edition", "NVIDIA A100-SXM4-80GB"): the longest
    /// catalog name or alias found in it, letters and digits only; nil when none is.
    static func deviceName(_ text: String) -> HardwareProfile? {
        func squash(_ s: String) -> String { String(s.lowercased().filter { $0.isLetter || $0.isNumber }) }
        let device = squash(text)
        guard device.count >= 3 else { return nil }
        var best: (length: Int, name: String)? = nil
        let candidates = names.map { ($0, $0) } + aliases.map { ($0.key, $0.value) }
        for (written, entry) in candidates {
            let n = squash(written)
            guard n.count >= 3, device.contains(n), n.count > (best?.length ?? 0) else { continue }
            best = (n.count, entry)
        }
        // "80GB" in the name tells the A100s apart.
        if var pick = best?.name, pick.hasPrefix("A100") {
            pick = device.contains("40gb") ? "A100-40G" : "A100-80G"
            return entries.first { $0.name == pick }
        }
        return best.flatMap { b in entries.first { $0.name == b.name } }
    }

    /// For a hardware JSON file: the constants it leaves out (taken from the catalog entry its
    /// `name` names, else A100-80G's) and that entry's name; nil for a catalog name or a file
    /// that is not a JSON object.
    public static func defaultedKeys(_ path: String) -> (keys: [String], from: String)? {
        guard path.hasSuffix(".json") || path.contains("/"), let data = ConfigFile.read(path),
              let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return nil }
        let base = (object["name"] as? String).flatMap { n in entries.first { $0.name.lowercased() == n.lowercased() }?.name } ?? "A100-80G"
        return (HardwareProfile.constantKeys.filter { object[$0] == nil }, base)
    }

    /// A catalog name (case-insensitive, aliases accepted), a device name as drivers print it, or
    /// a JSON file path.
    public static func resolve(_ nameOrPath: String) throws -> HardwareProfile {
        let key = nameOrPath.lowercased()
        if let p = entries.first(where: { $0.name.lowercased() == key }) { return p }
        if let a = aliases[key], let p = entries.first(where: { $0.name == a }) { return p }
        if nameOrPath.hasSuffix(".json") || nameOrPath.contains("/") {
            guard let data = ConfigFile.read(nameOrPath) else {
                throw ConfigError("hardware file \(nameOrPath): cannot read it (expected a regular JSON file under 16 MB)")
            }
            do {
                let p = try JSONDecoder().decode(HardwareProfile.self, from: data)
                try p.validate()
                return p
            } catch let e as ConfigError {
                throw e
            } catch {
                throw ConfigError("hardware file \(nameOrPath): expected a JSON object with keys such as memory_gb, memory_bandwidth_gbs, tflops (\(error))")
            }
        }
        if let p = deviceName(nameOrPath) { return p }
        let close = names.filter { $0.lowercased().contains(key) || key.contains($0.lowercased()) }
        throw ConfigError("unknown hardware '\(nameOrPath)'\(close.isEmpty ? "" : " (did you mean \(close.joined(separator: " or "))?)"); known: \(names.joined(separator: ", ")), or a JSON file")
    }
}
