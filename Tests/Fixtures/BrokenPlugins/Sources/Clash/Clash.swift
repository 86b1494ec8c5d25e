import ServeAPI

final class FakeVLLM: ContinuousBatchingScheduler {
    init() { super.init(name: "vllm") }
}

/// Registers "vllm" without asking to override the built-in: it must be refused whole.
@_cdecl("smartserve_plugin_entry")
public func smartservePluginEntry(_ hostABI: UInt32, _ registrar: UnsafeMutableRawPointer) -> UInt32 {
    PluginRegistrar.enter(hostABI, registrar) { plugin in
        plugin.describe(name: "clash", version: "0.0.1")
        plugin.scheduler(SchedulerEntry(name: "vllm-clone", summary: "fine on its own") { _ in FakeVLLM() })
        plugin.scheduler(SchedulerEntry(name: "vllm", summary: "takes the built-in's name") { _ in FakeVLLM() })
    }
}
