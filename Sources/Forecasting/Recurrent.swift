import Learning
import Foundation
import Workload

/// A small GRU forecaster trained by backpropagation through time on the `Tape`.
///
/// The standardised series is fed one value per step; every step predicts the next value through
/// a linear read-out of the hidden state (teacher forcing over windows of `sequence` steps).
/// Forecasts warm the state up on the last `sequence` values, then feed each prediction back in.
public final class GRUForecaster: ConformalForecaster {
    let hidden: Int
    let sequence: Int
    let epochs: Int
    let seed: UInt64
    var params: [Parameter] = []
    var mean = 0.0, scale = 1.0
    public private(set) var trainingSeconds = 0.0
    public private(set) var finalLoss = Double.nan

    public init(hidden: Int = 12, sequence: Int = 24, epochs: Int = 12, seed: UInt64 = 0) {
        self.hidden = hidden
        self.sequence = sequence
        self.epochs = epochs
        self.seed = seed
        super.init(name: "gru")
    }

    override public var minimumLength: Int { sequence + 8 }

    // Parameters: for each gate (update z, reset r, candidate n): input weights, recurrent weights, bias.
    var wz: Parameter { params[0] }
    var uz: Parameter { params[1] }
    var bz: Parameter { params[2] }
    var wr: Parameter { params[3] }
    var ur: Parameter { params[4] }
    var br: Parameter { params[5] }
    var wn: Parameter { params[6] }
    var un: Parameter { params[7] }
    var bn: Parameter { params[8] }
    var wo: Parameter { params[9] }
    var bo: Parameter { params[10] }

    func cell(_ t: Tape, _ x: Tape.Var, _ h: Tape.Var) -> Tape.Var {
        let z = t.sigmoid(t.add(t.add(t.matvec(wz, x), t.matvec(uz, h)), t.param(bz)))
        let r = t.sigmoid(t.add(t.add(t.matvec(wr, x), t.matvec(ur, h)), t.param(br)))
        let n = t.tanh(t.add(t.add(t.matvec(wn, x), t.param(bn)), t.mul(r, t.matvec(un, h))))
        return t.add(t.mul(t.oneMinus(z), n), t.mul(z, h))
    }

    func readout(_ t: Tape, _ h: Tape.Var) -> Tape.Var { t.add(t.matvec(wo, h), t.param(bo)) }

    override public func train(_ y: [Double]) throws {
        let started = Date()
        let z: [Double]
        (z, mean, scale) = standardise(y)
        var rng = SeededRandom(seed: seed ^ 0x6E0)
        let H = hidden
        params = []
        for _ in 0..<3 {
            params.append(Parameter(rows: H, cols: 1, rng: &rng))
            params.append(Parameter(rows: H, cols: H, rng: &rng))
            params.append(Parameter(zeros: H))
        }
        params.append(Parameter(rows: 1, cols: H, rng: &rng))
        params.append(Parameter(zeros: 1))
        var adam = Adam(learningRate: 0.01)
        let windowsPerEpoch = min(64, max(1, z.count / sequence))
        for _ in 0..<epochs {
            var total = 0.0
            for _ in 0..<windowsPerEpoch {
                let s = rng.integer(0, z.count - sequence - 1)
                let t = Tape()
                var h = t.constant(Array(repeating: 0, count: H))
                var losses: [Tape.Var] = []
                for k in 0..<sequence {
                    h = cell(t, t.constant([z[s + k]]), h)
                    losses.append(t.mse(readout(t, h), [z[s + k + 1]]))
                }
                let loss = t.sum(losses)
                t.backpropagate(loss)
                total += t.value(loss)[0] / Double(sequence)
                adam.update(params)
            }
            finalLoss = total / Double(windowsPerEpoch)
        }
        trainingSeconds = Date().timeIntervalSince(started)
    }

    override public func point(_ steps: Int) -> [Double] {
        let t = Tape()
        var h = t.constant(Array(repeating: 0, count: hidden))
        var last = 0.0
        for v in history.suffix(sequence) {
            h = cell(t, t.constant([(v - mean) / scale]), h)
            last = t.value(readout(t, h))[0]
        }
        var out: [Double] = []
        for _ in 0..<steps {
            out.append(last * scale + mean)
            h = cell(t, t.constant([last]), h)
            last = t.value(readout(t, h))[0]
        }
        return out
    }
}

/// A weighted mean of member forecasts, each weighted by the inverse of its recent one-step
/// mean absolute error (its last 100 out-of-sample errors). Members that fail to fit are left out;
/// when only one is left the ensemble is that member.
public final class EnsembleForecaster: ConformalForecaster {
    let makeMembers: () -> [ConformalForecaster]
    public private(set) var members: [ConformalForecaster] = []
    public private(set) var dropped: [String] = []

    public init(members: @escaping () -> [ConformalForecaster]) {
        makeMembers = members
        super.init(name: "ensemble")
    }

    override public var minimumLength: Int { 12 }

    override public func train(_ y: [Double]) throws {
        members = []
        dropped = []
        for m in makeMembers() {
            do { try m.fit(y); members.append(m) } catch { dropped.append(m.name) }
        }
        guard !members.isEmpty else { throw ForecastError("ensemble: no member could be fitted (\(dropped.joined(separator: ", ")))") }
    }

    override public func observe(_ y: Double) { for m in members { m.update(y) } }

    public var weights: [Double] {
        let raw = members.map { m -> Double in
            let recent = m.errors.first?.suffix(100) ?? []
            let mae = recent.isEmpty ? 1 : recent.reduce(0, +) / Double(recent.count)
            return 1 / max(mae, 1e-9)
        }
        let total = raw.reduce(0, +)
        return raw.map { $0 / total }
    }

    override public func point(_ horizon: Int) -> [Double] {
        let w = weights
        var out = [Double](repeating: 0, count: horizon)
        var usable = 0.0
        for (k, m) in members.enumerated() {
            let p = m.point(horizon)
            guard p.allSatisfy({ $0.isFinite }) else { continue }   // a failing member is skipped
            for h in 0..<horizon { out[h] += w[k] * p[h] }
            usable += w[k]
        }
        return usable > 0 ? out.map { $0 / usable } : Array(repeating: history.last ?? 0, count: horizon)
    }
}
