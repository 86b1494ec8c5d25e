import ArgumentParser
import Forecasting
import Foundation
import ServeAPI
import Workload

/// The series options shared by `forecast eval`, `forecast run` and the shell's `forecast`.
public struct SeriesArguments: ParsableArguments {
    @Option(help: "Window width when building the series from a trace: 100ms, 1s, 10s, 1m ...") var freq: String = "1s"
    @Option(help: "What to forecast from a trace: requests, prompt_tokens or output_tokens.") var target: String = "requests"
    @Option(parsing: .unconditional, help: "Season length in steps (seasonal models and the MASE scale).") var season: Int = 60
    @OptionGroup var load: LoadArguments
    public init() {}

    public func series(_ path: String) throws -> Series {
        guard let t = SeriesTarget(rawValue: target) else {
            throw UsageError("--target expects requests, prompt_tokens or output_tokens, got '\(target)'")
        }
        guard (1...1_000_000).contains(season) else { throw UsageError("--season must be in 1...1000000 steps, got \(season)") }
        return try SeriesLoader.load(PathResolver().resolve(path), step: try parseDuration(freq, what: "--freq"), target: t, options: load.options())
    }

    /// The longest horizon a forecast may have, in steps.
    public static let maxHorizon = 100_000

    /// For a series too short to fit or evaluate: how a finer window would lengthen it.
    static func finerHint(_ s: Series) -> String {
        guard s.values.count < 200, s.step > 0.001 else { return "" }
        return " (the series has \(s.values.count) points of \(JSON.format(s.step)) s; a finer --freq such as \(JSON.format(s.step / 10))s gives about 10 times as many)"
    }

    /// A horizon in steps ("6") or time ("1m", "100ms"), rounded to whole steps.
    public static func steps(_ text: String, step: Double) throws -> Int {
        if let n = Int(text) {
            guard (1...maxHorizon).contains(n) else { throw UsageError("--horizon must be in 1...\(maxHorizon) steps, got \(n)") }
            return n
        }
        let steps = (try parseDuration(text, what: "--horizon") / step).rounded()
        guard steps >= 1 else { throw UsageError("--horizon \(text) is shorter than one step of \(JSON.format(step)) s") }
        guard steps <= Double(maxHorizon) else { throw UsageError("--horizon \(text) is more than \(maxHorizon) steps of \(JSON.format(step)) s") }
        return Int(steps)
    }
}

/// Builds a forecaster from `name:key=value,...`, giving season-aware models the series' season.
func makeForecaster(_ text: String, season: Int) throws -> any WorkloadPredictor {
    var spec = try NamedSpec(parsing: text, what: "--model")
    let entry = try Components.forecasters.entry(named: spec.name)
    if entry.options.contains(where: { $0.name == "season" }) && spec.options["season"] == nil { spec.options["season"] = String(season) }
    return try entry.instantiate(spec.options)
}

public struct ForecastCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "forecast",
        abstract: "Forecast the request load: evaluate models, or write forecasts with intervals.",
        subcommands: [Eval.self, Run.self, List.self])
    public init() {}

    public struct List: ParsableCommand {
        public static let configuration = CommandConfiguration(commandName: "models", abstract: "List the forecasting models.")
        public init() {}
        public func run() throws {
            var t = TextTable(["model", "description"])
            for e in Components.forecasters.all { t.add([e.name, e.summary]) }
            Terminal.out(t.render())
        }
    }

    public struct Eval: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Rolling-origin evaluation: MAE, RMSE, MASE, sMAPE and interval coverage per model and horizon.",
            discussion: """
            Each model is fitted on the initial window, then rolls forward --step observations at a time online
            (no refit), forecasting --horizon steps from every origin. MASE divides by the in-sample MAE of the
            seasonal naive forecast with season --season on the initial window. sMAPE = mean |y − ŷ| / (|y| + |ŷ|),
            range 0–1. Intervals are conformal (from each model's recent out-of-sample errors).
            Example: smartserve forecast eval ../shared/data/azure2023/AzureLLMInferenceTrace_code.csv --freq 10s --horizon 6
            """)
        @Argument(help: "Trace or series CSV (timestamp,value).") var file: String
        @Option(help: "Horizon in steps (6) or time (1m).") var horizon: String = "6"
        @Option(parsing: .singleValue, help: "Models, comma-separated (default: all).") var models: [String] = []
        @Option(parsing: .unconditional, help: "Initial training window, steps (default: half the series).") var initial: Int?
        @Option(parsing: .unconditional, help: "Origins advance by this many steps.") var step: Int = 1
        @Option(parsing: .unconditional, help: "Number of evaluation windows (default: as many as fit).") var windows: Int?
        @OptionGroup var series: SeriesArguments
        @Flag(help: "Print JSON.") var json = false
        public init() {}

        public func run() throws {
            let s = try series.series(file)
            let h = try SeriesArguments.steps(horizon, step: s.step)
            let report = try ForecastReport.evaluate(s, models: models.flatMap(SchedulerChoice.splitList), horizon: h, season: series.season,
                                                     initial: initial, step: step, windows: windows)
            Terminal.out(json ? report.json().render() : report.text())
        }
    }

    public struct Run: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Fit a model on the whole series and write the next steps with 80% and 95% intervals as CSV.",
            discussion: "Example: smartserve forecast run trace.csv --model arima --horizon 1m --freq 1s --output forecast.csv")
        @Argument(help: "Trace or series CSV (timestamp,value).") var file: String
        @Option(help: "Model spec, e.g. holt-winters:season=60.") var model: String = "ensemble"
        @Option(help: "Horizon in steps (6) or time (1m).") var horizon: String = "6"
        @Option(name: [.short, .customLong("output")], help: "CSV file (standard output if omitted).") var output: String?
        @OptionGroup var series: SeriesArguments
        public init() {}

        public func run() throws {
            let s = try series.series(file)
            let h = try SeriesArguments.steps(horizon, step: s.step)
            let f = try makeForecaster(model, season: series.season)
            do { try f.fit(s.values) } catch let e as ForecastError { throw ForecastError(e.description + SeriesArguments.finerHint(s)) }
            let forecast = try f.predict(horizon: h, levels: [80, 95]).respectingSign(of: s.values)
            var csv = "step,timestamp,mean,lo80,hi80,lo95,hi95\n"
            for k in 0..<h {
                let t = s.start + Double(s.values.count + k) * s.step
                let cells = [forecast.mean[k], forecast.lower[80]![k], forecast.upper[80]![k], forecast.lower[95]![k], forecast.upper[95]![k]]
                csv += "\(k + 1),\(JSON.format(t)),\(cells.map(JSON.format).joined(separator: ","))\n"
            }
            try Terminal.emit(csv, to: output, note: "wrote \(h) forecasts from \(f.name) to \(output ?? "-")")
        }
    }
}

/// Evaluation results across models, rendered for people and programs.
public struct ForecastReport {
    public var results: [RollingOrigin.ModelResult]
    /// Models that could not be evaluated, with the reason (e.g. a look-back longer than the data).
    public var failures: [(String, String)]
    public var plan: RollingOrigin
    /// How a finer window would help, when the series is short ("" otherwise).
    public var hint = ""

    public static func evaluate(_ s: Series, models: [String], horizon: Int, season: Int, initial: Int? = nil,
                                step: Int = 1, windows: Int? = nil) throws -> ForecastReport {
        let specs = models.isEmpty ? Components.forecasters.names : models
        let plan: RollingOrigin
        do {
            plan = try RollingOrigin.standard(length: s.values.count, horizon: horizon, season: season, initial: initial, step: step, windows: windows)
        } catch let e as ForecastError {
            throw ForecastError(e.description + SeriesArguments.finerHint(s))
        }
        var results: [RollingOrigin.ModelResult] = []
        var failures: [(String, String)] = []
        for spec in specs {
            let model = try makeForecaster(spec, season: season)
            do {
                var r = try plan.evaluate(model, on: s.values)
                r.name = spec
                results.append(r)
            } catch let e as ForecastError {
                if !models.isEmpty && models.count == 1 { throw e }
                failures.append((spec, e.description))
            }
        }
        guard !results.isEmpty else {
            throw ForecastError("no model could be evaluated: " + failures.map { $0.1 }.joined(separator: "; ") + SeriesArguments.finerHint(s))
        }
        return ForecastReport(results: results, failures: failures, plan: plan, hint: SeriesArguments.finerHint(s))
    }

    static func isBaseline(_ r: RollingOrigin.ModelResult) -> Bool { RollingOrigin.baselines.contains(NamedSpecName(r.name)) }

    /// The lowest mean MASE of all, baselines included.
    public var best: RollingOrigin.ModelResult? { results.min { $0.average.mase < $1.average.mase } }
    /// The non-baseline model with the lowest mean MASE.
    public var bestModel: RollingOrigin.ModelResult? { results.filter { !Self.isBaseline($0) }.min { $0.average.mase < $1.average.mase } }
    public var bestBaseline: RollingOrigin.ModelResult? { results.filter(Self.isBaseline).min { $0.average.mase < $1.average.mase } }

    /// How the best model fares against the best baseline, in words.
    public var verdict: String? {
        guard let m = bestModel, let b = bestBaseline, b.average.mase > 0 else { return nil }
        let margin = (m.average.mase - b.average.mase) / b.average.mase * 100
        if margin < 0 {
            return "best: \(m.name), MASE \(fixed(m.average.mase, 3)), \(fixed(-margin, 1))% below the best baseline (\(b.name), \(fixed(b.average.mase, 3)))"
        }
        return "best: the baseline \(b.name), MASE \(fixed(b.average.mase, 3)); no model beats it (the best, \(m.name), is \(fixed(margin, 1))% worse)"
    }

    public func text() -> String {
        var out = "rolling origin: fit on \(plan.initial) steps, \(plan.windows) forecasts of \(plan.horizon) steps, origins every \(plan.step); MASE scaled by the seasonal naive with season \(plan.season); conformal intervals\n"
        var t = TextTable(["model", "MAE", "RMSE", "MASE", "sMAPE", "cover 80%", "cover 95%", "time (s)", "best"])
        let bestName = best?.name
        for r in results {
            let a = r.average
            t.add([r.name, fixed(a.mae, 3), fixed(a.rmse, 3), fixed(a.mase, 3), fixed(a.smape, 3), fixed(a.coverage80 * 100, 1),
                   fixed(a.coverage95 * 100, 1), fixed(r.seconds, 2), r.name == bestName ? "best" : ""])
        }
        out += t.render()
        if let verdict { out += verdict + "\n" }
        for (name, why) in failures { out += "\(name): not evaluated — \(why)\n" }
        if !failures.isEmpty && !hint.isEmpty { out += "some models need more points" + hint + "\n" }
        out += "\nby horizon:\n"
        var h = TextTable(["model", "h", "MAE", "RMSE", "MASE", "sMAPE", "cover 80%", "cover 95%"])
        for r in results {
            for (k, m) in r.perHorizon.enumerated() {
                h.add([r.name, "\(k + 1)", fixed(m.mae, 3), fixed(m.rmse, 3), fixed(m.mase, 3), fixed(m.smape, 3),
                       fixed(m.coverage80 * 100, 1), fixed(m.coverage95 * 100, 1)])
            }
        }
        return out + h.render()
    }

    public func json() -> JSON {
        .object([
            ("models", .object(results.map { r in
                (r.name, .object([("mae", .number(r.average.mae)), ("rmse", .number(r.average.rmse)), ("mase", .number(r.average.mase)),
                                  ("smape", .number(r.average.smape)), ("coverage80", .number(r.average.coverage80)),
                                  ("coverage95", .number(r.average.coverage95)), ("seconds", .number(r.seconds))]))
            })),
            ("best", best.map { .string($0.name) } ?? .null),
            ("best_model", bestModel.map { .string($0.name) } ?? .null),
            ("best_baseline", bestBaseline.map { .string($0.name) } ?? .null),
            ("margin_pct", { () -> JSON in
                guard let m = bestModel, let b = bestBaseline, b.average.mase > 0 else { return .null }
                return .number((m.average.mase - b.average.mase) / b.average.mase * 100)
            }()),
            ("failed", .object(failures.map { ($0.0, .string($0.1)) })),
            ("horizon", .integer(plan.horizon)), ("season", .integer(plan.season)), ("windows", .integer(plan.windows)),
        ])
    }
}

func NamedSpecName(_ spec: String) -> String { String(spec.split(separator: ":").first ?? "") }
