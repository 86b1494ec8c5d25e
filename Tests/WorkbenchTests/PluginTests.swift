import Foundation
import XCTest
@testable import Workbench
import PluginHost
import ServeAPI
import ServeSim
import Workload

/// Plugins built outside smartserve (`make plugins`, `make plugin-fixtures`), loaded at run time.
final class PluginTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A built plugin library, or a skip naming the make target that builds it.
    func library(_ folder: String, _ product: String) throws -> String {
        let path = PluginTests.root.appendingPathComponent("\(folder)/.build/release/lib\(product).so").path
        guard FileManager.default.fileExists(atPath: path) else {
            print("skipping: \(path) is not built (make plugins plugin-fixtures)")
            throw XCTSkip("plugin not built")
        }
        return path
    }

    func example(_ name: String) throws -> String { try library("Plugins/Examples/\(name)", name) }
    func broken(_ name: String) throws -> String { try library("Tests/Fixtures/BrokenPlugins", name) }

    func testExamplesRegisterAndListWhatTheyAdd() throws {
        for name in ["EDF", "LinearPredictor", "LeastWaitingRouter", "DriftForecaster"] { try PluginSetup.load(try example(name)) }
        XCTAssertTrue(Components.schedulers.names.contains("edf"))
        XCTAssertTrue(Components.lengthPredictors.names.contains("linear"))
        XCTAssertTrue(Components.routers.names.contains("least-waiting"))
        XCTAssertTrue(Components.forecasters.names.contains("drift"))
        XCTAssertEqual(Components.schedulers.origin(of: "edf"), URL(fileURLWithPath: try example("EDF")).resolvingSymlinksInPath().path)
        XCTAssertEqual(Components.schedulers.origin(of: "vllm"), "built-in")
        let listing = PluginSetup.listing()
        for line in ["scheduler edf", "predictor linear", "router least-waiting", "forecaster drift", "1.0.0"] {
            XCTAssertTrue(listing.contains(line), listing)
        }
        // Loading the same library again is the same plugin.
        let again = try PluginSetup.load(try example("EDF"))
        XCTAssertEqual(PluginHost.loaded.filter { $0.path == again.path }.count, 1)
    }

    func testEDFAdmitsTheEarliestDeadlineFirst() throws {
        try PluginSetup.load(try example("EDF"))
        // Both arrive at 0, the long prompt first. Deadlines (SLO 2 s, 10,000 tokens/s of prefill):
        // request 0: 2 + 8000/10000 = 2.8 s, request 1: 2 + 100/10000 = 2.01 s. One seat: EDF runs
        // request 1 first, FCFS request 0.
        var trace = Trace()
        trace.arrivals = [0, 0]
        trace.promptTokens = [8000, 100]
        trace.outputTokens = [5, 5]
        var edf = try SimulationArguments.parse(["--hardware", "H100", "--model_name", "meta-llama/Llama-3.1-8B", "--max-num-seqs", "1", "--scheduler", "edf"])
        var r = try simulate(trace, edf).requests
        XCTAssertLessThan(r.firstScheduled[1], r.firstScheduled[0])
        edf.scheduler = "vllm"
        r = try simulate(trace, edf).requests
        XCTAssertLessThan(r.firstScheduled[0], r.firstScheduled[1])
    }

    func testPluginComponentsInRunsAndComparisons() throws {
        for name in ["EDF", "LinearPredictor", "LeastWaitingRouter"] { try PluginSetup.load(try example(name)) }
        let trace = try SyntheticWorkload(count: 200, arrivals: .poisson(rate: 30), prompt: .logNormal(median: 300, sigma: 1, min: 1, max: 3000),
                                          output: .logNormal(median: 100, sigma: 1, min: 1, max: 1000), seed: 4).generate()
        let sim = try SimulationArguments.parse(["--hardware", "A100-80G", "--model_name", "meta-llama/Llama-3.1-8B", "--instances", "2",
                                                 "--router", "least-waiting", "--predictor", "linear"])
        let e = try Evaluation.run(trace: trace, sim: sim, resamples: 50, schedulers: ["vllm", "edf", "sjf"])
        XCTAssertEqual(e.entries.map(\.label), ["vllm", "edf", "sjf"])
        XCTAssertEqual(e.entries[2].predictor, "linear")            // sjf reads predictions: the plugin's
        XCTAssertNil(e.entries[1].predictor)                        // edf declares no predictor
        XCTAssertEqual(e.entries[0].result.routerName, "least-waiting")
        for entry in e.entries { XCTAssertEqual(entry.summary.requests, 200) }
        // The linear predictor fits on the first 20%: its predictions are a + b × prompt.
        let p = try Components.lengthPredictors.entry(named: "linear").instantiate()
        let predicted = p.predict(prompts: [100, 200, 300], outputs: [10, 20, 30], seed: 0)
        XCTAssertEqual(predicted, [10, 20, 30])                     // exact on a line
    }

    func testSessionsRecordPluginsAndReplayChecksThem() throws {
        let path = try example("EDF")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plugin-session-\(UUID().uuidString)")
        let shell = ShellRunner(session: Session(), interactive: false, showProgress: false, output: { _ in })
        shell.sessionsRoot = dir
        try shell.execute("plugin load \(path)")
        try shell.execute("load \(PluginTests.root.appendingPathComponent("dataset/sharegpt-like-100.tsv").path)")
        try shell.execute("scheduler edf")
        try shell.execute("run deadline")
        try shell.execute("plugin check \(path)")
        try shell.execute("save s")
        let saved = dir.appendingPathComponent("s")
        let transcript = try String(contentsOf: saved.appendingPathComponent("transcript.sls"), encoding: .utf8)
        XCTAssertTrue(transcript.contains("plugin load"), transcript)
        XCTAssertFalse(transcript.contains("plugin check"), transcript)
        let manifestURL = saved.appendingPathComponent("manifest.json")
        let manifest = try JSON.parse(Data(contentsOf: manifestURL))
        guard case .array(let plugins)? = manifest["plugins"] else { return XCTFail("no plugins in the manifest") }
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let entry = plugins.first { $0["path"]?.stringValue == real }
        XCTAssertEqual(entry?["sha256"]?.stringValue, try SHA256.file(real))
        XCTAssertTrue(try Replay.run(directory: saved.path).identical)
        // A changed or missing plugin is reported before replaying.
        var text = try String(contentsOf: manifestURL, encoding: .utf8)
        text = text.replacingOccurrences(of: try SHA256.file(real), with: String(repeating: "0", count: 64))
        try text.write(to: manifestURL, atomically: true, encoding: .utf8)
        var report = try Replay.run(directory: saved.path)
        XCTAssertFalse(report.identical)
        XCTAssertTrue(report.text.contains("plugin \(real) changed: sha256 was 0000"), report.text)
        try text.replacingOccurrences(of: real, with: "/nowhere/libEDF.so").write(to: manifestURL, atomically: true, encoding: .utf8)
        report = try Replay.run(directory: saved.path)
        XCTAssertTrue(report.text.contains("plugin /nowhere/libEDF.so is missing"), report.text)
    }

    func testBrokenPluginsAreRefusedWithTheReason() throws {
        // Found first: a fixture not built skips the test rather than counting as the refusal.
        let (wrongABI, clash, notAPlugin) = (try broken("WrongABI"), try broken("Clash"), try broken("NotAPlugin"))
        XCTAssertThrowsError(try PluginSetup.load(wrongABI)) {
            XCTAssertTrue("\($0)".contains("was built against ServeAPI ABI \(ServeAPIABI.version + 100), this smartserve has ABI \(ServeAPIABI.version)"), "\($0)")
        }
        XCTAssertThrowsError(try PluginSetup.load(clash)) {
            XCTAssertTrue("\($0)".contains("scheduler 'vllm' is already registered by built-in"), "\($0)")
        }
        // All or nothing: the clashing plugin's other scheduler was not registered either.
        XCTAssertFalse(Components.schedulers.names.contains("vllm-clone"))
        XCTAssertThrowsError(try PluginSetup.load(notAPlugin)) {
            XCTAssertTrue("\($0)".contains("no smartserve_plugin_entry symbol"), "\($0)")
        }
        XCTAssertThrowsError(try PluginSetup.load("/no/such/libX.so")) { XCTAssertTrue("\($0)".contains("cannot read it"), "\($0)") }
    }

    func testConformanceKitPassesTheExamplesAndNamesTheFaults() throws {
        for name in ["EDF", "LinearPredictor", "LeastWaitingRouter", "DriftForecaster"] {
            let report = try PluginCheck.run(try example(name))
            XCTAssertTrue(report.passed, report.text)
        }
        let report = try PluginCheck.run(try broken("BrokenPlan"))
        XCTAssertFalse(report.passed)
        XCTAssertEqual(report.failures, report.cases.count)
        let faults = report.cases.compactMap(\.fault)
        XCTAssertTrue(faults.contains { $0.contains("scheduler 'overbudget' produced an invalid plan") && $0.contains("exceed the budget of 2048") }, report.text)
        XCTAssertTrue(faults.contains { $0.contains("scheduler 'stuck' made no progress") }, report.text)
        XCTAssertTrue(faults.contains { $0.contains("router 'out-of-range' chose instance 3 of 3") }, report.text)
    }
}
