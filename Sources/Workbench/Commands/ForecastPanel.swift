import Forecasting
import Foundation
import ServeAPI
import Workload
#if canImport(Glibc)
import Glibc
#endif

/// Files matching a shell-style pattern (`dir/*.csv`), sorted; an error names the pattern when none match.
func expandGlob(_ pattern: String, option: String) throws -> [String] {
    var g = glob_t()
    defer { globfree(&g) }
    let status = glob(pattern, 0, nil, &g)
    guard status == 0 else { throw UsageError("\(option) '\(pattern)': no file matches") }
    var paths: [String] = []
    for i in 0..<Int(g.gl_pathc) {
        if let p = g.gl_pathv[i] { paths.append(String(cString: p)) }
    }
    return paths.sorted()
}

/// Several related series evaluated together (`forecast eval --files`): every model fitted on each
/// series alone, and with `--global` the models that can pool (qar, dlinear, gru, lstm, transformer) also trained once
/// across all series on the data before each series' first origin, then rolled forward on each.
/// Scores are averaged over series; MASE is scale-free, so series of different sizes weigh alike.
public struct PanelReport {
    public struct Row {
        public var name: String
        public var bySeries: [RollingOrigin.ModelResult]
        public var mase: Double { bySeries.map(\.average.mase).reduce(0, +) / Double(bySeries.count) }
        public var coverage95: Double { bySeries.map(\.average.coverage95).reduce(0, +) / Double(bySeries.count) }
    }

    public var names: [String]
    public var rows: [Row]
    public var failures: [(String, String)]
    public var header: String
    /// Models asked for with `--global` that have no global form (evaluated locally only).
    public var localOnly: [String] = []

    public static func evaluate(_ panel: [(name: String, series: Series)], models: [String], settings: ForecastReport.Settings,
                                global: Bool) throws -> PanelReport {
        guard panel.count >= 2 else { throw UsageError("--files: a panel needs at least 2 series, got \(panel.count)") }
        let specs = models.isEmpty ? Components.forecasters.names : models
        let plans = try panel.map { try ForecastReport.plan(for: $0.series, settings: settings) }
        var rows: [Row] = [], failures: [(String, String)] = [], localOnly: [String] = []
        for spec in specs {
            do {
                let local = try panel.indices.map { i -> RollingOrigin.ModelResult in
                    var r = try plans[i].evaluate(try makeForecaster(spec, season: settings.season, transform: settings.transform,
                                                                      medianPoint: settings.medianPoint, intervals: settings.intervals), on: panel[i].series.values)
                    r.name = spec
                    return r
                }
                rows.append(Row(name: spec, bySeries: local))
            } catch let e as ForecastError {
                failures.append((spec, e.description))
            }
            guard global else { continue }
            guard let pooled = try makeForecaster(spec, season: settings.season) as? PooledTraining else {
                localOnly.append(spec)
                continue
            }
            do {
                // The shared weights learn from the transformed series, as each local model does.
                let training = try panel.indices.map { i -> [Double] in
                    let y = Array(panel[i].series.values[0..<plans[i].initial])
                    try settings.transform.check(y, model: spec)
                    return y.map(settings.transform.forward)
                }
                try pooled.trainPooled(training)
                let shared = try panel.indices.map { i -> RollingOrigin.ModelResult in
                    let model = try evaluated(pooled.sharingParameters(), transform: settings.transform, medianPoint: settings.medianPoint,
                                              intervals: settings.intervals)
                    var r = try plans[i].evaluate(model, on: panel[i].series.values)
                    r.name = spec + " (global)"
                    return r
                }
                rows.append(Row(name: spec + " (global)", bySeries: shared))
            } catch let e as ForecastError {
                failures.append((spec + " (global)", e.description))
            }
        }
        guard !rows.isEmpty else { throw ForecastError("no model could be evaluated: " + failures.map { $0.1 }.joined(separator: "; ")) }
        let p = plans[0]
        let header = "\(panel.count) series; per series: \(p.windows) forecasts of \(p.horizon) steps, origins every \(p.step), \(p.refit); MASE averaged over series"
        var report = PanelReport(names: panel.map(\.name), rows: rows, failures: failures, header: header)
        report.localOnly = localOnly
        return report
    }

    public var best: Row? { rows.min { $0.mase < $1.mase } }

    public func text() -> String {
        var out = header + "\n"
        let perSeries = names.count <= 8
        var t = TextTable(["model", "MASE", "cover 95%"] + (perSeries ? names : []) + ["best"])
        for r in rows {
            t.add([r.name, fixed(r.mase, 3), fixed(r.coverage95 * 100, 1)] + (perSeries ? r.bySeries.map { fixed($0.average.mase, 3) } : [])
                  + [r.name == best?.name ? "best" : ""])
        }
        out += t.render()
        for (name, why) in failures { out += "\(name): not evaluated — \(why)\n" }
        if !localOnly.isEmpty { out += "local only (no global form): \(localOnly.joined(separator: ", "))\n" }
        return out
    }

    public func json() -> JSON {
        .object([
            ("series", .array(names.map { .string($0) })),
            ("models", .object(rows.map { r in
                (r.name, .object([("mase", .number(r.mase)), ("coverage95", .number(r.coverage95)),
                                  ("by_series", .object(zip(names, r.bySeries).map { ($0, .number($1.average.mase)) }))]))
            })),
            ("best", best.map { .string($0.name) } ?? .null),
            ("failed", .object(failures.map { ($0.0, .string($0.1)) })),
        ])
    }
}
