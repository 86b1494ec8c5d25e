import XCTest
import Foundation
import Yams
@testable import Workbench
import Workload

/// All cores and many machines: `--jobs`, `sweep --shard` + `merge`, and the emitted cluster jobs
/// run as a cluster would run them. Every result is compared with the plain single-core run.
final class ScaleOutTests: XCTestCase {
    let base = ["--hardware", "A100-80G", "--max-num-seqs", "16"]
    let grid = ["--schedulers", "vllm,sarathi,sjf", "--rates", "4,8"]

    func folder(_ name: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func ok(_ args: [String], directory: URL? = nil, environment: [String: String] = [:]) throws -> (String, String) {
        let (status, out, err) = try runSmartserve(args, environment: environment, directory: directory)
        XCTAssertEqual(status, 0, "\(args): \(err)")
        return (out, err)
    }

    func testJobsNeverChangeResults() throws {
        for command in [["compare", "--schedulers", "vllm,sarathi,sjf,mlfq", "--json"] + base,
                        ["sweep"] + grid + base + ["--json"],
                        ["sweep", "--schedulers", "vllm,sarathi", "--find-capacity", "--json"] + base] {
            let one = try ok(command + ["--jobs", "1"]).0
            let many = try ok(command + ["--jobs", "3"]).0
            XCTAssertFalse(one.isEmpty)
            XCTAssertEqual(one, many, command.joined(separator: " "))
        }
        let (status, _, err) = try runSmartserve(["sweep"] + grid + ["--jobs", "0"])
        XCTAssertEqual(status, ExitStatus.usage)
        XCTAssertTrue(err.contains("--jobs expects 1...256"), err)
    }

    /// Three shards of a six-cell grid (cells 0 and 3, 1 and 4, 2 and 5), merged: the plain
    /// sweep's table and JSON, byte for byte; a missing or foreign shard is refused by name.
    func testShardsMergeIntoThePlainSweep() throws {
        let dir = try folder("shards")
        let plainText = try ok(["sweep"] + grid + base).0
        let plainJSON = try ok(["sweep"] + grid + base + ["--json"]).0
        for i in 0..<3 {
            let (out, _) = try ok(["sweep"] + grid + base + ["--shard", "\(i)/3", "--out", dir.path])
            XCTAssertTrue(out.contains("shard \(i)/3: 2 of 6 cells"), out)
        }
        XCTAssertEqual(try ok(["merge", dir.path]).0, plainText)
        XCTAssertEqual(try ok(["merge", dir.path, "--json"]).0, plainJSON)
        // The table has every cell, in grid order.
        let rows = plainText.split(separator: "\n").filter { $0.hasPrefix("vllm ") || $0.hasPrefix("sarathi ") || $0.hasPrefix("sjf ") }
        XCTAssertEqual(rows.map { String($0.split(separator: " ")[0]) }, ["vllm", "vllm", "sarathi", "sarathi", "sjf", "sjf"])

        let partial = try folder("partial")
        try FileManager.default.copyItem(at: dir.appendingPathComponent("sweep-shard-0-of-3.json"), to: partial.appendingPathComponent("sweep-shard-0-of-3.json"))
        var (status, _, err) = try runSmartserve(["merge", partial.path])
        XCTAssertEqual(status, ExitStatus.usage)
        XCTAssertTrue(err.contains("2 of 3 shards missing (1, 2)"), err)
        let other = try folder("other")
        _ = try ok(["sweep"] + grid + ["--hardware", "H100", "--shard", "1/3", "--out", other.path])
        (status, _, err) = try runSmartserve(["merge", partial.path, other.appendingPathComponent("sweep-shard-1-of-3.json").path])
        XCTAssertEqual(status, ExitStatus.usage)
        XCTAssertTrue(err.contains("belongs to another sweep"), err)
        (status, _, err) = try runSmartserve(["sweep"] + grid + ["--shard", "3/3", "--out", other.path])
        XCTAssertEqual(status, ExitStatus.usage)
        XCTAssertTrue(err.contains("--shard expects i/N with 0 ≤ i < N"), err)

        // Capacity searches shard by scheduler.
        let capacity = try folder("capacity")
        let search = ["sweep", "--schedulers", "vllm,sarathi,sjf", "--find-capacity"] + base
        for i in 0..<2 { _ = try ok(search + ["--shard", "\(i)/2", "--out", capacity.path]) }
        XCTAssertEqual(try ok(["merge", capacity.path]).0, try ok(search).0)
    }

    /// The emitted Slurm scripts, run as Slurm runs them (each array task with its index, then the
    /// merge), give the plain sweep; `make test-slurm` runs them through a real Slurm.
    func testEmittedSlurmScriptsRunTheSweep() throws {
        let dir = try folder("slurm")
        let (out, _) = try ok(["sweep"] + grid + base + ["--emit", "slurm", dir.path, "--shards", "4"])
        XCTAssertTrue(out.contains("4 shards of 6 cells"), out)
        let array = try String(contentsOf: dir.appendingPathComponent("sweep.sbatch"), encoding: .utf8)
        XCTAssertTrue(array.contains("#SBATCH --array=0-3\n"), array)
        XCTAssertTrue(array.contains("--shard \"${SLURM_ARRAY_TASK_ID}/4\""), array)
        XCTAssertFalse(array.contains("--emit"), array)
        let submit = try String(contentsOf: dir.appendingPathComponent("submit.sh"), encoding: .utf8)
        XCTAssertTrue(submit.contains("--dependency=afterok:"), submit)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("shards"), withIntermediateDirectories: true)
        for i in 0..<4 { try bash(dir.appendingPathComponent("sweep.sbatch").path, ["SLURM_ARRAY_TASK_ID": "\(i)"]) }
        try bash(dir.appendingPathComponent("merge.sbatch").path, [:])
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("sweep.txt"), encoding: .utf8), try ok(["sweep"] + grid + base).0)
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("sweep.json"), encoding: .utf8), try ok(["sweep"] + grid + base + ["--json"]).0)
    }

    /// The Kubernetes manifests are valid YAML of an Indexed Job with one completion per shard;
    /// their commands, run with each completion index in a pod-like working folder, give the plain sweep.
    func testEmittedKubernetesJobsRunTheSweep() throws {
        let work = try folder("k8s-work")
        try FileManager.default.copyItem(at: CLITests.root.appendingPathComponent("dataset"), to: work.appendingPathComponent("dataset"))
        let args = grid + base + ["--dataset", "dataset/sharegpt-like-100.tsv"]
        _ = try ok(["sweep"] + args + ["--emit", "k8s", "jobs", "--shards", "3"], directory: work)
        let job = try XCTUnwrap(try Yams.load(yaml: String(contentsOf: work.appendingPathComponent("jobs/sweep-job.yaml"), encoding: .utf8)) as? [String: Any])
        XCTAssertEqual(job["kind"] as? String, "Job")
        let spec = try XCTUnwrap(job["spec"] as? [String: Any])
        XCTAssertEqual(spec["completionMode"] as? String, "Indexed")
        XCTAssertEqual(spec["completions"] as? Int, 3)
        func command(_ doc: [String: Any]) throws -> String {
            let pod = try XCTUnwrap(((doc["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
            let container = try XCTUnwrap((pod["containers"] as? [[String: Any]])?.first)
            XCTAssertEqual(container["workingDir"] as? String, "/work")
            let argv = try XCTUnwrap(container["command"] as? [String])
            XCTAssertEqual(Array(argv.prefix(2)), ["sh", "-c"])
            return argv[2]
        }
        let shardCommand = try command(job)
        let merge = try XCTUnwrap(try Yams.load(yaml: String(contentsOf: work.appendingPathComponent("jobs/merge-job.yaml"), encoding: .utf8)) as? [String: Any])
        let mergeCommand = try command(merge)
        let path = try XCTUnwrap(smartserveExecutable()).deletingLastPathComponent().path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        for i in 0..<3 { try sh(shardCommand, ["JOB_COMPLETION_INDEX": "\(i)", "PATH": path], in: work) }
        try sh(mergeCommand, ["PATH": path], in: work)
        XCTAssertEqual(try String(contentsOf: work.appendingPathComponent("jobs/sweep.txt"), encoding: .utf8),
                       try ok(["sweep"] + args, directory: work).0)
    }

    func bash(_ script: String, _ env: [String: String]) throws {
        try shell("/bin/bash", [script], env, in: nil)
    }

    func sh(_ command: String, _ env: [String: String], in dir: URL) throws {
        try shell("/bin/sh", ["-c", command], env, in: dir)
    }

    func shell(_ program: String, _ args: [String], _ env: [String: String], in dir: URL?) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = args
        if let dir { p.currentDirectoryURL = dir }
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let err = Pipe()
        p.standardError = err
        try p.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "\(args.joined(separator: " ")): \(message)")
    }
}

