import ServeAPI

/// Admits every waiting request whole, whatever the budget: the engine must refuse the plan.
final class OverBudget: StepScheduler {
    let name = "overbudget"
    let preemption = PreemptionMode.recompute
    func plan(_ view: InstanceView, into plan: inout StepPlan) {
        for r in view.running { plan.work.append(ScheduledWork(request: r, tokens: Int32(view.requests.pendingTokens(r)))) }
        for r in view.waiting { plan.work.append(ScheduledWork(request: r, tokens: Int32(view.requests.pendingTokens(r)))) }
    }
}

/// Never schedules anything: the engine must stop with "made no progress".
final class Stuck: StepScheduler {
    let name = "stuck"
    let preemption = PreemptionMode.recompute
    func plan(_ view: InstanceView, into plan: inout StepPlan) {}
}

/// Routes past the last instance.
final class OutOfRange: RequestRouter {
    let name = "out-of-range"
    func route(_ request: Int32, instances: UnsafeBufferPointer<InstanceLoad>) -> Int { instances.count }
}

@_cdecl("smartserve_plugin_entry")
public func smartservePluginEntry(_ hostABI: UInt32, _ registrar: UnsafeMutableRawPointer) -> UInt32 {
    PluginRegistrar.enter(hostABI, registrar) { plugin in
        plugin.describe(name: "broken", version: "0.0.1")
        plugin.scheduler(SchedulerEntry(name: "overbudget", summary: "ignores the budget") { _ in OverBudget() })
        plugin.scheduler(SchedulerEntry(name: "stuck", summary: "never schedules") { _ in Stuck() })
        plugin.router(RouterEntry(name: "out-of-range", summary: "routes past the last instance") { _ in OutOfRange() })
    }
}
