import Foundation
import Workload

/// Re-executes a saved session in a fresh state and compares every run's summary with the saved one.
public enum Replay {
    public struct Report {
        public var text: String
        public var identical: Bool
    }

    static func transcript(_ dir: URL) throws -> [String] {
        let path = dir.appendingPathComponent("transcript.sls").path
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw UsageError("\(dir.path) is not a saved session (no readable transcript.sls)")
        }
        return try TextBuffer(path: path).lines().filter { !$0.isEmpty }
    }

    /// Flattens JSON into path → canonical text, for a difference list.
    static func flatten(_ j: JSON, _ prefix: String = "", into out: inout [(String, String)]) {
        switch j {
        case .object(let pairs): for (k, v) in pairs { flatten(v, prefix.isEmpty ? k : prefix + "." + k, into: &out) }
        case .array(let items): for (i, v) in items.enumerated() { flatten(v, "\(prefix)[\(i)]", into: &out) }
        default: out.append((prefix, j.render()))
        }
    }

    public static func differences(saved: JSON, replayed: JSON) -> [String] {
        var a: [(String, String)] = [], b: [(String, String)] = []
        flatten(saved, into: &a)
        flatten(replayed, into: &b)
        let old = Dictionary(a, uniquingKeysWith: { x, _ in x }), new = Dictionary(b, uniquingKeysWith: { x, _ in x })
        var out: [String] = []
        for key in Set(old.keys).union(new.keys).sorted() where old[key] != new[key] {
            out.append("\(key): \(old[key] ?? "(absent)") → \(new[key] ?? "(absent)")")
        }
        return out
    }

    /// A manifest's run folder inside the session: relative, no `..`; nil otherwise.
    static func runFolder(_ dir: URL, _ folder: String) -> URL? {
        let parts = folder.split(separator: "/")
        guard !folder.hasPrefix("/"), !parts.isEmpty, !parts.contains(where: { $0 == ".." || $0 == "." }) else { return nil }
        return dir.appendingPathComponent(folder)
    }

    /// What an interrupted save can leave: temporary files (removed) and run folders the manifest
    /// does not list (reported). One line per finding.
    static func housekeeping(_ dir: URL, manifest: JSON?) -> [String] {
        var out: [String] = []
        let runs = dir.appendingPathComponent("runs")
        for place in [dir, runs] + (((try? FileManager.default.contentsOfDirectory(atPath: runs.path)) ?? []).map { runs.appendingPathComponent($0) }) {
            for name in AtomicFile.removeStaleTemporaries(in: place.path) { out.append("removed a stale temporary file \(place.appendingPathComponent(name).path)") }
        }
        var listed = Set<String>()
        if case .array(let entries)? = manifest?["runs"] {
            for e in entries { if case .string(let f)? = e["folder"] { listed.insert(URL(fileURLWithPath: f).lastPathComponent) } }
        }
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: runs.path)) ?? []).sorted() where !listed.contains(name) {
            out.append("runs/\(name) is not in the manifest (an interrupted save?); left as it is")
        }
        return out
    }

    /// A saved session's manifest, if it has a readable one.
    static func manifest(_ dir: URL) -> JSON? {
        FileManager.default.contents(atPath: dir.appendingPathComponent("manifest.json").path).flatMap { try? JSON.parse($0) }
    }

    /// Sessions being re-executed right now (replay or open), across fresh runners: a transcript
    /// that replays or opens a session (itself included) nests, and the nesting is bounded.
    nonisolated(unsafe) static var nesting = 0
    static let maxNesting = 8

    /// Runs `body` one nesting level deeper, refusing past `maxNesting`.
    static func nested<T>(_ what: String, _ body: () throws -> T) throws -> T {
        guard nesting < maxNesting else {
            throw UsageError("\(what): sessions nested more than \(maxNesting) deep (does a transcript replay or open itself?)")
        }
        nesting += 1
        defer { nesting -= 1 }
        return try body()
    }

    public static func run(directory: String) throws -> Report {
        try nested("replay \(directory)") { try replay(directory: directory) }
    }

    static func replay(directory: String) throws -> Report {
        let dir = URL(fileURLWithPath: directory)
        let manifestPath = dir.appendingPathComponent("manifest.json").path
        guard let data = FileManager.default.contents(atPath: manifestPath) else {
            throw UsageError("\(directory) is not a saved session (no manifest.json)")
        }
        let manifest: JSON
        do { manifest = try JSON.parse(data) } catch { throw WorkloadError(file: manifestPath, "malformed JSON") }
        var lines: [String] = []
        var identical = true
        let resolver = PathResolver(known: PathResolver.recorded(in: manifest, session: dir))
        /// Reports a recorded input whose bytes changed since the session was saved.
        func check(_ entry: JSON, as what: String) {
            guard case .string(let path)? = entry["path"], case .string(let hash)? = entry["sha256"] else { return }
            let found = resolver.resolve(path)
            guard FileManager.default.fileExists(atPath: found) else {
                lines.append("\(what) \(path) not found (from here, beside the session, or in a data folder: SMARTSERVE_DATA, --data-dir)")
                identical = false
                return
            }
            let now = (try? SHA256.file(found)) ?? "(unreadable)"
            if now != hash {
                lines.append("\(what) \(path) changed: sha256 was \(hash), now \(now); replaying anyway")
                identical = false
            }
        }
        if let dataset = manifest["dataset"] { check(dataset, as: "dataset") }
        if case .array(let files)? = manifest["files"] { for f in files { check(f, as: "file") } }
        for problem in PluginSetup.restore(manifest["plugins"]) {
            lines.append(problem + "; replaying anyway")
            identical = false
        }
        let transcript = try transcript(dir)
        let fresh = ShellRunner(session: Session(), interactive: false, showProgress: false, output: { _ in })
        fresh.resolver = resolver
        for (i, line) in transcript.enumerated() {
            do { try fresh.executeTranscript(line) } catch {
                lines.append("transcript line \(i + 1) failed: \(ShellRunner.message(error))")
                return Report(text: lines.joined(separator: "\n"), identical: false)
            }
        }
        guard case .array(let saved)? = manifest["runs"] else {
            throw WorkloadError(file: manifestPath, field: "key 'runs'", "missing")
        }
        if saved.count != fresh.session.runs.count {
            lines.append("the transcript made \(fresh.session.runs.count) runs, the session saved \(saved.count)")
            identical = false
        }
        for (entry, run) in zip(saved, fresh.session.runs) {
            var savedSummary = entry["summary"] ?? .null
            if case .string(let folder)? = entry["folder"] {
                guard let inside = runFolder(dir, folder) else {
                    lines.append("run \(run.number): manifest folder '\(Terminal.escaped(folder))' is outside the session; not read")
                    identical = false
                    continue
                }
                let file = inside.appendingPathComponent("summary.json")
                if let data = FileManager.default.contents(atPath: file.path) {
                    if let parsed = try? JSON.parse(data) {
                        savedSummary = parsed
                    } else {
                        lines.append("run \(run.number): \(file.path) is corrupt (not JSON); compared with the manifest's copy")
                        identical = false
                    }
                }
            }
            let replayed = try JSON.parse(Data(run.summaryJSON.render().utf8))
            let diffs = differences(saved: savedSummary, replayed: replayed)
            if diffs.isEmpty {
                lines.append("run \(run.number) (\(run.label)): identical")
            } else {
                identical = false
                lines.append("run \(run.number) (\(run.label)): \(diffs.count) difference(s)")
                lines += diffs.map { "  " + $0 }
            }
        }
        lines.append(identical ? "replay: identical" : "replay: DIFFERENT")
        return Report(text: lines.joined(separator: "\n"), identical: identical)
    }
}
