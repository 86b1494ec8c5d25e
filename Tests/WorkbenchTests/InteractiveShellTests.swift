import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest
import Workload

/// The real interactive shell under tmux, as a person uses it: Tab completion, history recall,
/// Ctrl-C during a run, Ctrl-D to save and leave.
final class InteractiveShellTests: XCTestCase {
    var socket = ""
    var home: URL!

    /// Runs tmux through the C library's `system` (synchronous, and no pipes for the tmux server
    /// that `new-session` starts to inherit); output comes back through a file.
    func tmux(_ args: [String]) throws -> String {
        let outFile = home.appendingPathComponent(".tmux-out")
        let quoted = (["tmux", "-L", socket] + args).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let status = system(quoted.joined(separator: " ") + " > '\(outFile.path)' 2>/dev/null < /dev/null")
        guard status == 0 || args.first == "kill-server" else { throw XCTSkip("tmux \(args.first ?? "") failed with status \(status)") }
        return (try? String(contentsOf: outFile, encoding: .utf8)) ?? ""
    }

    func screen() throws -> String { try tmux(["capture-pane", "-p", "-S", "-200", "-t", "shell"]) }

    /// Waits until the pane shows `text` (at least `count` times).
    func waitFor(_ text: String, count: Int = 1, timeout: Double = 30, file: StaticString = #filePath, line: UInt = #line) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try screen().components(separatedBy: text).count - 1 >= count { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTFail("timed out waiting for '\(text)'; screen:\n\(try screen())", file: file, line: line)
        throw XCTSkip("stopping after a timeout")
    }

    func keys(_ k: String...) throws { _ = try tmux(["send-keys", "-t", "shell"] + k) }

    func testInteractiveShellUnderTmux() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else {
            print("skipping: tmux is not installed (make setup installs it)")
            throw XCTSkip("tmux absent")
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let exe = root.appendingPathComponent(".build/debug/smartserve")
        guard FileManager.default.isExecutableFile(atPath: exe.path) else { return XCTFail("smartserve not built at \(exe.path)") }
        home = FileManager.default.temporaryDirectory.appendingPathComponent("tmux-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        socket = "smartserve-test-\(UUID().uuidString.prefix(8))"
        defer {
            _ = try? tmux(["kill-server"])
            try? FileManager.default.removeItem(at: home)
        }
        // A workload big enough that a debug-build run lasts for seconds.
        let big = try SyntheticWorkload(count: 150_000, arrivals: .poisson(rate: 300), prompt: .fixed(200), output: .fixed(200), seed: 1).generate()
        try TraceWriter.write(big, as: .llmservingsimTSV, to: home.appendingPathComponent("big.tsv").path)
        let sample = root.appendingPathComponent("dataset/sharegpt-like-100.tsv").path

        _ = try tmux(["new-session", "-d", "-s", "shell", "-x", "200", "-y", "50",
                      "cd '\(home.path)' && HOME='\(home.path)' '\(exe.path)'; echo EXITED $?; sleep 60"])
        try waitFor("smartserve [no data")

        // Tab completes a command, then a registered scheduler name.
        try keys("desc", "Tab")
        try keys("orc", "Tab")
        try keys("Enter")
        try waitFor("scheduler orca: Orca")
        XCTAssertTrue(try screen().contains("describe orca"))

        // Tab completes a file path after `load`.
        try keys("load big.t", "Tab")
        try keys("Enter")
        try waitFor("loaded 150000 requests")

        // History: Up recalls earlier lines.
        try keys("load '\(sample)'", "Enter")
        try waitFor("loaded 100 requests")
        try keys("Up", "Up", "Enter")
        try waitFor("loaded 150000 requests", count: 2)
        let history = try String(contentsOf: home.appendingPathComponent(".smartserve_history"), encoding: .utf8)
        XCTAssertTrue(history.contains("describe"), history)

        // Ctrl-C stops a running simulation and returns to the prompt; the shell survives.
        try keys("run", "Enter")
        Thread.sleep(forTimeInterval: 1.0)
        try keys("C-c")
        try waitFor("interrupted; back at the prompt")
        try keys("runs", "Enter")
        try waitFor("#  label")
        XCTAssertFalse(try screen().contains("run 1 ("))

        // A short run completes; Ctrl-D saves the session and leaves.
        try keys("load '\(sample)'", "Enter")
        try waitFor("loaded 100 requests", count: 2)
        try keys("run first", "Enter")
        try waitFor("run 1 (first)")
        try keys("C-d")
        try waitFor("EXITED 0")
        XCTAssertTrue(try screen().contains("session saved in"))
        let sessions = try FileManager.default.contentsOfDirectory(atPath: home.appendingPathComponent("sessions").path)
        XCTAssertEqual(sessions.count, 1)
        let saved = home.appendingPathComponent("sessions/\(sessions[0])")
        let transcript = try String(contentsOf: saved.appendingPathComponent("transcript.sls"), encoding: .utf8)
        XCTAssertTrue(transcript.hasSuffix("run first\n"), transcript)
        XCTAssertFalse(transcript.contains("describe"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: saved.appendingPathComponent("runs/1-first/summary.json").path))
    }
}
