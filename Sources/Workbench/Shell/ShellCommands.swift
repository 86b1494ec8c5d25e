import Charts
import ArgumentParser
import Foundation
import Forecasting
import ServeAPI
import ServeSim
import Workload

/// What completes after a command name.
public enum ArgumentCompletion: Sendable {
    case none, file, scheduler, router, predictor, hardware, model, setting, run, command, component, datasetAction, forecaster, plugin
}

/// One shell command: its help (the declaration is the documentation) and its action.
public struct ShellCommand: Sendable {
    public let name: String
    public let aliases: [String]
    public let usage: String
    public let summary: String
    public let examples: [String]
    /// State-changing commands go to the transcript and are replayed.
    public let records: Bool
    public let completion: ArgumentCompletion
    let action: @Sendable (ShellRunner, [String]) throws -> Void
    /// For commands that record only some forms (`plugin load` does, `plugin check` does not).
    var recordsArguments: (@Sendable ([String]) -> Bool)? = nil

    public var help: String {
        var s = "\(usage)\n  \(summary)"
        if !aliases.isEmpty { s += "\n  aliases: \(aliases.joined(separator: ", "))" }
        if !examples.isEmpty { s += "\n  examples:\n" + examples.map { "    " + $0 }.joined(separator: "\n") }
        return s
    }
}

func need(_ args: [String], _ n: Int, _ usage: String) throws {
    guard args.count >= n else { throw UsageError("usage: \(usage)") }
}

func noMore(_ args: [String], _ n: Int, _ usage: String) throws {
    guard args.count <= n else { throw UsageError("unexpected '\(args[n])'; usage: \(usage)") }
}

/// Reads `--key VALUE` pairs, accepting only the `allowed` keys.
func flagValues(_ args: ArraySlice<String>, allowed: [String], command: String) throws -> [String: String] {
    var options: [String: String] = [:]
    var i = args.startIndex
    while i < args.endIndex {
        guard args[i].hasPrefix("--"), i + 1 < args.endIndex else { throw UsageError("\(command): expected --option VALUE, got '\(args[i])'") }
        let key = String(args[i].dropFirst(2))
        guard allowed.contains(key) else {
            throw UsageError("\(command): unknown option --\(key) (\(allowed.map { "--" + $0 }.joined(separator: ", ")))")
        }
        options[key] = args[i + 1]
        i += 2
    }
    return options
}

/// Parses a one-shot command's arguments as the CLI does, turning its errors into one usage line.
func parseCommand<C: ParsableCommand>(_ type: C.Type, _ args: [String]) throws -> C {
    do {
        return try C.parse(args)
    } catch {
        throw UsageError(C.message(for: error))
    }
}

/// Splits `report`/`plot` words into the session's runs they name (numbers or labels) and the
/// rest; with no run named and no other input given, every run of the session.
func sessionRuns(_ shell: ShellRunner, _ args: [String]) throws -> ([ReportRun], [String]) {
    var runs: [SessionRun] = [], rest: [String] = []
    var hasInputs = false
    var k = 0
    while k < args.count {
        let w = args[k]
        if w.hasPrefix("-") {
            rest.append(w)
            if !w.contains("="), k + 1 < args.count, !args[k + 1].hasPrefix("-") { rest.append(args[k + 1]); k += 1 }
        } else if !FileManager.default.fileExists(atPath: w), let r = try? shell.session.findRun(w) {
            runs.append(r)
        } else {
            rest.append(w)
            if !w.lowercased().hasSuffix(".html") { hasInputs = true }
        }
        k += 1
    }
    if runs.isEmpty && !hasInputs && !rest.contains("--forecast") && !rest.contains("--validate") { runs = shell.session.runs }
    return (runs.map { ReportRun(label: $0.label, result: $0.result, summary: $0.summaryJSON) }, rest)
}

/// Text broken between words into lines of at most `width` characters (a longer word stands alone).
func wrapWords(_ text: String, width: Int) -> [String] {
    var lines: [String] = [], line = ""
    for word in text.split(separator: " ") {
        if !line.isEmpty && line.count + 1 + word.count > width { lines.append(line); line = "" }
        line += (line.isEmpty ? "" : " ") + word
    }
    if !line.isEmpty { lines.append(line) }
    return lines
}

/// Takes `--json` out of a command's words: (the rest, whether it was there).
func takeJSON(_ args: [String]) -> ([String], Bool) {
    (args.filter { $0 != "--json" }, args.contains("--json"))
}

/// The command table, in the order `help` lists it.
public let shellCommands: [ShellCommand] = [
    ShellCommand(name: "help", aliases: ["?"], usage: "help [COMMAND]", summary: "List commands, or show one command's help with examples.",
                 examples: ["help", "help run"], records: false, completion: .command) { shell, args in
        if let name = args.first {
            guard let c = ShellRunner.command(named: name) else { throw ShellRunner.unknownCommand(name) }
            shell.out(c.help)
        } else {
            // Names in the first column, descriptions wrapped between words to the terminal's
            // width; the full usage is in `help CMD`.
            let nameWidth = shellCommands.map(\.name.count).max() ?? 8
            let width = max(40, min(Terminal.columns, 120) - nameWidth - 3)
            var out = ""
            for c in shellCommands {
                for (k, line) in wrapWords(c.summary, width: width).enumerated() {
                    out += (k == 0 ? c.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) : String(repeating: " ", count: nameWidth)) + "   " + line + "\n"
                }
            }
            shell.out(out + "\n" + wrapWords("Tab completes commands, names, options and files; `help CMD` shows the usage and examples. Ctrl-C stops a run, Ctrl-D saves and exits.", width: width + nameWidth + 3).joined(separator: "\n"))
        }
    },
    ShellCommand(name: "load", aliases: [], usage: "load FILE [--req_num N] [--rate-scale K] [--start S] [--end S] [--model-filter M] [--max-context N] [--keep-failed] [--format F]",
                 summary: "Load a trace (any supported format, detected from its content).",
                 examples: ["load dataset/sharegpt-like-100.tsv", "load ../shared/data/azure2023/AzureLLMInferenceTrace_conv.csv --req_num 2000 --rate-scale 2"],
                 records: true, completion: .file) { shell, args in
        try need(args, 1, "load FILE [options]")
        try shell.session.load(shell.resolver.resolve(args[0]), typed: args[0], words: Array(args.dropFirst()))
        let t = shell.session.trace!
        shell.out("loaded \(t.count) requests over \(fixed(t.spanSeconds, 1)) s from \(args[0])")
    },
    ShellCommand(name: "dataset", aliases: ["ds"], usage: "dataset [info|patterns|features] [--freq 1s] [--window 60s] [--output FILE] [--json]",
                 summary: "Describe the loaded dataset: summary, burst patterns, or windowed features.",
                 examples: ["dataset", "dataset patterns --window 10s", "dataset features --freq 1s --output features.csv"],
                 records: false, completion: .datasetAction) { shell, args in
        guard let trace = shell.session.trace else { throw UsageError("no dataset loaded: `load FILE` first") }
        let (words, json) = takeJSON(args)
        let action = words.first ?? "info"
        let options = try flagValues(words.dropFirst(), allowed: ["freq", "window", "output"], command: "dataset \(action)")
        switch action {
        case "info":
            let summary = TraceSummary(trace: trace, report: shell.session.loadReport)
            shell.out(json ? DatasetReport.json(summary).render() : DatasetReport.text(summary, file: shell.session.datasetPath ?? "-"))
        case "patterns":
            let window = try parseDuration(options["window"] ?? "60s", what: "--window")
            let report = PatternAnalysis.analyse(trace, window: window)
            shell.out(json ? DatasetReport.json(report).render() : DatasetReport.text(report))
        case "features":
            let freq = try parseDuration(options["freq"] ?? "1s", what: "--freq")
            let table = try FeatureTable(trace: trace, frequency: freq)
            if let path = options["output"] {
                try AtomicFile.write(table.csv(), to: path)
                shell.out("wrote \(table.rows.count) windows to \(path)")
            } else {
                shell.out(table.csv())
            }
        default:
            throw UsageError("dataset: unknown action '\(action)' (info, patterns, features)")
        }
    },
    ShellCommand(name: "hardware", aliases: ["hw"], usage: "hardware [NAME|FILE]", summary: "Choose the accelerator (catalog name or JSON profile); alone, list the catalog.",
                 examples: ["hardware", "hardware H100", "hardware my-gpu.json"], records: true, completion: .hardware, action: { shell, args in
        try noMore(args, 1, "hardware [NAME|FILE]")
        guard !args.isEmpty else { return shell.out(ShellRunner.hardwareCatalog()) }
        let p = try HardwareCatalog.resolve(args[0])
        try shell.session.set("hardware", args[0])
        shell.out("hardware \(p.name): \(JSON.format(p.memoryGB)) GB, \(JSON.format(p.memoryBandwidthGBs)) GB/s, \(JSON.format(p.tflops)) TFLOP/s")
    }, recordsArguments: { !$0.isEmpty }),
    ShellCommand(name: "model", aliases: ["models"], usage: "model [NAME|FILE]", summary: "Choose the model (catalog name or HuggingFace config.json); alone, list the catalog.",
                 examples: ["models", "model meta-llama/Llama-3.1-70B", "model ./config.json"], records: true, completion: .model, action: { shell, args in
        try noMore(args, 1, "model [NAME|FILE]")
        guard !args.isEmpty else { return shell.out(ShellRunner.modelCatalog()) }
        let m = try ModelCatalog.resolve(args[0])
        try shell.session.set("model_name", args[0])
        shell.out("model \(m.name): \(fixed(Double(m.parameterCount) / 1e9, 2)) B parameters, \(m.kvBytesPerToken) KV bytes/token")
    }, recordsArguments: { !$0.isEmpty }),
    ShellCommand(name: "set", aliases: [], usage: "set [KEY VALUE]", summary: "Set an engine knob, parallelism, SLO or seed (the CLI's option names); alone, list them.",
                 examples: ["set max-num-seqs 128", "set tp 2", "set slo-ttft 1.5", "set no-chunked-prefill on", "set seed 7"],
                 records: true, completion: .setting, action: { shell, args in
        if args.isEmpty {
            var t = TextTable(["setting", "value", "meaning"])
            for k in SettingKeys.all {
                t.add([k.name, shell.session.value(of: k.name) ?? (k.defaultValue.map { "(\($0))" } ?? (k.isFlag ? "(off)" : "(unset)")), k.help])
            }
            shell.out(t.render())
            return
        }
        try need(args, 2, "set KEY VALUE")
        try noMore(args, 2, "set KEY VALUE")
        try shell.session.set(args[0], args[1])
    }, recordsArguments: { !$0.isEmpty }),
    ShellCommand(name: "unset", aliases: [], usage: "unset KEY", summary: "Return a setting to its default.",
                 examples: ["unset max-num-seqs"], records: true, completion: .setting) { shell, args in
        try need(args, 1, "unset KEY")
        shell.session.unset(args[0])
    },
    ShellCommand(name: "config", aliases: [], usage: "config", summary: "Show the resolved configuration.",
                 examples: ["config"], records: false, completion: .none) { shell, _ in
        shell.out(try shell.configText())
    },
    ShellCommand(name: "schedulers", aliases: [], usage: "schedulers", summary: "List schedulers.", examples: ["schedulers", "describe vllm"], records: false, completion: .none) { shell, _ in
        shell.out(ShellRunner.listing(Components.schedulers.all.map { ($0.name, $0.summary) }))
    },
    ShellCommand(name: "predictors", aliases: [], usage: "predictors",
                 summary: "List length predictors (with a dataset loaded, their MAE and Kendall tau on it) and forecasters.",
                 examples: ["predictors", "predictor noisy-oracle sigma=0.5"], records: false, completion: .none) { shell, _ in
        let forecasters = "\nforecasters (`forecast MODEL`):\n" + ShellRunner.listing(Components.forecasters.all.map { ($0.name, $0.summary) })
        guard let trace = shell.session.trace else {
            shell.out("length predictors (`predictor NAME`):\n" + ShellRunner.listing(Components.lengthPredictors.all.map { ($0.name, $0.summary) }) + forecasters)
            return
        }
        defer { shell.out(forecasters) }
        let seed = UInt64(shell.session.value(of: "seed") ?? "0") ?? 0
        shell.out(PredictorAccuracy.text(try Components.lengthPredictors.names.map { try PredictorAccuracy.score($0, trace: trace, seed: seed) }))
    },
    ShellCommand(name: "routers", aliases: [], usage: "routers", summary: "List routers.", examples: ["routers", "set instances 4", "router least-outstanding"], records: false, completion: .none) { shell, _ in
        shell.out(ShellRunner.listing(Components.routers.all.map { ($0.name, $0.summary) }))
    },
    ShellCommand(name: "autoscalers", aliases: [], usage: "autoscalers", summary: "List autoscalers (for `set autoscale NAME:key=value,...`).",
                 examples: ["autoscalers", "set autoscale forecast:max=8,cold_start=20s", "describe forecast"], records: false, completion: .none) { shell, _ in
        shell.out(ShellRunner.listing(Components.autoscalers.all.map { ($0.name, $0.summary) }))
    },
    ShellCommand(name: "describe", aliases: [], usage: "describe NAME", summary: "Options of a scheduler, router or predictor (types, defaults, docs), or a hardware/model profile.",
                 examples: ["describe orca", "describe noisy-oracle", "describe H100"], records: false, completion: .component) { shell, args in
        try need(args, 1, "describe NAME")
        shell.out(try ShellRunner.describe(args[0]))
    },
    ShellCommand(name: "scheduler", aliases: [], usage: "scheduler NAME [key=value ...]", summary: "Choose the scheduler and its options.",
                 examples: ["scheduler vllm", "scheduler orca reserve=oracle", "scheduler vllm preemption=swap"], records: true, completion: .scheduler) { shell, args in
        try need(args, 1, "scheduler NAME [key=value ...]")
        try shell.session.choose("scheduler", ShellRunner.spec(args))
        shell.out("scheduler \(shell.session.scheduler)")
    },
    ShellCommand(name: "predictor", aliases: [], usage: "predictor NAME [key=value ...]", summary: "Choose the output-length predictor.",
                 examples: ["predictor oracle", "predictor noisy-oracle sigma=1"], records: true, completion: .predictor) { shell, args in
        try need(args, 1, "predictor NAME [key=value ...]")
        try shell.session.choose("predictor", ShellRunner.spec(args))
        shell.out("predictor \(shell.session.predictor)")
    },
    ShellCommand(name: "router", aliases: [], usage: "router NAME", summary: "Choose the router across instances.",
                 examples: ["router least-outstanding"], records: true, completion: .router) { shell, args in
        try need(args, 1, "router NAME")
        try shell.session.choose("router", ShellRunner.spec(args))
        shell.out("router \(shell.session.router)")
    },
    ShellCommand(name: "forecast", aliases: [], usage: "forecast [MODEL] [--horizon 30] [--freq 1s] [--target requests] [--season auto] [--file F] [--eval [forecast eval options]]",
                 summary: "Forecast the load of the loaded dataset (or --file: any trace or timestamp,value series) and chart actual vs forecast; --eval scores every model (or MODEL) and takes every option of `smartserve forecast eval`.",
                 examples: ["forecast", "forecast holt --horizon 1m --freq 1s", "forecast --eval --freq 10s --horizon 6",
                            "forecast --eval --freq 10s --protocol refit --season 6 --align clock --refit drift", "forecast ses --file cpu.csv"],
                 records: false, completion: .forecaster) { shell, args in
        var model = "ensemble", modelGiven = false
        var rest = args
        if let first = rest.first, !first.hasPrefix("--") { model = first; modelGiven = true; rest.removeFirst() }
        var evaluate = false
        if let i = rest.firstIndex(of: "--eval") { evaluate = true; rest.remove(at: i) }
        if evaluate {
            // Every option of `smartserve forecast eval`; --file F is its FILE, else the loaded dataset.
            var argv = rest
            if let i = argv.firstIndex(of: "--file") {
                guard i + 1 < argv.count else { throw UsageError("forecast: --file needs a value") }
                argv.append(argv[i + 1])
                argv.removeSubrange(i...(i + 1))
            }
            if modelGiven { argv += ["--models", model] }
            let eval = try parseCommand(ForecastCommand.Eval.self, argv)
            if eval.file != nil || eval.files != nil {
                shell.out(try eval.report())
                return
            }
            guard let trace = shell.session.trace else { throw UsageError("no dataset loaded: `load FILE` first, or give --file") }
            shell.out(try eval.evaluateWidths(source: shell.session.datasetPath ?? "") { try $0.series(of: trace) })
            return
        }
        let options = try flagValues(rest[...], allowed: ["horizon", "freq", "target", "season", "file"], command: "forecast")
        let step = try parseDuration(options["freq"] ?? "1s", what: "--freq")
        guard let target = SeriesTarget(rawValue: options["target"] ?? "requests") else {
            throw UsageError("--target expects requests, prompt_tokens or output_tokens")
        }
        let series: Series
        if let file = options["file"] {
            series = try SeriesLoader.load(file, step: step, target: target)
        } else {
            guard let trace = shell.session.trace else { throw UsageError("no dataset loaded: `load FILE` first, or give --file") }
            series = try SeriesLoader.fromTrace(trace, step: step, target: target)
        }
        let season = try SeasonChoice(options["season"] ?? "auto", values: series.values).length
        let h = try SeriesArguments.steps(options["horizon"] ?? "30", step: step)
        let f = try makeForecaster(model, season: season)
        do { try f.fit(series.values) } catch let e as ForecastError { throw ForecastError(e.description + SeriesArguments.finerHint(series)) }
        let p = try f.predict(horizon: h, levels: [80, 95]).respectingSign(of: series.values)
        let chart = Figures.forecastChart(series, origin: series.values.count, forecast: p,
                                          title: "\(model): the next \(h) steps of \(JSON.format(series.step)) s", what: target.rawValue.replacingOccurrences(of: "_", with: " "))
        shell.out(TerminalRenderer.render(chart, colour: shell.interactive && isatty(1) != 0))
    },
    ShellCommand(name: "plugins", aliases: [], usage: "plugins", summary: "List the loaded plugins: name, version, what each registered, path and SHA-256.",
                 examples: ["plugins"], records: false, completion: .none) { shell, args in
        try noMore(args, 0, "plugins")
        shell.out(PluginSetup.listing())
    },
    ShellCommand(name: "plugin", aliases: [], usage: "plugin load PATH | plugin check PATH",
                 summary: "Load a plugin library (its schedulers, routers, predictors and forecasters join the registries), or run the conformance kit on one.",
                 examples: ["plugin load Plugins/Examples/EDF/.build/release/libEDF.so", "plugin check Plugins/Examples/EDF/.build/release/libEDF.so"],
                 records: true, completion: .plugin, action: { shell, args in
        try need(args, 2, "plugin load PATH | plugin check PATH")
        try noMore(args, 2, "plugin load PATH | plugin check PATH")
        switch args[0] {
        case "load":
            let p = try PluginSetup.load(args[1])
            shell.out("plugin \(p.name) \(p.version): \(p.components.joined(separator: ", "))")
        case "check":
            let report = try PluginCheck.run(args[1])
            shell.out(report.text)
            if !report.passed { throw UsageError("plugin check: \(report.failures) failure(s)") }
        default:
            throw UsageError("plugin expects load or check, got '\(args[0])'")
        }
    }, recordsArguments: { $0.first == "load" }),
    ShellCommand(name: "validate", aliases: [], usage: "validate DIR [--latency-profile DIR] [--hardware H] [--model M] [--num-gpu-blocks N] [--instances N] [--json]",
                 summary: "Replay a real vLLM run folder and compare measured and simulated latencies and time series (as `smartserve validate`).",
                 examples: ["validate ../shared/data/vllm-measured/RTXPRO6000-Llama-3.1-8B",
                            "validate RUN_DIR --latency-profile ../shared/data/llmservingsim-profiles/RTXPRO6000"],
                 records: false, completion: .file) { shell, args in
        shell.out(try parseCommand(ValidateCommand.self, args).output())
    },
    ShellCommand(name: "rl", aliases: [], usage: "rl train --out FILE [--algo ppo|a2c|dqn|sac] [--steps N] [--reward K=W,...] [run options] | rl eval POLICY [--baselines A,B] [--start S]",
                 summary: "Train a scheduling policy on the loaded dataset with the session's settings, or evaluate one against baselines (as `smartserve rl`).",
                 examples: ["rl train --algo ppo --steps 20000 --end 600 --out policy.json", "rl eval policy.json --start 600",
                            "scheduler rl:policy=policy.json"],
                 records: false, completion: .file) { shell, args in
        guard let sub = args.first, ["train", "eval"].contains(sub) else { throw UsageError("usage: rl train --out FILE [options] | rl eval POLICY [options]") }
        let words = shell.session.commandWords(Array(args.dropFirst()))
        if sub == "train" {
            shell.out(try parseCommand(RLTrainCommand.self, words).train())
        } else {
            shell.out(try parseCommand(RLEvalCommand.self, words).output())
        }
    },
    ShellCommand(name: "calibrate", aliases: [], usage: "calibrate PROFILE_DIR|RUN_DIR --out FILE [--tp N] [--hardware H] [--model M] [--json]",
                 summary: "Fit the roofline's device constants to a profile bundle or a measured run; write a hardware profile (as `smartserve calibrate`).",
                 examples: ["calibrate ../shared/data/llmservingsim-profiles/RTXPRO6000 --out rtxpro6000.json", "hardware rtxpro6000.json"],
                 records: false, completion: .file) { shell, args in
        shell.out(try parseCommand(CalibrateCommand.self, args).output())
    },
    ShellCommand(name: "run", aliases: [], usage: "run [LABEL]", summary: "Simulate the loaded dataset on the current configuration.",
                 examples: ["run", "run baseline"], records: true, completion: .none) { shell, args in
        try noMore(args, 1, "run [LABEL]")
        let run = try shell.session.run(label: args.first, hooks: shell.hooks())
        shell.clearProgress()
        shell.out("run \(run.number) (\(run.label)): " + ShellRunner.oneLine(run.summary))
    },
    ShellCommand(name: "runs", aliases: [], usage: "runs", summary: "List this session's runs.", examples: ["runs"], records: false, completion: .none) { shell, _ in
        var t = TextTable(["#", "label", "scheduler", "requests", "TTFT mean ms", "TTFT p99 ms", "TPOT mean ms", "E2E mean s", "req/s"])
        for r in shell.session.runs {
            let s = r.summary
            t.add(["\(r.number)", r.label, r.result.schedulerName, "\(s.requests)", fixed(s.ttft.mean * 1000, 1), fixed(s.ttft.p99 * 1000, 1),
                   fixed(s.tpot.mean * 1000, 1), fixed(s.e2e.mean, 2), fixed(s.throughputRPS, 2)])
        }
        shell.out(t.render())
    },
    ShellCommand(name: "show", aliases: [], usage: "show [RUN] [--json]", summary: "Summary of a run (number or label; default the last); --json as summary.json holds it.",
                 examples: ["show", "show 2", "show baseline --json"], records: false, completion: .run) { shell, args in
        let (words, json) = takeJSON(args)
        try noMore(words, 1, "show [RUN] [--json]")
        let r = try shell.session.findRun(words.first)
        shell.out(json ? r.summaryJSON.render() : RunReport.text(r.summary, r.result, workload: shell.session.datasetPath ?? "-", trace: shell.session.trace ?? Trace()))
    },
    ShellCommand(name: "compare", aliases: [], usage: "compare RUN RUN ... [--json] | compare --schedulers A,B,... [--resamples N] [--json]",
                 summary: "Side-by-side table of runs against the first; with --schedulers, run each on the loaded dataset first (with bootstrap CIs).",
                 examples: ["compare 1 2", "compare baseline swap", "compare --schedulers vllm,sarathi,sjf:predictor=noisy-oracle,sigma=0.5"],
                 records: true, completion: .run, action: { shell, words in
        let (args, json) = takeJSON(words)
        if args.first == "--schedulers" {
            try need(args, 2, "compare --schedulers A,B,... [--resamples N]")
            var resamples = 1000
            if args.count >= 4 && args[2] == "--resamples" {
                guard let n = Int(args[3]), n >= 100 else { throw UsageError("--resamples must be an integer ≥ 100, got '\(args[3])'") }
                resamples = n
            } else {
                try noMore(args, 2, "compare --schedulers A,B,... [--resamples N]")
            }
            let e = try shell.session.evaluate(SchedulerChoice.splitList(args[1]), resamples: resamples, hooks: shell.hooks())
            shell.clearProgress()
            shell.out(json ? e.json().render() : e.text())
            return
        }
        try need(args, 2, "compare RUN RUN ...")
        let runs = try args.map { try shell.session.findRun($0) }
        if json {
            // Runs of the same workload pair request by request (with CIs); others side by side.
            let paired = runs.allSatisfy { $0.result.requests.arrival == runs[0].result.requests.arrival && $0.result.requests.promptTokens == runs[0].result.requests.promptTokens }
            if paired {
                let e = Evaluation(entries: runs.map { Evaluation.Entry(label: "\($0.number) \($0.label)", predictor: nil, result: $0.result, summary: $0.summary) }, resamples: 1000)
                shell.out(e.json().render())
            } else {
                shell.out(JSON.object([("baseline", .string("\(runs[0].number) \(runs[0].label)")), ("paired", .bool(false)),
                                       ("results", .object(runs.map { ("\($0.number) \($0.label)", $0.summaryJSON) }))]).render())
            }
            return
        }
        shell.out(Comparison.table(runs.map { ("\($0.number) \($0.label)", $0.summary) }))
    }, recordsArguments: { $0.contains("--schedulers") }),
    ShellCommand(name: "report", aliases: [], usage: "report [RUN…] [FILE.html] [SWEEP.json] [--forecast F] [--validate DIR] [--title T]",
                 summary: "Write one self-contained HTML report with SVG charts of runs (default: every run of the session), sweeps, forecasts and validations.",
                 examples: ["report", "report 1 2 study.html", "report --forecast dataset/bursty-500.burstgpt.csv --horizon 20"],
                 records: false, completion: .run) { shell, args in
        var (runs, words) = try sessionRuns(shell, args)
        // A bare FILE.html names the page (`report 1 2 study.html`).
        if let k = words.indices.first(where: { words[$0].lowercased().hasSuffix(".html") && ($0 == 0 || !words[$0 - 1].hasPrefix("-")) }) {
            words[k] = "--out=" + words[k]
        }
        if !words.contains(where: { $0 == "--out" || $0 == "-o" || $0.hasPrefix("--out=") }) {
            words.append("--out=" + (shell.session.directory?.appendingPathComponent("report.html").path ?? "report.html"))
        }
        shell.out(try parseCommand(ReportCommand.self, words).write(extra: runs))
    },
    ShellCommand(name: "plot", aliases: [], usage: "plot KIND [RUN…] [--metric ttft|tpot|itl|e2e] [--panel P] [--out FILE.svg]",
                 summary: "Draw one chart of the session's runs in the terminal, or as SVG with --out. Kinds: \(PlotCommand.kinds.joined(separator: ", ")).",
                 examples: ["plot cdf", "plot cdf 1 2 --metric e2e", "plot timeseries --panel kv", "plot compare --out cmp.svg", "plot forecast --horizon 20"],
                 records: false, completion: .run) { shell, args in
        try need(args, 1, "plot KIND [RUN…] [options]")
        var (runs, words) = try sessionRuns(shell, Array(args.dropFirst()))
        if args[0] == "forecast" && !words.contains("--forecast") {
            guard let path = shell.session.datasetPath else { throw UsageError("plot forecast: no dataset loaded (load FILE, or give --forecast FILE)") }
            words += ["--forecast", path] + shell.session.loadWords
            runs = []
        }
        shell.out(try parseCommand(PlotCommand.self, [args[0]] + words).draw(extra: runs, colour: shell.interactive && isatty(1) != 0))
    },
    ShellCommand(name: "export", aliases: [], usage: "export RUN FILE", summary: "Write a run: .json the summary, timeseries*.csv the time series, other names the per-request CSV.",
                 examples: ["export 1 run1.csv", "export baseline summary.json"], records: false, completion: .run) { shell, args in
        try need(args, 2, "export RUN FILE")
        let r = try shell.session.findRun(args[0])
        let path = args[1]
        let text: String
        if path.hasSuffix(".json") { text = r.summaryJSON.render() + "\n" }
        else if URL(fileURLWithPath: path).lastPathComponent.hasPrefix("timeseries") { text = RunReport.timeSeriesCSV(r.result) }
        else { text = RunReport.requestsCSV(r.result) }
        try AtomicFile.write(text, to: path)
        shell.out("wrote \(path)")
    },
    ShellCommand(name: "save", aliases: [], usage: "save [NAME]", summary: "Save the session under sessions/NAME (transcript, manifest, runs).",
                 examples: ["save", "save sjf-study"], records: false, completion: .none) { shell, args in
        try shell.save(args.first)
    },
    ShellCommand(name: "open", aliases: [], usage: "open DIR", summary: "Reopen a saved session: re-executes its transcript, then keeps appending to it.",
                 examples: ["open sessions/examples/quickstart"], records: false, completion: .file) { shell, args in
        try need(args, 1, "open DIR")
        try shell.open(args[0])
    },
    ShellCommand(name: "replay", aliases: [], usage: "replay DIR", summary: "Re-execute a saved session in a fresh state and check every run is identical.",
                 examples: ["replay sessions/examples/quickstart"], records: false, completion: .file) { shell, args in
        try need(args, 1, "replay DIR")
        let report = try Replay.run(directory: args[0])
        shell.out(report.text)
        if !report.identical {
            let why = report.text.split(separator: "\n").first { !$0.hasSuffix(": identical") }.map { ": " + $0 } ?? ""
            throw UsageError("replay of \(args[0]) differs\(why)")
        }
    },
    ShellCommand(name: "source", aliases: ["script"], usage: "source FILE", summary: "Run the commands in a script file in this session.",
                 examples: ["source study.sls"], records: false, completion: .file) { shell, args in
        try need(args, 1, "source FILE")
        try shell.source(args[0])
    },
    ShellCommand(name: "quit", aliases: ["exit", "q"], usage: "quit", summary: "Save and leave (Ctrl-D does the same).", examples: ["quit"], records: false, completion: .none) { shell, _ in
        shell.quitRequested = true
    },
]
