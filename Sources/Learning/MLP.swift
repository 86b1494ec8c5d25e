import Foundation
import Workload

/// Hidden-layer nonlinearity of a multilayer perceptron.
public enum Activation: String, Sendable, CaseIterable {
    case tanh, relu

    @inline(__always) func apply(_ x: Double) -> Double {
        switch self {
        case .tanh: return Foundation.tanh(x)
        case .relu: return x > 0 ? x : 0
        }
    }

    /// Derivative expressed through the activation's output (what the backward pass keeps).
    @inline(__always) func derivative(output y: Double) -> Double {
        switch self {
        case .tanh: return 1 - y * y
        case .relu: return y > 0 ? 1 : 0
        }
    }
}

/// A fully connected network: affine layers with `activation` between them and a linear output.
/// Forward and backward passes work on whole minibatches (rows of a row-major matrix) with the
/// gradients written out by hand, which is what makes RL training fast enough on two cores; the
/// tests check them against finite differences and against the `Tape`. Weights are `Parameter`s,
/// so `Adam` trains them like any other model.
public final class MLP {
    public let sizes: [Int]
    public let activation: Activation
    /// Per layer: weights (out × in) and biases (out).
    public private(set) var weights: [Parameter]
    public private(set) var biases: [Parameter]

    /// The activations of one batched forward pass, kept for `backward`.
    public struct Trace {
        public let count: Int
        /// layer outputs; `layers[0]` is the input, the last the network's output.
        public var layers: [[Double]]
        public var output: [Double] { layers[layers.count - 1] }
    }

    /// - Parameter outputScale: scales the last layer's initial weights (a small value starts a
    ///   policy near uniform and a value head near zero, the usual trick for stable starts).
    public init(sizes: [Int], activation: Activation = .tanh, rng: inout SeededRandom, outputScale: Double = 1) {
        precondition(sizes.count >= 2 && sizes.allSatisfy { $0 > 0 })
        self.sizes = sizes
        self.activation = activation
        weights = []
        biases = []
        for l in 0..<(sizes.count - 1) {
            let w = Parameter(rows: sizes[l + 1], cols: sizes[l], rng: &rng)
            if l == sizes.count - 2 { for i in w.value.indices { w.value[i] *= outputScale } }
            weights.append(w)
            biases.append(Parameter(zeros: sizes[l + 1]))
        }
    }

    /// A network with given weights (from a policy file); nil when the shapes do not agree.
    public init?(sizes: [Int], activation: Activation, weights w: [[Double]], biases b: [[Double]]) {
        guard sizes.count >= 2, w.count == sizes.count - 1, b.count == w.count else { return nil }
        self.sizes = sizes
        self.activation = activation
        weights = []
        biases = []
        for l in 0..<w.count {
            guard w[l].count == sizes[l] * sizes[l + 1], b[l].count == sizes[l + 1], (w[l] + b[l]).allSatisfy(\.isFinite) else { return nil }
            let p = Parameter(zeros: sizes[l + 1], cols: sizes[l])
            p.value = w[l]
            weights.append(p)
            let q = Parameter(zeros: sizes[l + 1])
            q.value = b[l]
            biases.append(q)
        }
    }

    public var parameters: [Parameter] { zip(weights, biases).flatMap { [$0, $1] } }
    public var inputSize: Int { sizes[0] }
    public var outputSize: Int { sizes[sizes.count - 1] }

    /// Copies another network's weights (same shape), as target networks do.
    public func copy(from other: MLP, blend tau: Double = 1) {
        for (a, b) in zip(parameters, other.parameters) {
            for i in a.value.indices { a.value[i] = tau * b.value[i] + (1 - tau) * a.value[i] }
        }
    }

    /// One input vector to one output vector, without keeping activations.
    public func callAsFunction(_ x: [Double]) -> [Double] { forward(x, count: 1).output }

    /// `count` inputs stacked row by row.
    public func forward(_ x: [Double], count: Int) -> Trace {
        precondition(x.count == count * sizes[0])
        var layers = [x]
        layers.reserveCapacity(sizes.count)
        for l in 0..<(sizes.count - 1) {
            let inSize = sizes[l], outSize = sizes[l + 1]
            let last = l == sizes.count - 2
            var y = [Double](repeating: 0, count: count * outSize)
            let input = layers[l]
            weights[l].value.withUnsafeBufferPointer { w in
                biases[l].value.withUnsafeBufferPointer { b in
                    input.withUnsafeBufferPointer { xin in
                        y.withUnsafeMutableBufferPointer { out in
                            for n in 0..<count {
                                let xb = n * inSize, yb = n * outSize
                                for o in 0..<outSize {
                                    var s = b[o]
                                    let wb = o * inSize
                                    for i in 0..<inSize { s += w[wb + i] * xin[xb + i] }
                                    out[yb + o] = last ? s : activation.apply(s)
                                }
                            }
                        }
                    }
                }
            }
            layers.append(y)
        }
        return Trace(count: count, layers: layers)
    }

    /// Accumulates d(loss)/d(parameters) into the parameters' `grad`, given d(loss)/d(output)
    /// per row; returns d(loss)/d(input) (for chaining networks, as SAC's actor does through Q).
    @discardableResult
    public func backward(_ trace: Trace, outputGradient: [Double]) -> [Double] {
        let count = trace.count
        precondition(outputGradient.count == count * outputSize)
        var delta = outputGradient
        for l in stride(from: sizes.count - 2, through: 0, by: -1) {
            let inSize = sizes[l], outSize = sizes[l + 1]
            let input = trace.layers[l]
            var below = [Double](repeating: 0, count: count * inSize)
            let w = weights[l], b = biases[l]
            delta.withUnsafeBufferPointer { d in
                input.withUnsafeBufferPointer { xin in
                    below.withUnsafeMutableBufferPointer { dx in
                        w.value.withUnsafeBufferPointer { wv in
                            w.grad.withUnsafeMutableBufferPointer { wg in
                                b.grad.withUnsafeMutableBufferPointer { bg in
                                    for n in 0..<count {
                                        let xb = n * inSize, db = n * outSize
                                        for o in 0..<outSize {
                                            let g = d[db + o]
                                            if g == 0 { continue }
                                            bg[o] += g
                                            let wb = o * inSize
                                            for i in 0..<inSize {
                                                wg[wb + i] += g * xin[xb + i]
                                                dx[xb + i] += g * wv[wb + i]
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            if l > 0 {
                // Through the hidden activation whose output is `input`.
                for k in below.indices { below[k] *= activation.derivative(output: input[k]) }
            }
            delta = below
        }
        return delta
    }

    public func zeroGradients() {
        for p in parameters { for i in p.grad.indices { p.grad[i] = 0 } }
    }
}

/// Running mean and variance (Welford, merged per batch), used to normalise observations and to
/// scale rewards. Frozen in a trained policy so deployment sees the statistics training saw.
public struct RunningMoments: Sendable, Equatable {
    public var mean: [Double]
    public var variance: [Double]
    public var count: Double

    public init(size: Int) {
        mean = Array(repeating: 0, count: size)
        variance = Array(repeating: 1, count: size)
        count = 1e-4
    }

    public init(mean: [Double], variance: [Double], count: Double) {
        self.mean = mean
        self.variance = variance
        self.count = count
    }

    public mutating func update(_ x: [Double]) {
        precondition(x.count == mean.count)
        let n = count + 1
        for i in mean.indices {
            let d = x[i] - mean[i]
            mean[i] += d / n
            variance[i] = (variance[i] * count + d * (x[i] - mean[i])) / n
        }
        count = n
    }

    /// (x − mean) / sd, clipped to ±clip.
    public func normalise(_ x: [Double], clip: Double = 10) -> [Double] {
        var out = x
        for i in out.indices {
            let v = (x[i] - mean[i]) / (max(variance[i], 1e-8)).squareRoot()
            out[i] = min(clip, max(-clip, v))
        }
        return out
    }
}

/// A categorical distribution from logits: sampling, log-probabilities, entropy and the gradients
/// policy-gradient losses need.
public enum Categorical {
    public static func probabilities(_ logits: ArraySlice<Double>) -> [Double] {
        let m = logits.max() ?? 0
        var p = logits.map { exp($0 - m) }
        let s = p.reduce(0, +)
        for i in p.indices { p[i] /= s }
        return p
    }

    public static func sample(_ p: [Double], _ rng: inout SeededRandom) -> Int {
        let u = rng.uniform()
        var acc = 0.0
        for (i, q) in p.enumerated() {
            acc += q
            if u < acc { return i }
        }
        return p.count - 1
    }

    public static func argmax(_ p: [Double]) -> Int { p.indices.max { p[$0] < p[$1] } ?? 0 }

    public static func logProbability(_ p: [Double], _ a: Int) -> Double { log(max(p[a], 1e-12)) }

    public static func entropy(_ p: [Double]) -> Double { -p.reduce(0) { $0 + ($1 > 0 ? $1 * log($1) : 0) } }

    /// d log p(a) / d logits = onehot(a) − p.
    public static func logProbabilityGradient(_ p: [Double], _ a: Int) -> [Double] {
        var g = p.map { -$0 }
        g[a] += 1
        return g
    }

    /// d H / d logits_j = −p_j (log p_j + H).
    public static func entropyGradient(_ p: [Double]) -> [Double] {
        let h = entropy(p)
        return p.map { $0 > 0 ? -$0 * (log($0) + h) : 0 }
    }
}
