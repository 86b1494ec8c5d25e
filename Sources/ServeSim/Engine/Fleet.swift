import ServeAPI

/// Which instances serve, start or drain under an autoscaler, and what the fleet cost. Without an
/// autoscaler every instance serves from the start and the fleet's cost is instances × makespan.
struct Fleet {
    enum State: UInt8 { case off, starting, serving, draining }

    var state: [State]
    /// When a starting instance begins to serve, ns.
    var readyAt: [Int64]
    /// Since when each powered instance has been powered (starting, serving or draining), ns.
    var onSince: [Int64]
    /// Serving instances in index order (what routers see).
    var serving: [Int]
    var gpuNanos: Double = 0
    /// Σ powered instances × time, for the time-weighted mean, and the peak.
    var peak = 0
    var changes: [ScalingChange] = []

    init(instances: Int, initial: Int) {
        state = (0..<instances).map { $0 < initial ? .serving : .off }
        readyAt = [Int64](repeating: 0, count: instances)
        onSince = [Int64](repeating: 0, count: instances)
        serving = Array(0..<initial)
        peak = initial
    }

    var powered: Int { state.reduce(0) { $0 + ($1 == .off ? 0 : 1) } }
    func count(_ s: State) -> Int { state.reduce(0) { $0 + ($1 == s ? 1 : 0) } }

    mutating func powerOff(_ k: Int, at now: Int64) {
        gpuNanos += Double(now - onSince[k])
        state[k] = .off
    }

    mutating func refreshServing() { serving = state.indices.filter { state[$0] == .serving } }

    /// Moves toward `target` powered instances (serving + starting): un-drains warm instances
    /// first, then starts cold ones; down, cancels starts first, then drains the least loaded.
    /// Returns instances to power off now (drained ones with nothing left are stopped by the caller).
    mutating func scale(to target: Int, at now: Int64, coldStart: Int64, outstanding: (Int) -> Int) -> [Int] {
        var wanted = target - count(.serving) - count(.starting)
        var newlyStarting: [Int] = []
        if wanted > 0 {
            for k in state.indices where wanted > 0 && state[k] == .draining { state[k] = .serving; wanted -= 1 }
            for k in state.indices where wanted > 0 && state[k] == .off {
                state[k] = .starting
                readyAt[k] = now + coldStart
                onSince[k] = now
                newlyStarting.append(k)
                wanted -= 1
            }
        } else if wanted < 0 {
            for k in state.indices.reversed() where wanted < 0 && state[k] == .starting { powerOff(k, at: now); wanted += 1 }
            while wanted < 0 && count(.serving) > 1 {
                let k = state.indices.filter { state[$0] == .serving }.min { (outstanding($0), -$0) < (outstanding($1), -$1) }!
                state[k] = .draining
                wanted += 1
            }
        }
        refreshServing()
        peak = max(peak, powered)
        return newlyStarting
    }
}

/// One change of the fleet's size, for the run's report.
public struct ScalingChange: Sendable, Equatable {
    /// Simulated time, s.
    public var time: Double
    /// Instances powered (serving, starting or draining) before and after, and those asked for.
    public var from: Int
    public var to: Int
    public var desired: Int
}

/// What autoscaling did in a run.
public struct ScalingRecord: Sendable, Equatable {
    public var autoscaler: String
    /// Σ powered instances × time, s (cold starts and draining included).
    public var gpuSeconds: Double
    public var meanInstances: Double
    public var peakInstances: Int
    public var changes: [ScalingChange]
}
