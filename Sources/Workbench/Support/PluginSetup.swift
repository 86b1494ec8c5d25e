import Foundation
import PluginHost
import ServeAPI
import Workload

/// How the workbench takes plugins: `--plugin PATH` on any command, SMARTSERVE_PLUGINS, the
/// plugin folders, the shell's `plugin load`, and a session's manifest.
public enum PluginSetup {
    /// Removes every `--plugin PATH` / `--plugin=PATH` from argv (it is valid on every command).
    public static func extract(_ arguments: [String]) throws -> (plugins: [String], rest: [String]) {
        let (plugins, rest) = try takeOption("--plugin", from: arguments, expects: "a library path")
        return (plugins, rest)
    }

    /// Registers the built-ins, then the discovered plugins (a failure is a warning: a stale build
    /// in a plugin folder must not stop the tool), then the named ones (a failure is an error).
    public static func start(named: [String], discover: Bool, warn: (String) -> Void = { Terminal.warn($0) }) throws {
        Components.ready()
        if discover {
            for path in PluginHost.discover() where !named.contains(path) {
                do { try PluginHost.load(path) } catch { warn("\(error)") }
            }
        }
        for path in named { try load(path) }
    }

    @discardableResult
    public static func load(_ path: String) throws -> LoadedPlugin {
        Components.ready()
        do { return try PluginHost.load(path) } catch let e as PluginError { throw UsageError(e.description) }
    }

    /// The plugins loaded, as a session manifest records them.
    public static var manifest: JSON {
        .array(PluginHost.loaded.map { p in
            .object([("path", .string(p.path)), ("sha256", .string(p.sha256)), ("name", .string(p.name)), ("version", .string(p.version))])
        })
    }

    /// Loads the plugins a manifest records, first checking each is where it was and unchanged;
    /// returns one line per problem (empty: all loaded).
    public static func restore(_ manifest: JSON?) -> [String] {
        guard case .array(let list)? = manifest else { return [] }
        var problems: [String] = []
        for item in list {
            guard case .string(let path)? = item["path"] else { continue }
            let recorded = item["sha256"]?.stringValue ?? ""
            guard FileManager.default.fileExists(atPath: path) else {
                problems.append("plugin \(path) is missing (the session used it)")
                continue
            }
            let now = (try? SHA256.file(path)) ?? "(unreadable)"
            if now != recorded {
                problems.append("plugin \(path) changed: sha256 was \(recorded), now \(now)")
                continue
            }
            do { try load(path) } catch { problems.append("\(error)") }
        }
        return problems
    }

    /// A component's origin for messages: "built-in" or "plugin NAME (PATH)".
    static func origin(_ kind: String, _ name: String) -> String? {
        guard let p = PluginHost.plugin(registering: kind, name) else { return nil }
        return "\(kind) '\(name)' from plugin \(p.name) (\(p.path))"
    }

    /// The table `plugins` prints.
    public static func listing() -> String {
        let loaded = PluginHost.loaded
        guard !loaded.isEmpty else { return "no plugins loaded (--plugin PATH, SMARTSERVE_PLUGINS, `plugin load PATH`; see docs/PLUGINS.md)" }
        var t = TextTable(["plugin", "version", "registered", "path", "sha256"])
        for p in loaded { t.add([p.name, p.version, p.components.joined(separator: ", "), p.path, String(p.sha256.prefix(12))]) }
        return t.render()
    }
}

/// Names the plugin components a run is using, so that a crash inside one (a trap, a bad
/// pointer) says whose code it was: a signal handler prints the context before the process dies.
public enum CrashContext {
    nonisolated(unsafe) private static var message: UnsafeMutablePointer<CChar>? = nil
    nonisolated(unsafe) private static var installed = false
    /// Plugin components running now, with how many runs use each (runs go on in parallel with `--jobs`).
    nonisolated(unsafe) private static var active: [String: Int] = [:]
    private static let lock = NSLock()

    /// Runs `body` with the plugin components among `components` ((kind, name) pairs) named.
    public static func during<T>(_ components: [(String, String)], _ body: () throws -> T) rethrows -> T {
        let named = components.compactMap { PluginSetup.origin($0.0, $0.1) }
        guard !named.isEmpty else { return try body() }
        update { for n in named { active[n, default: 0] += 1 } }
        defer { update { for n in named { active[n]! -= 1; if active[n] == 0 { active[n] = nil } } } }
        return try body()
    }

    /// Changes the active set and publishes its message. A replaced message is not freed: the
    /// signal handler may be reading it on another thread (a few bytes per run).
    private static func update(_ change: () -> Void) {
        lock.lock()
        defer { lock.unlock() }
        install()
        change()
        message = active.isEmpty ? nil : strdup("\nsmartserve: crashed inside " + active.keys.sorted().joined(separator: ", ") + "\n")
    }

    private static func install() {
        guard !installed else { return }
        installed = true
        for sig in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGABRT] {
            signal(sig) { sig in
                if let m = CrashContext.message { _ = write(2, m, strlen(m)) }
                signal(sig, SIG_DFL)
                raise(sig)
            }
        }
    }
}
