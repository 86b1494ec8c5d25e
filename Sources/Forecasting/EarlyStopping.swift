import Foundation
import Learning
import Workload

/// Adam over windows of standardised series with early stopping, shared by the recurrent nets
/// and the Transformer, for one series or a pool of them (a global model). Series k has windows
/// starting at 0 ..< `windowStarts[k]`; those from 80% of the way hold out for validation (up to
/// 16 in all, evenly spaced over the held-out windows of every series) when the series leave
/// room for them. Each epoch draws up to 64 training windows at random from every series'
/// training part (about one per `span` observations); after it the mean validation loss is
/// measured on an evaluating tape, the best parameters are kept, and training stops once
/// `patience` epochs bring no improvement.
struct EarlyStopping {
    var epochs: Int
    var patience: Int
    var learningRate = 0.01

    struct Outcome {
        /// Mean training loss of the last epoch run.
        var finalLoss = Double.nan
        /// Best mean validation loss (NaN when the series left no room to validate).
        var validationLoss = Double.nan
        var epochsRun = 0
    }

    /// A window: which series, and where it starts.
    typealias Window = (series: Int, start: Int)

    /// `loss(window, recording)` builds one window's loss on a fresh tape: recording for a
    /// training step, not for validation.
    func train(_ params: [Parameter], windowStarts: [Int], span: Int, rng: inout SeededRandom,
               loss: (Window, Bool) -> (Tape, Tape.Var)) -> Outcome {
        var training: [(series: Int, count: Int)] = [], held: [Window] = []
        for (k, starts) in windowStarts.enumerated() where starts > 0 {
            let lastStart = starts - 1
            let split = max(1, Int(Double(lastStart) * 0.8))
            if split < lastStart {
                training.append((k, split))
                held += (split...lastStart).map { (k, $0) }
            } else {
                training.append((k, lastStart))
            }
        }
        let validation: [Window] = held.count <= 16 ? held
            : (0..<16).map { held[($0 * (held.count - 1)) / 15] }
        let trainingWindows = training.reduce(0) { $0 + max(1, $1.count) }
        var adam = Adam(learningRate: learningRate)
        let windowsPerEpoch = min(64, max(1, trainingWindows / max(1, span)))
        var best = (loss: Double.infinity, values: params.map(\.value))
        var stale = 0
        var outcome = Outcome()
        func draw() -> Window {
            // Uniform over every series' training starts.
            var i = rng.integer(0, max(0, trainingWindows - 1))
            for part in training {
                if i < max(1, part.count) { return (part.series, min(i, max(0, part.count - 1))) }
                i -= max(1, part.count)
            }
            return (training.last?.series ?? 0, 0)
        }
        for _ in 0..<epochs {
            var total = 0.0
            for _ in 0..<windowsPerEpoch {
                let (t, l) = loss(draw(), true)
                t.backpropagate(l)
                total += t.value(l)[0]
                adam.update(params)
            }
            outcome.finalLoss = total / Double(windowsPerEpoch)
            outcome.epochsRun += 1
            guard !validation.isEmpty else { continue }
            let v = validation.reduce(0.0) { sum, w in
                let (t, l) = loss(w, false)
                return sum + t.value(l)[0]
            } / Double(validation.count)
            if v < best.loss {
                best = (v, params.map(\.value))
                stale = 0
            } else {
                stale += 1
                if stale >= patience { break }
            }
        }
        if !validation.isEmpty {
            for (p, v) in zip(params, best.values) { p.value = v }
            outcome.validationLoss = best.loss
        }
        return outcome
    }
}
