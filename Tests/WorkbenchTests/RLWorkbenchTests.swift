import Foundation
import XCTest
@testable import Workbench
import RL
import ServeSim
import Workload

/// Learning schedulers as a user drives them: `rl train`, `rl eval`, the `rl` scheduler in runs,
/// sessions and replay, `env serve`, and the Gymnasium bridge.
final class RLWorkbenchTests: XCTestCase {
    static let root = CLITests.root
    let bursty = RLWorkbenchTests.root.appendingPathComponent("dataset/bursty-500.burstgpt.csv").path

    func temporary(_ name: String) -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rl-\(name)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func train(_ out: String, seed: Int = 0, extra: [String] = []) throws -> String {
        let (status, stdout, stderr) = try runSmartserve(["rl", "train", "--algo", "ppo", "--dataset", bursty, "--end", "45", "--hardware", "A100-80G",
                                                          "--model_name", "meta-llama/Llama-3.1-8B", "--max-num-seqs", "16", "--steps", "1500",
                                                          "--episode-requests", "150", "--interval", "0.5", "--seed", String(seed), "--out", out] + extra)
        XCTAssertEqual(status, 0, stderr)
        return stdout + stderr
    }

    func testTrainEvalAndRunAPolicyFromTheCommandLine() throws {
        let dir = temporary("cli")
        let policy = dir.appendingPathComponent("policy.json").path
        let log = try train(policy, extra: ["--checkpoint-every", "500"])
        XCTAssertTrue(log.contains("wrote \(policy): ppo policy, 1500 steps"), log)
        XCTAssertTrue(log.contains("1500/1500 steps"), log)
        let file = try PolicyFile.load(policy)
        XCTAssertEqual(file.training.datasetSHA256, try SHA256.file(bursty))
        XCTAssertEqual(file.training.end, 45)
        XCTAssertEqual(file.training.hardware, "A100-80G")
        XCTAssertEqual(file.interval, 0.5)

        // Evaluated on the held-back rest of the same trace (the policy names it).
        let (status, out, err) = try runSmartserve(["rl", "eval", policy, "--start", "45", "--hardware", "A100-80G",
                                                    "--model_name", "meta-llama/Llama-3.1-8B", "--max-num-seqs", "16", "--baselines", "vllm,sarathi"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("evaluated on \(bursty)"), out)
        XCTAssertTrue(out.contains("reward ttft=1,tpot=1,goodput=1,frag=0.2,preempt=0.1"), out)
        XCTAssertTrue(out.contains("rl:policy=\(policy)"), out)

        let (s2, json, e2) = try runSmartserve(["run", "--dataset", bursty, "--start", "45", "--hardware", "A100-80G", "--max-num-seqs", "16",
                                                "--model_name", "meta-llama/Llama-3.1-8B", "--scheduler", "rl:policy=\(policy)", "--json"])
        XCTAssertEqual(s2, 0, e2)
        XCTAssertTrue(json.contains("\"scheduler\""), json)
    }

    func testBadInputGetsOneClearLine() throws {
        let dir = temporary("bad")
        let garbage = dir.appendingPathComponent("garbage.json")
        try Data("{\"format\": \"smartserve-policy\", \"version\": 1}".utf8).write(to: garbage)
        let cases: [([String], String)] = [
            (["run", "--scheduler", "rl:policy=/nonexistent/p.json"], "policy file /nonexistent/p.json: cannot read it"),
            (["run", "--scheduler", "rl:policy=\(garbage.path)"], "\(garbage.path): \"action_space\" is missing"),
            (["rl", "train", "--algo", "q-learning", "--steps", "10"], "unknown algorithm 'q-learning'"),
            (["rl", "train", "--reward", "speed=1", "--steps", "10"], "--reward: 'speed=1' is not KEY=WEIGHT"),
            (["rl", "train", "--steps", "-5"], "--steps must be in 1...100000000"),
            (["rl", "train", "--interval", "nan", "--steps", "10"], "--interval must be in 0...86400"),
            (["rl", "train", "--envs", "1000000", "--steps", "10"], "--envs must be in 1...64"),
            (["env", "serve", "--space", "both"], "--space expects discrete or continuous"),
        ]
        for (args, expected) in cases {
            let (status, out, err) = try runSmartserve(args)
            XCTAssertTrue(status == 1 || status == 2, "\(args): status \(status)")
            XCTAssertTrue(err.contains(expected), "\(args): \(err)")
            XCTAssertEqual(err.split(separator: "\n").count, 1, "\(args): \(err)")
            XCTAssertTrue(out.isEmpty, out)
        }
    }

    func testEnvServerProtocol() throws {
        let trace = try TraceLoader.load(TextBuffer(path: bursty), options: LoadOptions()).0
        var sim = try SimulationArguments.parse(["--hardware", "A100-80G", "--model_name", "meta-llama/Llama-3.1-8B"])
        sim.seed = 0
        let env = try EnvironmentArguments.parse(["--episode-requests", "50"]).setup(trace, sim, space: .discrete)
        let server = EnvServer(try ServeEnv(env))
        func reply(_ line: String) throws -> [String: Any] {
            let (text, _) = server.handle(line)
            XCTAssertFalse(text.contains("\n"))
            return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        }
        let spaces = try reply("{\"cmd\": \"spaces\"}")
        XCTAssertEqual(spaces["observation_size"] as? Int, ObservationTracker.size)
        XCTAssertEqual(spaces["actions"] as? Int, 16)
        XCTAssertEqual((spaces["action_meanings"] as? [String])?.first, "fcfs, budget 100%, watermark 0%")
        XCTAssertTrue((try reply("{\"cmd\": \"step\", \"action\": 0}")["error"] as? String)?.contains("reset first") == true)
        let reset = try reply("{\"cmd\": \"reset\", \"seed\": 5}")
        XCTAssertEqual((reset["observation"] as? [Double])?.count, ObservationTracker.size)
        XCTAssertEqual((reset["info"] as? [String: Any])?["requests"] as? Int, 50)
        for bad in ["{\"cmd\": \"step\", \"action\": 16}", "{\"cmd\": \"step\", \"action\": 1.5}", "{\"cmd\": \"step\"}", "nonsense", "{\"cmd\": \"fly\"}",
                    "{\"cmd\": \"reset\", \"seed\": -1}"] {
            XCTAssertNotNil(try reply(bad)["error"], bad)
        }
        var steps = 0, ended = false
        while !ended && steps < 100_000 {
            let s = try reply("{\"cmd\": \"step\", \"action\": \(steps % 16)}")
            XCTAssertNotNil(s["reward"] as? Double)
            ended = (s["terminated"] as? Bool) == true
            steps += 1
        }
        XCTAssertTrue(ended)
        let (closing, close) = server.handle("{\"cmd\": \"close\"}")
        XCTAssertTrue(close)
        XCTAssertEqual(closing, "{\"closed\":true}")
    }

    func testSessionsRecordThePolicyAndReplayChecksIt() throws {
        let dir = temporary("session")
        let policy = dir.appendingPathComponent("policy.json").path
        _ = try train(policy)
        let shell = ShellRunner(session: Session(), interactive: false, showProgress: false, output: { _ in })
        shell.sessionsRoot = dir
        try shell.execute("load \(bursty) --end 45")
        try shell.execute("set hardware A100-80G")
        try shell.execute("set max-num-seqs 16")
        try shell.execute("scheduler rl:policy=\(policy)")
        try shell.execute("run learned")
        try shell.execute("compare --schedulers vllm,rl:policy=\(policy)")
        try shell.execute("save s")
        let saved = dir.appendingPathComponent("s")
        let manifest = try JSON.parse(Data(contentsOf: saved.appendingPathComponent("manifest.json")))
        guard case .array(let files)? = manifest["files"] else { return XCTFail("no files in the manifest") }
        XCTAssertEqual(files.count, 1)
        XCTAssertEqual(files.first?["sha256"]?.stringValue, try SHA256.file(policy))
        XCTAssertTrue(try Replay.run(directory: saved.path).identical)
        // Another policy in its place: reported before replaying, and the runs differ.
        _ = try train(policy, seed: 9)
        let report = try Replay.run(directory: saved.path)
        XCTAssertFalse(report.identical)
        XCTAssertTrue(report.text.contains("file \(policy) changed: sha256 was"), report.text)
    }

    func testShellTrainsAndEvaluatesOnTheLoadedDataset() throws {
        let dir = temporary("shell")
        let policy = dir.appendingPathComponent("p.json").path
        var lines: [String] = []
        let shell = ShellRunner(session: Session(), interactive: false, showProgress: false, output: { lines.append($0) })
        try shell.execute("load \(bursty) --end 45")
        try shell.execute("set hardware A100-80G")
        try shell.execute("rl train --algo a2c --steps 400 --episode-requests 100 --interval 0.5 --quiet --out \(policy)")
        XCTAssertTrue(lines.joined().contains("wrote \(policy): a2c policy"), lines.joined())
        XCTAssertEqual(try PolicyFile.load(policy).training.hardware, "A100-80G")
        try shell.execute("rl eval \(policy) --baselines vllm")
        XCTAssertTrue(lines.joined(separator: "\n").contains("per request"), lines.joined(separator: "\n"))
        XCTAssertThrowsError(try shell.execute("rl fly")) { XCTAssertTrue("\($0)".contains("usage: rl train")) }
        XCTAssertFalse(shell.session.transcript.contains { $0.hasPrefix("rl ") }, "training writes a file: not replayed")
    }

    /// Two weightings trained and scored with vLLM on the held-back part; vLLM's goodput there is
    /// what a plain run of the same part reports.
    func testParetoSweepOverRewardWeights() throws {
        let dir = temporary("pareto")
        let common = ["--dataset", bursty, "--hardware", "A100-80G", "--model_name", "meta-llama/Llama-3.1-8B", "--max-num-seqs", "8"]
        let (status, out, err) = try runSmartserve(["rl", "pareto", "--weights", "ttft=1,goodput=1;latency=1", "--end", "45", "--steps", "300",
                                                    "--episode-requests", "100", "--interval", "0.5", "--baselines", "vllm", "--quiet",
                                                    "--out-dir", dir.path, "--json"] + common)
        XCTAssertEqual(status, 0, err)
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let results = try XCTUnwrap(root["results"] as? [[String: Any]])
        XCTAssertEqual(results.map { $0["weights"] as? String }, ["-", "ttft=1,goodput=1", "latency=1"])
        XCTAssertTrue(results.contains { $0["pareto"] as? Bool == true })
        for k in 1...2 { XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("policy-\(k).json").path)) }
        let (s2, run, e2) = try runSmartserve(["run", "--start", "45", "--json"] + common)
        XCTAssertEqual(s2, 0, e2)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.utf8)) as? [String: Any])
        let requests = try XCTUnwrap(root["requests"] as? Int)
        let attainment = try XCTUnwrap(summary["slo_attainment"] as? Double)
        let vllm = try XCTUnwrap(results[0]["totals"] as? [String: Double])
        XCTAssertEqual(vllm["goodput"] ?? -1, (attainment * Double(requests)).rounded(), accuracy: 1e-9)
    }

    /// Gymnasium's own checker over `smartserve env serve` (installs gymnasium in a virtual
    /// environment under .build; skipped with the reason where that cannot be done).
    func testGymnasiumCheckEnvPasses() throws {
        let venv = RLWorkbenchTests.root.appendingPathComponent(".build/gym-venv")
        let python = venv.appendingPathComponent("bin/python").path
        func sh(_ args: [String], cwd: URL? = nil, env: [String: String] = [:]) throws -> (Int32, String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = args
            if let cwd { p.currentDirectoryURL = cwd }
            p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = pipe
            try p.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        let ready = FileManager.default.fileExists(atPath: python) ? (try sh([python, "-c", "import gymnasium"])).0 == 0 : false
        if !ready {
            let (made, why) = try sh(["python3", "-m", "venv", venv.path])
            guard made == 0 else { print("skipping: cannot make a virtual environment: \(why)"); throw XCTSkip("no venv") }
            let (installed, log) = try sh([python, "-m", "pip", "install", "-q", "gymnasium", "numpy"])
            guard installed == 0 else { print("skipping: pip cannot install gymnasium here: \(log.suffix(300))"); throw XCTSkip("no gymnasium") }
        }
        let exe = RLWorkbenchTests.root.appendingPathComponent(".build/debug/smartserve").path
        let python_dir = RLWorkbenchTests.root.appendingPathComponent("python")
        for space in ["discrete", "continuous"] {
            let (status, out) = try sh([python, "check_env.py", "--dataset", bursty, "--episode-requests", "80", "--max-decisions", "400",
                                        "--hardware", "A100-80G", "--space", space],
                                       cwd: python_dir, env: ["SMARTSERVE": exe, "PYTHONPATH": python_dir.path])
            XCTAssertEqual(status, 0, out)
            XCTAssertTrue(out.contains("check_env passed"), out)
        }
    }
}
