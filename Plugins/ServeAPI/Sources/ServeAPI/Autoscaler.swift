/// The autoscaling contract: every `interval` seconds of simulated time, look at the cluster and
/// say how many instances should be serving. The engine starts instances (each serves after
/// `coldStart` seconds and costs GPU time from the moment it is asked for) and drains them (a
/// draining instance takes no new requests, finishes what it holds, then stops). Routers only
/// ever see serving instances.
public protocol InstanceAutoscaler: AnyObject {
    var name: String { get }
    /// Seconds between decisions.
    var interval: Double { get }
    /// Seconds from asking for an instance to its first request (model load, CUDA graphs).
    var coldStart: Double { get }
    /// Bounds of the fleet (instances serving or starting).
    var minInstances: Int { get }
    var maxInstances: Int { get }
    /// The number of instances wanted now (clipped by the engine to the bounds).
    func desired(_ state: ClusterState) -> Int
}

extension InstanceAutoscaler {
    /// Autoscalers that log decisions (e.g. a fall back to reactive scaling) conform to
    /// `SchedulerTelemetry` as well; the engine collects their events with the schedulers'.
    public var telemetry: (any SchedulerTelemetry)? { self as? any SchedulerTelemetry }
}

/// What an autoscaler sees at a decision.
public struct ClusterState: Sendable, Equatable {
    /// Simulated time, ns from the first arrival.
    public var now: Int64
    /// Instances taking requests, starting (cold), and draining.
    public var serving: Int
    public var starting: Int
    public var draining: Int
    /// Requests that arrived in the last interval, and in every interval so far (oldest first).
    public var arrivals: Int
    public var arrivalHistory: [Double]
    /// Requests finished in the last interval.
    public var finished: Int
    /// Share of the last interval the serving instances spent running steps (GPU utilisation).
    public var utilisation: Double
    /// Busy instance-seconds per finished request over the run so far (0 before the first).
    public var busySecondsPerRequest: Double
    /// Requests waiting and running on serving instances, and their mean KV cache use (0…1).
    public var waiting: Int
    public var running: Int
    public var kvUsage: Double

    public init(now: Int64 = 0, serving: Int = 0, starting: Int = 0, draining: Int = 0, arrivals: Int = 0,
                arrivalHistory: [Double] = [], finished: Int = 0, utilisation: Double = 0, busySecondsPerRequest: Double = 0,
                waiting: Int = 0, running: Int = 0, kvUsage: Double = 0) {
        self.now = now
        self.serving = serving
        self.starting = starting
        self.draining = draining
        self.arrivals = arrivals
        self.arrivalHistory = arrivalHistory
        self.finished = finished
        self.utilisation = utilisation
        self.busySecondsPerRequest = busySecondsPerRequest
        self.waiting = waiting
        self.running = running
        self.kvUsage = kvUsage
    }
}

public typealias AutoscalerEntry = ComponentEntry<any InstanceAutoscaler>

extension Registries {
    public static let autoscalers = ComponentRegistry<any InstanceAutoscaler>(kind: "autoscaler")
}
