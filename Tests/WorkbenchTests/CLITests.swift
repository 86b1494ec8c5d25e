import Foundation
import XCTest
@testable import Workbench
import ServeSim
import Workload

/// The real executable, end to end, as a user runs it.
final class CLITests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs `smartserve` from the build folder; returns (status, stdout, stderr).
    func smartserve(_ args: [String], input: String? = nil, environment: [String: String] = [:], directory: URL? = nil) throws -> (Int32, String, String) {
        try runSmartserve(args, input: input, environment: environment, directory: directory)
    }

    func sharedPath(_ rel: String) throws -> String {
        let p = CLITests.root.deletingLastPathComponent().appendingPathComponent("shared/data/\(rel)").path
        guard FileManager.default.fileExists(atPath: p) else {
            print("skipping: \(p) is absent")
            throw XCTSkip("shared data absent")
        }
        return p
    }

    func testDefaultRunPrintsASummary() throws {
        let (status, out, err) = try smartserve(["run"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("meta-llama/Llama-3.1-8B-Instruct"))
        XCTAssertTrue(out.contains("RTX3090"))
        XCTAssertTrue(out.contains("requests 100"))
        XCTAssertTrue(out.contains("TTFT"))
    }

    func testRunJSONAndLLMServingSimCSV() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        let csv = dir.appendingPathComponent("out.csv").path
        let (status, out, err) = try smartserve(["run", "--dataset", "dataset/sharegpt-like-100.tsv", "--hardware", "A100-80G",
                                                 "--npu_num", "2", "--npu_group", "1", "--output", csv, "--json"])
        XCTAssertEqual(status, 0, err)
        let json = try JSON.parse(Data(out.utf8))
        XCTAssertEqual(json["requests"]?.doubleValue, 100)
        XCTAssertEqual(json["config"]?["tp"]?.doubleValue, 2)
        XCTAssertNotNil(json["ttft"]?["p99"]?.doubleValue)
        let text = try String(contentsOfFile: csv, encoding: .utf8)
        let lines = text.split(separator: "\n")
        XCTAssertEqual(lines.first, "request id,model,input,output,arrival,end_time,latency,queuing_delay,TTFT,TPOT,instance,preemptions,itl_mean,itl_max")
        XCTAssertEqual(lines.count, 101)
        // Row 0: the sample's first request has 111 prompt and 86 output tokens: output column = 197.
        let row = lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(row[2], "111")
        XCTAssertEqual(row[3], "197")
        let (arrival, end, latency, ttft, tpot) = (Int64(row[4])!, Int64(row[5])!, Int64(row[6])!, Int64(row[8])!, Int64(row[9])!)
        XCTAssertEqual(latency, end - arrival)
        XCTAssertEqual(tpot, (latency - ttft) / 85)
    }

    /// The streamed CSVs of a fast-forwarded run are byte for byte those of a step-by-step run,
    /// and the per-request fields are consistent row by row (E2E = end − arrival; TPOT from E2E − TTFT).
    func testFastForwardedRunWritesTheStepByStepFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        var files: [[String]] = []
        for mode in [[], ["--no-fast-forward"]] {
            let tag = mode.isEmpty ? "ff" : "step"
            let csv = dir.appendingPathComponent("\(tag).csv").path, ts = dir.appendingPathComponent("\(tag)-ts.csv").path
            let (status, _, err) = try smartserve(["run", "--hardware", "A100-80G", "--rate-scale", "0.2", "--output", csv, "--timeseries", ts] + mode)
            XCTAssertEqual(status, 0, err)
            files.append([try String(contentsOfFile: csv, encoding: .utf8), try String(contentsOfFile: ts, encoding: .utf8)])
        }
        XCTAssertEqual(files[0], files[1])
        let rows = files[0][0].split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(rows.count, 100)
        for row in rows {
            let (input, total, arrival, end, latency, ttft) = (Int64(row[2])!, Int64(row[3])!, Int64(row[4])!, Int64(row[5])!, Int64(row[6])!, Int64(row[8])!)
            XCTAssertEqual(latency, end - arrival)
            if total - input > 1 { XCTAssertEqual(Int64(row[9])!, (latency - ttft) / (total - input - 1)) }
        }
        XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: dir.path).allSatisfy { !$0.hasPrefix(AtomicFile.temporaryPrefix) })
    }

    func testLLMServingSimSchedulerUsesItsTPOT() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        let csv = dir.appendingPathComponent("out.csv").path
        let (status, _, err) = try smartserve(["run", "--scheduler", "llmservingsim", "--output", csv])
        XCTAssertEqual(status, 0, err)
        let row = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")[1].split(separator: ",").map(String.init)
        // v0.2.1's TPOT = latency // output tokens (86).
        XCTAssertEqual(Int64(row[9])!, Int64(row[6])! / 86)
    }

    func testBadInputsExitNonZeroWithOneClearLine() throws {
        // Exit statuses: 2 for what the command line asked (names, options, impossible
        // configurations), 3 for input files, 1 for a run that failed.
        var (status, _, err) = try smartserve(["run", "--hardware", "GTX1080"])
        XCTAssertEqual(status, 2)
        XCTAssertTrue(err.hasPrefix("error: unknown hardware 'GTX1080'"), err)
        (status, _, err) = try smartserve(["run", "--model_name", "meta-llama/Llama-3.1-70B"])
        XCTAssertEqual(status, 2)
        XCTAssertTrue(err.contains("does not fit on RTX3090"), err)
        (status, _, err) = try smartserve(["run", "--scheduler", "fifo"])
        XCTAssertEqual(status, 2)
        XCTAssertTrue(err.contains("unknown scheduler 'fifo'"), err)
        (status, _, err) = try smartserve(["run", "--scheduler", "orca:reserve=all"])
        XCTAssertEqual(status, 2)
        XCTAssertTrue(err.contains("option 'reserve' expects one of max, oracle, pow2"), err)
        (status, _, err) = try smartserve(["dataset", "info", "/nonexistent.csv"])
        XCTAssertEqual(status, 3)
        XCTAssertEqual(err, "error: /nonexistent.csv: no such file\n")
        (status, _, err) = try smartserve(["run", "--max_batch", "lots"])
        XCTAssertEqual(status, 2)
        XCTAssertTrue(err.contains("max_batch"), err)
        (status, _, err) = try smartserve(["run", "--no-such-option"])
        XCTAssertEqual(status, 2)
        XCTAssertTrue(err.contains("no-such-option"), err)
        // A script stops with the status of its first failing line.
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("status-\(UUID().uuidString).sls").path
        defer { try? FileManager.default.removeItem(atPath: script) }
        try "load /nonexistent.tsv\nscheduler fifo\n".write(toFile: script, atomically: true, encoding: .utf8)
        (status, _, err) = try smartserve(["script", script, "--keep-going"])
        XCTAssertEqual(status, 3, err)
        try "scheduler fifo\n".write(toFile: script, atomically: true, encoding: .utf8)
        (status, _, err) = try smartserve(["script", script])
        XCTAssertEqual(status, 2, err)
    }

    func testInstallableBinaryAndCompletions() throws {
        // The binary finds libServeAPI.so beside it or in ../lib (make install's layout).
        let exe = CLITests.root.appendingPathComponent(".build/debug/smartserve").path
        guard let readelf = ["/usr/bin/readelf", "/bin/readelf"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("readelf is not installed")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: readelf)
        p.arguments = ["-d", exe]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let dynamic = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertTrue(dynamic.contains("$ORIGIN:") || dynamic.contains("$ORIGIN]"), dynamic)
        XCTAssertTrue(dynamic.contains("$ORIGIN/../lib"), dynamic)
        for shell in ["bash", "zsh", "fish"] {
            let (status, script, err) = try smartserve(["--generate-completion-script", shell])
            XCTAssertEqual(status, 0, err)
            XCTAssertTrue(script.contains("smartserve") && script.contains("report") && script.contains("schedulers"), shell)
        }
    }

    func testCtrlCStopsACLIRunCleanly() throws {
        let big = FileManager.default.temporaryDirectory.appendingPathComponent("big-\(UUID().uuidString).tsv").path
        defer { try? FileManager.default.removeItem(atPath: big) }
        var (status, _, err) = try smartserve(["dataset", "generate", "--requests", "300000", "--arrivals", "poisson:rate=200", "--out", big])
        XCTAssertEqual(status, 0, err)
        let bundle = Bundle(for: CLITests.self).bundleURL
        let exe = [bundle.appendingPathComponent("smartserve"), bundle.deletingLastPathComponent().appendingPathComponent("smartserve"),
                   CLITests.root.appendingPathComponent(".build/debug/smartserve")].first { FileManager.default.isExecutableFile(atPath: $0.path) }!
        let p = Process()
        p.executableURL = exe
        p.arguments = ["run", "--dataset", big]
        let errPipe = Pipe()
        p.standardError = errPipe
        p.standardOutput = Pipe()
        try p.run()
        // 300,000 requests take seconds even in release; SIGINT (Ctrl-C) arrives mid-run.
        Thread.sleep(forTimeInterval: 1.5)
        p.interrupt()
        err = String(decoding: errPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        status = p.terminationStatus
        XCTAssertEqual(p.terminationReason, .exit, "the process ends itself, not by the signal")
        XCTAssertEqual(status, ExitStatus.interrupted, err)
        XCTAssertTrue(err.hasSuffix("error: interrupted\n"), err)
    }

    func testRelativePathsResolveFromAnyDirectory() throws {
        XCTAssertEqual(PathResolver.relative("/a/b/c/x.tsv", from: URL(fileURLWithPath: "/a/d/e")), "../../b/c/x.tsv")
        XCTAssertEqual(PathResolver.relative("/a/x.tsv", from: URL(fileURLWithPath: "/a")), "x.tsv")
        let elsewhere = FileManager.default.temporaryDirectory.appendingPathComponent("paths-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        // A saved session replays from another directory: its manifest says where its dataset
        // lies relative to the session folder.
        let session = CLITests.root.appendingPathComponent("sessions/examples/quickstart").path
        var (status, out, err) = try smartserve(["replay", session], directory: elsewhere)
        XCTAssertEqual(status, 0, out + err)
        XCTAssertTrue(out.hasSuffix("replay: identical\n"), out)
        // Data folders: SMARTSERVE_DATA and --data-dir find a relative dataset.
        let data = CLITests.root.appendingPathComponent("dataset").path
        (status, out, err) = try smartserve(["run", "--dataset", "sharegpt-like-100.tsv", "--json"], environment: ["SMARTSERVE_DATA": "/nonexistent:" + data], directory: elsewhere)
        XCTAssertEqual(status, 0, err)
        (status, _, err) = try smartserve(["--data-dir", data, "dataset", "info", "bursty-500.burstgpt.csv"], directory: elsewhere)
        XCTAssertEqual(status, 0, err)
        (status, _, err) = try smartserve(["dataset", "info", "bursty-500.burstgpt.csv"], directory: elsewhere)
        XCTAssertEqual(status, 3, "without a data folder the relative name is not found")
        XCTAssertTrue(err.contains("bursty-500.burstgpt.csv: no such file"), err)
        // A script's relative paths also resolve against the script's folder.
        try FileManager.default.copyItem(atPath: data + "/sharegpt-like-100.tsv", toPath: elsewhere.appendingPathComponent("mine.tsv").path)
        try "load mine.tsv\nrun\n".write(to: elsewhere.appendingPathComponent("study.sls"), atomically: true, encoding: .utf8)
        (status, out, err) = try smartserve(["script", elsewhere.appendingPathComponent("study.sls").path])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("run 1"), out)
    }

    func testDatasetInfoJSONKeys() throws {
        let (status, out, err) = try smartserve(["dataset", "info", try sharedPath("azure2023/AzureLLMInferenceTrace_code.csv"), "--json"])
        XCTAssertEqual(status, 0, err)
        let j = try JSON.parse(Data(out.utf8))
        for key in ["format", "requests", "failed", "span_seconds", "mean_rate", "interarrival_cv", "iod_1s", "iod_60s", "input_tokens", "output_tokens", "pattern"] {
            XCTAssertNotNil(j[key], key)
        }
        XCTAssertEqual(j["requests"]?.doubleValue, 8819)
        XCTAssertEqual(j["interarrival_cv"]?.doubleValue ?? 0, 13.15, accuracy: 0.01)
        XCTAssertEqual(j["input_tokens"]?["mean"]?.doubleValue ?? 0, 2047.8, accuracy: 0.05)
        XCTAssertEqual(j["pattern"], .string("burst"))
    }

    func testDatasetGenerateConvertFeaturesPatterns() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let gen = dir.appendingPathComponent("g.tsv").path
        var (status, _, err) = try smartserve(["dataset", "generate", "--requests", "300", "--arrivals", "gamma:rate=5,cv=3", "--seed", "3", "--out", gen])
        XCTAssertEqual(status, 0, err)
        let conv = dir.appendingPathComponent("g.csv").path
        (status, _, err) = try smartserve(["dataset", "convert", gen, conv, "--to", "azure"])
        XCTAssertEqual(status, 0, err)
        let a = try TraceLoader.load(gen).0, b = try TraceLoader.load(conv).0
        XCTAssertEqual(a.promptTokens, b.promptTokens)
        // Azure keeps 7 fractional digits: arrivals agree to 100 ns.
        for i in 0..<a.count { XCTAssertLessThanOrEqual(abs(a.arrivals[i] - b.arrivals[i]), 100) }
        let feats = dir.appendingPathComponent("f.csv").path
        (status, _, err) = try smartserve(["dataset", "features", gen, "--freq", "10s", "--output", feats])
        XCTAssertEqual(status, 0, err)
        let rows = try String(contentsOfFile: feats, encoding: .utf8).split(separator: "\n").dropFirst()
        XCTAssertEqual(rows.reduce(0) { $0 + Int($1.split(separator: ",")[1])! }, 300)
        var out: String
        (status, out, err) = try smartserve(["dataset", "patterns", gen])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.hasPrefix("overall pattern: burst"), out)
        (status, _, err) = try smartserve(["dataset", "convert", gen, dir.appendingPathComponent("x.csv").path])
        XCTAssertEqual(status, 2)
        XCTAssertTrue(err.contains("give --to"), err)
    }

    /// The validation target: every mean and P99 within 5% of the real vLLM run, with the setup
    /// the run folder states and where each setting came from.
    func testValidateAgainstTheSharedVLLMRun() throws {
        let dir = try sharedPath("vllm-measured/RTXPRO6000-Llama-3.1-8B")
        let (status, out, err) = try smartserve(["validate", dir, "--json"])
        XCTAssertEqual(status, 0, err)
        let j = try JSON.parse(Data(out.utf8))
        // Measured values from the data README: TTFT mean 7097.2, P99 19755.3; TPOT 32.5, 37.3; E2E 28200.7, 37638.8.
        let measured: [(String, String, Double)] = [("ttft", "mean", 7097.2), ("ttft", "p99", 19755.3), ("tpot", "mean", 32.5),
                                                    ("tpot", "p99", 37.3), ("e2e", "mean", 28200.7), ("e2e", "p99", 37638.8)]
        for (metric, stat, value) in measured {
            let cell = j["metrics"]?[metric]?[stat]
            XCTAssertEqual(cell?["measured"]?.doubleValue ?? 0, value, accuracy: 0.06, "\(metric) \(stat)")
            let diff = cell?["diff_pct"]?.doubleValue ?? 100
            XCTAssertLessThan(abs(diff), 5, "\(metric) \(stat): \(diff)%")
        }
        XCTAssertEqual(j["setup"]?["memory_bandwidth_gbs"]?["source"]?.stringValue, "config.json")
        XCTAssertEqual(j["setup"]?["max_num_seqs"]?["value"]?.stringValue, "128")
        XCTAssertEqual(j["setup"]?["max_num_seqs"]?["source"]?.stringValue, "meta.json engine_kwargs.max_num_seqs")
        XCTAssertNotNil(j["timeseries"]?["gen_throughput"]?["correlation"]?.doubleValue)
    }
}

extension CLITests {
    func testScriptStopsAtTheBadLineWithItsNumber() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("script-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let script = dir.appendingPathComponent("bad.sls").path
        try "load dataset/sharegpt-like-100.tsv\n# a comment\nset max-num-seqs lots\nrun\n".write(toFile: script, atomically: true, encoding: .utf8)
        var (status, out, err) = try smartserve(["script", script])
        XCTAssertEqual(status, 2, "a bad setting is a usage error")
        XCTAssertTrue(err.contains("bad.sls:3: "), err)
        XCTAssertFalse(out.contains("run 1"), out)
        (status, out, err) = try smartserve(["script", script, "--keep-going"])
        XCTAssertEqual(status, 2)
        XCTAssertTrue(out.contains("run 1"), out)
        // Piped standard input is a script too: no prompt.
        (status, out, err) = try smartserve([], input: "load dataset/sharegpt-like-100.tsv\nruns\n")
        XCTAssertEqual(status, 0, err)
        XCTAssertFalse(out.contains("smartserve ["), out)
        (status, out, _) = try smartserve(["replay", "sessions/examples/quickstart"])
        XCTAssertEqual(status, 0)
        XCTAssertTrue(out.hasSuffix("replay: identical\n"), out)
    }
}

extension CLITests {
    func testForecastCommands() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let series = dir.appendingPathComponent("s.csv").path
        var text = "timestamp,value\n"
        for t in 0..<300 { text += "\(t),\(10 + (t % 7))\n" }
        try text.write(toFile: series, atomically: true, encoding: .utf8)
        var (status, out, err) = try smartserve(["forecast", "eval", series, "--horizon", "3", "--models", "naive,ses,seasonal-naive:season=7", "--season", "7", "--json"])
        XCTAssertEqual(status, 0, err)
        let j = try JSON.parse(Data(out.utf8))
        for key in ["mae", "rmse", "mase", "smape", "coverage80", "coverage95"] { XCTAssertNotNil(j["models"]?["ses"]?[key], key) }
        // A period-7 pattern: the seasonal naive with season 7 is exact.
        XCTAssertEqual(j["models"]?["seasonal-naive:season=7"]?["mae"]?.doubleValue, 0)
        let csv = dir.appendingPathComponent("f.csv").path
        (status, _, err) = try smartserve(["forecast", "run", series, "--model", "seasonal-naive:season=7", "--horizon", "7", "--output", csv])
        XCTAssertEqual(status, 0, err)
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.first, "step,timestamp,mean,lo80,hi80,lo95,hi95")
        XCTAssertEqual(rows.count, 8)
        // Next after t = 299 (value 10 + 299 % 7 = 12) is t = 300: 10 + 300 % 7 = 16.
        XCTAssertEqual(rows[1].split(separator: ",")[2], "16")
        (status, _, err) = try smartserve(["forecast", "run", series, "--horizon", "0"])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(err.contains("--horizon must be in 1...100000 steps, got 0"), err)
        (status, _, err) = try smartserve(["forecast", "eval", series, "--models", "holt-winters:season=200", "--horizon", "3"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(err.contains("holt-winters: the series has"), err)
    }
}

extension CLITests {
    func testSweepAndCapacity() throws {
        var (status, out, err) = try smartserve(["sweep", "--schedulers", "vllm,sarathi", "--rates", "1,200", "--json"])
        XCTAssertEqual(status, 0, err)
        let j = try JSON.parse(Data(out.utf8))
        guard case .array(let points)? = j["vllm"] else { return XCTFail(out) }
        XCTAssertEqual(points.count, 2)
        // More load never raises SLO attainment.
        XCTAssertGreaterThanOrEqual(points[0]["slo_attainment"]!.doubleValue!, points[1]["slo_attainment"]!.doubleValue!)
        (status, out, err) = try smartserve(["sweep", "--schedulers", "vllm", "--find-capacity", "--json"])
        XCTAssertEqual(status, 0, err)
        let capacity = try JSON.parse(Data(out.utf8))["capacity_rps"]?["vllm"]?.doubleValue ?? 0
        XCTAssertGreaterThan(capacity, 0)
        // At the capacity found, attainment holds; at twice it, it does not.
        for (rate, holds) in [(capacity, true), (capacity * 2, false)] {
            (status, out, err) = try smartserve(["sweep", "--schedulers", "vllm", "--rates", String(rate), "--json"])
            let a = try JSON.parse(Data(out.utf8))["vllm"]
            guard case .array(let p)? = a else { return XCTFail(out) }
            XCTAssertEqual(p[0]["slo_attainment"]!.doubleValue! >= 0.9, holds, "rate \(rate)")
        }
        (status, _, err) = try smartserve(["sweep", "--schedulers", "vllm"])
        XCTAssertEqual(status, 2)
        XCTAssertTrue(err.contains("--rates"), err)
        // 100 requests on an H100 meet the SLOs even all at once: no capacity to find.
        (status, _, err) = try smartserve(["sweep", "--schedulers", "vllm", "--find-capacity", "--hardware", "H100"])
        XCTAssertEqual(status, 2)
        XCTAssertTrue(err.contains("too small"), err)
    }
}

extension CLITests {
    func built(_ relative: String) throws -> String {
        let path = CLITests.root.appendingPathComponent(relative).path
        guard FileManager.default.fileExists(atPath: path) else {
            print("skipping: \(path) is not built (make plugins plugin-fixtures)")
            throw XCTSkip("plugin not built")
        }
        return path
    }

    /// A plugin never compiled into smartserve, in the real executable: --plugin on any command,
    /// SMARTSERVE_PLUGINS, a session saved with it and replayed by a fresh process.
    func testPluginsEndToEnd() throws {
        let edf = try built("Plugins/Examples/EDF/.build/release/libEDF.so")
        var (status, out, err) = try smartserve(["--plugin", edf, "run", "--scheduler", "edf", "--json"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("\"scheduler\": \"edf\""), out)
        (status, out, err) = try smartserve(["plugins"], environment: ["SMARTSERVE_PLUGINS": edf])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("scheduler edf"), out)
        (status, out, err) = try smartserve(["compare", "--schedulers", "vllm,edf", "--plugin", edf])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("edf"), out)
        (status, out, err) = try smartserve(["sweep", "--schedulers", "edf", "--rates", "5,10", "--plugin=\(edf)"])
        XCTAssertEqual(status, 0, err)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cli-plugin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let script = dir.appendingPathComponent("s.sls").path
        let name = "plugin-test-\(UUID().uuidString)"
        let session = CLITests.root.appendingPathComponent("sessions/\(name)").path
        defer { try? FileManager.default.removeItem(atPath: session) }
        try "load dataset/sharegpt-like-100.tsv\nscheduler edf\nrun a\nsave \(name)\n".write(toFile: script, atomically: true, encoding: .utf8)
        (status, _, err) = try smartserve(["--plugin", edf, "script", script])
        XCTAssertEqual(status, 0, err)
        (status, out, err) = try smartserve(["replay", session])
        XCTAssertEqual(status, 0, err + out)
        XCTAssertTrue(out.contains("replay: identical"), out)
    }

    func testAPluginThatTrapsIsNamedAndAWrongOneIsRefused() throws {
        let trapper = try built("Tests/Fixtures/BrokenPlugins/.build/release/libTrapper.so")
        var (status, _, err) = try smartserve(["--plugin", trapper, "run", "--scheduler", "trap"])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(err.contains("crashed inside scheduler 'trap' from plugin trapper"), err)
        let wrong = try built("Tests/Fixtures/BrokenPlugins/.build/release/libWrongABI.so")
        (status, _, err) = try smartserve(["--plugin", wrong, "run"])
        XCTAssertEqual(status, 2)
        XCTAssertTrue(err.contains("rebuild the plugin"), err)
        let broken = try built("Tests/Fixtures/BrokenPlugins/.build/release/libBrokenPlan.so")
        var out: String
        (status, out, err) = try smartserve(["plugin", "check", broken])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(out.contains("0 passed, 13 failed"), out)
    }
}

/// Issue 13: inputs that used to trap or exhaust memory now get one clear line and a non-zero
/// exit (1 input error, 2 usage error), never a signal.
extension CLITests {
    func testAbsurdInputsGetAClearErrorNotATrap() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("absurd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func file(_ name: String, _ text: String) throws -> String {
            let p = dir.appendingPathComponent(name).path
            try text.write(toFile: p, atomically: true, encoding: .utf8)
            return p
        }
        let burst = "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n0,ChatGPT,10,10,20,Conversation log\n"
        let cases: [([String], String)] = [
            (["dataset", "info", try file("a.csv", burst + "9.3e9,ChatGPT,10,10,20,Conversation log\n")], "below 292 years, got '9.3e9'"),
            (["dataset", "info", try file("b.csv", burst + "1e308,ChatGPT,10,10,20,Conversation log\n")], "got '1e308'"),
            (["dataset", "info", try file("c.csv", burst + "1,ChatGPT,1.0e30,10,20,Conversation log\n")], "expected a token count in 0...100000000"),
            (["dataset", "info", try file("d.jsonl", "{\"timestamp\": 1e13, \"input_length\": 10, \"output_length\": 5, \"hash_ids\": [1]}\n")],
             "key 'timestamp': expected a time below 292 years"),
            (["dataset", "info", try file("e.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n2263-01-01 00:00:00.0000000,10,10\n")],
             "between the years 1678 and 2262"),
            (["run", "--end", "nan"], "--end must be in (0, 1e9]"),
            (["run", "--end", "inf"], "--end must be in (0, 1e9]"),
            (["run", "--start", "1e10"], "--start must be in 0...1e9"),
            (["run", "--rate-scale", "1e-300"], "--rate-scale must be in 1e-06...1e+06"),
            (["run", "--rate-scale", "-1"], "--rate-scale must be in 1e-06...1e+06"),
            (["run", "--npu_mem", "1e308"], "memory_gb must be in 0.001...1e6"),
            (["run", "--local_bw", "1e-300"], "memory_bandwidth_gbs must be in 0.001...1e6"),
            (["run", "--link_bw", "1e-300"], "link_bandwidth_gbs must be in 0.001...1e6"),
            (["run", "--link_latency", "1e300"], "link_latency_us must be in [0, 1e6]"),
            (["run", "--log_interval", "1e-300"], "--log_interval) must be in 0.001...86400"),
            (["run", "--instances", "9223372036854775807"], "instances 9223372036854775807 in 1...4096"),
            (["run", "--num-gpu-blocks", "999999999999"], "more than the 24 GB of RTX3090"),
            (["dataset", "features", "dataset/sharegpt-like-100.tsv", "--freq", "1e-300s"], "a duration must be in 1ms...1e8s"),
            (["dataset", "features", try file("gap.tsv", "input_toks\toutput_toks\tarrival_time_ns\n10\t10\t0\n10\t10\t999999999000000000\n"), "--freq", "1s"],
             "exceed the limit of 10000000"),
            (["sweep", "--schedulers", "vllm", "--rates", "1e-300"], "--rates expects rates in 1e-06...1e+06"),
            (["dataset", "generate", "--requests", "10", "--arrivals", "poisson:rate=1e-300", "--out", dir.appendingPathComponent("g.tsv").path],
             "rate must be in 1e-06"),
            (["dataset", "generate", "--requests", "10", "--arrivals", "gamma:rate=1,cv=1e308", "--out", dir.appendingPathComponent("g.tsv").path],
             "cv must be in 0.01...100.0"),
            (["dataset", "generate", "--requests", "10", "--prompt-len", "fixed:n=3000000000", "--out", dir.appendingPathComponent("g.tsv").path],
             "must be a whole number of tokens in 1...100000000"),
            (["forecast", "run", "dataset/bursty-500.burstgpt.csv", "--horizon", "1000000000", "--freq", "1s"], "--horizon must be in 1...100000"),
            (["run", "--hardware", "/dev/zero"], "expected a regular JSON file under 16 MB"),
            (["run", "--log_interval", "86400", "--dataset",
              try file("late.tsv", "input_toks\toutput_toks\tarrival_time_ns\n10\t10\t0\n10\t10\t9223372036854775000\n")],
             "the simulated clock would run past 292 years"),
            (["run", "--model_name", "/dev/urandom"], "expected a regular JSON file under 16 MB"),
            (["compare", "--schedulers", "vllm", "--resamples", "999999999"], "--resamples must be in 100...100000"),
            (["run", "--slo-ttft", "nan"], "--slo-ttft must be in 0...1e6"),
        ]
        for (args, expected) in cases {
            let (status, _, err) = try smartserve(args)
            XCTAssertTrue([ExitStatus.runFailure, ExitStatus.usage, ExitStatus.input].contains(status), "\(args): exit \(status)\n\(err)")
            XCTAssertTrue(err.contains(expected), "\(args): \(err)")
            XCTAssertEqual(err.split(separator: "\n").count, 1, "\(args): more than one line\n\(err)")
        }
        // A 2-request trace with a 1e9 s gap: summarised without memory proportional to the gap.
        let (status, out, err) = try smartserve(["dataset", "info", dir.appendingPathComponent("gap.tsv").path])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("span              999999999.0 s"), out)
    }

    /// A crafted transcript that replays or opens its own session: refused as a transcript
    /// command (the nesting bound behind it is the second guard).
    func testASessionThatReplaysItselfStops() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("self-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "{\"runs\": []}".write(to: dir.appendingPathComponent("manifest.json"), atomically: true, encoding: .utf8)
        for command in ["replay", "open"] {
            try "\(command) \(dir.path)\n".write(to: dir.appendingPathComponent("transcript.sls"), atomically: true, encoding: .utf8)
            let (status, out, err) = try smartserve([command == "replay" ? "replay" : "script", command == "replay" ? dir.path : dir.appendingPathComponent("transcript.sls").path])
            XCTAssertNotEqual(status, 0)
            XCTAssertTrue((out + err).contains("`\(command)` is not allowed in a transcript"), out + err)
        }
    }
}

/// The built `smartserve` beside the tests (a failure names where it was looked for).
func smartserveExecutable() -> URL? {
    let bundle = Bundle(for: CLITests.self).bundleURL
    let candidates = [bundle.appendingPathComponent("smartserve"), bundle.deletingLastPathComponent().appendingPathComponent("smartserve"),
                      CLITests.root.appendingPathComponent(".build/debug/smartserve")]
    guard let exe = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        XCTFail("smartserve executable not built (looked in \(candidates.map(\.path)))")
        return nil
    }
    return exe
}

/// Runs the built `smartserve` in the repository root; returns (status, stdout, stderr).
func runSmartserve(_ args: [String], input: String? = nil, environment: [String: String] = [:], directory: URL? = nil) throws -> (Int32, String, String) {
    guard let exe = smartserveExecutable() else { return (-1, "", "") }
    let p = Process()
    p.executableURL = exe
    p.arguments = args
    p.currentDirectoryURL = directory ?? CLITests.root
    if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let out = Pipe(), err = Pipe(), inp = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = inp
    try p.run()
    if let input { inp.fileHandleForWriting.write(Data(input.utf8)) }
    try inp.fileHandleForWriting.close()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}
