import ArgumentParser
import Forecasting
import Foundation
import ServeAPI
import Workload

/// The series options shared by `forecast eval`, `forecast run` and the shell's `forecast`.
public struct SeriesArguments: ParsableArguments {
    @Option(help: "Window width when building the series from a trace: 100ms, 1s, 10s, 1m ... (eval: several, comma-separated)") var freq: String = "1s"
    @Option(help: "What to forecast from a trace: requests, prompt_tokens or output_tokens.") var target: String = "requests"
    @Option(help: "Season length in steps (seasonal models and the MASE scale), or auto: detected from the autocorrelation (1 when none is found).")
    var season: String = "auto"
    @Option(help: "Where a trace's windows start: first (at the first arrival) or clock (on multiples of --freq on the trace's clock, as pandas' floor).")
    var align: String = "first"
    @Option(help: "Fit on a transformed series: none, log1p or anscombe (counts; forecasts are transformed back).")
    var transform: String = "none"
    @Option(help: "Point forecasts: mean (the model's) or median (of a Poisson / negative binomial count with that mean; integer series).")
    var point: String = "mean"
    @Option(help: "Intervals: conformal (constant width per horizon), adaptive (scaled by the series' recent spread: wider in bursts) or count (scaled by √ŷ, counts' Poisson scale); +aci adapts their levels to recent misses (e.g. conformal+aci).")
    var intervals: String = "conformal"
    @OptionGroup var load: LoadArguments
    public init() {}

    public func alignment() throws -> BinAlignment {
        guard let a = BinAlignment(rawValue: align) else { throw UsageError("--align expects first or clock, got '\(align)'") }
        return a
    }

    public func seriesTransform() throws -> SeriesTransform {
        guard let t = SeriesTransform(rawValue: transform) else { throw UsageError("--transform expects none, log1p or anscombe, got '\(transform)'") }
        return t
    }

    public func intervalScaling() throws -> IntervalChoice { try IntervalChoice(parsing: intervals) }

    public func medianPoint() throws -> Bool {
        guard ["mean", "median"].contains(point) else { throw UsageError("--point expects mean or median, got '\(point)'") }
        return point == "median"
    }

    public func seriesTarget() throws -> SeriesTarget {
        guard let t = SeriesTarget(rawValue: target) else {
            throw UsageError("--target expects requests, prompt_tokens or output_tokens, got '\(target)'")
        }
        return t
    }

    public func series(_ path: String) throws -> Series {
        try SeriesLoader.load(PathResolver().resolve(path), step: try parseDuration(freq, what: "--freq"), target: try seriesTarget(),
                              options: load.options(), alignment: try alignment())
    }

    /// The series of a trace already loaded (the shell's dataset).
    public func series(of trace: Trace) throws -> Series {
        try SeriesLoader.fromTrace(trace, step: try parseDuration(freq, what: "--freq"), target: try seriesTarget(), alignment: try alignment())
    }

    /// The season to use on `s`: the one given, or the strongest detected (1 when none), and how it was chosen.
    public func season(for s: Series) throws -> SeasonChoice { try SeasonChoice(season, values: s.values) }

    /// In words, how a trace's windows were placed (nothing for series files).
    func binning(_ path: String) -> String {
        SeriesLoader.isSeriesCSV(PathResolver().resolve(path)) ? "" : (align == "clock" ? "windows on clock boundaries" : "windows from the first arrival")
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

/// A season length and how it was chosen (`--season N` or `auto`).
public struct SeasonChoice: Sendable, Equatable {
    public var length: Int
    /// Every season detected, strongest first (empty when given or none found).
    public var detected: [Int]
    public var given: Bool

    public init(_ text: String, values: [Double]) throws {
        if text == "auto" {
            detected = SeasonDetector.detect(values)
            length = detected.first ?? 1
            given = false
        } else {
            guard let n = Int(text), (1...1_000_000).contains(n) else {
                throw UsageError("--season expects auto or a number of steps in 1...1000000, got '\(text)'")
            }
            length = n
            detected = []
            given = true
        }
    }

    public var description: String {
        if given { return "season \(length)" }
        if detected.isEmpty { return "no season detected (season 1: MASE against the naive forecast)" }
        let others = detected.dropFirst().prefix(3).map(String.init)
        return "season \(length) detected" + (others.isEmpty ? "" : " (also \(others.joined(separator: ", ")))")
    }
}

/// How a model's conformal intervals are made (`--intervals SCALING[+aci]`).
public struct IntervalChoice: Sendable, Equatable {
    public var scaling = ConformalForecaster.IntervalScaling.constant
    /// Adaptive conformal inference on the levels (`+aci`).
    public var adaptiveLevels = false

    public init() {}

    public init(parsing text: String) throws {
        var parts = text.split(separator: "+").map(String.init)
        if parts.count == 2 && parts[1] == "aci" {
            adaptiveLevels = true
            parts.removeLast()
        }
        guard parts.count == 1, let s = ConformalForecaster.IntervalScaling(rawValue: parts[0]) else {
            throw UsageError("--intervals expects conformal, adaptive or count, optionally with +aci (e.g. conformal+aci), got '\(text)'")
        }
        scaling = s
    }

    /// As `--intervals` spells it.
    public var text: String { scaling.rawValue + (adaptiveLevels ? "+aci" : "") }
}

/// Builds a forecaster from `name:key=value,...`, giving season-aware models the series' season,
/// fitted on the transformed series when `transform` is not `.none`.
func makeForecaster(_ text: String, season: Int, transform: SeriesTransform = .none, medianPoint: Bool = false,
                    intervals: IntervalChoice = IntervalChoice()) throws -> any WorkloadPredictor {
    var spec = try NamedSpec(parsing: text, what: "--model")
    let entry = try Components.forecasters.entry(named: spec.name)
    if entry.options.contains(where: { $0.name == "season" }) && spec.options["season"] == nil { spec.options["season"] = String(season) }
    return try evaluated(try entry.instantiate(spec.options), transform: transform, medianPoint: medianPoint, intervals: intervals)
}

/// A model as `forecast eval` runs it: its intervals made as asked, fitted on the transformed
/// series, its point the count median when asked.
func evaluated(_ model: any WorkloadPredictor, transform: SeriesTransform, medianPoint: Bool, intervals: IntervalChoice) throws -> any WorkloadPredictor {
    if intervals != IntervalChoice() {
        guard let conformal = model as? ConformalForecaster else {
            throw UsageError("--intervals \(intervals.text): \(model.name) makes its own intervals (only the built-in conformal models adapt theirs)")
        }
        conformal.intervalScaling = intervals.scaling
        conformal.adaptiveLevels = intervals.adaptiveLevels
    }
    let fitted = transform == .none ? model : TransformedForecaster(model, transform: transform)
    return medianPoint ? CountMedianForecaster(fitted) : fitted
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
            abstract: "Rolling-origin evaluation: MAE, RMSE, MASE, sMAPE, pinball loss, CRPS and interval coverage per model and horizon.",
            discussion: """
            --protocol online (the default): each model is fitted on the initial window, then rolls forward --step
            observations at a time online (no refit, unless --refit), forecasting --horizon steps from every origin;
            MASE divides by the in-sample MAE of the seasonal naive forecast (season --season) on the initial window.
            --protocol refit: statsforecast's cross_validation(h, n_windows, step_size, refit=True): the last --windows
            origins (default 20) stepped by --step (default the horizon), horizon 6 unless given, each model refitted on
            everything before each origin, MASE scaled per origin by the seasonal naive's in-sample MAE and averaged.
            --refit never|origin|N|drift[:W[:R]] overrides when models are refitted (N: every N observations, online in
            between; drift: when the mean |one-step error| over the last W observations (default 30) exceeds R times
            (default 1.5) its level over the first W after the last fit — each refit costs a full fit).
            sMAPE = mean |y − ŷ| / (|y| + |ŷ|), range 0–1. Intervals are conformal (from each model's out-of-sample
            errors); pinball loss is the mean over the quantiles 2.5, 10, 50, 90 and 97.5%, CRPS twice that.
            The best is the lowest MASE of all models, baselines included.
            Several windows at once (--freq 100ms,1s,1m): one evaluation per width (short, medium and long term), then a
            summary; a horizon given as a time (1m) is the same span at each width.
            --files 'dir/*.csv' evaluates a panel of related series (per-client or per-model traces); with --global,
            qar and dlinear are also trained once across all of them and scored on each.
            Example: smartserve forecast eval ../shared/data/azure2023/AzureLLMInferenceTrace_code.csv --freq 10s --protocol refit --season 6 --align clock
            """)
        @Argument(help: "Trace or series CSV (timestamp,value).") var file: String?
        @Option(help: "A panel of series or traces instead of one file: a pattern such as 'clients/*.csv'.") var files: String?
        @Flag(help: "With --files: also train the models that can pool (qar, dlinear, gru, lstm, transformer) once across all series.") var global = false
        @Option(help: "Horizon in steps (6) or time (1m).") var horizon: String?
        @Option(parsing: .singleValue, help: "Models, comma-separated (default: all).") var models: [String] = []
        @Option(name: .customLong("protocol"), help: "online (fit once, update online) or refit (statsforecast's rolling origin, refit at every origin).")
        var evaluationProtocol: String = "online"
        @Option(help: "When models are refitted: never, origin (every origin), N (every N observations) or drift[:W[:R]].") var refit: String?
        @Option(parsing: .unconditional, help: "Initial training window, steps (default: half the series; --protocol refit: what the origins leave).") var initial: Int?
        @Option(parsing: .unconditional, help: "Origins advance by this many steps (default 1; --protocol refit: the horizon).") var step: Int?
        @Option(parsing: .unconditional, help: "Number of evaluation windows (default: as many as fit; --protocol refit: 20).") var windows: Int?
        @Option(parsing: .unconditional, help: "Models evaluated at once (default: the core count).") var jobs: Int?
        @OptionGroup var series: SeriesArguments
        @Flag(help: "Print JSON.") var json = false
        public init() {}

        /// The evaluation settings for series `s`, and how its season was chosen.
        func settings(for s: Series, source: String) throws -> ForecastReport.Settings {
            let h = try SeriesArguments.steps(horizon ?? "6", step: s.step)
            let season = try series.season(for: s)
            guard ["online", "refit"].contains(evaluationProtocol) else {
                throw UsageError("--protocol expects online or refit, got '\(evaluationProtocol)'")
            }
            var settings = ForecastReport.Settings(horizon: h, season: season.length)
            settings.refitProtocol = evaluationProtocol == "refit"
            settings.initial = initial
            settings.step = step
            settings.windows = windows
            settings.refit = try refit.map { try RollingOrigin.Refit(parsing: $0) }
            settings.transform = try series.seriesTransform()
            settings.medianPoint = try series.medianPoint()
            settings.intervals = try series.intervalScaling()
            settings.jobs = try Parallel.jobs(jobs)
            settings.notes = [season.description, series.binning(source)].filter { !$0.isEmpty }
            return settings
        }

        public func run() throws { Terminal.out(try report()) }

        /// The report for FILE or the --files panel, as text or JSON.
        func report() throws -> String {
            let names = models.flatMap(SchedulerChoice.splitList)
            if let pattern = files {
                guard file == nil else { throw UsageError("give either FILE or --files, not both") }
                let paths = try expandGlob(pattern, option: "--files")
                let panel = try paths.map { (URL(fileURLWithPath: $0).lastPathComponent, try series.series($0)) }
                let report = try PanelReport.evaluate(panel, models: names, settings: try settings(for: panel[0].1, source: paths[0]), global: global)
                return json ? report.json().render() : report.text()
            }
            guard let file else { throw UsageError("forecast eval needs FILE (a trace or series CSV) or --files PATTERN") }
            return try evaluateWidths(source: file) { try $0.series(file) }
        }

        /// The report (text or JSON) at each width of --freq, the series built by `build` from the
        /// series arguments with that one width; a summary by width when there are several.
        func evaluateWidths(source: String, build: (SeriesArguments) throws -> Series) throws -> String {
            guard !global else { throw UsageError("--global needs --files (a panel of series to train across)") }
            let names = models.flatMap(SchedulerChoice.splitList)
            let widths = series.freq.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
            var reports: [(String, ForecastReport)] = []
            for width in widths {
                var at = series
                at.freq = width
                let s = try build(at)
                reports.append((width, try ForecastReport.evaluate(s, models: names, settings: try settings(for: s, source: source))))
            }
            if reports.count == 1 { return json ? reports[0].1.json().render() : reports[0].1.text() }
            if json { return JSON.object([("frequencies", .object(reports.map { ($0.0, $0.1.json()) }))]).render() }
            var out = ""
            for (width, r) in reports { out += "== windows of \(width)\n" + r.text() + "\n" }
            var t = TextTable(["windows", "points", "horizon", "best", "MASE", "best baseline", "MASE "])
            for (width, r) in reports {
                t.add([width, "\(r.plan.lastOrigin + r.plan.horizon)", "\(r.plan.horizon)", r.best?.name ?? "-",
                       r.best.map { fixed($0.average.mase, 3) } ?? "-", r.bestBaseline?.name ?? "-", r.bestBaseline.map { fixed($0.average.mase, 3) } ?? "-"])
            }
            return out + "by window width:\n" + t.render()
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
            let f = try makeForecaster(model, season: try series.season(for: s).length, transform: try series.seriesTransform(),
                                       medianPoint: try series.medianPoint(), intervals: try series.intervalScaling())
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
    public var transform: SeriesTransform = .none
    public var medianPoint = false
    public var intervals = IntervalChoice()
    /// Lines describing the series (season, binning).
    public var notes: [String] = []

    /// How to evaluate: the protocol, its overrides, the season and transform.
    public struct Settings: Sendable {
        public var horizon: Int
        public var season: Int
        /// statsforecast's protocol (last origins, refit at each, MASE per origin) instead of the online one.
        public var refitProtocol = false
        public var initial: Int?
        public var step: Int?
        public var windows: Int?
        public var refit: RollingOrigin.Refit?
        public var transform: SeriesTransform = .none
        /// Count medians as point forecasts (`--point median`).
        public var medianPoint = false
        /// How conformal errors are scaled, and whether levels adapt (`--intervals conformal|adaptive|count[+aci]`).
        public var intervals = IntervalChoice()
        public var jobs = 1
        /// Lines describing the series (season, binning) for the report's header.
        public var notes: [String] = []

        public init(horizon: Int, season: Int) {
            self.horizon = horizon
            self.season = season
        }
    }

    public static func evaluate(_ s: Series, models: [String], horizon: Int, season: Int, initial: Int? = nil,
                                step: Int = 1, windows: Int? = nil) throws -> ForecastReport {
        var settings = Settings(horizon: horizon, season: season)
        settings.initial = initial
        settings.step = step
        settings.windows = windows
        return try evaluate(s, models: models, settings: settings)
    }

    /// The rolling-origin plan the settings give on a series.
    static func plan(for s: Series, settings: Settings) throws -> RollingOrigin {
        var plan: RollingOrigin
        do {
            if settings.refitProtocol {
                guard settings.initial == nil else { throw UsageError("--initial does not apply to --protocol refit (the origins are the last --windows)") }
                plan = try RollingOrigin.refitProtocol(length: s.values.count, horizon: settings.horizon, windows: settings.windows ?? 20,
                                                       step: settings.step, season: settings.season)
            } else {
                plan = try RollingOrigin.standard(length: s.values.count, horizon: settings.horizon, season: settings.season,
                                                  initial: settings.initial, step: settings.step ?? 1, windows: settings.windows)
            }
        } catch let e as ForecastError {
            throw ForecastError(e.description + SeriesArguments.finerHint(s))
        }
        if let r = settings.refit { plan.refit = r }
        return plan
    }

    public static func evaluate(_ s: Series, models: [String], settings: Settings) throws -> ForecastReport {
        let specs = models.isEmpty ? Components.forecasters.names : models
        let plan = try Self.plan(for: s, settings: settings)
        let built = try specs.map { try makeForecaster($0, season: settings.season, transform: settings.transform, medianPoint: settings.medianPoint,
                                                         intervals: settings.intervals) }
        let outcomes = try Parallel.map(specs.count, jobs: settings.jobs) { i -> Result<RollingOrigin.ModelResult, ForecastError> in
            do {
                var r = try plan.evaluate(built[i], on: s.values)
                r.name = specs[i]
                return .success(r)
            } catch let e as ForecastError {
                return .failure(e)
            }
        }
        var results: [RollingOrigin.ModelResult] = []
        var failures: [(String, String)] = []
        for (spec, outcome) in zip(specs, outcomes) {
            switch outcome {
            case .success(let r): results.append(r)
            case .failure(let e):
                if models.count == 1 { throw e }
                failures.append((spec, e.description))
            }
        }
        guard !results.isEmpty else {
            throw ForecastError("no model could be evaluated: " + failures.map { $0.1 }.joined(separator: "; ") + SeriesArguments.finerHint(s))
        }
        var report = ForecastReport(results: results, failures: failures, plan: plan, hint: SeriesArguments.finerHint(s))
        report.transform = settings.transform
        report.medianPoint = settings.medianPoint
        report.intervals = settings.intervals
        report.notes = settings.notes
        return report
    }

    static func isBaseline(_ r: RollingOrigin.ModelResult) -> Bool { RollingOrigin.baselines.contains(NamedSpecName(r.name)) }

    /// The lowest mean MASE of all, baselines included.
    public var best: RollingOrigin.ModelResult? { results.min { $0.average.mase < $1.average.mase } }
    /// The non-baseline model with the lowest mean MASE.
    public var bestModel: RollingOrigin.ModelResult? { results.filter { !Self.isBaseline($0) }.min { $0.average.mase < $1.average.mase } }
    public var bestBaseline: RollingOrigin.ModelResult? { results.filter(Self.isBaseline).min { $0.average.mase < $1.average.mase } }

    /// How the best model fares against the best baseline, in words, with the uncertainty of
    /// the margin: the mean MASE's standard error over origins and the Diebold–Mariano test of
    /// the per-origin difference.
    public var verdict: String? {
        guard let m = bestModel, let b = bestBaseline, b.average.mase > 0 else { return nil }
        let margin = (m.average.mase - b.average.mase) / b.average.mase * 100
        var noise = ""
        if let c = plan.compare(m, b), c.standardError > 0 {
            noise = "; the difference is \(fixed(abs(c.meanDifference) / c.standardError, 1)) standard errors (Diebold–Mariano p = \(fixed(c.pValue, 3)), \(c.origins) origins)"
        }
        if margin < 0 {
            return "best: \(m.name), MASE \(fixed(m.average.mase, 3))\(standardErrorText(m)), \(fixed(-margin, 1))% below the best baseline (\(b.name), \(fixed(b.average.mase, 3)))" + noise
        }
        return "best: the baseline \(b.name), MASE \(fixed(b.average.mase, 3))\(standardErrorText(b)); no model beats it (the best, \(m.name), is \(fixed(margin, 1))% worse)" + noise
    }

    /// The best model's 95% coverage with its standard error (origins as clusters).
    public var coverageLine: String? {
        guard let m = best, let se = m.coverageStandardError(overlap: plan.overlap) else { return nil }
        return "95% intervals of \(m.name): \(fixed(m.average.coverage95 * 100, 1))% coverage, standard error \(fixed(se * 100, 1)) points over \(m.originCoverage95.count) origins"
    }

    func standardErrorText(_ r: RollingOrigin.ModelResult) -> String {
        guard let se = r.maseStandardError(overlap: plan.overlap) else { return "" }
        return " (standard error \(fixed(se, 3)))"
    }

    /// The evaluation protocol in one line.
    public var header: String {
        let p = plan
        var line = "rolling origin: fit on \(p.initial) steps, \(p.windows) forecasts of \(p.horizon) steps, origins every \(p.step); \(p.refit); "
        line += p.scaling == .perOrigin ? "MASE per origin scaled by the seasonal naive (season \(p.season)) on the data before it, averaged"
            : "MASE scaled by the seasonal naive with season \(p.season) on the initial window"
        line += "; conformal intervals"
        if transform != .none { line += "; models fitted on \(transform.rawValue)(y)" }
        if medianPoint { line += "; point forecasts are count medians" }
        switch intervals.scaling {
        case .constant: break
        case .recentSpread: line += "; intervals scaled by the recent spread"
        case .countLevel: line += "; intervals scaled by the Poisson scale √ŷ of the forecast"
        }
        if intervals.adaptiveLevels { line += "; levels adapted online (ACI, γ 0.005)" }
        return line + (notes.isEmpty ? "" : "\n" + notes.joined(separator: "; "))
    }

    public func text() -> String {
        var out = header + "\n"
        var t = TextTable(["model", "MAE", "RMSE", "MASE", "sMAPE", "pinball", "CRPS", "cover 80%", "cover 95%", "time (s)", "best"])
        let bestName = best?.name
        for r in results {
            let a = r.average
            t.add([r.name, fixed(a.mae, 3), fixed(a.rmse, 3), fixed(a.mase, 3), fixed(a.smape, 3), fixed(a.pinball, 3), fixed(a.crps, 3),
                   fixed(a.coverage80 * 100, 1), fixed(a.coverage95 * 100, 1), fixed(r.seconds, 2), r.name == bestName ? "best" : ""])
        }
        out += t.render()
        if let verdict { out += verdict + "\n" }
        if let coverageLine { out += coverageLine + "\n" }
        for (name, why) in failures { out += "\(name): not evaluated — \(why)\n" }
        if !failures.isEmpty && !hint.isEmpty { out += "some models need more points" + hint + "\n" }
        out += "\nby horizon:\n"
        var h = TextTable(["model", "h", "MAE", "RMSE", "MASE", "sMAPE", "pinball", "CRPS", "cover 80%", "cover 95%"])
        for r in results {
            for (k, m) in r.perHorizon.enumerated() {
                h.add([r.name, "\(k + 1)", fixed(m.mae, 3), fixed(m.rmse, 3), fixed(m.mase, 3), fixed(m.smape, 3), fixed(m.pinball, 3),
                       fixed(m.crps, 3), fixed(m.coverage80 * 100, 1), fixed(m.coverage95 * 100, 1)])
            }
        }
        return out + h.render()
    }

    public func json() -> JSON {
        .object([
            ("models", .object(results.map { r in
                (r.name, .object(Self.scores(r.average) + [
                    ("mase_se", r.maseStandardError(overlap: plan.overlap).map { .number($0) } ?? .null),
                    ("coverage95_se", r.coverageStandardError(overlap: plan.overlap).map { .number($0) } ?? .null),
                    ("seconds", .number(r.seconds)), ("fits", .integer(r.fits)),
                    ("by_horizon", .array(r.perHorizon.map { .object(Self.scores($0)) })),
                ]))
            })),
            ("best", best.map { .string($0.name) } ?? .null),
            ("best_model", bestModel.map { .string($0.name) } ?? .null),
            ("best_baseline", bestBaseline.map { .string($0.name) } ?? .null),
            ("margin_pct", { () -> JSON in
                guard let m = bestModel, let b = bestBaseline, b.average.mase > 0 else { return .null }
                return .number((m.average.mase - b.average.mase) / b.average.mase * 100)
            }()),
            ("margin_test", { () -> JSON in
                guard let m = bestModel, let b = bestBaseline, let c = plan.compare(m, b) else { return .null }
                return .object([("mean_difference", .number(c.meanDifference)), ("standard_error", .number(c.standardError)),
                                ("statistic", .number(c.statistic)), ("p", .number(c.pValue)), ("origins", .integer(c.origins))])
            }()),
            ("failed", .object(failures.map { ($0.0, .string($0.1)) })),
            ("horizon", .integer(plan.horizon)), ("season", .integer(plan.season)), ("windows", .integer(plan.windows)),
            ("initial", .integer(plan.initial)), ("step", .integer(plan.step)),
            ("refit", .string({
                switch plan.refit {
                case .everyOrigin: return "origin"
                case .online(.never): return "never"
                case .online(.every(let n)): return "\(n)"
                case .online(.drift(let w, let r)): return "drift:\(w):\(r)"
                }
            }())),
            ("mase_scale", .string(plan.scaling == .perOrigin ? "per-origin" : "initial-window")),
            ("transform", .string(transform.rawValue)), ("point", .string(medianPoint ? "median" : "mean")),
            ("intervals", .string(intervals.text)),
        ])
    }

    static func scores(_ a: RollingOrigin.Scores) -> [(String, JSON)] {
        [("mae", .number(a.mae)), ("rmse", .number(a.rmse)), ("mase", .number(a.mase)), ("smape", .number(a.smape)),
         ("pinball", .number(a.pinball)), ("crps", .number(a.crps)), ("coverage80", .number(a.coverage80)), ("coverage95", .number(a.coverage95))]
    }
}

func NamedSpecName(_ spec: String) -> String { String(spec.split(separator: ":").first ?? "") }
