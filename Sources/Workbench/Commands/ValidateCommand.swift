import ArgumentParser
import Foundation
import Schedulers
import ServeSim
import Workload

/// Compares a simulation with a real vLLM measurement folder (meta.json, requests.jsonl, config.json).
public struct ValidateCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Replay a real vLLM run and compare measured and simulated TTFT, TPOT and E2E.",
        discussion: "Example: smartserve validate ../shared/data/vllm-measured/RTXPRO6000-Llama-3.1-8B --json")
    @Argument(help: "Measurement folder.") var directory: String
    @Option(help: "Hardware catalog name or JSON profile (default: the one named in config.json).") var hardware: String?
    @Option(help: "Model name or HuggingFace config.json (default: the one named in meta.json).") var model: String?
    @Flag(help: "Print JSON.") var json = false
    public init() {}

    public func run() throws {
        let v = try Validation.run(directory: directory, hardwareOverride: hardware, modelOverride: model)
        Terminal.out(json ? v.json().render() : v.text())
    }
}

public struct Validation {
    public struct Row {
        public var metric: String
        public var stat: String
        public var measured: Double
        public var simulated: Double
        public var diffPct: Double { (simulated - measured) / measured * 100 }
    }

    public var rows: [Row]
    public var config: ClusterConfig

    static let stats = ["mean", "median", "p90", "p95", "p99"]

    static func values(_ xs: [Double]) -> [Double] {
        let d = Distribution(xs)
        return [d.mean, d.median, d.p90, d.p95, d.p99]
    }

    public static func run(directory: String, hardwareOverride: String? = nil, modelOverride: String? = nil) throws -> Validation {
        let dir = URL(fileURLWithPath: directory)
        func object(_ name: String) throws -> [String: Any] {
            let path = dir.appendingPathComponent(name).path
            guard let data = FileManager.default.contents(atPath: path) else { throw WorkloadError(file: path, "cannot read it") }
            guard let o = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw WorkloadError(file: path, "expected a JSON object")
            }
            return o
        }
        let meta = try object("meta.json")
        let hwConfig = try object("config.json")
        let metaPath = dir.appendingPathComponent("meta.json").path
        guard let modelName = meta["model"] as? String else { throw WorkloadError(file: metaPath, field: "key 'model'", "missing") }
        let kwargs = meta["engine_kwargs"] as? [String: Any] ?? [:]
        let instance = ((hwConfig["nodes"] as? [[String: Any]])?.first?["instances"] as? [[String: Any]])?.first ?? [:]
        let hwName = hardwareOverride ?? (instance["hardware"] as? String) ?? ""
        var hw = try HardwareCatalog.resolve(hwName)
        let mem = instance["npu_mem"] as? [String: Any] ?? [:]
        if let size = (mem["mem_size"] as? NSNumber)?.doubleValue { hw.memoryGB = size }
        var config = ClusterConfig(hardware: hw, model: try ModelCatalog.resolve(modelOverride ?? modelName))
        config.tensorParallel = (kwargs["tensor_parallel_size"] as? NSNumber)?.intValue ?? (instance["tp_size"] as? NSNumber)?.intValue ?? 1
        config.instances = (kwargs["data_parallel_size"] as? NSNumber)?.intValue ?? 1
        config.knobs.maxNumSeqs = (kwargs["max_num_seqs"] as? NSNumber)?.intValue ?? 256
        config.knobs.maxNumBatchedTokens = (kwargs["max_num_batched_tokens"] as? NSNumber)?.intValue ?? 2048
        config.knobs.gpuMemoryUtilization = (mem["mem_util"] as? NSNumber)?.doubleValue
            ?? (kwargs["gpu_memory_utilization"] as? NSNumber)?.doubleValue ?? 0.9
        if let len = (kwargs["max_model_len"] as? NSNumber)?.intValue { config.knobs.maxModelLen = len }

        let requestsPath = dir.appendingPathComponent("requests.jsonl").path
        let (trace, _) = try TraceLoader.load(requestsPath, options: { var o = LoadOptions(); o.format = .vllmMeasured; return o }())
        let measured = try measuredMetrics(requestsPath)

        Builtins.register()
        let router: RoundRobinRouter? = config.instances > 1 ? RoundRobinRouter() : nil
        let result = try Simulator(trace: trace, config: config, makeScheduler: { VLLMScheduler() }, router: router).run()
        let q = result.requests
        var sTTFT: [Double] = [], sTPOT: [Double] = [], sE2E: [Double] = []
        for i in 0..<q.count {
            sTTFT.append(q.ttft(i) * 1000)
            sE2E.append(q.e2e(i) * 1000)
            if let tpot = q.tpot(i) { sTPOT.append(tpot * 1000) }
        }
        var rows: [Row] = []
        for (metric, m, s) in [("ttft", measured.ttft, sTTFT), ("tpot", measured.tpot, sTPOT), ("e2e", measured.e2e, sE2E)] {
            for (k, (mv, sv)) in zip(values(m), values(s)).enumerated() {
                rows.append(Row(metric: metric, stat: stats[k], measured: mv, simulated: sv))
            }
        }
        return Validation(rows: rows, config: config)
    }

    /// The data README's definitions (ms): TTFT = first_token_ts − queued_ts; TPOT =
    /// (last_token_ts − first_token_ts) / (output − 1) for outputs > 1; E2E = last_token_ts − queued_ts.
    static func measuredMetrics(_ path: String) throws -> (ttft: [Double], tpot: [Double], e2e: [Double]) {
        let text = try TextBuffer(path: path)
        var out: (ttft: [Double], tpot: [Double], e2e: [Double]) = ([], [], [])
        try text.forEachLine { line, r in
            if r.isEmpty { return true }
            guard let o = (try? JSONSerialization.jsonObject(with: Data(text.bytes[r]))) as? [String: Any] else {
                throw WorkloadError(file: path, line: line, "malformed JSON")
            }
            func num(_ k: String) throws -> Double {
                guard let v = (o[k] as? NSNumber)?.doubleValue else { throw WorkloadError(file: path, line: line, field: "key '\(k)'", "missing or not a number") }
                return v
            }
            let q = try num("queued_ts"), f = try num("first_token_ts"), l = try num("last_token_ts"), n = try num("output_toks")
            out.ttft.append((f - q) * 1000)
            out.e2e.append((l - q) * 1000)
            if n > 1 { out.tpot.append((l - f) * 1000 / (n - 1)) }
            return true
        }
        return out
    }

    public func json() -> JSON {
        var metrics: [(String, JSON)] = []
        for metric in ["ttft", "tpot", "e2e"] {
            metrics.append((metric, .object(rows.filter { $0.metric == metric }.map { row in
                (row.stat, .object([("measured", .number(row.measured)), ("simulated", .number(row.simulated)), ("diff_pct", .number(row.diffPct))]))
            })))
        }
        return .object([("metrics", .object(metrics)), ("unit", .string("ms")),
                        ("config", .object([("hardware", .string(config.hardware.name)), ("model", .string(config.model.name)),
                                            ("tp", .integer(config.tensorParallel)),
                                            ("max_num_seqs", .integer(config.knobs.maxNumSeqs)),
                                            ("max_num_batched_tokens", .integer(config.knobs.maxNumBatchedTokens))]))])
    }

    public func text() -> String {
        var t = TextTable(["metric (ms)", "measured", "simulated", "diff %"])
        for r in rows { t.add(["\(r.metric.uppercased()) \(r.stat)", fixed(r.measured, 1), fixed(r.simulated, 1), fixed(r.diffPct, 1)]) }
        return "validation against the measurement on \(config.hardware.name), \(config.model.name), TP \(config.tensorParallel)\n" + t.render()
    }
}
