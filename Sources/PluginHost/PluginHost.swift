import Foundation
import ServeAPI
import Workload

/// A plugin library loaded into this process and what it registered.
public struct LoadedPlugin: Sendable, Equatable {
    public var path: String
    public var sha256: String
    public var name: String
    public var version: String
    /// (kind, name) of each component it registered.
    public var components: [String]
}

public struct PluginError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Finds, loads (dlopen), version-checks and records plugins. Loading is idempotent per library:
/// the same file, or a copy of it, loaded twice is one plugin.
public enum PluginHost {
    nonisolated(unsafe) private static var plugins: [LoadedPlugin] = []
    private static let lock = NSLock()

    /// Plugins loaded so far, in load order.
    public static var loaded: [LoadedPlugin] { lock.withLock { plugins } }

    /// The plugin that registered a component, if a plugin did.
    public static func plugin(registering kind: String, _ name: String) -> LoadedPlugin? {
        loaded.first { $0.components.contains("\(kind) \(name)") }
    }

    /// Loads the library at `path` and registers its components (all or none).
    @discardableResult
    public static func load(_ path: String) throws -> LoadedPlugin {
        let full = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        guard FileManager.default.isReadableFile(atPath: full) else {
            throw PluginError("plugin \(path): cannot read it")
        }
        if let already = loaded.first(where: { $0.path == full }) { return already }
        let hash = try SHA256.file(full)
        // A copy of a loaded library (same bytes elsewhere) is that plugin: its names are taken.
        if let twin = loaded.first(where: { $0.sha256 == hash }) { return twin }
        guard let handle = dlopen(full, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown reason"
            throw PluginError("plugin \(path): cannot load it: \(reason)")
        }
        guard let symbol = dlsym(handle, ServeAPIABI.entrySymbol) else {
            dlclose(handle)
            throw PluginError("plugin \(path): no \(ServeAPIABI.entrySymbol) symbol: not a smartserve plugin (see docs/PLUGINS.md)")
        }
        let entry = unsafeBitCast(symbol, to: PluginEntryPoint.self)
        let registrar = PluginRegistrar(path: full)
        let host = ServeAPIABI.version
        let built = entry(host, Unmanaged.passUnretained(registrar).toOpaque())
        guard built == host else {
            // Its code stays mapped (its types may be referenced), but nothing was registered.
            throw PluginError("plugin \(path) was built against ServeAPI ABI \(built), this smartserve has ABI \(host): rebuild the plugin against this checkout's Plugins/ServeAPI")
        }
        let problems = registrar.problems()
        guard problems.isEmpty else {
            throw PluginError("plugin \(path) refused, nothing registered: " + problems.joined(separator: "; "))
        }
        try registrar.commit()
        let plugin = LoadedPlugin(path: full, sha256: hash, name: registrar.name, version: registrar.version,
                                  components: registrar.components.map { "\($0.kind) \($0.name)" })
        lock.withLock { plugins.append(plugin) }
        return plugin
    }

    /// Where plugins are found without being named: SMARTSERVE_PLUGINS (colon-separated files),
    /// then built example and user plugins (`Plugins/*/.build/release/lib*.so`,
    /// `Plugins/Examples/*/.build/release/lib*.so` under `root`) and `~/.smartserve/plugins/*.so`.
    public static func discover(root: String = FileManager.default.currentDirectoryPath,
                                environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var paths = (environment["SMARTSERVE_PLUGINS"] ?? "").split(separator: ":").map(String.init).filter { !$0.isEmpty }
        let fm = FileManager.default
        func libraries(in dir: String) -> [String] {
            ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).sorted()
                .filter { $0.hasPrefix("lib") && $0.hasSuffix(".so") && $0 != "libServeAPI.so" }
                .map { dir + "/" + $0 }
        }
        for parent in [root + "/Plugins", root + "/Plugins/Examples"] {
            for package in ((try? fm.contentsOfDirectory(atPath: parent)) ?? []).sorted() where package != "ServeAPI" {
                paths += libraries(in: "\(parent)/\(package)/.build/release")
            }
        }
        if let home = environment["HOME"] { paths += libraries(in: home + "/.smartserve/plugins") }
        return paths
    }
}
