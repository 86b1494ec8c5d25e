/// The router contract: choose the instance a newly arrived request joins.
public protocol RequestRouter: AnyObject {
    var name: String { get }
    func route(_ request: Int32, instances: UnsafeBufferPointer<InstanceLoad>) -> Int
}

/// Load figures the engine keeps per instance, refreshed before each routing decision.
public struct InstanceLoad: Sendable, Equatable {
    /// Requests waiting or running on the instance.
    public var outstanding: Int
    public var waiting: Int
    public var running: Int
    public var freeBlocks: Int
    public var totalBlocks: Int
    /// KV blocks the waiting requests will need for their prompts (Llumnix's demand term).
    public var queuedDemandBlocks: Int

    public init(outstanding: Int = 0, waiting: Int = 0, running: Int = 0, freeBlocks: Int = 0,
                totalBlocks: Int = 0, queuedDemandBlocks: Int = 0) {
        self.outstanding = outstanding
        self.waiting = waiting
        self.running = running
        self.freeBlocks = freeBlocks
        self.totalBlocks = totalBlocks
        self.queuedDemandBlocks = queuedDemandBlocks
    }
}
