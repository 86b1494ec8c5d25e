import Foundation
import ServeSim
import Workload

/// Renders a run for people (text), programs (JSON) and LLMServingSim users (CSV).
public enum RunReport {
    /// LLMServingSim's columns (times in ns; `output` is input + output tokens, as it writes),
    /// then instance, preemptions and the request's mean and max inter-token latency.
    public static func requestsCSV(_ r: RunResult) -> String {
        TextBytes.rendering(capacity: r.requests.count * 96) { requestsCSV(r, into: $0) }
    }

    /// The same CSV streamed to `path` (published whole when complete): memory stays at the
    /// writer's buffer however many requests the run had.
    public static func writeRequestsCSV(_ r: RunResult, to path: String) throws {
        try AtomicFileWriter.write(to: path) { requestsCSV(r, into: $0) }
    }

    static func requestsCSV(_ r: RunResult, into out: some TextSink) {
        let q = r.requests
        out.append("request id,model,input,output,arrival,end_time,latency,queuing_delay,TTFT,TPOT,instance,preemptions,itl_mean,itl_max\n")
        let model = r.config.model.name
        let comma = UInt8(ascii: ",")
        for i in 0..<q.count {
            let latency = q.finish[i] - q.arrival[i]
            let out64 = Int64(q.outputTokens[i])
            let itlMean: Int64? = out64 > 1 ? (q.finish[i] - q.firstToken[i]) / (out64 - 1) : nil
            let tpot = r.llmservingsimTPOT ? latency / out64 : itlMean
            out.append(Int64(i)); out.append(byte: comma)
            out.append(model); out.append(byte: comma)
            out.append(Int64(q.promptTokens[i])); out.append(byte: comma)
            out.append(Int64(q.promptTokens[i]) + out64); out.append(byte: comma)
            out.append(q.arrival[i]); out.append(byte: comma)
            out.append(q.finish[i]); out.append(byte: comma)
            out.append(latency); out.append(byte: comma)
            out.append(q.firstScheduled[i] - q.arrival[i]); out.append(byte: comma)
            out.append(q.firstToken[i] - q.arrival[i]); out.append(byte: comma)
            if let tpot { out.append(tpot) }
            out.append(byte: comma)
            out.append(Int64(q.instance[i])); out.append(byte: comma)
            out.append(Int64(q.preemptions[i])); out.append(byte: comma)
            if let itlMean { out.append(itlMean) }
            out.append(byte: comma)
            if out64 > 1 { out.append(q.maxITL[i]) }
            out.append(byte: UInt8(ascii: "\n"))
        }
    }

    public static func timeSeriesCSV(_ r: RunResult) -> String {
        TextBytes.rendering { timeSeriesCSV(r, into: $0) }
    }

    /// The time series streamed to `path` (published whole when complete).
    public static func writeTimeSeriesCSV(_ r: RunResult, to path: String) throws {
        try AtomicFileWriter.write(to: path) { timeSeriesCSV(r, into: $0) }
    }

    static func timeSeriesCSV(_ r: RunResult, into out: some TextSink) {
        let t = r.timeSeries
        // Schedulers with telemetry add their figures, their mode and the events they logged in
        // the interval (`time s instance: kind: detail`, ';'-separated).
        let extra = !t.modeColumns.isEmpty
        let scaled = !t.instances.isEmpty
        var s = "t,prompt_throughput,gen_throughput,running,waiting,kv_cache_pct,preemptions"
        if scaled { s += ",instances" }
        if extra || scaled { s += "," + (t.telemetryColumns + t.modeColumns + ["events"]).joined(separator: ",") }
        out.append(s + "\n")
        var e = 0
        let events = r.schedulerEvents
        for k in 0..<t.promptTokens.count {
            s = "\(JSON.format(Double(k + 1) * t.interval)),\(JSON.format(t.promptTokens[k] / t.interval)),\(JSON.format(t.generatedTokens[k] / t.interval)),\(t.running[k]),\(t.waiting[k]),\(fixed(t.kvUsage[k], 2)),\(k < t.preemptions.count ? t.preemptions[k] : 0)"
            if scaled { s += k < t.instances.count ? ",\(t.instances[k])" : "," }
            if extra || scaled {
                if extra {
                    let row = k < t.telemetry.count ? t.telemetry[k] : []
                    s += "," + row.map { $0.isFinite ? JSON.format($0) : "" }.joined(separator: ",")
                    s += "," + (k < t.modes.count ? t.modes[k] : []).joined(separator: ",")
                }
                var logged: [String] = []
                let end = Int64((Double(k + 1) * t.interval * 1e9).rounded())
                while e < events.count && (events[e].time < end || k == t.promptTokens.count - 1) {
                    let ev = events[e]
                    logged.append("\(JSON.format(Double(ev.time) * 1e-9)) s \(ev.instance < 0 ? "autoscaler" : "i\(ev.instance)"): \(ev.kind): \(ev.detail)".replacingOccurrences(of: ",", with: " "))
                    e += 1
                }
                s += "," + logged.joined(separator: "; ").replacingOccurrences(of: "\"", with: "'")
            }
            out.append(s + "\n")
        }
    }

    public static func intervalLines(_ r: RunResult) -> String {
        let t = r.timeSeries
        return (0..<t.promptTokens.count).map {
            "[\(JSON.format(Double($0 + 1) * t.interval)) s] Avg Throughput: prompt: \(fixed(t.promptTokens[$0] / t.interval, 1)), generation: \(fixed(t.generatedTokens[$0] / t.interval, 1))"
        }.joined(separator: "\n")
    }

    static func json(_ d: Distribution) -> JSON {
        .object([("mean", .number(d.mean)), ("median", .number(d.median)), ("p90", .number(d.p90)),
                 ("p95", .number(d.p95)), ("p99", .number(d.p99)), ("max", .number(d.max))])
    }

    public static func json(_ s: RunSummary, _ r: RunResult) -> JSON {
        let c = r.config
        func opt(_ v: Double?) -> JSON { v.map { .number($0) } ?? .null }
        return .object([
            ("scheduler", .string(r.schedulerName)),
            ("router", .string(r.routerName)),
            ("config", .object([
                ("hardware", .string(c.hardware.name)), ("model", .string(c.model.name)),
                ("tp", .integer(c.tensorParallel)), ("pp", .integer(c.pipelineParallel)), ("instances", .integer(c.instances)),
                ("expert_parallel", .bool(c.expertParallel && c.model.isMoE)),
                ("max_num_seqs", .integer(c.knobs.maxNumSeqs)), ("max_num_batched_tokens", .integer(c.knobs.maxNumBatchedTokens)),
                ("block_size", .integer(c.knobs.blockSize)), ("kv_blocks", .integer(s.kvBlocks)),
                ("chunked_prefill", .bool(c.knobs.chunkedPrefill)), ("prefix_caching", .bool(c.knobs.prefixCaching)),
                ("prefix_caching_active", .bool(r.counters.prefixCachingActive)),
            ])),
            ("requests", .integer(s.requests)),
            ("makespan_s", .number(s.makespan)),
            ("ttft", json(s.ttft)), ("tpot", json(s.tpot)), ("itl", json(s.itl)), ("e2e", json(s.e2e)),
            ("queueing", json(s.queueing)), ("normalized_latency", json(s.normalizedLatency)),
            ("throughput_rps", .number(s.throughputRPS)),
            ("output_tokens_per_s", .number(s.outputTokensPerSecond)),
            ("total_tokens_per_s", .number(s.totalTokensPerSecond)),
            ("slo", .object([("ttft", opt(s.slo.ttft)), ("tpot", opt(s.slo.tpot)), ("e2e", opt(s.slo.e2e))])),
            ("slo_attainment", .number(s.sloAttainment)),
            ("goodput_rps", .number(s.goodputRPS)), ("goodput_window_rps", .number(s.goodputWindowRPS)),
            ("kv", .object([("utilization", .number(s.kvUtilization)), ("peak_utilization", .number(s.kvPeakUtilization)),
                            ("effective_utilization", .number(s.kvEffectiveUtilization)), ("fragmentation", .number(s.fragmentation)),
                            ("reserved_unused", .number(s.reservedUnused)), ("waste", .number(s.kvWaste)),
                            ("prefix_hit_rate", .number(s.prefixHitRate))])),
            ("preemptions", .integer(s.preemptions)),
            ("steps", .integer(s.steps)),
            ("mfu", .number(s.mfu)), ("mbu", .number(s.mbu)),
            ("gpu_seconds", .number(s.gpuSeconds)), ("mean_instances", .number(s.meanInstances)),
        ] + (r.scaling.map { a in [("autoscaling", JSON.object([
            ("autoscaler", .string(a.autoscaler)), ("peak_instances", .integer(a.peakInstances)),
            ("changes", .array(a.changes.map { c in
                .object([("time_s", .number(c.time)), ("from", .integer(c.from)), ("to", .integer(c.to)), ("desired", .integer(c.desired))])
            })),
        ]))] } ?? []) + (r.timeSeries.modes.isEmpty ? [] : [
            ("modes", .object(modeShares(r).map { ($0.mode, .number($0.share)) })),
            ("scheduler_events", .array(r.schedulerEvents.map { e in
                .object([("time_s", .number(Double(e.time) * 1e-9)), ("instance", .integer(e.instance)),
                         ("kind", .string(e.kind)), ("detail", .string(e.detail))])
            })),
        ]))
    }

    /// What a one-shot `compare` or `sweep` ran on, in one line.
    public static func setupLine(workload: String, trace: Trace, config c: ClusterConfig) -> String {
        "workload \(workload): \(trace.count) requests over \(fixed(trace.spanSeconds, 1)) s; \(c.instances) × \(c.hardware.name) (TP \(c.tensorParallel), PP \(c.pipelineParallel)); model \(c.model.name); max-num-seqs \(c.knobs.maxNumSeqs), max-num-batched-tokens \(c.knobs.maxNumBatchedTokens)"
    }

    public static func setupJSON(workload: String, trace: Trace, config c: ClusterConfig) -> JSON {
        .object([("dataset", .string(workload)), ("requests", .integer(trace.count)), ("span_s", .number(trace.spanSeconds)),
                 ("hardware", .string(c.hardware.name)), ("instances", .integer(c.instances)), ("tp", .integer(c.tensorParallel)),
                 ("pp", .integer(c.pipelineParallel)), ("model", .string(c.model.name)),
                 ("max_num_seqs", .integer(c.knobs.maxNumSeqs)), ("max_num_batched_tokens", .integer(c.knobs.maxNumBatchedTokens))])
    }

    /// A run label made safe as a folder name: letters, digits, `-`, `_` and `.`; anything else `_`.
    public static func folderLabel(_ label: String) -> String {
        String(label.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" })
    }

    /// A run's folder as sessions keep it: requests.csv, timeseries.csv, summary.json.
    public static func writeFolder(_ dir: URL, result: RunResult, summary: JSON) throws {
        try writeRequestsCSV(result, to: dir.appendingPathComponent("requests.csv").path)
        try writeTimeSeriesCSV(result, to: dir.appendingPathComponent("timeseries.csv").path)
        try AtomicFile.write(summary.render() + "\n", to: dir.appendingPathComponent("summary.json").path)
    }

    /// The prefix-caching setting and whether it could act: on, off, or on with nothing to reuse.
    static func prefixCachingText(setting: Bool, active: Bool) -> String {
        !setting ? "off" : active ? "on" : "on (no shared prefixes in this trace: nothing to reuse)"
    }

    public static func text(_ s: RunSummary, _ r: RunResult, workload: String, trace: Trace) -> String {
        let c = r.config
        var out = """
        SmartLLMServe run: scheduler \(r.schedulerName) on \(c.instances) × \(c.hardware.name) instance(s) (TP \(c.tensorParallel), PP \(c.pipelineParallel)\(c.expertParallelDegree > 1 ? ", EP \(c.expertParallelDegree)" : "")), model \(c.model.name)
        workload   \(workload): \(trace.count) requests over \(fixed(trace.spanSeconds, 1)) s
        KV cache   \(s.kvBlocks) blocks × \(c.knobs.blockSize) tokens per instance, prefix caching \(prefixCachingText(setting: c.knobs.prefixCaching, active: r.counters.prefixCachingActive)), chunked prefill \(c.knobs.chunkedPrefill ? "on" : "off")

        requests \(s.requests)   makespan \(fixed(s.makespan, 2)) s   steps \(s.steps)   preemptions \(s.preemptions)
        throughput \(fixed(s.throughputRPS, 2)) req/s, \(fixed(s.outputTokensPerSecond, 1)) output tok/s, \(fixed(s.totalTokensPerSecond, 1)) total tok/s


        """
        var t = TextTable(["latency", "mean", "median", "p90", "p95", "p99"])
        for (name, d) in [("TTFT", s.ttft), ("TPOT", s.tpot), ("ITL", s.itl), ("E2E", s.e2e), ("queueing", s.queueing)] {
            t.add([name] + [d.mean, d.median, d.p90, d.p95, d.p99].map(duration))
        }
        out += t.render()
        var bounds: [String] = []
        if let v = s.slo.ttft { bounds.append("TTFT ≤ \(JSON.format(v)) s") }
        if let v = s.slo.tpot { bounds.append("TPOT ≤ \(JSON.format(v * 1000)) ms") }
        if let v = s.slo.e2e { bounds.append("E2E ≤ \(JSON.format(v)) s") }
        out += "\nSLO (\(bounds.isEmpty ? "none" : bounds.joined(separator: ", "))): attainment \(fixed(s.sloAttainment * 100, 1))%, goodput \(fixed(s.goodputRPS, 2)) req/s (\(fixed(s.goodputWindowRPS, 2)) over the arrival window)\n"
        out += "KV use     mean \(fixed(s.kvUtilization * 100, 1))%, peak \(fixed(s.kvPeakUtilization * 100, 1))%, effective \(fixed(s.kvEffectiveUtilization * 100, 1))%, fragmentation \(fixed(s.fragmentation * 100, 1))%"
            + (s.reservedUnused > 0 ? ", reserved but unused \(fixed(s.reservedUnused * 100, 1))% (waste \(fixed(s.kvWaste * 100, 1))%)" : "")
        if r.counters.prefixCachingActive { out += ", prefix hits \(fixed(s.prefixHitRate * 100, 1))% of prompt tokens" }
        out += "\nMFU \(fixed(s.mfu * 100, 1))%   MBU \(fixed(s.mbu * 100, 1))%"
        if let a = r.scaling {
            out += "\nfleet      \(a.autoscaler) autoscaling: \(fixed(a.gpuSeconds, 0)) GPU-seconds, mean \(fixed(a.meanInstances, 2)) instances, peak \(a.peakInstances), \(a.changes.count) changes"
        } else {
            out += "\nfleet      \(c.instances) instance(s) fixed: \(fixed(s.gpuSeconds, 0)) GPU-seconds"
        }
        let shares = modeShares(r)
        if !shares.isEmpty || !r.schedulerEvents.isEmpty {
            if !shares.isEmpty { out += "\nmodes      " + shares.map { "\($0.mode) \(fixed($0.share * 100, 1))%" }.joined(separator: ", ") + " of intervals" }
            let events = r.schedulerEvents
            out += "\nscheduler log (\(events.count) events\(events.count > 8 ? ", first 8; all in --timeseries" : "")):"
            for e in events.prefix(8) { out += "\n  \(fixed(Double(e.time) * 1e-9, 1)) s  \(e.instance < 0 ? "autoscaler" : "instance \(e.instance)")  \(e.kind): \(e.detail)" }
        }
        return out
    }

    /// The share of time-series intervals each scheduler mode held, over every reporting instance.
    static func modeShares(_ r: RunResult) -> [(mode: String, share: Double)] {
        var count: [String: Int] = [:]
        var order: [String] = []
        var total = 0
        for row in r.timeSeries.modes {
            for m in row {
                if count[m] == nil { order.append(m) }
                count[m, default: 0] += 1
                total += 1
            }
        }
        return order.map { ($0, Double(count[$0]!) / Double(max(1, total))) }
    }
}
