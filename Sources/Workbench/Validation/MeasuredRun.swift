import Foundation
import ServeSim
import Workload

/// One resolved setting of a measured run and where its value came from.
public struct SetupItem: Equatable {
    public var key: String
    public var value: String
    public var source: String
}

/// What a user may impose on `validate` over what the run folder says.
public struct SetupOverrides {
    public var hardware: String?
    public var model: String?
    public var numGPUBlocks: Int?
    public var instances: Int?
    public init(hardware: String? = nil, model: String? = nil, numGPUBlocks: Int? = nil, instances: Int? = nil) {
        self.hardware = hardware
        self.model = model
        self.numGPUBlocks = numGPUBlocks
        self.instances = instances
    }
}

/// A real vLLM measurement folder (`meta.json`, `requests.jsonl`, optional `config.json`,
/// `timeseries.csv` and a HuggingFace config) and the cluster configuration it ran with.
///
/// Precedence, per setting (documented in the README): a flag given to `validate`; then what the
/// engine measured (`meta.json` `kv_cache`: `num_gpu_blocks`, else `num_kv_tokens` or
/// `kv_cache_memory_bytes` converted to blocks, `block_size`, …); then the engine's
/// resolved settings (`resolved_config`: `cache_config`, `scheduler_config`, `parallel_config`,
/// `model_config`); then the arguments it was started with (`engine_kwargs`); then vLLM's
/// defaults (`gpu_memory_utilization` 0.9, block 16, prefix caching on (V1), chunked prefill on,
/// 256 seats, 2048 tokens). Hardware: `--hardware` whole; else each constant `config.json` states
/// (memory size and bandwidth, link bandwidth and latency) over the catalog entry it names.
/// config.json's `mem_util` is another simulator's setting and is not used.
public struct MeasuredRun {
    public var directory: String
    public var config: ClusterConfig
    public var setup: [SetupItem]
    /// The workload to replay: (queued_ts − first queued_ts, input, output).
    public var trace: Trace
    /// Seconds between the measurement's clock start and the first request (aligns the time series).
    public var seriesOffset: Double
    public var requestsPath: String { URL(fileURLWithPath: directory).appendingPathComponent("requests.jsonl").path }

    public static func load(_ directory: String, overrides: SetupOverrides = SetupOverrides()) throws -> MeasuredRun {
        let dir = URL(fileURLWithPath: directory)
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        func object(_ name: String, required: Bool) throws -> [String: Any]? {
            guard let data = ConfigFile.read(path(name)) else {
                if required { throw WorkloadError(file: path(name), "cannot read it (a vLLM measurement folder holds meta.json and requests.jsonl)") }
                return nil
            }
            guard let o = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw WorkloadError(file: path(name), "expected a JSON object")
            }
            return o
        }
        let meta = try object("meta.json", required: true)!
        let cluster = try object("config.json", required: false)
        let resolver = SetupResolver(meta: meta)
        var setup: [SetupItem] = []

        // Model: flag, a HuggingFace config with the run, one embedded in meta.json, the catalog by name.
        let modelName = resolver.string(["model"], ["resolved_config", "model_config", "model"], ["engine_kwargs", "model"])?.value
        var model: ModelSpec
        var modelSource: String
        if let m = overrides.model {
            model = try ModelCatalog.resolve(m)
            modelSource = "--model"
        } else if let file = ["hf_config.json", "model_config.json", "config.hf.json"].first(where: { FileManager.default.fileExists(atPath: path($0)) }) {
            model = try HuggingFaceConfig.load(path(file))
            if let modelName { model.name = modelName }
            modelSource = file
        } else if let hf = resolver.object(["resolved_config", "model_config", "hf_config"]) ?? resolver.object(["hf_config"]) {
            model = try HuggingFaceConfig.parse(hf.value, source: path("meta.json") + " " + hf.source, name: modelName ?? "model")
            if let modelName { model.name = modelName }
            modelSource = "meta.json " + hf.source
        } else {
            guard let modelName else { throw WorkloadError(file: path("meta.json"), field: "key 'model'", "missing (or give --model)") }
            model = try ModelCatalog.resolve(modelName)
            modelSource = ModelCatalog.names.contains(model.name) ? "catalog" : "catalog (same shape as \(ModelCatalog.entries.first { ModelCatalog.sameShapeName($0.name, model.name) }?.name ?? model.name))"
        }
        if let dtype = resolver.string(["resolved_config", "model_config", "dtype"], ["engine_kwargs", "dtype"])?.value {
            switch dtype.lowercased() {
            case "float32", "fp32": model.dtypeBytes = 4
            case "fp8", "float8": model.dtypeBytes = 1
            case "auto": break
            default: model.dtypeBytes = 2
            }
        }
        setup.append(SetupItem(key: "model", value: model.name, source: modelSource))

        // Hardware.
        let instance = ((cluster?["nodes"] as? [[String: Any]])?.first?["instances"] as? [[String: Any]])?.first ?? [:]
        var hw: HardwareProfile
        var hwSources: [String: String] = [:]
        if let h = overrides.hardware {
            hw = try HardwareCatalog.resolve(h)
            for k in HardwareProfile.constantKeys { hwSources[k] = "--hardware" }
        } else {
            guard let name = (instance["hardware"] as? String) ?? resolver.string(["hardware"], ["gpu"], ["gpu_name"], ["device_name"])?.value else {
                throw WorkloadError(file: path("config.json"), "names no hardware (give --hardware)")
            }
            hw = try HardwareCatalog.resolve(name)
            for k in HardwareProfile.constantKeys { hwSources[k] = "catalog \(hw.name)" }
            let mem = instance["npu_mem"] as? [String: Any] ?? [:]
            func take(_ value: Any?, _ key: String, _ scale: Double, _ apply: (inout HardwareProfile, Double) -> Void) {
                guard let v = (value as? NSNumber)?.doubleValue, v > 0, v.isFinite else { return }
                apply(&hw, v * scale)
                hwSources[key] = "config.json"
            }
            take(mem["mem_size"], "memory_gb", 1) { $0.memoryGB = $1 }
            take(mem["mem_bw"], "memory_bandwidth_gbs", 1) { hw, stated in
                // At or above the specification it is a peak; below it, a measured bandwidth the
                // device cannot exceed (RTX PRO 6000: 1597 stated, 1792 spec): efficiency is
                // rescaled so the achievable rate is min(stated, spec × efficiency).
                let spec = hw.memoryBandwidthGBs, achievable = spec * hw.memoryEfficiency
                hw.memoryBandwidthGBs = stated
                if stated < spec {
                    hw.memoryEfficiency = min(1, achievable / stated)
                    hwSources["memory_efficiency"] = "rescaled: achievable = min(stated, spec × efficiency)"
                }
            }
            take(cluster?["link_bw"], "link_bandwidth_gbs", 1) { $0.linkBandwidthGBs = $1 }
            take(cluster?["link_latency"], "link_latency_us", 1e-3) { $0.linkLatencyUs = $1 }
            let host = (cluster?["nodes"] as? [[String: Any]])?.first?["cpu_mem"] as? [String: Any]
            take(host?["mem_bw"], "host_bandwidth_gbs", 1) { $0.hostBandwidthGBs = $1 }
        }
        try hw.validate()
        setup.append(SetupItem(key: "hardware", value: hw.name, source: overrides.hardware == nil ? "config.json" : "--hardware"))
        for (k, v) in hw.constants { setup.append(SetupItem(key: k, value: fixed(v, v < 10 ? 3 : 1), source: hwSources[k] ?? "catalog")) }

        var config = ClusterConfig(hardware: hw, model: model)
        /// A whole number in 1...limit; anything else names the key that holds it.
        func int(_ key: String, _ paths: [String]..., limit: Int = 1_000_000_000, flag: Int? = nil, flagName: String = "",
                 fallback: Int? = nil) throws -> Int? {
            if let flag { setup.append(SetupItem(key: key, value: "\(flag)", source: flagName)); return flag }
            for p in paths {
                guard let v = resolver.number(p) else { continue }
                guard v.value >= 1, v.value <= Double(limit), v.value.rounded() == v.value else {
                    throw WorkloadError(file: path("meta.json"), field: "key '\(p.joined(separator: "."))'", "expected a whole number in 1...\(limit), got \(v.value)")
                }
                setup.append(SetupItem(key: key, value: "\(Int(v.value))", source: v.source))
                return Int(v.value)
            }
            if let fallback { setup.append(SetupItem(key: key, value: "\(fallback)", source: "vLLM default")) }
            return fallback
        }
        func bool(_ key: String, _ paths: [String]..., fallback: Bool) -> Bool {
            for p in paths { if let v = resolver.bool(p) { setup.append(SetupItem(key: key, value: v.value ? "on" : "off", source: v.source)); return v.value } }
            setup.append(SetupItem(key: key, value: fallback ? "on" : "off", source: "vLLM default"))
            return fallback
        }
        let pc = "parallel_config", sc = "scheduler_config", cc = "cache_config"
        config.tensorParallel = try int("tensor_parallel_size", ["resolved_config", pc, "tensor_parallel_size"], ["engine_kwargs", "tensor_parallel_size"], limit: 1024,
                                    fallback: (instance["tp_size"] as? NSNumber)?.intValue ?? 1)!
        config.pipelineParallel = try int("pipeline_parallel_size", ["resolved_config", pc, "pipeline_parallel_size"], ["engine_kwargs", "pipeline_parallel_size"],
                                          limit: 1024, fallback: 1)!
        config.instances = try int("data_parallel_size", ["resolved_config", pc, "data_parallel_size"], ["engine_kwargs", "data_parallel_size"], limit: 1024,
                               flag: overrides.instances, flagName: "--instances", fallback: 1)!
        config.expertParallel = bool("enable_expert_parallel", ["resolved_config", pc, "enable_expert_parallel"], ["engine_kwargs", "enable_expert_parallel"], fallback: false)
        var k = EngineKnobs()
        k.maxNumSeqs = try int("max_num_seqs", ["resolved_config", sc, "max_num_seqs"], ["engine_kwargs", "max_num_seqs"], fallback: 256)!
        k.maxNumBatchedTokens = try int("max_num_batched_tokens", ["resolved_config", sc, "max_num_batched_tokens"], ["engine_kwargs", "max_num_batched_tokens"], fallback: 2048)!
        k.chunkedPrefill = bool("chunked_prefill", ["resolved_config", sc, "enable_chunked_prefill"], ["engine_kwargs", "enable_chunked_prefill"], fallback: true)
        k.blockSize = try int("block_size", ["kv_cache", "block_size"], ["resolved_config", cc, "block_size"], ["engine_kwargs", "block_size"], fallback: 16)!
        k.prefixCaching = bool("prefix_caching", ["kv_cache", "enable_prefix_caching"], ["resolved_config", cc, "enable_prefix_caching"],
                               ["engine_kwargs", "enable_prefix_caching"], fallback: true)
        if let u = resolver.number(["kv_cache", "gpu_memory_utilization"], ["resolved_config", cc, "gpu_memory_utilization"], ["engine_kwargs", "gpu_memory_utilization"]) {
            k.gpuMemoryUtilization = u.value
            setup.append(SetupItem(key: "gpu_memory_utilization", value: fixed(u.value, 2), source: u.source))
        } else {
            setup.append(SetupItem(key: "gpu_memory_utilization", value: "0.90", source: "vLLM default"))
        }
        k.numGPUBlocksOverride = try int("num_gpu_blocks", ["kv_cache", "num_gpu_blocks"], ["resolved_config", cc, "num_gpu_blocks"],
                                     ["resolved_config", cc, "num_gpu_blocks_override"], ["engine_kwargs", "num_gpu_blocks_override"],
                                     flag: overrides.numGPUBlocks, flagName: "--num-gpu-blocks")
        k.maxModelLen = try int("max_model_len", ["resolved_config", "model_config", "max_model_len"], ["engine_kwargs", "max_model_len"])
        if k.numGPUBlocksOverride == nil {
            // Other measured forms of the same fact: KV tokens, or KV bytes per device.
            config.knobs = k
            if let tokens = try int("num_kv_tokens", ["kv_cache", "num_kv_tokens"], limit: 1 << 40) {
                k.numGPUBlocksOverride = max(1, tokens / k.blockSize)
            } else if let bytes = resolver.number(["kv_cache", "kv_cache_memory_bytes"]), bytes.value >= 1, bytes.value <= 1e15 {
                k.numGPUBlocksOverride = max(1, Int(bytes.value / (Double(k.blockSize) * config.kvBytesPerTokenPerDevice)))
                setup.append(SetupItem(key: "kv_cache_memory_bytes", value: fixed(bytes.value, 0), source: bytes.source))
            }
            if let blocks = k.numGPUBlocksOverride {
                setup.append(SetupItem(key: "num_gpu_blocks", value: "\(blocks)", source: "derived from the measured KV size"))
            }
        }
        config.knobs = k
        config.logInterval = resolver.number(["tick_seconds"])?.value ?? 1
        guard config.logInterval >= 0.01 && config.logInterval <= 3600 else {
            throw WorkloadError(file: path("meta.json"), field: "key 'tick_seconds'", "expected 0.01...3600 s, got \(config.logInterval)")
        }
        try config.validate()
        if k.numGPUBlocksOverride == nil {
            setup.append(SetupItem(key: "num_gpu_blocks", value: "\(try config.kvBlocks())", source: "computed from memory"))
        }

        let requestsPath = path("requests.jsonl")
        var options = LoadOptions()
        options.format = .vllmMeasured
        let (trace, _) = try TraceLoader.load(requestsPath, options: options)
        var offset = 0.0
        if let started = resolver.string(["started_at"])?.value, let t0 = UTCTimestamp.seconds(started),
           let first = try? MeasuredRequests.firstArrivalTime(requestsPath) {
            offset = max(0, first - t0)
        }
        return MeasuredRun(directory: directory, config: config, setup: setup, trace: trace, seriesOffset: offset)
    }
}

/// Reads typed values from meta.json along several key paths, the first present winning, and says
/// which path it came from.
struct SetupResolver {
    let meta: [String: Any]

    func lookup(_ path: [String]) -> Any? {
        var node: Any? = meta
        for key in path { node = (node as? [String: Any])?[key] }
        if node is NSNull { return nil }
        return node
    }

    func source(_ path: [String]) -> String { "meta.json " + path.joined(separator: ".") }

    func number(_ paths: [String]...) -> (value: Double, source: String)? {
        for p in paths {
            if let n = lookup(p) as? NSNumber, n.doubleValue.isFinite { return (n.doubleValue, source(p)) }
        }
        return nil
    }

    func bool(_ paths: [String]...) -> (value: Bool, source: String)? {
        for p in paths { if let b = lookup(p) as? Bool { return (b, source(p)) } }
        return nil
    }

    func string(_ paths: [String]...) -> (value: String, source: String)? {
        for p in paths { if let s = lookup(p) as? String, !s.isEmpty { return (s, source(p)) } }
        return nil
    }

    func object(_ path: [String]) -> (value: [String: Any], source: String)? {
        (lookup(path) as? [String: Any]).map { ($0, path.joined(separator: ".")) }
    }
}

enum UTCTimestamp {
    /// Epoch seconds of a UTC timestamp such as 2026-04-25T18:47:18.273385Z.
    static func seconds(_ s: String) -> Double? {
        let text = TextBuffer(string: s.replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: ""))
        guard let ns = text.dateTime(0..<text.count) else { return nil }
        return Double(ns) / 1e9
    }
}
