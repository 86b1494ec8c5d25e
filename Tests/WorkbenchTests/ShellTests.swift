import Foundation
import XCTest
@testable import Workbench
import ServeAPI
import ServeSim
import Workload

/// The command language, registry and option validation, sessions and replay, without a terminal.
final class ShellTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("shell-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func runner(_ output: @escaping (String) -> Void = { _ in }) -> ShellRunner {
        let r = ShellRunner(session: Session(), interactive: false, showProgress: false, output: output)
        r.sessionsRoot = dir.appendingPathComponent("sessions")
        return r
    }

    var sample: String { ShellTests.root.appendingPathComponent("dataset/sharegpt-like-100.tsv").path }

    func testTokenizer() throws {
        XCTAssertEqual(try Tokenizer.split("load 'my file.tsv' --req_num 10  # comment"), ["load", "my file.tsv", "--req_num", "10"])
        XCTAssertEqual(try Tokenizer.split("set a \"b c\" d\\ e"), ["set", "a", "b c", "d e"])
        XCTAssertEqual(try Tokenizer.split("   "), [])
        XCTAssertEqual(try Tokenizer.split("describe a#b"), ["describe", "a#b"])
        XCTAssertThrowsError(try Tokenizer.split("load 'open")) { XCTAssertEqual("\($0)", "unterminated ' quote") }
        for word in ["plain", "with space", "it's", "a#b", ""] {
            XCTAssertEqual(try Tokenizer.split(Tokenizer.quote(word)), [word])
        }
    }

    func testRegistryAndOptionValidation() throws {
        let s = Session()
        XCTAssertTrue(Registries.schedulers.names.contains("vllm"))
        XCTAssertThrowsError(try s.choose("scheduler", "ocra")) { XCTAssertTrue("\($0)".contains("did you mean 'orca'"), "\($0)") }
        XCTAssertThrowsError(try s.choose("scheduler", "orca:reserve=huge")) {
            XCTAssertEqual("\($0)", "orca: option 'reserve' expects one of max, oracle, pow2, got 'huge'")
        }
        XCTAssertThrowsError(try s.choose("scheduler", "orca:max_len=0")) { XCTAssertTrue("\($0)".contains("a value in 1.0...1048576.0"), "\($0)") }
        XCTAssertThrowsError(try s.choose("scheduler", "vllm:speed=2")) { XCTAssertTrue("\($0)".contains("unknown option 'speed'"), "\($0)") }
        XCTAssertThrowsError(try s.choose("predictor", "noisy-oracle:sigma=abc")) { XCTAssertTrue("\($0)".contains("expects a number"), "\($0)") }
        try s.choose("scheduler", "orca:reserve=oracle")
        XCTAssertEqual(s.scheduler, "orca:reserve=oracle")
        // Settings are validated exactly as CLI options.
        try s.set("max-num-seqs", "64")
        XCTAssertEqual(s.value(of: "max-num-seqs"), "64")
        XCTAssertThrowsError(try s.set("max-num-seq", "64")) { XCTAssertTrue("\($0)".contains("did you mean 'max-num-seqs'"), "\($0)") }
        XCTAssertThrowsError(try s.set("max-num-seqs", "many")) { XCTAssertTrue("\($0)".contains("max-num-seqs"), "\($0)") }
        XCTAssertThrowsError(try s.set("max-num-seqs", "0")) { XCTAssertTrue("\($0)".contains("max_num_seqs must be ≥ 1"), "\($0)") }
        XCTAssertThrowsError(try s.set("tp", "3")) { XCTAssertTrue("\($0)".contains("TP 3 does not divide the 32 attention heads"), "\($0)") }
        XCTAssertEqual(s.value(of: "tp"), nil)      // a refused setting leaves the state alone
        try s.choose("scheduler", "vllm")       // orca prefills whole prompts whatever the setting
        try s.set("no-chunked-prefill", "on")
        XCTAssertFalse(try s.simulationArguments().config().knobs.chunkedPrefill)
        try s.set("no-chunked-prefill", "off")
        XCTAssertTrue(try s.simulationArguments().config().knobs.chunkedPrefill)
        XCTAssertTrue(SettingKeys.all.contains { $0.name == "slo-ttft" && !$0.isFlag })
    }

    func testUnknownCommandSuggestsTheClosest() {
        let r = runner()
        XCTAssertThrowsError(try r.execute("shwo 1")) { XCTAssertTrue("\($0)".contains("did you mean 'show'"), "\($0)") }
        XCTAssertThrowsError(try r.execute("run")) { XCTAssertTrue("\($0)".contains("no dataset loaded"), "\($0)") }
    }

    func testCompletionCandidates() throws {
        let s = Session()
        XCTAssertEqual(Completion.candidates(lineBeforeCursor: "sch", word: "sch", session: s), ["scheduler", "schedulers"])
        XCTAssertEqual(Completion.candidates(lineBeforeCursor: "scheduler or", word: "or", session: s), ["orca"])
        XCTAssertEqual(Completion.candidates(lineBeforeCursor: "scheduler orca res", word: "res", session: s), ["reserve="])
        XCTAssertEqual(Completion.candidates(lineBeforeCursor: "hardware H1", word: "H1", session: s), ["H100", "H100-PCIe"])
        XCTAssertEqual(Completion.candidates(lineBeforeCursor: "set max-num-s", word: "max-num-s", session: s), ["max-num-seqs"])
        XCTAssertTrue(Completion.candidates(lineBeforeCursor: "predictor ", word: "", session: s).contains("noisy-oracle"))
        let files = Completion.candidates(lineBeforeCursor: "load \(ShellTests.root.path)/data", word: "\(ShellTests.root.path)/data", session: s)
        XCTAssertEqual(files, ["\(ShellTests.root.path)/dataset/"])
    }

    /// `hardware`, `models` and `set` alone list what there is and are not state changes: only
    /// `hardware H100` reaches the transcript. An unknown model suggests the names holding
    /// every word typed.
    func testCatalogListingsAreNotRecorded() throws {
        var out = ""
        let r = runner { out += $0 + "\n" }
        XCTAssertTrue(r.runScript(["hardware", "models", "set", "hardware H100", "save listing"], name: "listing.sls"))
        let transcript = try String(contentsOf: dir.appendingPathComponent("sessions/listing/transcript.sls"), encoding: .utf8)
        XCTAssertEqual(transcript.split(separator: "\n"), ["hardware H100"])
        for name in HardwareCatalog.names + ModelCatalog.names { XCTAssertTrue(out.contains(name), name) }
        XCTAssertTrue(out.contains("dense bf16 (TFLOP/s)") && out.contains("KV bytes/token"), out)
        XCTAssertThrowsError(try ModelCatalog.resolve("llama-70b")) {
            XCTAssertTrue("\($0)".contains("did you mean meta-llama/Llama-3.1-70B-Instruct or meta-llama/Llama-3.1-70B or meta-llama/Llama-2-70b-hf?"), "\($0)")
        }
    }

    func testSessionRoundTripAndReplay() throws {
        let r = runner()
        let script = ["load \(sample)", "hardware H100", "set max-num-seqs 16", "run small", "scheduler vllm preemption=swap",
                      "set num-gpu-blocks 200", "run tight", "save study"]
        XCTAssertTrue(r.runScript(script, name: "study.sls"))
        let saved = dir.appendingPathComponent("sessions/study")
        let transcript = try String(contentsOf: saved.appendingPathComponent("transcript.sls"), encoding: .utf8)
        // Every state-changing command, in order; `save` itself is not replayed.
        XCTAssertEqual(transcript.split(separator: "\n").count, 7)
        for file in ["manifest.json", "runs/1-small/summary.json", "runs/1-small/requests.csv", "runs/1-small/timeseries.csv", "runs/2-tight/summary.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: saved.appendingPathComponent(file).path), file)
        }
        let manifest = try JSON.parse(Data(contentsOf: saved.appendingPathComponent("manifest.json")))
        XCTAssertEqual(manifest["dataset"]?["sha256"], .string(try SHA256.file(sample)))
        XCTAssertEqual(manifest["configuration"]?["hardware"]?["name"], .string("H100"))
        XCTAssertEqual(manifest["runs"]?.arrayCount, 2)

        let report = try Replay.run(directory: saved.path)
        XCTAssertTrue(report.identical, report.text)
        XCTAssertTrue(report.text.contains("run 2 (tight): identical"))

        // A tampered summary is reported with the key and both values.
        let summaryPath = saved.appendingPathComponent("runs/2-tight/summary.json")
        var text = try String(contentsOf: summaryPath, encoding: .utf8)
        let preemptions = try JSON.parse(Data(text.utf8))["preemptions"]!.doubleValue!
        text = text.replacingOccurrences(of: "\"preemptions\": \(Int(preemptions))", with: "\"preemptions\": \(Int(preemptions) + 1)")
        try text.write(to: summaryPath, atomically: true, encoding: .utf8)
        let changed = try Replay.run(directory: saved.path)
        XCTAssertFalse(changed.identical)
        XCTAssertTrue(changed.text.contains("preemptions: \(Int(preemptions) + 1) → \(Int(preemptions))"), changed.text)

        // `open` restores the state by re-executing the transcript.
        let again = runner()
        try again.execute("open \(saved.path)")
        XCTAssertEqual(again.session.runs.count, 2)
        XCTAssertEqual(again.session.value(of: "max-num-seqs"), "16")
        XCTAssertEqual(again.session.scheduler, "vllm:preemption=swap")
    }

    func testChangedDatasetIsReportedBeforeReplaying() throws {
        let data = dir.appendingPathComponent("d.tsv")
        try FileManager.default.copyItem(atPath: sample, toPath: data.path)
        let r = runner()
        XCTAssertTrue(r.runScript(["load \(data.path)", "run", "save s"], name: "s"))
        try "input_toks\toutput_toks\tarrival_time_ns\n5\t5\t0\n".write(to: data, atomically: true, encoding: .utf8)
        let report = try Replay.run(directory: dir.appendingPathComponent("sessions/s").path)
        XCTAssertFalse(report.identical)
        XCTAssertTrue(report.text.hasPrefix("dataset \(data.path) changed: sha256 was"), report.text)
    }

    func testTranscriptIsAppendedAsYouGo() throws {
        let r = runner()
        XCTAssertTrue(r.runScript(["load \(sample)", "save live"], name: "x"))
        let file = dir.appendingPathComponent("sessions/live/transcript.sls")
        try r.execute("set max-num-seqs 8")
        XCTAssertEqual(try String(contentsOf: file, encoding: .utf8).split(separator: "\n").last, "set max-num-seqs 8")
        // A failing command is not recorded.
        XCTAssertThrowsError(try r.execute("set max-num-seqs zero"))
        XCTAssertEqual(try String(contentsOf: file, encoding: .utf8).split(separator: "\n").count, 2)
    }

    func testExampleSessionsReplayIdentically() throws {
        let cwd = FileManager.default.currentDirectoryPath
        _ = FileManager.default.changeCurrentDirectoryPath(ShellTests.root.path)
        defer { _ = FileManager.default.changeCurrentDirectoryPath(cwd) }
        for name in ["quickstart", "memory-pressure"] {
            let report = try Replay.run(directory: "sessions/examples/\(name)")
            XCTAssertTrue(report.identical, "\(name): \(report.text)")
        }
    }

    func testCompareAndExport() throws {
        var printed: [String] = []
        let r = runner { printed.append($0) }
        XCTAssertTrue(r.runScript(["load \(sample)", "run a", "set max-num-seqs 4", "run b", "compare a b",
                                   "export b \(dir.path)/b.csv", "export 1 \(dir.path)/a.json"], name: "c"))
        let table = printed.first { $0.hasPrefix("metric") }!
        XCTAssertTrue(table.contains("1 a") && table.contains("2 b") && table.contains("Δ%"))
        XCTAssertTrue(try String(contentsOfFile: "\(dir.path)/b.csv", encoding: .utf8).hasPrefix("request id,model,input,output"))
        XCTAssertEqual(try JSON.parse(Data(contentsOf: URL(fileURLWithPath: "\(dir.path)/a.json")))["requests"]?.doubleValue, 100)
        // Percentages differ in points: the SLO row's difference is b − a in percent of requests.
        let a = try r.session.findRun("a").summary, b = try r.session.findRun("b").summary
        let row = table.split(separator: "\n").first { $0.hasPrefix("SLO attainment") }!
        XCTAssertTrue(row.hasSuffix(String(format: "%.1f pt", (b.sloAttainment - a.sloAttainment) * 100)), String(row))
    }

    /// Latencies print in the unit that keeps them short: the 9941243.8 ms is 165.7 min.
    func testDurationsPickTheirUnit() {
        XCTAssertEqual(duration(0.0164), "16.4 ms")
        XCTAssertEqual(duration(9.99), "9990.0 ms")
        XCTAssertEqual(duration(12.5), "12.50 s")
        XCTAssertEqual(duration(9941.2438), "165.7 min")
        XCTAssertEqual(duration(40_000), "11.1 h")
        XCTAssertEqual(duration(.nan), "-")
    }

    /// A repeated label gets the first free suffix, so every label names one run.
    func testRepeatedLabelsStayDistinct() throws {
        let r = runner()
        XCTAssertTrue(r.runScript(["load \(sample)", "run", "run", "run x", "run x", "run x"], name: "labels"))
        XCTAssertEqual(r.session.runs.map(\.label), ["vllm", "vllm-2", "x", "x-2", "x-3"])
        XCTAssertEqual(try r.session.findRun("x-2").number, 4)
    }
}

extension JSON {
    var arrayCount: Int? { if case .array(let a) = self { return a.count }; return nil }
}

extension ShellTests {
    /// Issue 9: `config` said prefix caching on while the run said off for the same trace (which
    /// carries no prefixes). Both now state the setting and that it had nothing to reuse.
    func testConfigAndRunAgreeOnPrefixCaching() throws {
        var text = ""
        let r = runner { text += $0 + "\n" }
        try r.execute("load \(sample)")
        try r.execute("config")
        try r.execute("run a")
        try r.execute("show a")
        let says = "prefix caching on (no shared prefixes in this trace: nothing to reuse)"
        XCTAssertEqual(text.components(separatedBy: says).count - 1, 2, text)
        try r.execute("set no-prefix-caching on")
        text = ""
        try r.execute("config")
        XCTAssertTrue(text.contains("prefix caching off"), text)
        XCTAssertTrue(text.contains("latency     roofline"), text)
    }
}

extension ShellTests {
    /// Issue 10: `scheduler sjf:predictor=noisy-oracle,sigma=0.5` was refused ("unknown option
    /// 'sigma'"), and `predictor noisy-oracle sigma=3` was ignored by `sjf`.
    func testShellSchedulerAndPredictorSpecsReachTheRun() throws {
        let r = runner()
        try r.execute("load \(sample)")
        try r.execute("scheduler sjf:predictor=noisy-oracle,sigma=0.5")
        XCTAssertEqual(r.session.scheduler, "sjf:predictor=noisy-oracle,sigma=0.5")
        try r.execute("scheduler sjf")
        try r.execute("predictor noisy-oracle sigma=3")
        XCTAssertEqual(try r.session.simulationArguments().predictorSpec(), NamedSpec(name: "noisy-oracle", options: ["sigma": "3"]))
        try r.execute("run noisy")
        try r.execute("predictor oracle")
        try r.execute("run oracle")
        // Different predictions, different admission order: the runs differ.
        XCTAssertNotEqual(r.session.runs[0].result.requests.firstScheduled, r.session.runs[1].result.requests.firstScheduled)
    }
}

extension ShellTests {
    func testPluginCommandCompletes() {
        let s = Session()
        XCTAssertEqual(Completion.candidates(lineBeforeCursor: "plugin ", word: "", session: s), ["check", "load"])
        XCTAssertEqual(Completion.candidates(lineBeforeCursor: "plugin l", word: "l", session: s), ["load"])
        XCTAssertTrue(Completion.candidates(lineBeforeCursor: "plugin load Pl", word: "Pl", session: s).contains("Plugins/"))
    }
}
