import Charts
import Foundation
import Forecasting
import Workload

/// The code `make fuzz` drives with libFuzzer (through the `smartserve-fuzz` executable) and the
/// regression tests replay: each target takes arbitrary bytes and must only ever return or throw.
public enum FuzzTargets {
    public static let names = ["traces", "series", "tokenizer", "shell", "runs"]

    /// Runs `bytes` through the target `name`.
    public static func run(_ name: String, _ bytes: Data) {
        switch name {
        case "traces": traces(bytes)
        case "series": _ = try? SeriesLoader.parseCSV(TextBuffer(data: bytes, path: "<fuzz>"))
        case "tokenizer": _ = try? Tokenizer.split(String(decoding: bytes, as: UTF8.self))
        case "shell": shell(bytes)
        case "runs": runs(bytes)
        default: break
        }
    }

    /// Every trace parser, by detection and forced to each format, then what a loaded trace feeds:
    /// patterns, features and the loader's options.
    static func traces(_ bytes: Data) {
        let text = TextBuffer(data: bytes, path: "<fuzz>")
        var loaded: [Trace] = []
        if let (t, _) = try? TraceLoader.load(text) { loaded.append(t) }
        for format in TraceFormat.allCases {
            var o = LoadOptions()
            o.format = format
            if let (t, _) = try? TraceLoader.load(text, options: o) { loaded.append(t) }
        }
        for t in loaded.prefix(2) {
            _ = PatternAnalysis.analyse(t)
            _ = try? FeatureTable(trace: t, frequency: 60)
        }
    }

    /// A requests CSV and a time series as `report` and `plot` read them, then every chart of
    /// them drawn both ways: arbitrary numbers must make pictures, never traps.
    static func runs(_ bytes: Data) {
        let text = TextBuffer(data: bytes, path: "<fuzz>")
        var run = (try? ReportRun.parse(requests: text, label: "a", source: "<fuzz>"))
        if run == nil {
            guard var empty = try? ReportRun.parse(requests: TextBuffer(string: "arrival,end_time,TTFT,input,output\n", path: "<fuzz>"), label: "a", source: "") else { return }
            guard (try? empty.readSeries(text)) != nil else { return }
            run = empty
        }
        guard let r = run else { return }
        var charts = Figures.Latency.allCases.map { Figures.cdf([r, r], $0) } + Figures.timeSeries([r])
        charts.append(Figures.latencyOverTime([r], .ttft))
        if let c = Figures.comparison([r, r], resamples: 100) { charts.append(c) }
        for c in charts {
            _ = SVGRenderer.render(c)
            _ = TerminalRenderer.render(c, width: 40, height: 8)
        }
    }

    /// Shell lines through the command language, minus the commands that write files, run
    /// simulations or re-execute sessions (they are exercised by the tests): parsing, settings,
    /// component specs, catalogs, and reading whatever path a line names.
    static func shell(_ bytes: Data) {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).prefix(32)
        let runner = ShellRunner(session: Session(), interactive: false, showProgress: false, output: { _ in })
        let allowed: Set<String> = ["help", "set", "unset", "config", "scheduler", "predictor", "router", "hardware", "model",
                                    "describe", "schedulers", "routers", "predictors", "runs", "plugins"]
        for line in lines {
            guard let words = try? Tokenizer.split(String(line)), let first = words.first,
                  let command = ShellRunner.command(named: first), allowed.contains(command.name) else { continue }
            try? runner.execute(String(line))
        }
    }
}
