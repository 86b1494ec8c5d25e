import ArgumentParser
import Charts
import Foundation
import ServeAPI
import Workload

/// What reports and plots read: runs (session folders, run folders, requests CSVs), sweep JSON
/// files, series to forecast and measured vLLM runs to validate against.
public struct ReportInputs: ParsableArguments {
    @Argument(help: "Session folders, run folders (requests.csv, timeseries.csv, summary.json), folders of runs, requests CSVs, or `sweep --json` files.")
    var inputs: [String] = []
    @Option(help: "A trace or timestamp,value series to forecast (repeatable); the last --horizon steps are held back and drawn against the forecast.")
    var forecast: [String] = []
    @Option(help: "Forecasting model for --forecast.") var model: String = "holt"
    @Option(help: "Forecast horizon for --forecast: steps (30) or time (1m).") var horizon: String = "30"
    @Option(help: "A measured vLLM run folder to replay and draw against its measurement (repeatable).") var validate: [String] = []
    @Option(name: .customLong("latency-profile"), help: "Profile bundle for --validate (default: the roofline).") var latencyProfile: String?
    @Option(parsing: .unconditional, help: "Bootstrap resamples for the comparison's confidence intervals.") var resamples: Int = 1000
    @OptionGroup var series: SeriesArguments
    public init() {}

    /// Runs from the inputs (after `extra`, runs already in memory), and the sweep results.
    func gather(extra: [ReportRun] = []) throws -> (runs: [ReportRun], sweeps: [(String, JSON)]) {
        guard (100...100_000).contains(resamples) else { throw UsageError("--resamples must be in 100...100000, got \(resamples)") }
        var runs = extra
        var sweeps: [(String, JSON)] = []
        for path in inputs {
            if path.lowercased().hasSuffix(".json") {
                guard let data = FileManager.default.contents(atPath: path) else { throw UsageError("report: cannot read '\(path)'") }
                do { sweeps.append((path, try JSON.parse(data))) } catch { throw UsageError("\(path): not JSON (expected the output of `sweep --json`)") }
            } else {
                runs += try ReportRun.collect(path)
            }
        }
        // Labels name the runs in legends: repeated ones (two sessions' `vllm`) get their source.
        let counts = Dictionary(grouping: runs.indices, by: { runs[$0].label })
        for (_, ks) in counts where ks.count > 1 {
            for (j, k) in ks.enumerated() { runs[k].label += " (\(runs[k].source.isEmpty ? "#\(j + 1)" : runs[k].source))" }
        }
        return (runs, sweeps)
    }

    func forecastCharts() throws -> [Chart] {
        try forecast.map { file in
            let s = try series.series(file)
            let h = try SeriesArguments.steps(horizon, step: s.step)
            return try Figures.forecast(s, model: model, horizon: h, season: try series.season(for: s).length, what: series.target.replacingOccurrences(of: "_", with: " "))
        }
    }

    func validations() throws -> [(String, Validation)] {
        try validate.map { ($0, try Validation.run(directory: $0, latencyProfile: latencyProfile)) }
    }
}

public struct ReportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML file with SVG charts of runs, comparisons, sweeps, forecasts and validations.",
        discussion: """
        Runs are compared against the first given. The page needs no network and no scripts.
        Example: smartserve compare --schedulers vllm,sarathi,smart --dataset dataset/bursty-500.burstgpt.csv --save cmp
                 smartserve report cmp --out report.html
                 smartserve report sessions/examples/quickstart sweep.json --forecast trace.csv --validate ../shared/data/vllm-measured/RTXPRO6000-Llama-3.1-8B
        """)
    @OptionGroup var sources: ReportInputs
    @Option(name: [.short, .customLong("out")], help: "HTML file to write.") var out: String = "report.html"
    @Option(help: "Page title.") var title: String?
    public init() {}

    public func run() throws { Terminal.out(try write(extra: [])) }

    /// Builds and writes the page; returns the line that says what was written.
    func write(extra: [ReportRun]) throws -> String {
        let (runs, sweeps) = try sources.gather(extra: extra)
        let forecasts = try sources.forecastCharts()
        let validations = try sources.validations()
        guard !runs.isEmpty || !sweeps.isEmpty || !forecasts.isEmpty || !validations.isEmpty else {
            throw UsageError("report needs something to show: runs (a session or run folder, a requests CSV), a sweep JSON, --forecast FILE or --validate DIR")
        }
        var page = HTMLReport(title: title ?? "SmartLLMServe report", inputs: extra.map(\.label) + sources.inputs + sources.forecast + sources.validate)
        page.addRuns(runs, resamples: sources.resamples)
        for (path, json) in sweeps { page.add("Sweep: \(path)", charts: try Figures.sweep(json, source: path)) }
        if !forecasts.isEmpty { page.add("Forecasts", charts: forecasts) }
        for (dir, v) in validations {
            var t = "<table><thead><tr><th>metric (ms)</th><th>measured</th><th>simulated</th><th>diff %</th></tr></thead><tbody>\n"
            for r in v.rows { t += "<tr><th>\(r.metric.uppercased()) \(r.stat)</th><td>\(fixed(r.measured, 1))</td><td>\(fixed(r.simulated, 1))</td><td>\(fixed(r.diffPct, 1))</td></tr>\n" }
            t += "</tbody></table>"
            page.add("Validation: \(dir)", note: "\(v.config.hardware.name), \(v.config.model.name), \(v.latencyModel) latency model.", table: t, charts: Figures.validation(v))
        }
        try AtomicFile.write(page.render(), to: out)
        let charts = page.sections.reduce(0) { $0 + $1.charts.count }
        return "wrote \(out): \(charts) charts, \(runs.count) run\(runs.count == 1 ? "" : "s")"
    }
}

public struct PlotCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw one chart: as SVG with --out, else with characters in the terminal.",
        discussion: """
        Kinds: cdf (--metric ttft|tpot|itl|e2e), latency (by arrival time, --metric), timeseries (--panel running|kv|throughput|preemptions|instances),
        compare (mean differences with CIs), sweep (a `sweep --json` file; --panel attainment|ttft|goodput), forecast (--forecast FILE), validation (--validate DIR; --metric, or --panel for a counter).
        Example: smartserve plot cdf sessions/examples/quickstart --metric ttft --out ttft.svg
                 smartserve plot forecast --forecast ../shared/data/azure2023/AzureLLMInferenceTrace_code.csv --freq 10s --horizon 30
        """)
    @Argument(help: "cdf, latency, timeseries, compare, sweep, forecast or validation.") var kind: String
    @OptionGroup var sources: ReportInputs
    @Option(help: "Latency for cdf, latency and validation: ttft, tpot, itl or e2e.") var metric: String = "ttft"
    @Option(help: "Which chart of a timeseries, sweep or validation kind (by name).") var panel: String?
    @Option(name: [.short, .customLong("out")], help: "SVG file to write (default: draw in the terminal).") var out: String?
    @Option(parsing: .unconditional, help: "Width: SVG pixels, or terminal columns.") var width: Int?
    @Option(parsing: .unconditional, help: "Height: SVG pixels, or terminal rows.") var height: Int?
    public init() {}

    public static let kinds = ["cdf", "latency", "timeseries", "compare", "sweep", "forecast", "validation"]

    public func run() throws { Terminal.out(try draw(extra: [], colour: isatty(1) != 0)) }

    /// The chart this command asks for.
    func chart(extra: [ReportRun]) throws -> Chart {
        guard PlotCommand.kinds.contains(kind) else {
            let hint = closest(to: kind, among: PlotCommand.kinds).map { " — did you mean '\($0)'?" } ?? ""
            throw UsageError("unknown chart kind '\(kind)'\(hint); kinds: \(PlotCommand.kinds.joined(separator: ", "))")
        }
        let (runs, sweeps) = try sources.gather(extra: extra)
        func needRuns() throws {
            if runs.isEmpty { throw UsageError("plot \(kind) needs runs: a session or run folder, or a requests CSV") }
        }
        func pick(_ charts: [Chart], _ names: [String]) throws -> Chart {
            guard let panel else { return charts[0] }
            guard let k = names.firstIndex(of: panel.lowercased()), k < charts.count else {
                throw UsageError("--panel expects one of \(names.prefix(charts.count).joined(separator: ", ")), got '\(panel)'")
            }
            return charts[k]
        }
        switch kind {
        case "cdf": try needRuns(); return Figures.cdf(runs, try Figures.Latency(parsing: metric))
        case "latency": try needRuns(); return Figures.latencyOverTime(runs, try Figures.Latency(parsing: metric))
        case "timeseries":
            try needRuns()
            let charts = Figures.timeSeries(runs)
            guard !charts.isEmpty else { throw UsageError("the runs have no time series (timeseries.csv)") }
            var names = ["running", "kv", "throughput"]
            if charts.count > 3 && charts[3].title.hasPrefix("Preemptions") { names.append("preemptions") }
            names.append("instances")
            return try pick(charts, names)
        case "compare":
            guard runs.count > 1 else { throw UsageError("plot compare needs two or more runs of the same workload") }
            guard let c = Figures.comparison(runs, resamples: sources.resamples) else {
                throw UsageError("plot compare: the runs served different workloads (arrivals or prompts differ), so they cannot be paired")
            }
            return c
        case "sweep":
            guard let (path, json) = sweeps.first else { throw UsageError("plot sweep needs a `sweep --json` file") }
            return try pick(try Figures.sweep(json, source: path), ["attainment", "ttft", "goodput"])
        case "forecast":
            guard !sources.forecast.isEmpty else { throw UsageError("plot forecast needs --forecast FILE (a trace or timestamp,value series)") }
            return try sources.forecastCharts()[0]
        default:
            guard let (_, v) = try sources.validations().first else { throw UsageError("plot validation needs --validate DIR (a measured vLLM run)") }
            let charts = Figures.validation(v)
            if panel != nil {
                return try pick(Array(charts.dropFirst(v.samples.count)), v.series.map(\.name))
            }
            let m = try Figures.Latency(parsing: metric)
            guard let k = v.samples.firstIndex(where: { $0.metric == m.rawValue }) else { throw UsageError("--metric for validation expects ttft, tpot or e2e") }
            return charts[k]
        }
    }

    /// SVG to the file, or the terminal drawing as text.
    func draw(extra: [ReportRun], colour: Bool) throws -> String {
        // A terminal drawing holds a cell grid: its bounds keep memory small whatever is typed.
        let (maxWidth, maxHeight) = out == nil ? (1000, 500) : (10_000, 10_000)
        if let w = width, !(10...maxWidth).contains(w) { throw UsageError("--width must be in 10...\(maxWidth)\(out == nil ? " columns" : " pixels"), got \(w)") }
        if let h = height, !(4...maxHeight).contains(h) { throw UsageError("--height must be in 4...\(maxHeight)\(out == nil ? " rows" : " pixels"), got \(h)") }
        let c = try chart(extra: extra)
        if let out {
            try AtomicFile.write(SVGRenderer.render(c, width: max(200, width ?? 720), height: max(150, height ?? 400)), to: out)
            return "wrote \(out): \(c.title)"
        }
        return TerminalRenderer.render(c, width: width ?? 76, height: height ?? 16, colour: colour)
    }
}
