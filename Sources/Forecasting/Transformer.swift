import Foundation
import Learning
import Workload

/// A small Transformer encoder (Vaswani et al., 2017) over the last `lookBack` values of the
/// standardised series. Each value becomes a `width`-wide token (a learned linear map of the
/// value plus a learned position embedding); `layers` pre-norm encoder blocks follow (multi-head
/// self-attention over every position, then a ReLU feed-forward twice as wide, each added back
/// to its input); after a final layer norm a linear head reads all positions at once (flattened,
/// as PatchTST does) and gives the next `horizon` values directly. Trained by Adam on mean
/// squared error over sliding windows with early stopping on a validation split (the same
/// trainer as the recurrent nets). Longer horizons are forecast recursively; a short series
/// gets a shorter look-back (half of what it leaves after a horizon, at least 4).
public final class TransformerForecaster: ConformalForecaster, PooledTraining {
    let requestedLookBack: Int
    var lookBackRule: LookBackRule { LookBackRule(requested: requestedLookBack, least: 4) }
    /// The look-back of the last fit.
    public private(set) var lookBack: Int
    let horizon: Int
    let width: Int
    let heads: Int
    let layerCount: Int
    let epochs: Int
    let patience: Int
    let seed: UInt64
    var mean = 0.0, scale = 1.0
    public private(set) var trainingSeconds = 0.0
    /// Best validation loss (mean squared error per forecast value, standardised), and the epochs run.
    public private(set) var validationLoss = Double.nan
    public private(set) var epochsRun = 0

    /// One encoder block's parameters.
    struct Block {
        let norm1Gain: Parameter, norm1Bias: Parameter
        let query: Parameter, key: Parameter, value: Parameter, output: Parameter, outputBias: Parameter
        let norm2Gain: Parameter, norm2Bias: Parameter
        let up: Parameter, upBias: Parameter, down: Parameter, downBias: Parameter

        init(width: Int, _ rng: inout SeededRandom) {
            (norm1Gain, norm1Bias) = Block.norm(width)
            query = Parameter(rows: width, cols: width, rng: &rng)
            key = Parameter(rows: width, cols: width, rng: &rng)
            value = Parameter(rows: width, cols: width, rng: &rng)
            output = Parameter(rows: width, cols: width, rng: &rng)
            outputBias = Parameter(zeros: width)
            (norm2Gain, norm2Bias) = Block.norm(width)
            up = Parameter(rows: 2 * width, cols: width, rng: &rng)
            upBias = Parameter(zeros: 2 * width)
            down = Parameter(rows: width, cols: 2 * width, rng: &rng)
            downBias = Parameter(zeros: width)
        }

        /// A layer norm's gain (ones) and bias (zeros).
        static func norm(_ width: Int) -> (Parameter, Parameter) {
            let gain = Parameter(zeros: width)
            gain.value = Array(repeating: 1, count: width)
            return (gain, Parameter(zeros: width))
        }

        var parameters: [Parameter] {
            [norm1Gain, norm1Bias, query, key, value, output, outputBias, norm2Gain, norm2Bias, up, upBias, down, downBias]
        }
    }

    var embedding: Parameter?, embeddingBias: Parameter?, position: Parameter?
    var blocks: [Block] = []
    var finalGain: Parameter?, finalBias: Parameter?
    var head: Parameter?, headBias: Parameter?

    /// `width` must be divisible by `heads`.
    public init(lookBack: Int = 24, horizon: Int = 12, width: Int = 16, heads: Int = 2, layers: Int = 1,
                epochs: Int = 30, patience: Int = 4, seed: UInt64 = 0) {
        precondition(width % max(1, heads) == 0, "the width must be divisible by the number of heads")
        requestedLookBack = lookBack
        self.lookBack = lookBack
        self.horizon = horizon
        self.width = width
        self.heads = heads
        layerCount = layers
        self.epochs = epochs
        self.patience = patience
        self.seed = seed
        super.init(name: "transformer")
    }

    override public var minimumLength: Int { lookBackRule.minimumLength(horizon: horizon) }

    /// Trained once: a second pass of gradient descent would double the cost for little change on a standardised series.
    override public var refitsOnWholeSeries: Bool { false }

    var parameters: [Parameter] {
        [embedding!, embeddingBias!, position!] + blocks.flatMap(\.parameters) + [finalGain!, finalBias!, head!, headBias!]
    }

    /// The next `horizon` standardised values from a window of `lookBack` of them.
    func forward(_ t: Tape, _ window: ArraySlice<Double>) -> Tape.Var {
        let n = window.count
        var h = t.add(t.linearRows(t.constant(Array(window)), rows: n, embedding!, embeddingBias), t.param(position!))
        for b in blocks {
            let a = t.layerNormRows(h, rows: n, gain: b.norm1Gain, bias: b.norm1Bias)
            let attended = t.attention(queries: t.linearRows(a, rows: n, b.query, nil), keys: t.linearRows(a, rows: n, b.key, nil),
                                       values: t.linearRows(a, rows: n, b.value, nil), rows: n, heads: heads, causal: false)
            h = t.add(h, t.linearRows(attended, rows: n, b.output, b.outputBias))
            let m = t.layerNormRows(h, rows: n, gain: b.norm2Gain, bias: b.norm2Bias)
            h = t.add(h, t.linearRows(t.relu(t.linearRows(m, rows: n, b.up, b.upBias)), rows: n, b.down, b.downBias))
        }
        return t.affine([(head!, t.layerNormRows(h, rows: n, gain: finalGain!, bias: finalBias!))], bias: headBias)
    }

    override public func train(_ y: [Double]) throws {
        if !shared { try trainWeights([y]) }
        (_, mean, scale) = standardise(y)
    }

    /// Weights shared with other series (a global model): `train` then only standardises.
    var shared = false

    /// Fits the weights on windows of every series, each standardised by its own mean and
    /// deviation; the look-back shortens to fit the shortest.
    func trainWeights(_ series: [[Double]]) throws {
        let started = Date()
        let shortest = series.map(\.count).min() ?? 0
        lookBack = lookBackRule.lookBack(length: shortest, horizon: horizon)
        let z = series.map { standardise($0).z }
        var rng = SeededRandom(seed: seed ^ 0x7F5)
        embedding = Parameter(rows: width, cols: 1, rng: &rng)
        embeddingBias = Parameter(zeros: width)
        position = Parameter(rows: lookBack, cols: width, rng: &rng, scale: 0.1)
        blocks = (0..<layerCount).map { _ in Block(width: width, &rng) }
        (finalGain, finalBias) = Block.norm(width)
        head = Parameter(rows: horizon, cols: lookBack * width, rng: &rng)
        headBias = Parameter(zeros: horizon)
        var trainer = EarlyStopping(epochs: epochs, patience: patience)
        trainer.learningRate = 0.005
        let outcome = trainer.train(parameters, windowStarts: z.map { $0.count - lookBack - horizon + 1 }, span: horizon, rng: &rng) { w, recording in
            let t = Tape(recording: recording)
            let series = z[w.series], s = w.start
            let target = Array(series[(s + lookBack)..<(s + lookBack + horizon)])
            return (t, t.mse(forward(t, series[s..<(s + lookBack)]), target))
        }
        validationLoss = outcome.validationLoss
        epochsRun = outcome.epochsRun
        trainingSeconds = Date().timeIntervalSince(started)
    }

    override public func point(_ steps: Int) -> [Double] {
        recursiveForecast(history, lookBack: lookBack, mean: mean, scale: scale, steps: steps) { window in
            let t = Tape(recording: false)
            return t.value(forward(t, window))
        }
    }
}

extension TransformerForecaster {
    /// One set of weights trained on windows of every series (see `trainWeights`).
    public func trainPooled(_ series: [[Double]]) throws {
        shared = false
        try requireLength(series)
        try trainWeights(series)
        shared = true
    }

    public func sharingParameters() -> ConformalForecaster {
        let copy = TransformerForecaster(lookBack: requestedLookBack, horizon: horizon, width: width, heads: heads, layers: layerCount,
                                         epochs: epochs, patience: patience, seed: seed)
        copy.lookBack = lookBack
        (copy.embedding, copy.embeddingBias, copy.position) = (embedding, embeddingBias, position)
        copy.blocks = blocks
        (copy.finalGain, copy.finalBias, copy.head, copy.headBias) = (finalGain, finalBias, head, headBias)
        copy.shared = true
        return copy
    }
}
