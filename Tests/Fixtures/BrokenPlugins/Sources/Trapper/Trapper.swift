import ServeAPI

/// Traps on its first step (an index out of range), as buggy plugin code does.
final class Trap: StepScheduler {
    let name = "trap"
    let preemption = PreemptionMode.recompute
    func plan(_ view: InstanceView, into plan: inout StepPlan) {
        let none: [Int32] = []
        plan.work.append(ScheduledWork(request: none[view.waiting.count], tokens: 1))
    }
}

@_cdecl("smartserve_plugin_entry")
public func smartservePluginEntry(_ hostABI: UInt32, _ registrar: UnsafeMutableRawPointer) -> UInt32 {
    PluginRegistrar.enter(hostABI, registrar) { plugin in
        plugin.describe(name: "trapper", version: "0.0.1")
        plugin.scheduler(SchedulerEntry(name: "trap", summary: "traps") { _ in Trap() })
    }
}
