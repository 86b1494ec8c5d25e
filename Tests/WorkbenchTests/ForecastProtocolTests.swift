import Foundation
import XCTest
@testable import Workbench
import Forecasting
import Workload

/// `forecast eval --protocol refit` as a user runs it: the numbers worked out by hand on a line,
/// the errors for bad options, and on the shared Azure traces the baselines' scores that
/// statsforecast 2.1.1 measured under the same protocol (pandas-floored windows), plus the
/// models that beat its best.
final class ForecastProtocolTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("protocol-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func evalJSON(_ args: [String]) throws -> [String: Any] {
        let (status, out, err) = try runSmartserve(["forecast", "eval"] + args + ["--json"])
        XCTAssertEqual(status, 0, err)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], out)
    }

    func model(_ json: [String: Any], _ name: String) throws -> [String: Any] {
        try XCTUnwrap((json["models"] as? [String: Any])?[name] as? [String: Any], "\(json)")
    }

    /// y = 2t over 200 rows: the naive's errors at h = 1…6 are 2h (MAE 7) against an in-sample
    /// naive MAE of 2, so MASE is 3.5 at every one of the 20 origins.
    func testRefitProtocolOnALine() throws {
        let path = dir.appendingPathComponent("line.csv").path
        try ("timestamp,value\n" + (0..<200).map { "\($0),\(2 * $0)" }.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let json = try evalJSON([path, "--protocol", "refit", "--models", "naive", "--season", "1"])
        let naive = try model(json, "naive")
        XCTAssertEqual(naive["mase"] as? Double ?? 0, 3.5, accuracy: 1e-12)
        XCTAssertEqual(naive["fits"] as? Int, 20)
        XCTAssertEqual((naive["by_horizon"] as? [Any])?.count, 6)
        XCTAssertEqual(json["windows"] as? Int, 20)
        XCTAssertEqual(json["initial"] as? Int, 80)
        XCTAssertEqual(json["refit"] as? String, "origin")
        XCTAssertEqual(json["mase_scale"] as? String, "per-origin")
        // The text says what was done.
        let (_, text, _) = try runSmartserve(["forecast", "eval", path, "--protocol", "refit", "--models", "naive,theta", "--season", "1"])
        XCTAssertTrue(text.contains("refitted at every origin") && text.contains("MASE per origin") && text.contains("pinball"), text)
        // Online, refitted every 30 observations: origins every 6 from 100 → refits at 130, 160 (only 95 windows fit).
        let every = try evalJSON([path, "--models", "naive", "--season", "1", "--step", "6", "--refit", "30"])
        XCTAssertEqual(try model(every, "naive")["fits"] as? Int, 1 + (94 / 6 * 6) / 30)
    }

    func testBadOptionsAreNamed() throws {
        let path = dir.appendingPathComponent("s.csv").path
        try ("timestamp,value\n" + (0..<200).map { "\($0),\($0 % 7).5" }.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        for (args, message) in [(["--protocol", "bogus"], "--protocol expects online or refit"), (["--refit", "0"], "--refit expects"),
                                (["--season", "x"], "--season expects auto or a number"), (["--align", "noon"], "--align expects first or clock"),
                                (["--transform", "sqrt"], "--transform expects none, log1p or anscombe"),
                                (["--point", "median"], "needs a series of counts"), (["--point", "mode"], "--point expects mean or median"),
                                (["--intervals", "wide"], "--intervals expects conformal, adaptive or count"),
                                (["--refit", "drift:1"], "--refit expects never, origin, a number of observations ≥ 1 or drift"),
                                (["--protocol", "refit", "--initial", "50"], "--initial does not apply")] {
            let (status, _, err) = try runSmartserve(["forecast", "eval", path, "--models", "naive"] + args)
            XCTAssertNotEqual(status, 0, "\(args)")
            XCTAssertTrue(err.contains(message), "\(args): \(err)")
        }
    }

    func testAzureUnderTheStatsforecastProtocol() throws {
        let root = CLITests.root.deletingLastPathComponent().appendingPathComponent("shared/data/azure2023")
        let code = root.appendingPathComponent("AzureLLMInferenceTrace_code.csv").path, conv = root.appendingPathComponent("AzureLLMInferenceTrace_conv.csv").path
        guard FileManager.default.fileExists(atPath: code) && FileManager.default.fileExists(atPath: conv) else {
            print("skipping: \(root.path) is absent")
            throw XCTSkip("shared data absent")
        }
        // statsforecast 2.1.1, cross_validation(h=6, n_windows=20, step_size=6, refit=True) on the
        // series of pandas' dt.floor("10s") counts, MASE per cutoff by its seasonal naive (season 6):
        // Naive 0.6618 / 0.8565, SeasonalNaive 0.6009 / 0.8827 (code / conv). Baselines have no
        // parameters, so the protocol and the binning alone decide them.
        let protocolArgs = ["--freq", "10s", "--protocol", "refit", "--season", "6", "--align", "clock"]
        let c = try evalJSON([code, "--models", "naive,seasonal-naive,qar"] + protocolArgs)
        XCTAssertEqual(try model(c, "naive")["mase"] as? Double ?? 0, 0.6618, accuracy: 0.0005)
        XCTAssertEqual(try model(c, "seasonal-naive")["mase"] as? Double ?? 0, 0.6009, accuracy: 0.0005)
        let v = try evalJSON([conv, "--models", "naive,seasonal-naive"] + protocolArgs)
        XCTAssertEqual(try model(v, "naive")["mase"] as? Double ?? 0, 0.8565, accuracy: 0.0005)
        XCTAssertEqual(try model(v, "seasonal-naive")["mase"] as? Double ?? 0, 0.8827, accuracy: 0.0005)
        // Its best on code at 10 s was WindowAverage, 0.536: the median autoregression beats it by over 5%.
        let qar = try model(c, "qar")
        XCTAssertLessThan(qar["mase"] as? Double ?? 1, 0.536 * 0.95)
        // Conv at 1 s (its best: 0.594): TSB with count-median points beats it by 5%, 95% intervals covering 93–97%.
        let t = try model(try evalJSON([conv, "--models", "tsb", "--freq", "1s", "--protocol", "refit", "--season", "10", "--align", "clock",
                                        "--point", "median"]), "tsb")
        XCTAssertLessThan(t["mase"] as? Double ?? 1, 0.594 * 0.95)
        XCTAssertEqual(t["coverage95"] as? Double ?? 0, 0.95, accuracy: 0.02)
    }
}

/// Panels (`--files`, `--global`) and several window widths at once, in the same temporary folder.
extension ForecastProtocolTests {
    func writeSeries(_ name: String, _ values: [Double]) throws {
        try ("timestamp,value\n" + values.enumerated().map { "\($0.offset),\($0.element)" }.joined(separator: "\n") + "\n")
            .write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    /// Three copies of one series: the pooled rows are the single series' rows three times over, so
    /// the global median regression is the local one and every score matches.
    func testGlobalModelOnIdenticalSeriesIsTheLocalOne() throws {
        var rng = SeededRandom(seed: 8)
        var level = 3.0
        let y = (0..<300).map { i -> Double in
            if i % 40 == 0 { level = Double(rng.integer(0, 12)) }
            return level + Double(rng.integer(0, 2))
        }
        for k in 0..<3 { try writeSeries("c\(k).csv", y) }
        let (status, out, err) = try runSmartserve(["forecast", "eval", "--files", dir.path + "/*.csv", "--global", "--models", "qar,naive",
                                                    "--season", "1", "--json"])
        XCTAssertEqual(status, 0, err)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let models = try XCTUnwrap(json["models"] as? [String: [String: Any]])
        XCTAssertEqual(json["series"] as? [String], ["c0.csv", "c1.csv", "c2.csv"])
        XCTAssertEqual(models["qar (global)"]?["mase"] as? Double ?? 0, models["qar"]?["mase"] as? Double ?? 1, accuracy: 1e-6)
        XCTAssertNil(models["naive (global)"])
        // The same holds when the models fit the transformed series and forecast count medians.
        let (countStatus, countOut, countErr) = try runSmartserve(["forecast", "eval", "--files", dir.path + "/*.csv", "--global", "--models", "qar",
                                                                   "--season", "1", "--transform", "anscombe", "--point", "median",
                                                                   "--intervals", "adaptive", "--json"])
        XCTAssertEqual(countStatus, 0, countErr)
        let counted = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(countOut.utf8)) as? [String: Any])?["models"] as? [String: [String: Any]])
        // (Point forecasts only: the local model calibrates its bands with parameters from 3/4 of the window.)
        XCTAssertEqual(counted["qar (global)"]?["mase"] as? Double ?? 0, counted["qar"]?["mase"] as? Double ?? 1, accuracy: 1e-6)
        XCTAssertNotEqual(counted["qar"]?["mase"] as? Double, models["qar"]?["mase"] as? Double, "the transform and median point change the scores")
        let (_, text, _) = try runSmartserve(["forecast", "eval", "--files", dir.path + "/*.csv", "--global", "--models", "qar,naive", "--season", "1"])
        XCTAssertTrue(text.contains("local only (no global form): naive") && text.contains("3 series"), text)
        // Bad uses are named.
        for (args, message) in [(["--files", dir.path + "/none-*.csv"], "no file matches"), (["--global", dir.appendingPathComponent("c0.csv").path], "--global needs --files"),
                                (["--files", dir.path + "/c0.csv"], "at least 2 series"), ([String](), "needs FILE")] {
            let (s, _, e) = try runSmartserve(["forecast", "eval", "--models", "naive"] + args)
            XCTAssertNotEqual(s, 0, "\(args)")
            XCTAssertTrue(e.contains(message), "\(args): \(e)")
        }
    }

    /// One minute of arrivals at 10/s evaluated at 1 s and 10 s with a 10 s horizon: 10 steps, then 1.
    func testSeveralWindowWidths() throws {
        let path = dir.appendingPathComponent("trace.tsv").path
        var rows = "input_toks\toutput_toks\tarrival_time_ns\n"
        for i in 0..<1200 { rows += "10\t10\t\(Int64(i) * 100_000_000 + Int64((i * 37) % 90) * 1_000_000)\n" }
        try rows.write(toFile: path, atomically: true, encoding: .utf8)
        let (status, out, err) = try runSmartserve(["forecast", "eval", path, "--freq", "1s,10s", "--horizon", "10s", "--models", "naive", "--season", "1", "--json"])
        XCTAssertEqual(status, 0, err)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let f = try XCTUnwrap(json["frequencies"] as? [String: [String: Any]])
        XCTAssertEqual(f["1s"]?["horizon"] as? Int, 10)
        XCTAssertEqual(f["10s"]?["horizon"] as? Int, 1)
        let (_, text, _) = try runSmartserve(["forecast", "eval", path, "--freq", "1s,10s", "--horizon", "10s", "--models", "naive", "--season", "1"])
        XCTAssertTrue(text.contains("== windows of 10s") && text.contains("by window width:"), text)
    }

    /// The shell's `forecast --eval` takes every option of `smartserve forecast eval`: on the
    /// loaded dataset it prints what the CLI prints for that file, and a bad option is reported
    /// with its line.
    func testShellEvalTakesTheCLIOptions() throws {
        let file = "dataset/bursty-500.burstgpt.csv"
        let options = ["--freq", "1s", "--models", "naive,holt,ses", "--protocol", "refit", "--windows", "4", "--horizon", "2",
                       "--season", "1", "--align", "clock", "--refit", "drift:5:1.5", "--json"]
        let (status, cli, err) = try runSmartserve(["forecast", "eval", file] + options)
        guard status != -1 else { throw XCTSkip("smartserve binary not built") }
        XCTAssertEqual(status, 0, err)
        let script = "load \(file)\nforecast --eval \(options.joined(separator: " "))\nforecast --eval --file \(file) --refit sometimes\n"
        let (shellStatus, shellOut, shellErr) = try runSmartserve([], input: script)
        // Everything but the wall time each model took.
        func scores(_ text: String) throws -> NSDictionary {
            let json = try XCTUnwrap(text.firstIndex(of: "{").map { String(text[$0...]) })
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            var models = try XCTUnwrap(object["models"] as? [String: [String: Any]])
            for name in models.keys { models[name]?["seconds"] = nil }
            var rest = object
            rest["models"] = models
            return rest as NSDictionary
        }
        let fromCLI = try scores(cli)
        XCTAssertEqual(try scores(shellOut), fromCLI, shellOut + shellErr)
        XCTAssertEqual((fromCLI["models"] as? [String: Any])?.count, 3)
        XCTAssertTrue(cli.contains("\"refit\": \"drift:5:1.5\""), cli)
        XCTAssertTrue(shellErr.contains("<stdin>:3:") && shellErr.contains("--refit expects never, origin"), shellErr)
        XCTAssertNotEqual(shellStatus, 0)
    }
}
