import ServeAPI

/// Earliest deadline first: admit the waiting request whose first-token deadline is soonest, the
/// deadline being arrival + the run's TTFT SLO + its own prefill time at `tokens_per_s`.
final class EDFScheduler: KeyOrderedScheduler {
    let nanosPerToken: Double
    init(tokensPerSecond: Double) {
        nanosPerToken = 1e9 / tokensPerSecond
        super.init(name: "edf")
    }
    override func key(_ r: Int32, _ view: InstanceView) -> Double {
        let i = Int(r)
        return Double(view.requests.arrival[i]) + (view.slo.ttft ?? 2) * 1e9 + Double(view.requests.promptTokens[i]) * nanosPerToken
    }
}

@_cdecl("smartserve_plugin_entry")
public func smartservePluginEntry(_ hostABI: UInt32, _ registrar: UnsafeMutableRawPointer) -> UInt32 {
    PluginRegistrar.enter(hostABI, registrar) { plugin in
        plugin.describe(name: "edf", version: "1.0.0")
        plugin.scheduler(SchedulerEntry(
            name: "edf", summary: "earliest first-token deadline first (arrival + TTFT SLO + own prefill time)",
            options: [OptionSpec("tokens_per_s", .double, default: "10000", range: 1...1e9, doc: "prefill speed that stretches a long prompt's deadline")]) { o in
            EDFScheduler(tokensPerSecond: o.double("tokens_per_s"))
        })
    }
}
