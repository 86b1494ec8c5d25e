import Foundation
import XCTest
@testable import Workbench
import Workload

/// Issue 13: sessions stay inside their folder, transcripts run only what the shell records, and
/// files are written and read defensively.
final class SessionSafetyTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("safety-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func shell() -> ShellRunner {
        let r = ShellRunner(session: Session(), interactive: false, showProgress: false, output: { _ in })
        r.sessionsRoot = dir.appendingPathComponent("sessions")
        return r
    }

    var sample: String { SessionSafetyTests.root.appendingPathComponent("dataset/sharegpt-like-100.tsv").path }

    /// A saved session with one run, and its folder.
    func savedSession() throws -> URL {
        let r = shell()
        try r.execute("load \(sample)")
        try r.execute("run a")
        try r.execute("save s")
        return dir.appendingPathComponent("sessions/s")
    }

    func testSaveStaysInsideSessions() throws {
        let r = shell()
        for bad in ["sessions/../../x", "..", ".", "a/b", "sessions/..", "tab\there"] {
            XCTAssertThrowsError(try r.execute("save '\(bad)'"), bad) { XCTAssertTrue("\($0)".contains("one folder name"), "\($0)") }
        }
        try r.execute("save sessions/fine")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("sessions/fine/manifest.json").path))
    }

    func testTranscriptsRunOnlyStateAndRunCommands() throws {
        let session = try savedSession()
        let transcript = session.appendingPathComponent("transcript.sls")
        let original = try String(contentsOf: transcript, encoding: .utf8)
        for line in ["export 1 \(dir.path)/leak.csv", "save other", "source \(dir.path)/x.sls", "replay \(session.path)",
                     "dataset features --freq 1s --output \(dir.path)/f.csv", "plugin load /tmp/libevil.so"] {
            try (original + line + "\n").write(to: transcript, atomically: true, encoding: .utf8)
            let report = try Replay.run(directory: session.path)
            XCTAssertFalse(report.identical, line)
            XCTAssertTrue(report.text.contains("is not allowed in a transcript") || report.text.contains("not among the session's recorded plugins"),
                          "\(line): \(report.text)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("leak.csv").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("sessions/other").path))
    }

    func testManifestFoldersAndCorruptSummariesAreReported() throws {
        let session = try savedSession()
        let manifestURL = session.appendingPathComponent("manifest.json")
        let manifest = try String(contentsOf: manifestURL, encoding: .utf8)
        guard let folder = manifest.range(of: "\"runs/1-a\"") else { return XCTFail("no run folder in \(manifest)") }
        try manifest.replacingCharacters(in: folder, with: "\"../../../etc\"").write(to: manifestURL, atomically: true, encoding: .utf8)
        var report = try Replay.run(directory: session.path)
        XCTAssertTrue(report.text.contains("manifest folder '../../../etc' is outside the session"), report.text)
        try manifest.write(to: manifestURL, atomically: true, encoding: .utf8)
        try "{ not json".write(to: session.appendingPathComponent("runs/1-a/summary.json"), atomically: true, encoding: .utf8)
        report = try Replay.run(directory: session.path)
        XCTAssertFalse(report.identical)
        XCTAssertTrue(report.text.contains("summary.json is corrupt"), report.text)
    }

    func testOpenKeepsAnUnreadableManifestAndCleansTemporaries() throws {
        let session = try savedSession()
        try "junk".write(to: session.appendingPathComponent(AtomicFile.temporaryPrefix + "abc"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: session.appendingPathComponent("runs/9-orphan"), withIntermediateDirectories: true)
        var lines: [String] = []
        let r = ShellRunner(session: Session(), interactive: false, showProgress: false, output: { lines.append($0) })
        try r.execute("open \(session.path)")
        XCTAssertTrue(lines.contains { $0.contains("removed a stale temporary file") }, "\(lines)")
        XCTAssertTrue(lines.contains { $0.contains("runs/9-orphan is not in the manifest") }, "\(lines)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: session.appendingPathComponent(AtomicFile.temporaryPrefix + "abc").path))
        // A manifest that is not JSON is refused and left as it is.
        let manifestURL = session.appendingPathComponent("manifest.json")
        try "{ broken".write(to: manifestURL, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try shell().execute("open \(session.path)")) { XCTAssertTrue("\($0)".contains("not valid JSON"), "\($0)") }
        XCTAssertEqual(try String(contentsOf: manifestURL, encoding: .utf8), "{ broken")
    }

    /// A streamed file larger than the writer's buffer arrives whole; a writer dropped before
    /// `commit` leaves the old file and no temporary behind.
    func testStreamedFilesArePublishedWholeOrNotAtAll() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stream-\(UUID().uuidString)")
        let path = dir.appendingPathComponent("big.csv").path
        var expected = ""
        do {
            let out = try AtomicFileWriter(path: path)
            for i in 0..<300_000 {
                out.append(Int64(i) * 7919 - 1_000_000)
                out.append(byte: UInt8(ascii: ","))
                out.append("x\n")
                expected += "\(i * 7919 - 1_000_000),x\n"
            }
            out.append(Int64.min)
            expected += "\(Int64.min)"
            XCTAssertFalse(FileManager.default.fileExists(atPath: path), "visible before commit")
            try out.commit()
        }
        XCTAssertGreaterThan(expected.utf8.count, 1 << 21)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), expected)
        do {
            let out = try AtomicFileWriter(path: path)
            out.append(String(repeating: "y", count: 3 << 20))
        }
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), expected)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["big.csv"])
    }

    func testAtomicWritesReplaceALinkInsteadOfFollowingIt() throws {
        let victim = dir.appendingPathComponent("victim.txt")
        try "keep me".write(to: victim, atomically: true, encoding: .utf8)
        let link = dir.appendingPathComponent("out.csv")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: victim)
        try AtomicFile.write("new", to: link.path)
        XCTAssertEqual(try String(contentsOf: victim, encoding: .utf8), "keep me")
        XCTAssertEqual(try String(contentsOf: link, encoding: .utf8), "new")
        XCTAssertNil(try? FileManager.default.destinationOfSymbolicLink(atPath: link.path))
        XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: dir.path).allSatisfy { !$0.hasPrefix(AtomicFile.temporaryPrefix) })
    }

    func testLineEndingsByteOrderMarksAndControlCharacters() throws {
        let crlf = dir.appendingPathComponent("crlf.tsv").path
        try Data([0xEF, 0xBB, 0xBF] + Array("input_toks\toutput_toks\tarrival_time_ns\r\n10\t10\t0\r\n20\t5\t1000\r\n".utf8))
            .write(to: URL(fileURLWithPath: crlf))
        let (trace, _) = try TraceLoader.load(crlf)
        XCTAssertEqual(trace.promptTokens, [10, 20])
        XCTAssertEqual(try TextBuffer(path: crlf).sha256, try SHA256.file(crlf))     // the BOM counts in the hash
        let cr = dir.appendingPathComponent("cr.tsv").path
        try "input_toks\toutput_toks\tarrival_time_ns\r10\t10\t0\r".write(toFile: cr, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TraceLoader.load(cr)) { XCTAssertTrue("\($0)".contains("CR-only line endings"), "\($0)") }
        let script = dir.appendingPathComponent("s.sls").path
        try Data([0xEF, 0xBB, 0xBF] + Array("load \(sample)\r\nset max-num-seqs 8\r\n".utf8)).write(to: URL(fileURLWithPath: script))
        XCTAssertEqual(try TextBuffer(path: script).lines(), ["load \(sample)", "set max-num-seqs 8"])
        XCTAssertTrue(shell().runScript(try TextBuffer(path: script).lines(), name: script))
        XCTAssertEqual(Terminal.escaped("bad\u{1b}[31m\nname\t"), "bad\\u{1b}[31m\\nname\\t")
    }
}

extension SessionSafetyTests {
    func testReplayAndOpenNestingIsBounded() throws {
        var depth = 0
        func dive() throws { try Replay.nested("replay x") { depth += 1; try dive() } }
        XCTAssertThrowsError(try dive()) { XCTAssertTrue("\($0)".contains("sessions nested more than 8 deep"), "\($0)") }
        XCTAssertEqual(depth, 8)
        XCTAssertEqual(Replay.nesting, 0)
    }
}
