import Foundation
import Workload
import Yams

/// An LLMServingSim 2.0 profiler bundle for one TP degree: measured kernel times of one
/// transformer block (real vLLM kernels), read as a latency model by `ProfileLatencyModel`.
///
/// Layout: `<HW>/<org>/<model>/<variant>/meta.yaml` and `tp<N>/{dense, per_sequence, attention,
/// moe, skew_fit}.csv`, all times in µs (see the README's "Measured latency profiles").
public struct ProfileBundle: Sendable {
    /// The variant folder (the one holding meta.yaml).
    public let directory: String
    public let hardware: String
    public let model: String
    public let variant: String
    public let tensorParallel: Int
    public let vllmVersion: String
    /// `dense.csv`: per layer, time by tokens in the step.
    public let dense: [String: Curve]
    /// `per_sequence.csv`: `lm_head` and `sampler` by sequences sampled.
    public let perSequence: [String: Curve]
    /// `attention.csv`: (prefill chunk, prefill KV, decodes, decode KV) → µs.
    public let attention: NestedGrid
    /// `moe.csv`: (tokens, activated experts) → µs, for MoE models.
    public let moe: NestedGrid?
    /// `skew_fit.csv` with meta.yaml's bucket axes and default alpha.
    public let skew: SkewFit?

    /// Finds the bundle for `model` under `path` (the variant folder itself, or any folder above
    /// it: the hardware folder, a folder of several hardware) and loads its `tp<tp>` tables.
    public static func load(_ path: String, model: String?, tensorParallel tp: Int) throws -> ProfileBundle {
        let dir = try locate(path, model: model)
        let metaPath = dir + "/meta.yaml"
        let meta = try readMeta(metaPath)
        let tpDir = dir + "/tp\(tp)"
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: tpDir, isDirectory: &isDir), isDir.boolValue else {
            let have = (meta["tp_degrees"] as? [Any])?.map { "\($0)" }.joined(separator: ", ") ?? "none listed"
            throw ConfigError("latency profile \(dir): no tp\(tp) folder for TP \(tp) (profiled TP degrees: \(have))")
        }
        func curves(_ file: String, _ xName: String) throws -> [String: Curve] {
            let rows = try table(tpDir + "/" + file, [.init("layer", .text), .init(xName), .init("time_us")])
            var points: [String: [(x: Double, y: Double)]] = [:]
            for r in rows { points[r.texts[0], default: []].append((r.number(1), r.number(2))) }
            return points.mapValues { Curve($0) }
        }
        let dense = try curves("dense.csv", "tokens")
        let perSequence = try curves("per_sequence.csv", "sequences")
        for need in ["qkv_proj", "o_proj"] where dense[need] == nil {
            throw ConfigError("latency profile \(tpDir)/dense.csv: no rows for layer '\(need)'")
        }
        guard perSequence["lm_head"] != nil else {
            throw ConfigError("latency profile \(tpDir)/per_sequence.csv: no rows for 'lm_head'")
        }
        let att = try table(tpDir + "/attention.csv", ["prefill_chunk", "kv_prefill", "n_decode", "kv_decode", "time_us"].map { .init($0) })
        let attention = NestedGrid(depth: 4, zeroApart: [true, false, true, false], rows: att.map { r in ((0..<4).map(r.number), r.number(4)) })
        var moe: NestedGrid? = nil
        if FileManager.default.fileExists(atPath: tpDir + "/moe.csv") {
            let rows = try table(tpDir + "/moe.csv", ["tokens", "activated_experts", "time_us"].map { .init($0) })
            moe = NestedGrid(depth: 2, rows: rows.map { r in ([r.number(0), r.number(1)], r.number(2)) })
        }
        var skew: SkewFit? = nil
        if FileManager.default.fileExists(atPath: tpDir + "/skew_fit.csv") {
            skew = try SkewFit(meta: meta, metaPath: metaPath, tp: tp, csv: tpDir + "/skew_fit.csv")
        }
        func string(_ k: String) -> String { meta[k].map { "\($0)" } ?? "" }
        return ProfileBundle(directory: dir, hardware: string("hardware"), model: string("model"), variant: string("variant"),
                             tensorParallel: tp, vllmVersion: string("vllm_version"), dense: dense, perSequence: perSequence,
                             attention: attention, moe: moe, skew: skew)
    }

    /// The variant folder for a model: `path` itself when it holds meta.yaml, else the one folder
    /// below it (at most four levels) whose meta.yaml names the model (any, if there is only one).
    public static func locate(_ path: String, model: String?) throws -> String {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
            throw ConfigError("latency profile \(path): not a folder (expected a profile bundle with meta.yaml)")
        }
        let root = path.hasSuffix("/") ? String(path.dropLast()) : path
        if fm.fileExists(atPath: root + "/meta.yaml") { return root }
        var found: [(dir: String, model: String)] = []
        var frontier = [root]
        for _ in 0..<4 {
            var next: [String] = []
            for d in frontier {
                for name in ((try? fm.contentsOfDirectory(atPath: d)) ?? []).sorted() {
                    let sub = d + "/" + name
                    guard fm.fileExists(atPath: sub, isDirectory: &isDir), isDir.boolValue else { continue }
                    if fm.fileExists(atPath: sub + "/meta.yaml") {
                        let m = (try? readMeta(sub + "/meta.yaml"))?["model"] as? String ?? ""
                        found.append((sub, m))
                    } else {
                        next.append(sub)
                    }
                }
            }
            frontier = next
        }
        guard !found.isEmpty else { throw ConfigError("latency profile \(path): no meta.yaml in it or in the folders below") }
        let matching = model.map { m in found.filter { ModelCatalog.sameShapeName($0.model, m) } } ?? found
        guard let pick = matching.first else {
            throw ConfigError("latency profile \(path): no bundle for model \(model ?? "?"); it has \(found.map(\.model).joined(separator: ", "))")
        }
        if matching.count > 1 {
            throw ConfigError("latency profile \(path): several bundles\(model.map { " for " + $0 } ?? "") (\(matching.map(\.dir).joined(separator: ", "))); name the variant folder")
        }
        return pick.dir
    }

    static func readMeta(_ path: String) throws -> [String: Any] {
        guard let data = ConfigFile.read(path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigError("latency profile \(path): cannot read it")
        }
        do {
            guard let meta = try Yams.load(yaml: text) as? [String: Any] else {
                throw ConfigError("latency profile \(path): expected a YAML mapping")
            }
            return meta
        } catch let e as ConfigError {
            throw e
        } catch {
            throw ConfigError("latency profile \(path): malformed YAML (\(error))")
        }
    }

    /// A table of the bundle: its header must name `columns`; at least one row.
    static func table(_ path: String, _ columns: [HeaderedCSV.Column]) throws -> [HeaderedCSV.Row] {
        guard FileManager.default.isReadableFile(atPath: path) else { throw ConfigError("latency profile \(path): cannot read it") }
        let rows = try HeaderedCSV.read(path, columns: columns)
        guard !rows.isEmpty else { throw ConfigError("latency profile \(path): no rows") }
        return rows
    }
}

/// The profiler's skew correction: a decode batch whose contexts differ costs
/// t(mean) + alpha × (t(max) − t(mean)), alpha fitted per bucket of (prefill chunk, decode count,
/// share of long decodes, long-decode KV, prefill KV), else a default alpha.
public struct SkewFit: Sendable {
    public let alphaDefault: Double
    let pcGrid: [Double]
    let nBins: [Double], srBins: [Double], kvBins: [Double], kpBins: [Double]
    /// alpha by packed bucket index; NaN where the fit had no samples.
    let table: [Double]

    init(meta: [String: Any], metaPath: String, tp: Int, csv: String) throws {
        func dict(_ o: Any?, _ what: String) throws -> [String: Any] {
            guard let d = o as? [String: Any] else { throw ConfigError("latency profile \(metaPath): missing '\(what)'") }
            return d
        }
        let fit = try dict(meta["skew_fit"], "skew_fit")
        let axes = try dict(fit["bucket_axes"], "skew_fit.bucket_axes")
        let perTP = try dict(fit["per_tp"], "skew_fit.per_tp")
        let entry = (perTP[String(tp)] ?? perTP.first { Int($0.key) == tp }?.value) as? [String: Any]
        alphaDefault = (entry?["alpha_default"] as? Double) ?? 0
        func numbers(_ k: String) throws -> [Double] {
            guard let a = axes[k] as? [Any] else { throw ConfigError("latency profile \(metaPath): missing skew_fit.bucket_axes.\(k)") }
            return try a.map {
                if let d = $0 as? Double { return d }
                if let i = $0 as? Int { return Double(i) }
                throw ConfigError("latency profile \(metaPath): skew_fit.bucket_axes.\(k) expects numbers")
            }
        }
        func labels(_ k: String) throws -> [String] {
            guard let a = axes[k] as? [Any] else { throw ConfigError("latency profile \(metaPath): missing skew_fit.bucket_axes.\(k)") }
            return a.map { "\($0)" }
        }
        nBins = try numbers("n_bins"); srBins = try numbers("skew_rate_bins")
        kvBins = try numbers("kv_big_bins"); kpBins = try numbers("kp_bins")
        let nL = try labels("n_labels"), srL = try labels("skew_rate_labels"), kvL = try labels("kv_big_labels"), kpL = try labels("kp_labels")
        for (b, l, k) in [(nBins, nL, "n"), (srBins, srL, "skew_rate"), (kvBins, kvL, "kv_big"), (kpBins, kpL, "kp")] where b.count != l.count + 1 {
            throw ConfigError("latency profile \(metaPath): skew_fit.bucket_axes.\(k)_bins needs one more edge than \(k)_labels")
        }
        let rows = try ProfileBundle.table(csv, [.init("pc"), .init("n_label", .text), .init("skew_rate_label", .text),
                                                 .init("kv_big_label", .text), .init("kp_label", .text), .init("alpha", .number)])
            .map { FitRow(pc: $0.number(0), n: $0.texts[1], sr: $0.texts[2], kv: $0.texts[3], kp: $0.texts[4], alpha: $0.number(5)) }
        pcGrid = Array(Set(rows.map(\.pc))).sorted()
        var t = [Double](repeating: .nan, count: max(1, pcGrid.count * nL.count * srL.count * kvL.count * kpL.count))
        let dims = (nL.count, srL.count, kvL.count, kpL.count)
        for r in rows {
            guard let p = pcGrid.firstIndex(of: r.pc), let a = nL.firstIndex(of: r.n), let b = srL.firstIndex(of: r.sr),
                  let c = kvL.firstIndex(of: r.kv), let d = kpL.firstIndex(of: r.kp) else { continue }
            t[(((p * dims.0 + a) * dims.1 + b) * dims.2 + c) * dims.3 + d] = r.alpha
        }
        table = t
    }

    struct FitRow { var pc: Double; var n, sr, kv, kp: String; var alpha: Double }

    /// pandas.cut's rule: bucket i holds edges[i] < v ≤ edges[i+1]; outside every bucket → nil.
    @inline(__always)
    static func bucket(_ edges: [Double], _ v: Double) -> Int? {
        guard v > edges[0] else { return nil }
        for i in 1..<edges.count where v <= edges[i] { return i - 1 }
        return nil
    }

    /// alpha for a decode batch: `pc` the step's prefill chunk, `n` decodes, `share` of long
    /// decodes, `kvBig` the longest decode context, `kp` the prefill's earlier context.
    public func alpha(pc: Double, n: Double, share: Double, kvBig: Double, kp: Double) -> Double {
        guard !pcGrid.isEmpty, let a = SkewFit.bucket(nBins, n), let b = SkewFit.bucket(srBins, share),
              let c = SkewFit.bucket(kvBins, kvBig), let d = SkewFit.bucket(kpBins, kp) else { return alphaDefault }
        // The fit keys prefill chunks by the profiled grid point: take the nearest one.
        var p = 0
        for (i, g) in pcGrid.enumerated() where abs(g - pc) < abs(pcGrid[p] - pc) { p = i }
        let dims = (nBins.count - 1, srBins.count - 1, kvBins.count - 1, kpBins.count - 1)
        let v = table[(((p * dims.0 + a) * dims.1 + b) * dims.2 + c) * dims.3 + d]
        return v.isNaN ? alphaDefault : v
    }
}
