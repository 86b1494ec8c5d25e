import Learning
import Foundation
import Workload

/// The shared machinery of the recurrent forecasters, trained by backpropagation through time on
/// the `Tape`. The standardised series is fed one value per step; every step predicts the next
/// value through a linear read-out of the hidden state (teacher forcing over windows of
/// `sequence` steps). Training holds out the last 20% of the series for validation: after each
/// epoch the mean loss on up to 16 fixed validation windows is measured, the best parameters
/// are kept, and training stops once `patience` epochs bring no improvement (early stopping).
/// Forecasts warm the state up on the last `sequence` values, then feed each prediction back in.
/// A subclass supplies its cell: its parameters, its state vectors and one step.
open class RecurrentForecaster: ConformalForecaster, PooledTraining {
    let hidden: Int
    let sequence: Int
    let epochs: Int
    let seed: UInt64
    let patience: Int
    var params: [Parameter] = []
    var mean = 0.0, scale = 1.0
    public private(set) var trainingSeconds = 0.0
    /// Training loss of the last epoch run.
    public private(set) var finalLoss = Double.nan
    /// Best validation loss, and the epochs run before stopping.
    public private(set) var validationLoss = Double.nan
    public private(set) var epochsRun = 0

    public init(name: String, hidden: Int, sequence: Int, epochs: Int, seed: UInt64, patience: Int = 3) {
        self.hidden = hidden
        self.sequence = sequence
        self.epochs = epochs
        self.seed = seed
        self.patience = patience
        super.init(name: name)
    }

    override public var minimumLength: Int { sequence + 8 }

    /// Trained once: a second pass of backpropagation would double the cost for little change on a standardised series.
    override public var refitsOnWholeSeries: Bool { false }

    /// The cell's parameters (the read-out is added after them).
    open func cellParameters(_ rng: inout SeededRandom) -> [Parameter] { [] }
    /// How many state vectors of `hidden` values the cell carries; the first is what the read-out sees.
    open var stateCount: Int { 1 }
    /// One step: the new state from input x and the previous state.
    open func cell(_ t: Tape, _ x: Tape.Var, _ state: [Tape.Var]) -> [Tape.Var] { state }

    var readoutWeights: Parameter { params[params.count - 2] }
    var readoutBias: Parameter { params[params.count - 1] }
    func readout(_ t: Tape, _ h: Tape.Var) -> Tape.Var { t.affine([(readoutWeights, h)], bias: readoutBias) }
    /// One gate's pre-activation W·x + U·h + b from the three parameters starting at `first`.
    func gate(_ t: Tape, _ first: Int, _ x: Tape.Var, _ h: Tape.Var) -> Tape.Var {
        t.affine([(params[first], x), (params[first + 1], h)], bias: params[first + 2])
    }

    func zeroState(_ t: Tape) -> [Tape.Var] { (0..<stateCount).map { _ in t.constant(Array(repeating: 0, count: hidden)) } }

    /// The one-step squared errors over the window starting at s, summed (on a fresh tape).
    func windowLoss(_ z: [Double], _ s: Int, recording: Bool) -> (Tape, Tape.Var) {
        let t = Tape(recording: recording)
        var state = zeroState(t)
        var losses: [Tape.Var] = []
        for k in 0..<sequence {
            state = cell(t, t.constant([z[s + k]]), state)
            losses.append(t.mse(readout(t, state[0]), [z[s + k + 1]]))
        }
        return (t, t.sum(losses))
    }

    override public func train(_ y: [Double]) throws {
        if shared {
            (_, mean, scale) = standardise(y)
            return
        }
        try trainWeights([y])
        (_, mean, scale) = standardise(y)
    }

    /// Weights shared with other series (a global model): `train` then only standardises.
    var shared = false

    /// Fits the weights on windows of every series, each standardised by its own mean and deviation.
    func trainWeights(_ series: [[Double]]) throws {
        let started = Date()
        let z = series.map { standardise($0).z }
        var rng = SeededRandom(seed: seed ^ 0x6E0)
        params = cellParameters(&rng) + [Parameter(rows: 1, cols: hidden, rng: &rng), Parameter(zeros: 1)]
        let outcome = EarlyStopping(epochs: epochs, patience: patience)
            .train(params, windowStarts: z.map { $0.count - sequence }, span: sequence, rng: &rng) { w, recording in
                windowLoss(z[w.series], w.start, recording: recording)
            }
        finalLoss = outcome.finalLoss / Double(sequence)
        validationLoss = outcome.validationLoss / Double(sequence)
        epochsRun = outcome.epochsRun
        trainingSeconds = Date().timeIntervalSince(started)
    }

    /// A new, untrained forecaster of the same kind and settings, which a global model hands its
    /// weights to (nil: this kind cannot be trained globally). Subclasses override it.
    open func sibling() -> RecurrentForecaster? { nil }

    override public func point(_ steps: Int) -> [Double] {
        let t = Tape(recording: false)
        var state = zeroState(t)
        for v in history.suffix(sequence) { state = cell(t, t.constant([(v - mean) / scale]), state) }
        // The read-out of the warm-up's last state only: the earlier ones feed nothing.
        var last = history.isEmpty ? 0 : t.value(readout(t, state[0]))[0]
        var out: [Double] = []
        for _ in 0..<steps {
            out.append(last * scale + mean)
            state = cell(t, t.constant([last]), state)
            last = t.value(readout(t, state[0]))[0]
        }
        return out
    }
}

extension RecurrentForecaster {
    /// One set of weights trained on windows of every series, each standardised by its own mean
    /// and deviation; validation windows come from the end of each series.
    public func trainPooled(_ series: [[Double]]) throws {
        shared = false
        guard sibling() != nil else { throw ForecastError("\(name): this forecaster cannot be trained globally (its class gives no sibling())") }
        try requireLength(series)
        try trainWeights(series)
        shared = true
    }

    public func sharingParameters() -> ConformalForecaster {
        let copy = sibling()!   // trainPooled refused a class without one
        copy.params = params
        copy.shared = true
        return copy
    }
}

/// A small GRU (Cho et al., 2014): update gate z, reset gate r, candidate n;
/// h' = (1 − z)·n + z·h.
public final class GRUForecaster: RecurrentForecaster {
    public init(hidden: Int = 12, sequence: Int = 24, epochs: Int = 12, seed: UInt64 = 0, patience: Int = 3) {
        super.init(name: "gru", hidden: hidden, sequence: sequence, epochs: epochs, seed: seed, patience: patience)
    }

    override public func sibling() -> RecurrentForecaster? {
        GRUForecaster(hidden: hidden, sequence: sequence, epochs: epochs, seed: seed, patience: patience)
    }

    /// Per gate (z, r, n): input weights, recurrent weights, bias.
    override public func cellParameters(_ rng: inout SeededRandom) -> [Parameter] {
        (0..<3).flatMap { _ in [Parameter(rows: hidden, cols: 1, rng: &rng), Parameter(rows: hidden, cols: hidden, rng: &rng), Parameter(zeros: hidden)] }
    }

    override public func cell(_ t: Tape, _ x: Tape.Var, _ state: [Tape.Var]) -> [Tape.Var] {
        let h = state[0]
        let z = t.sigmoid(gate(t, 0, x, h))
        let r = t.sigmoid(gate(t, 3, x, h))
        let n = t.tanh(t.add(t.affine([(params[6], x)], bias: params[8]), t.mul(r, t.matvec(params[7], h))))
        return [t.add(t.mul(t.oneMinus(z), n), t.mul(z, h))]
    }
}

/// A small LSTM (Hochreiter & Schmidhuber, 1997): input, forget and output gates and a candidate;
/// c' = f·c + i·g, h' = o·tanh(c'). The forget gate's bias starts at 1 (Jozefowicz et al., 2015),
/// so the cell remembers by default early in training.
public final class LSTMForecaster: RecurrentForecaster {
    public init(hidden: Int = 12, sequence: Int = 24, epochs: Int = 12, seed: UInt64 = 0, patience: Int = 3) {
        super.init(name: "lstm", hidden: hidden, sequence: sequence, epochs: epochs, seed: seed, patience: patience)
    }

    override public func sibling() -> RecurrentForecaster? {
        LSTMForecaster(hidden: hidden, sequence: sequence, epochs: epochs, seed: seed, patience: patience)
    }

    override public var stateCount: Int { 2 }

    /// Per gate (i, f, o, g): input weights, recurrent weights, bias.
    override public func cellParameters(_ rng: inout SeededRandom) -> [Parameter] {
        (0..<4).flatMap { g -> [Parameter] in
            let bias = Parameter(zeros: hidden)
            if g == 1 { bias.value = Array(repeating: 1, count: hidden) }
            return [Parameter(rows: hidden, cols: 1, rng: &rng), Parameter(rows: hidden, cols: hidden, rng: &rng), bias]
        }
    }

    override public func cell(_ t: Tape, _ x: Tape.Var, _ state: [Tape.Var]) -> [Tape.Var] {
        let h = state[0], c = state[1]
        let i = t.sigmoid(gate(t, 0, x, h)), f = t.sigmoid(gate(t, 3, x, h)), o = t.sigmoid(gate(t, 6, x, h)), g = t.tanh(gate(t, 9, x, h))
        let next = t.add(t.mul(f, c), t.mul(i, g))
        return [t.mul(o, t.tanh(next)), next]
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

    /// The members refit on their whole series themselves; the weights come from the held-out part.
    override public var refitsOnWholeSeries: Bool { false }

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
