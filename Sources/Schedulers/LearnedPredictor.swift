import Foundation
import Learning
import ServeAPI
import Workload

/// Output lengths learned online from the features a trace carries, request by request in arrival
/// order: ridge regression on log(1 + output) updated by recursive least squares (the default:
/// exact after every label, no step size to tune, good with a few hundred labels), or a small
/// network (one tanh layer) trained by Adam on squared or pinball (quantile) loss.
/// Each request is predicted when it arrives, from what was known then; its true length becomes a
/// training label `delay` seconds after its arrival (a stand-in for "once it has finished"), so
/// every prediction is out of sample and the score over the whole trace is honest.
///
/// Features: log prompt length (and its square), the running median-ish (mean log) output of the
/// request's session so far and its turn, running mean log output of its model and of its
/// prompt-length bin, one-hot model and log type. Traces without sessions, models or log types
/// leave those inputs at zero.
public final class LearnedPredictor: LengthPredictor {
    public let name = "learned"
    let delay: Double
    let quantile: Double
    let hidden: Int
    let learningRate: Double
    let network: Bool
    static let batch = 16
    static let models = 8, logTypes = 4
    static let inputs = 7 + models + logTypes

    public init(delay: Double, quantile: Double, hidden: Int, learningRate: Double, network: Bool = false) {
        self.network = network
        self.delay = delay
        self.quantile = quantile
        self.hidden = hidden
        self.learningRate = learningRate
    }

    public func predict(prompts: [Int32], outputs: [Int32], seed: UInt64) -> [Int32] {
        let arrivals = [Double](repeating: 0, count: prompts.count)
        // Without arrival times every label would be revealed at once; reveal in order instead.
        return predict(RequestFeatures(prompts: prompts, outputs: outputs, arrivals: arrivals), seed: seed, revealByIndex: true)
    }

    public func predict(_ features: RequestFeatures, seed: UInt64) -> [Int32] {
        predict(features, seed: seed, revealByIndex: false)
    }

    /// Running means of log(1 + output) over revealed labels, by group.
    struct Means {
        var sum: [Int: Double] = [:]
        var count: [Int: Double] = [:]
        func mean(_ key: Int) -> Double? { count[key].map { sum[key]! / $0 } }
        mutating func add(_ key: Int, _ v: Double) {
            sum[key, default: 0] += v
            count[key, default: 0] += 1
        }
    }

    func predict(_ f: RequestFeatures, seed: UInt64, revealByIndex: Bool) -> [Int32] {
        let n = f.count
        var rng = SeededRandom(seed: seed ^ 0x1EA4_4ED)
        let net = MLP(sizes: [Self.inputs, hidden, 1], activation: .tanh, rng: &rng, outputScale: 0.1)
        var adam = Adam(learningRate: learningRate)
        var session = Means(), model = Means(), bin = Means()
        var global = (sum: 0.0, count: 0.0)
        var x = [Double](repeating: 0, count: Self.inputs)
        var batchX: [Double] = [], batchY: [Double] = []
        var out = [Int32](repeating: 1, count: n)
        var ridge = RecursiveLeastSquares(size: Self.inputs + 1, ridge: 1)
        var revealed = 0

        func features(_ i: Int) {
            for k in x.indices { x[k] = 0 }
            let lp = log1p(Double(max(0, f.prompts[i])))
            let prior = global.count > 0 ? global.sum / global.count : 5
            x[0] = lp / 8
            x[1] = x[0] * x[0]
            if let s = f.session?[i], s >= 0, let m = session.mean(Int(s)) { x[2] = m / 8; x[3] = 1 } else { x[2] = prior / 8 }
            if let t = f.turn?[i] { x[4] = log1p(Double(max(0, t))) / 3 }
            x[5] = (f.model.flatMap { model.mean(Int($0[i])) } ?? prior) / 8
            x[6] = (bin.mean(Int(lp / log(2))) ?? prior) / 8
            if let m = f.model?[i] { x[7 + min(Int(m), Self.models - 1)] = 1 }
            if let l = f.logType?[i] { x[7 + Self.models + min(Int(l), Self.logTypes - 1)] = 1 }
        }

        func reveal(_ j: Int) {
            features(j)
            let y = log1p(Double(max(0, f.outputs[j])))
            batchX.append(contentsOf: x)
            batchY.append(y / 8)
            global.sum += y
            global.count += 1
            if let s = f.session?[j], s >= 0 { session.add(Int(s), y) }
            if let m = f.model?[j] { model.add(Int(m), y) }
            bin.add(Int(log1p(Double(max(0, f.prompts[j]))) / log(2)), y)
            if network {
                if batchY.count == Self.batch { train() }
            } else {
                ridge.update(x + [1], y / 8)
                batchX.removeAll(keepingCapacity: true)
                batchY.removeAll(keepingCapacity: true)
            }
        }

        func train() {
            let trace = net.forward(batchX, count: batchY.count)
            // Squared error (quantile 0) or the pinball loss, whose gradient is (1 − q) above the
            // label and −q below.
            let grad = (0..<batchY.count).map { k -> Double in
                let e = trace.output[k] - batchY[k]
                return (quantile == 0 ? 2 * e : (e > 0 ? 1 - quantile : -quantile)) / Double(batchY.count)
            }
            net.backward(trace, outputGradient: grad)
            adam.update(net.parameters)
            batchX.removeAll(keepingCapacity: true)
            batchY.removeAll(keepingCapacity: true)
        }

        for i in 0..<n {
            if revealByIndex {
                while revealed < i - Int(delay) { reveal(revealed); revealed += 1 }
            } else {
                while revealed < i && f.arrivals[revealed] + delay <= f.arrivals[i] { reveal(revealed); revealed += 1 }
            }
            features(i)
            let y = global.count == 0 ? log1p(128) : (network ? net(x)[0] : ridge.predict(x + [1])) * 8
            out[i] = Int32(min(1_000_000, max(1, expm1(min(y, 14)).rounded())))
        }
        return out
    }
}

/// Online ridge regression: after each (x, y) the weights minimise Σ (y − w·x)² + ridge · |w|²
/// over everything seen (Sherman–Morrison updates of the inverse Gram matrix, O(d²) each).
struct RecursiveLeastSquares {
    let size: Int
    var weights: [Double]
    var inverse: [Double]

    init(size: Int, ridge: Double) {
        self.size = size
        weights = [Double](repeating: 0, count: size)
        inverse = [Double](repeating: 0, count: size * size)
        for i in 0..<size { inverse[i * size + i] = 1 / ridge }
    }

    func predict(_ x: [Double]) -> Double {
        var s = 0.0
        for i in 0..<size { s += weights[i] * x[i] }
        return s
    }

    mutating func update(_ x: [Double], _ y: Double) {
        var px = [Double](repeating: 0, count: size)
        for i in 0..<size {
            var s = 0.0
            for j in 0..<size { s += inverse[i * size + j] * x[j] }
            px[i] = s
        }
        var denom = 1.0
        for i in 0..<size { denom += x[i] * px[i] }
        let error = y - predict(x)
        for i in 0..<size { weights[i] += px[i] / denom * error }
        // P is symmetric, so xᵀP = (Px)ᵀ.
        for i in 0..<size {
            let pi = px[i] / denom
            for j in 0..<size { inverse[i * size + j] -= pi * px[j] }
        }
    }
}

extension RequestFeatures {
    /// The features of a trace: arrivals in seconds, models, log types, sessions and each
    /// request's turn within its session (counted in arrival order).
    public init(_ trace: Trace) {
        var turn: [Int32]? = nil
        if let s = trace.sessionIndex {
            var seen: [Int32: Int32] = [:]
            turn = s.map { id in
                guard id >= 0 else { return 0 }
                let t = (seen[id] ?? 0) + 1
                seen[id] = t
                return t
            }
        }
        self.init(prompts: trace.promptTokens, outputs: trace.outputTokens, arrivals: trace.arrivals.map { Double($0) * 1e-9 },
                  model: trace.modelIndex, models: trace.labels.models, logType: trace.logTypeIndex, logTypes: trace.labels.logTypes,
                  session: trace.sessionIndex, turn: turn)
    }
}
