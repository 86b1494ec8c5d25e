import Foundation
import Workload

/// Where a relative input path is found, so that one study runs from any directory: the current
/// directory first (as typed), then the places recorded for it (a saved session knows where its
/// dataset lay relative to itself), then the folder of the script being run, then the data
/// folders (`SMARTSERVE_DATA`, colon-separated, and each `--data-dir DIR`).
public struct PathResolver: Sendable {
    /// Folders tried after the current directory and the recorded places (a script's folder).
    public var bases: [URL] = []
    /// Recorded places: a path as typed → where it is (from a session's manifest).
    public var known: [String: String] = [:]

    public init(bases: [URL] = [], known: [String: String] = [:]) {
        self.bases = bases
        self.known = known
    }

    /// The data folders, from `SMARTSERVE_DATA` and then `--data-dir`; set once at start-up.
    nonisolated(unsafe) public static var dataDirectories: [String] =
        (ProcessInfo.processInfo.environment["SMARTSERVE_DATA"] ?? "").split(separator: ":").map(String.init)

    /// The path to open for `path`: itself when absolute or present, else the first place that has
    /// it; else `path` unchanged, so the error names what was typed.
    public func resolve(_ path: String) -> String {
        let fm = FileManager.default
        guard !path.isEmpty, !path.hasPrefix("/"), !fm.fileExists(atPath: path) else { return path }
        if let place = known[path], fm.fileExists(atPath: place) { return place }
        for base in bases + PathResolver.dataDirectories.map({ URL(fileURLWithPath: $0) }) {
            let candidate = base.appendingPathComponent(path).standardizedFileURL.path
            if fm.fileExists(atPath: candidate) { return candidate }
        }
        return path
    }

    /// Takes `--data-dir DIR` (and `--data-dir=DIR`) out of a command line, adding each folder.
    public static func extract(_ arguments: [String]) throws -> [String] {
        let (folders, rest) = try takeOption("--data-dir", from: arguments, expects: "a folder")
        dataDirectories += folders
        return rest
    }

    /// `target` as a path relative to the folder `dir` (`../../dataset/x.tsv`), both made absolute.
    static func relative(_ target: String, from dir: URL) -> String {
        let t = URL(fileURLWithPath: target).standardizedFileURL.pathComponents
        let d = dir.standardizedFileURL.pathComponents
        var common = 0
        while common < min(t.count, d.count) && t[common] == d[common] { common += 1 }
        return (Array(repeating: "..", count: d.count - common) + t[common...]).joined(separator: "/")
    }

    /// The recorded places of a saved session's inputs: each manifest entry (dataset, files) with
    /// a `from_session` path, resolved against the session folder.
    static func recorded(in manifest: JSON?, session dir: URL) -> [String: String] {
        var known: [String: String] = [:]
        var entries: [JSON] = []
        if let d = manifest?["dataset"] { entries.append(d) }
        if case .array(let files)? = manifest?["files"] { entries += files }
        for e in entries {
            guard case .string(let typed)? = e["path"], case .string(let rel)? = e["from_session"] else { continue }
            known[typed] = dir.appendingPathComponent(rel).standardizedFileURL.path
        }
        return known
    }
}

/// Takes a global option that any command accepts (`--plugin PATH`, `--data-dir DIR`, also as
/// `--name=value`, repeatable) out of a command line: its values and the other words.
func takeOption(_ name: String, from arguments: [String], expects: String) throws -> (values: [String], rest: [String]) {
    var values: [String] = [], rest: [String] = []
    var i = 0
    while i < arguments.count {
        let a = arguments[i]
        if a == name {
            guard i + 1 < arguments.count, !arguments[i + 1].hasPrefix("-") else { throw UsageError("\(name) expects \(expects)") }
            values.append(arguments[i + 1])
            i += 2
            continue
        }
        if a.hasPrefix(name + "=") { values.append(String(a.dropFirst(name.count + 1))) } else { rest.append(a) }
        i += 1
    }
    return (values, rest)
}
