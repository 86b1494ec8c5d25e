import Foundation
import XCTest

/// The orchestrator and autoscaling as a user runs them: one-shot CLI, JSON, time series.
final class OrchestrationCLITests: XCTestCase {
    func testSmartWithAutoscalingReportsModesFleetAndTimeSeries() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("orch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let series = dir.appendingPathComponent("ts.csv").path
        let (code, out, err) = try runSmartserve(["run", "--dataset", "dataset/bursty-500.burstgpt.csv", "--scheduler", "smart:predictor=oracle",
                                                  "--autoscale", "reactive:max=3,interval=5s,cold_start=2s", "--router", "least-outstanding",
                                                  "--timeseries", series, "--json"])
        XCTAssertEqual(code, 0, err)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let scaling = try XCTUnwrap(json["autoscaling"] as? [String: Any])
        XCTAssertEqual(scaling["autoscaler"] as? String, "reactive")
        let gpu = try XCTUnwrap(json["gpu_seconds"] as? Double)
        let makespan = try XCTUnwrap(json["makespan_s"] as? Double)
        // Between one instance all along and three all along.
        XCTAssertGreaterThan(gpu, makespan)
        XCTAssertLessThan(gpu, 3 * makespan)
        XCTAssertNotNil((json["modes"] as? [String: Any])?["fallback"])
        let csv = try String(contentsOfFile: series, encoding: .utf8).split(separator: "\n")
        let header = csv[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        for column in ["instances", "budget", "forecast_rps", "predictor_tau", "events"] {
            XCTAssertTrue(header.contains { $0 == column || $0.hasSuffix("." + column) }, "no \(column) in \(header)")
        }
        XCTAssertTrue(header.contains { $0.hasSuffix("mode") })
        XCTAssertTrue(csv.dropFirst().contains { $0.contains("predictor trusted") }, "the switch is logged in the time series")
    }

    func testBadAutoscaleSpecsNameTheOption() throws {
        for (spec, words) in [("forecast:cold_start=abc", "cold_start"), ("forecast:max=0", "max"), ("elastic", "autoscaler"),
                              ("reactive:target_util=nan", "target_util")] {
            let (code, _, err) = try runSmartserve(["run", "--autoscale", spec])
            XCTAssertNotEqual(code, 0, spec)
            XCTAssertTrue(err.contains(words), "\(spec): \(err)")
            XCTAssertEqual(err.split(separator: "\n").filter { !$0.hasPrefix("warning") }.count, 1, err)
        }
    }

    func testSmartFallbackMustBeContinuousBatching() throws {
        let (code, _, err) = try runSmartserve(["run", "--scheduler", "smart:fallback=smart"])
        XCTAssertNotEqual(code, 0)
        XCTAssertTrue(err.contains("fallback"), err)
    }

    /// `policy_file` reaches the policy scheduler's file option (the `rl` policy file).
    func testSmartHandsThePolicyFileToThePolicy() throws {
        var (code, _, err) = try runSmartserve(["run", "--scheduler", "smart:policy=rl,policy_file=/nonexistent/p.json"])
        XCTAssertNotEqual(code, 0)
        XCTAssertTrue(err.contains("/nonexistent/p.json"), err)
        (code, _, err) = try runSmartserve(["run", "--scheduler", "smart:policy=vllm,policy_file=x.json"])
        XCTAssertNotEqual(code, 0)
        XCTAssertTrue(err.contains("reads no file"), err)
    }
}
