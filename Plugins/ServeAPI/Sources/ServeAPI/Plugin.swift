/// The plugin ABI: what a plugin library exports and how it registers its components.
///
/// A plugin is a dynamic library built against this package (same compiler, same ServeAPI source)
/// that exports one C symbol, `smartserve_plugin_entry`:
///
///     @_cdecl("smartserve_plugin_entry")
///     public func smartservePluginEntry(_ hostABI: UInt32, _ registrar: UnsafeMutableRawPointer) -> UInt32 {
///         PluginRegistrar.enter(hostABI, registrar) { plugin in
///             plugin.describe(name: "edf", version: "1.0")
///             plugin.scheduler(SchedulerEntry(name: "edf", summary: "earliest deadline first") { _ in EDFScheduler() })
///         }
///     }
///
/// The host passes its ABI version; `enter` (inlined into the plugin, so it carries the version
/// the plugin was built with) registers nothing unless both agree, and returns the plugin's
/// version so the host can say which side to rebuild.
public enum ServeAPIABI {
    /// Bumped whenever a type or protocol a plugin sees changes shape.
    /// 3: `ContinuousBatchingScheduler` gained `seats` and `admissionReserve`; `OptionKind.file`;
    /// `StepPlan.reservedBlocks`. 5: `SchedulerCapabilities.steadyAdmission`;
    /// `ContinuousBatchingScheduler.admitWaiting`.
    @inlinable public static var version: UInt32 { 5 }
    /// The symbol the host looks up.
    public static let entrySymbol = "smartserve_plugin_entry"
}

/// The C type of `smartserve_plugin_entry`.
public typealias PluginEntryPoint = @convention(c) (UInt32, UnsafeMutableRawPointer) -> UInt32

/// What a plugin registers through. The host creates one per library, hands it to the entry
/// point, then commits what it collected: all of it, or (on a name clash or an error) none.
public final class PluginRegistrar {
    /// The library's path.
    public let path: String
    public private(set) var name: String
    public private(set) var version = ""
    /// What the plugin asked to register, as (kind, name), in order.
    public private(set) var components: [(kind: String, name: String)] = []
    /// An error the plugin's registration code threw, if any.
    public private(set) var failure: String?
    private var pending: [() throws -> Void] = []
    private var checks: [() -> String?] = []

    public init(path: String) {
        self.path = path
        name = String(path.split(separator: "/").last ?? Substring(path))
    }

    /// The plugin's name and version, for `plugins` and session manifests.
    public func describe(name: String, version: String) {
        self.name = name
        self.version = version
    }

    public func scheduler(_ entry: SchedulerEntry, override: Bool = false) { stage(entry, in: Registries.schedulers, override: override) }
    public func router(_ entry: RouterEntry, override: Bool = false) { stage(entry, in: Registries.routers, override: override) }
    public func lengthPredictor(_ entry: PredictorEntry, override: Bool = false) { stage(entry, in: Registries.lengthPredictors, override: override) }
    public func forecaster(_ entry: ForecasterEntry, override: Bool = false) { stage(entry, in: Registries.forecasters, override: override) }
    public func autoscaler(_ entry: AutoscalerEntry, override: Bool = false) { stage(entry, in: Registries.autoscalers, override: override) }

    private func stage<P>(_ entry: ComponentEntry<P>, in registry: ComponentRegistry<P>, override: Bool) {
        components.append((registry.kind, entry.name))
        let origin = path
        checks.append {
            guard !override, let holder = registry.origin(of: entry.name) else { return nil }
            return "\(registry.kind) '\(entry.name)' is already registered by \(holder); register it with override: true to replace it"
        }
        pending.append { try registry.add(entry, origin: origin, override: override) }
    }

    /// Records an error from the plugin's registration code.
    public func fail(_ message: String) { failure = failure ?? message }

    /// Name clashes and failures that stop the commit (empty: it may go ahead).
    public func problems() -> [String] { (failure.map { [$0] } ?? []) + checks.compactMap { $0() } }

    /// Registers everything staged, after `problems()` came back empty.
    public func commit() throws { for add in pending { try add() } }

    /// The body of a plugin's entry point (see `ServeAPIABI`): checks the ABI, runs `register`,
    /// and returns the ABI version the plugin was built with.
    @inlinable
    public static func enter(_ hostABI: UInt32, _ registrar: UnsafeMutableRawPointer, _ register: (PluginRegistrar) throws -> Void) -> UInt32 {
        let built = ServeAPIABI.version
        guard hostABI == built else { return built }
        let plugin = Unmanaged<PluginRegistrar>.fromOpaque(registrar).takeUnretainedValue()
        do { try register(plugin) } catch { plugin.fail("\(error)") }
        return built
    }
}
