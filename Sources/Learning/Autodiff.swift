import Foundation
import Workload

/// A trainable matrix (rows × cols; a vector when cols == 1) with its gradient.
public final class Parameter {
    public let rows: Int
    public let cols: Int
    // Read and written by every operation and optimiser step, never overlappingly: the
    // runtime's per-access exclusivity checks are off (they cost more than a small layer's work).
    @exclusivity(unchecked) public var value: [Double]
    @exclusivity(unchecked) public var grad: [Double]
    // Adam moments.
    @exclusivity(unchecked) var m: [Double]
    @exclusivity(unchecked) var v: [Double]

    /// Glorot-uniform initialisation from the given generator.
    public init(rows: Int, cols: Int, rng: inout SeededRandom, scale: Double? = nil) {
        self.rows = rows
        self.cols = cols
        let limit = scale ?? (6.0 / Double(rows + cols)).squareRoot()
        value = (0..<(rows * cols)).map { _ in (rng.uniform() * 2 - 1) * limit }
        grad = Array(repeating: 0, count: rows * cols)
        m = grad
        v = grad
    }

    public init(zeros rows: Int, cols: Int = 1) {
        self.rows = rows
        self.cols = cols
        value = Array(repeating: 0, count: rows * cols)
        grad = value
        m = value
        v = value
    }
}

/// Reverse-mode automatic differentiation over vectors: each operation records its result and,
/// when the tape records gradients, a closure that pushes the result's gradient back to its
/// inputs. A tape made with `recording: false` only evaluates (forecasting with a trained
/// network): no gradients or closures are kept. Variables are flat vectors; the row-wise
/// operations (`linearRows`, `layerNormRows`, `attention`) read one as a matrix of `rows` rows,
/// which is how a sequence of token vectors passes through a Transformer in one operation.
public final class Tape {
    public struct Var { public let id: Int }
    // Read and appended by every operation, never accessed overlappingly (an operation reads its
    // inputs, then appends): the runtime's per-access exclusivity checks, which cost more than a
    // small network's arithmetic, are off.
    @exclusivity(unchecked) public private(set) var values: [[Double]] = []
    @exclusivity(unchecked) var grads: [[Double]] = []
    @exclusivity(unchecked) private var backward: [(Tape) -> Void] = []
    /// Whether gradients can be taken (false: evaluation only).
    public let recording: Bool

    public init(recording: Bool = true) { self.recording = recording }

    public func value(_ v: Var) -> [Double] { values[v.id] }
    public func gradient(_ v: Var) -> [Double] { grads[v.id] }

    /// Appends a result (and, when recording, its zero gradient).
    private func push(_ value: [Double]) -> Var {
        values.append(value)
        if recording { grads.append(Array(repeating: 0, count: value.count)) }
        return Var(id: values.count - 1)
    }

    /// Records how a result's gradient reaches its inputs. Callers check `recording` first so an
    /// evaluating tape allocates no closure.
    private func onBackward(_ back: @escaping (Tape) -> Void) { backward.append(back) }

    public func constant(_ v: [Double]) -> Var { push(v) }

    /// W·x: W is a parameter matrix, x a vector.
    public func matvec(_ w: Parameter, _ x: Var) -> Var { affine([(w, x)], bias: nil) }

    /// out[i·W.rows + r] += Σ_c W[r, c]·x[i·W.cols + c] for each of the `n` rows of x, on
    /// unchecked buffers: these loops are most of a network's time.
    private static func multiplyRows(_ w: Parameter, _ x: [Double], rows n: Int, into out: inout [Double]) {
        let (outputs, inputs) = (w.rows, w.cols)
        out.withUnsafeMutableBufferPointer { o in
            x.withUnsafeBufferPointer { xb in
                w.value.withUnsafeBufferPointer { wb in
                    for i in 0..<n {
                        for r in 0..<outputs {
                            var s = 0.0
                            let base = r * inputs, xi = i * inputs
                            for c in 0..<inputs { s += wb[base + c] * xb[xi + c] }
                            o[i * outputs + r] += s
                        }
                    }
                }
            }
        }
    }

    /// The gradients of `multiplyRows` from the output's gradient g (n × W.rows): W.grad += gᵀ·x
    /// and dx += g·W.
    private static func multiplyRowsBackward(_ w: Parameter, _ x: [Double], _ g: [Double], rows n: Int, into dx: inout [Double]) {
        let (outputs, inputs) = (w.rows, w.cols)
        dx.withUnsafeMutableBufferPointer { d in
            g.withUnsafeBufferPointer { gb in
                x.withUnsafeBufferPointer { xb in
                    w.value.withUnsafeBufferPointer { wb in
                        w.grad.withUnsafeMutableBufferPointer { wg in
                            for i in 0..<n {
                                for r in 0..<outputs {
                                    let gr = gb[i * outputs + r]
                                    guard gr != 0 else { continue }
                                    let base = r * inputs, xi = i * inputs
                                    for c in 0..<inputs {
                                        wg[base + c] += gr * xb[xi + c]
                                        d[xi + c] += gr * wb[base + c]
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Σ_k W_k·x_k + b in one operation (a gate of a recurrent cell, a read-out).
    public func affine(_ terms: [(Parameter, Var)], bias: Parameter?) -> Var {
        let rows = terms.first?.0.rows ?? bias?.rows ?? 0
        var out = bias?.value ?? [Double](repeating: 0, count: rows)
        precondition(out.count == rows)
        for (w, x) in terms {
            precondition(w.rows == rows && values[x.id].count == w.cols)
            Self.multiplyRows(w, values[x.id], rows: 1, into: &out)
        }
        let result = push(out)
        guard recording else { return result }
        onBackward { t in
            let g = t.grads[result.id]
            if let b = bias { for i in 0..<rows { b.grad[i] += g[i] } }
            for (w, x) in terms { Self.multiplyRowsBackward(w, t.values[x.id], g, rows: 1, into: &t.grads[x.id]) }
        }
        return result
    }

    /// Y[i] = W·X[i] + b for each of the `rows` rows of X (X is rows × W.cols, Y rows × W.rows).
    public func linearRows(_ x: Var, rows n: Int, _ w: Parameter, _ bias: Parameter?) -> Var {
        let outputs = w.rows
        precondition(values[x.id].count == n * w.cols && (bias?.value.count ?? outputs) == outputs)
        var out = [Double](repeating: 0, count: n * outputs)
        Self.multiplyRows(w, values[x.id], rows: n, into: &out)
        if let b = bias { for i in 0..<n { for r in 0..<outputs { out[i * outputs + r] += b.value[r] } } }
        let result = push(out)
        guard recording else { return result }
        onBackward { t in
            let g = t.grads[result.id]
            if let b = bias {
                for i in 0..<n { for r in 0..<outputs { b.grad[r] += g[i * outputs + r] } }
            }
            Self.multiplyRowsBackward(w, t.values[x.id], g, rows: n, into: &t.grads[x.id])
        }
        return result
    }

    /// Layer normalisation of each row: (x − mean) / sqrt(variance + 1e-5) · gain + bias
    /// (Ba et al., 2016); gain and bias have one value per column.
    public func layerNormRows(_ x: Var, rows n: Int, gain: Parameter, bias: Parameter) -> Var {
        let xv = values[x.id]
        let d = gain.value.count
        precondition(xv.count == n * d && bias.value.count == d)
        var normalised = [Double](repeating: 0, count: n * d), inverse = [Double](repeating: 0, count: n)
        var out = normalised
        for i in 0..<n {
            let row = xv[(i * d)..<((i + 1) * d)]
            let mean = row.reduce(0, +) / Double(d)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(d)
            inverse[i] = 1 / (variance + 1e-5).squareRoot()
            for j in 0..<d {
                normalised[i * d + j] = (xv[i * d + j] - mean) * inverse[i]
                out[i * d + j] = normalised[i * d + j] * gain.value[j] + bias.value[j]
            }
        }
        let result = push(out)
        guard recording else { return result }
        onBackward { t in
            let g = t.grads[result.id]
            var dx = t.grads[x.id]
            for i in 0..<n {
                var meanD = 0.0, meanDX = 0.0
                for j in 0..<d {
                    let k = i * d + j
                    gain.grad[j] += g[k] * normalised[k]
                    bias.grad[j] += g[k]
                    let dn = g[k] * gain.value[j]
                    meanD += dn
                    meanDX += dn * normalised[k]
                }
                meanD /= Double(d)
                meanDX /= Double(d)
                for j in 0..<d {
                    let k = i * d + j
                    dx[k] += inverse[i] * (g[k] * gain.value[j] - meanD - normalised[k] * meanDX)
                }
            }
            t.grads[x.id] = dx
        }
        return result
    }

    /// Scaled dot-product self-attention (Vaswani et al., 2017) over `rows` positions with
    /// `heads` heads: queries, keys and values are rows × width (width divisible by heads); head h
    /// uses columns h·width/heads ..< (h+1)·width/heads. Each position's output is the softmax of
    /// its query against every key (only earlier positions and itself when `causal`), scaled by
    /// 1/√(width/heads), weighting the values. Heads are concatenated (rows × width).
    public func attention(queries q: Var, keys k: Var, values v: Var, rows n: Int, heads: Int, causal: Bool) -> Var {
        let qv = values[q.id], kv = values[k.id], vv = values[v.id]
        let width = qv.count / max(1, n)
        precondition(n > 0 && heads > 0 && width % heads == 0 && qv.count == n * width && kv.count == qv.count && vv.count == qv.count)
        let dh = width / heads
        let scale = 1 / Double(dh).squareRoot()
        // weights[(h · n + i) · n + j]: head h, position i attending to j.
        var weights = [Double](repeating: 0, count: heads * n * n)
        var out = [Double](repeating: 0, count: n * width)
        for h in 0..<heads {
            let c0 = h * dh
            for i in 0..<n {
                let last = causal ? i : n - 1
                var top = -Double.infinity
                let w0 = (h * n + i) * n
                for j in 0...last {
                    var s = 0.0
                    for c in 0..<dh { s += qv[i * width + c0 + c] * kv[j * width + c0 + c] }
                    weights[w0 + j] = s * scale
                    top = max(top, s * scale)
                }
                var total = 0.0
                for j in 0...last { weights[w0 + j] = exp(weights[w0 + j] - top); total += weights[w0 + j] }
                for j in 0...last {
                    weights[w0 + j] /= total
                    for c in 0..<dh { out[i * width + c0 + c] += weights[w0 + j] * vv[j * width + c0 + c] }
                }
            }
        }
        let result = push(out)
        guard recording else { return result }
        onBackward { t in
            let g = t.grads[result.id]
            let qv = t.values[q.id], kv = t.values[k.id], vv = t.values[v.id]
            // Separate buffers: q, k and v may be one variable, whose gradients then add.
            var dq = [Double](repeating: 0, count: n * width), dk = dq, dvv = dq
            var dWeight = [Double](repeating: 0, count: n)
            for h in 0..<heads {
                let c0 = h * dh
                for i in 0..<n {
                    let last = causal ? i : n - 1
                    let w0 = (h * n + i) * n
                    var weighted = 0.0
                    for j in 0...last {
                        var s = 0.0
                        for c in 0..<dh {
                            s += g[i * width + c0 + c] * vv[j * width + c0 + c]
                            dvv[j * width + c0 + c] += weights[w0 + j] * g[i * width + c0 + c]
                        }
                        dWeight[j] = s
                        weighted += weights[w0 + j] * s
                    }
                    for j in 0...last {
                        let ds = weights[w0 + j] * (dWeight[j] - weighted) * scale
                        guard ds != 0 else { continue }
                        for c in 0..<dh {
                            dq[i * width + c0 + c] += ds * kv[j * width + c0 + c]
                            dk[j * width + c0 + c] += ds * qv[i * width + c0 + c]
                        }
                    }
                }
            }
            for i in 0..<(n * width) {
                t.grads[q.id][i] += dq[i]
                t.grads[k.id][i] += dk[i]
                t.grads[v.id][i] += dvv[i]
            }
        }
        return result
    }

    /// A parameter (vector or matrix, flattened) as a variable; its gradient flows into the parameter.
    public func param(_ b: Parameter) -> Var {
        let result = push(b.value)
        guard recording else { return result }
        onBackward { t in
            let g = t.grads[result.id]
            for i in 0..<b.value.count { b.grad[i] += g[i] }
        }
        return result
    }

    private func binary(_ a: Var, _ b: Var, _ f: (Double, Double) -> Double,
                        _ da: @escaping (Double, Double) -> Double, _ db: @escaping (Double, Double) -> Double) -> Var {
        let av = values[a.id], bv = values[b.id]
        precondition(av.count == bv.count)
        let result = push(zip(av, bv).map(f))
        guard recording else { return result }
        onBackward { t in
            let g = t.grads[result.id]
            let av = t.values[a.id], bv = t.values[b.id]
            for i in 0..<g.count {
                t.grads[a.id][i] += g[i] * da(av[i], bv[i])
                t.grads[b.id][i] += g[i] * db(av[i], bv[i])
            }
        }
        return result
    }

    private func unary(_ a: Var, _ f: (Double) -> Double, _ df: @escaping (Double, Double) -> Double) -> Var {
        let result = push(values[a.id].map(f))
        guard recording else { return result }
        onBackward { t in
            let g = t.grads[result.id]
            let av = t.values[a.id], ov = t.values[result.id]
            for i in 0..<g.count { t.grads[a.id][i] += g[i] * df(av[i], ov[i]) }
        }
        return result
    }

    public func add(_ a: Var, _ b: Var) -> Var { binary(a, b, +, { _, _ in 1 }, { _, _ in 1 }) }
    public func sub(_ a: Var, _ b: Var) -> Var { binary(a, b, -, { _, _ in 1 }, { _, _ in -1 }) }
    public func mul(_ a: Var, _ b: Var) -> Var { binary(a, b, *, { _, y in y }, { x, _ in x }) }
    public func sigmoid(_ a: Var) -> Var { unary(a, { 1 / (1 + exp(-$0)) }, { _, o in o * (1 - o) }) }
    public func tanh(_ a: Var) -> Var { unary(a, { Foundation.tanh($0) }, { _, o in 1 - o * o }) }
    public func relu(_ a: Var) -> Var { unary(a, { max(0, $0) }, { x, _ in x > 0 ? 1 : 0 }) }
    /// 1 − a.
    public func oneMinus(_ a: Var) -> Var { unary(a, { 1 - $0 }, { _, _ in -1 }) }

    /// Mean squared error between a vector and constant targets (a scalar variable).
    public func mse(_ a: Var, _ target: [Double]) -> Var {
        let av = values[a.id]
        let n = Double(av.count)
        var s = 0.0
        for i in 0..<av.count { s += (av[i] - target[i]) * (av[i] - target[i]) }
        let result = push([s / n])
        guard recording else { return result }
        onBackward { t in
            let g = t.grads[result.id][0]
            let av = t.values[a.id]
            for i in 0..<av.count { t.grads[a.id][i] += g * 2 * (av[i] - target[i]) / n }
        }
        return result
    }

    /// Sum of scalar variables.
    public func sum(_ xs: [Var]) -> Var {
        let result = push([xs.reduce(0) { $0 + values[$1.id][0] }])
        guard recording else { return result }
        onBackward { t in
            let g = t.grads[result.id][0]
            for x in xs { t.grads[x.id][0] += g }
        }
        return result
    }

    /// Back-propagates from a scalar: every parameter's `grad` accumulates d(loss)/d(parameter).
    public func backpropagate(_ loss: Var) {
        precondition(recording, "backpropagate on a tape made with recording: false")
        grads[loss.id][0] = 1
        for back in backward.reversed() { back(self) }
    }
}

/// Adam (Kingma and Ba), with gradient clipping by global norm.
public struct Adam {
    public var learningRate: Double
    public var beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8
    public var clip = 5.0
    var step = 0

    public init(learningRate: Double) { self.learningRate = learningRate }

    public mutating func update(_ params: [Parameter]) {
        step += 1
        var norm = 0.0
        for p in params { for g in p.grad { norm += g * g } }
        norm = norm.squareRoot()
        let scale = norm > clip ? clip / norm : 1
        let c1 = 1 - pow(beta1, Double(step)), c2 = 1 - pow(beta2, Double(step))
        for p in params {
            for i in 0..<p.value.count {
                let g = p.grad[i] * scale
                p.m[i] = beta1 * p.m[i] + (1 - beta1) * g
                p.v[i] = beta2 * p.v[i] + (1 - beta2) * g * g
                p.value[i] -= learningRate * (p.m[i] / c1) / ((p.v[i] / c2).squareRoot() + epsilon)
                p.grad[i] = 0
            }
        }
    }
}
