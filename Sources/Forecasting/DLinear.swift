import Learning
import Foundation
import Workload

/// DLinear (Zeng et al., AAAI'23): the look-back window is split by a moving average (kernel k)
/// into trend and remainder; one linear map each takes the window to the next `horizon` steps;
/// the forecast is their sum. Trained by Adam on mean squared error over sliding windows of the
/// standardised series. Longer horizons are forecast recursively.
public final class DLinearForecaster: ConformalForecaster, PooledTraining {
    /// The look-back asked for; a shorter series gets a shorter one (half of what it leaves after a horizon).
    let requestedLookBack: Int
    var lookBackRule: LookBackRule { LookBackRule(requested: requestedLookBack, least: 8) }
    /// The look-back of the last fit.
    public private(set) var lookBack: Int
    let horizon: Int
    let kernel: Int
    let epochs: Int
    let seed: UInt64
    var trendW: [Double] = [], trendB: [Double] = []
    var restW: [Double] = [], restB: [Double] = []
    var mean = 0.0, scale = 1.0
    public private(set) var trainingSeconds = 0.0

    public init(lookBack: Int = 120, horizon: Int = 12, kernel: Int = 25, epochs: Int = 60, seed: UInt64 = 0) {
        requestedLookBack = lookBack
        self.lookBack = lookBack
        self.horizon = horizon
        self.kernel = kernel
        self.epochs = epochs
        self.seed = seed
        super.init(name: "dlinear")
    }

    override public var minimumLength: Int { lookBackRule.minimumLength(horizon: horizon) }

    /// Trained once: a second pass of gradient descent would double the cost for little change on a standardised series.
    override public var refitsOnWholeSeries: Bool { false }

    /// Moving average with edge replication (same length as the input).
    func decompose(_ x: ArraySlice<Double>) -> (trend: [Double], rest: [Double]) {
        let xs = Array(x)
        let half = kernel / 2
        var trend = [Double](repeating: 0, count: xs.count)
        for i in 0..<xs.count {
            var s = 0.0
            for j in (i - half)...(i - half + kernel - 1) { s += xs[min(max(j, 0), xs.count - 1)] }
            trend[i] = s / Double(kernel)
        }
        return (trend, zip(xs, trend).map { $0 - $1 })
    }

    func forward(_ trend: [Double], _ rest: [Double]) -> [Double] {
        (0..<horizon).map { h in
            var s = trendB[h] + restB[h]
            let base = h * lookBack
            for i in 0..<lookBack { s += trendW[base + i] * trend[i] + restW[base + i] * rest[i] }
            return s
        }
    }

    /// Weights shared with other series (a global model): `train` then only standardises.
    var shared = false

    /// Up to `limit` training windows (trend, remainder, target) of the standardised series z.
    func windows(_ z: [Double], limit: Int, _ rng: inout SeededRandom) -> [([Double], [Double], [Double])] {
        var starts = Array(0...(z.count - lookBack - horizon))
        if starts.count > limit { starts = (0..<limit).map { _ in starts[rng.integer(0, starts.count - 1)] } }
        return starts.map { s -> ([Double], [Double], [Double]) in
            let (t, r) = decompose(z[s..<(s + lookBack)])
            return (t, r, Array(z[(s + lookBack)..<(s + lookBack + horizon)]))
        }
    }

    override public func train(_ y: [Double]) throws {
        if shared {
            (_, mean, scale) = standardise(y)
            return
        }
        lookBack = lookBackRule.lookBack(length: y.count, horizon: horizon)
        let z: [Double]
        (z, mean, scale) = standardise(y)
        var rng = SeededRandom(seed: seed ^ 0xD11)
        let w = windows(z, limit: 2000, &rng)
        fitWeights(w, &rng)
    }

    /// Adam on the mean squared error of the windows.
    func fitWeights(_ windows: [([Double], [Double], [Double])], _ rng: inout SeededRandom) {
        let started = Date()
        let n = lookBack * horizon
        // Start from "repeat the window's average", DLinear's usual initialisation.
        trendW = Array(repeating: 1 / Double(lookBack), count: n)
        restW = Array(repeating: 1 / Double(lookBack), count: n)
        trendB = Array(repeating: 0, count: horizon)
        restB = Array(repeating: 0, count: horizon)
        var m = [Double](repeating: 0, count: 2 * n + 2 * horizon), v = m
        let lr = 0.005
        var step = 0
        let batch = 64
        for _ in 0..<epochs {
            var order = Array(windows.indices)
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, rng.integer(0, i)) }
            for chunk in stride(from: 0, to: order.count, by: batch) {
                var g = [Double](repeating: 0, count: 2 * n + 2 * horizon)
                let members = order[chunk..<min(chunk + batch, order.count)]
                for k in members {
                    let (t, r, target) = windows[k]
                    let out = forward(t, r)
                    for h in 0..<horizon {
                        let e = 2 * (out[h] - target[h]) / Double(horizon * members.count)
                        let base = h * lookBack
                        for i in 0..<lookBack {
                            g[base + i] += e * t[i]
                            g[n + base + i] += e * r[i]
                        }
                        g[2 * n + h] += e
                        g[2 * n + horizon + h] += e
                    }
                }
                step += 1
                let c1 = 1 - pow(0.9, Double(step)), c2 = 1 - pow(0.999, Double(step))
                for i in 0..<g.count {
                    m[i] = 0.9 * m[i] + 0.1 * g[i]
                    v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
                    let delta = lr * (m[i] / c1) / ((v[i] / c2).squareRoot() + 1e-8)
                    if i < n { trendW[i] -= delta } else if i < 2 * n { restW[i - n] -= delta }
                    else if i < 2 * n + horizon { trendB[i - 2 * n] -= delta } else { restB[i - 2 * n - horizon] -= delta }
                }
            }
        }
        trainingSeconds = Date().timeIntervalSince(started)
    }

    override public func point(_ steps: Int) -> [Double] {
        recursiveForecast(history, lookBack: lookBack, mean: mean, scale: scale, steps: steps) { window in
            let (t, r) = decompose(window)
            return forward(t, r)
        }
    }
}

extension DLinearForecaster {
    /// One pair of linear maps trained on windows of every series, each standardised by its own
    /// mean and deviation (up to 2,000 windows per series); the look-back shortens to fit the shortest.
    public func trainPooled(_ series: [[Double]]) throws {
        shared = false
        try requireLength(series)
        let shortest = series.map(\.count).min()!
        lookBack = lookBackRule.lookBack(length: shortest, horizon: horizon)
        var rng = SeededRandom(seed: seed ^ 0xD11)
        let pooled = series.flatMap { windows(standardise($0).z, limit: 2000, &rng) }
        fitWeights(pooled, &rng)
        shared = true
    }

    public func sharingParameters() -> ConformalForecaster {
        let copy = DLinearForecaster(lookBack: lookBack, horizon: horizon, kernel: kernel, epochs: epochs, seed: seed)
        (copy.trendW, copy.trendB, copy.restW, copy.restB) = (trendW, trendB, restW, restB)
        copy.shared = true
        return copy
    }
}
