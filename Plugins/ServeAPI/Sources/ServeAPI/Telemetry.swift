/// What a scheduler reports about itself while it runs: named figures sampled into the run's time
/// series (one row per interval, at the interval's first event), the mode it is in, and the
/// events it logged (mode switches with their reasons). A scheduler opts in by conforming; the
/// engine asks only at interval boundaries, so it costs nothing per step.
public protocol SchedulerTelemetry: AnyObject {
    /// Names of the figures, in the order `telemetry` writes them (e.g. "budget", "forecast_rps").
    var telemetryColumns: [String] { get }
    /// The current figures (`values` has `telemetryColumns.count` slots) and mode name.
    func telemetry(now: Int64, values: inout [Double]) -> String
    /// Events logged since the last call, oldest first; the engine collects them into the run.
    func drainEvents(into events: inout [SchedulerEvent])
}

/// One logged scheduler event (e.g. a fall back to the baseline), with its time and reason.
public struct SchedulerEvent: Sendable, Equatable {
    /// Simulated time, ns from the first arrival.
    public var time: Int64
    /// Short kind, e.g. "fallback" or "recover".
    public var kind: String
    /// Why, in words, with the figures that decided it.
    public var detail: String
    /// The instance whose scheduler logged it (filled in by the engine).
    public var instance: Int

    public init(time: Int64, kind: String, detail: String, instance: Int = 0) {
        self.time = time
        self.kind = kind
        self.detail = detail
        self.instance = instance
    }
}
