import ServeAPI
import Workload

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

/// vLLM's data-parallel load balancing (its DP coordinator): the engine with the lowest
/// 4 × waiting + running, the lowest index on ties. Queued requests weigh more than running ones
/// because each will still need its prefill.
public final class VLLMDataParallelRouter: RequestRouter {
    public let name = "vllm-dp"
    public init() {}
    static func score(_ l: InstanceLoad) -> Int { 4 * l.waiting + l.running }
    public func route(_ request: Int32, instances: UnsafeBufferPointer<InstanceLoad>) -> Int {
        var best = 0
        for k in 1..<instances.count where Self.score(instances[k]) < Self.score(instances[best]) { best = k }
        return best
    }
}

/// Llumnix-style: the instance with the most "freeness" F = (M − ΣV) / B, where M − ΣV is the free
/// KV blocks less the blocks its queued requests will need and B its batch size (running, at least 1).
public final class LeastKVRouter: RequestRouter {
    public let name = "least-kv"
    public init() {}

    static func freeness(_ l: InstanceLoad) -> Double {
        Double(l.freeBlocks - l.queuedDemandBlocks) / Double(max(1, l.running))
    }

    public func route(_ request: Int32, instances: UnsafeBufferPointer<InstanceLoad>) -> Int {
        var best = 0
        for k in 1..<instances.count where LeastKVRouter.freeness(instances[k]) > LeastKVRouter.freeness(instances[best]) { best = k }
        return best
    }
}

/// Power of two choices: two distinct instances drawn at random (seeded), the one with fewer
/// outstanding requests wins (the first drawn on ties).
public final class PowerOfTwoRouter: RequestRouter {
    public let name = "power-of-two"
    private var rng: SeededRandom
    public init(seed: UInt64) { rng = SeededRandom(seed: seed ^ 0x9_0F_2) }
    public func route(_ request: Int32, instances: UnsafeBufferPointer<InstanceLoad>) -> Int {
        let n = instances.count
        let a = rng.integer(0, n - 1)
        var b = rng.integer(0, n - 2)
        if b >= a { b += 1 }
        return instances[b].outstanding < instances[a].outstanding ? b : a
    }
}
