import ServeAPI

/// Sends requests to instances in turn.
public final class RoundRobinRouter: RequestRouter {
    public let name = "round-robin"
    private var next = 0
    public init() {}
    public func route(_ request: Int32, instances: UnsafeBufferPointer<InstanceLoad>) -> Int {
        defer { next = (next + 1) % instances.count }
        return next % instances.count
    }
}

/// Sends each request to the instance with the fewest outstanding requests (lowest index on ties).
public final class LeastOutstandingRouter: RequestRouter {
    public let name = "least-outstanding"
    public init() {}
    public func route(_ request: Int32, instances: UnsafeBufferPointer<InstanceLoad>) -> Int {
        var best = 0
        for k in 1..<instances.count where instances[k].outstanding < instances[best].outstanding { best = k }
        return best
    }
}
