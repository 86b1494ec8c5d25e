import Foundation
import Workload

/// A trainable matrix (rows × cols; a vector when cols == 1) with its gradient.
public final class Parameter {
    public let rows: Int
    public let cols: Int
    public var value: [Double]
    public var grad: [Double]
    // Adam moments.
    var m: [Double]
    var v: [Double]

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

/// Reverse-mode automatic differentiation over vectors: each operation records its result and a
/// closure that pushes the result's gradient back to its inputs. Small and allocation-happy, but
/// enough for the recurrent forecasters and the RL agents' small networks.
public final class Tape {
    public struct Var { public let id: Int }
    public private(set) var values: [[Double]] = []
    var grads: [[Double]] = []
    private var backward: [(Tape) -> Void] = []

    public init() {}

    public func value(_ v: Var) -> [Double] { values[v.id] }
    public func gradient(_ v: Var) -> [Double] { grads[v.id] }

    func record(_ value: [Double], _ back: @escaping (Tape) -> Void) -> Var {
        values.append(value)
        grads.append(Array(repeating: 0, count: value.count))
        backward.append(back)
        return Var(id: values.count - 1)
    }

    public func constant(_ v: [Double]) -> Var { record(v) { _ in } }

    /// W·x (+ nothing): W is a parameter matrix, x a vector.
    public func matvec(_ w: Parameter, _ x: Var) -> Var {
        let xv = values[x.id]
        precondition(xv.count == w.cols)
        var out = [Double](repeating: 0, count: w.rows)
        for r in 0..<w.rows {
            var s = 0.0
            let base = r * w.cols
            for c in 0..<w.cols { s += w.value[base + c] * xv[c] }
            out[r] = s
        }
        var me = 0
        let result = record(out) { t in
            let g = t.grads[me]
            let xv = t.values[x.id]
            for r in 0..<w.rows {
                let base = r * w.cols
                for c in 0..<w.cols {
                    w.grad[base + c] += g[r] * xv[c]
                    t.grads[x.id][c] += g[r] * w.value[base + c]
                }
            }
        }
        me = result.id
        return result
    }

    /// A parameter vector as a variable (its gradient flows into the parameter).
    public func param(_ b: Parameter) -> Var {
        var me = 0
        let result = record(b.value) { t in
            for i in 0..<b.value.count { b.grad[i] += t.grads[me][i] }
        }
        me = result.id
        return result
    }

    private func binary(_ a: Var, _ b: Var, _ f: (Double, Double) -> Double,
                        _ da: @escaping (Double, Double) -> Double, _ db: @escaping (Double, Double) -> Double) -> Var {
        let av = values[a.id], bv = values[b.id]
        precondition(av.count == bv.count)
        var me = 0
        let result = record(zip(av, bv).map(f)) { t in
            let g = t.grads[me]
            let av = t.values[a.id], bv = t.values[b.id]
            for i in 0..<g.count {
                t.grads[a.id][i] += g[i] * da(av[i], bv[i])
                t.grads[b.id][i] += g[i] * db(av[i], bv[i])
            }
        }
        me = result.id
        return result
    }

    private func unary(_ a: Var, _ f: (Double) -> Double, _ df: @escaping (Double, Double) -> Double) -> Var {
        let av = values[a.id]
        let out = av.map(f)
        var me = 0
        let result = record(out) { t in
            let g = t.grads[me]
            let av = t.values[a.id], ov = t.values[me]
            for i in 0..<g.count { t.grads[a.id][i] += g[i] * df(av[i], ov[i]) }
        }
        me = result.id
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
        var me = 0
        let result = record([s / n]) { t in
            let g = t.grads[me][0]
            let av = t.values[a.id]
            for i in 0..<av.count { t.grads[a.id][i] += g * 2 * (av[i] - target[i]) / n }
        }
        me = result.id
        return result
    }

    /// Sum of scalar variables.
    public func sum(_ xs: [Var]) -> Var {
        var me = 0
        let result = record([xs.reduce(0) { $0 + values[$1.id][0] }]) { t in
            let g = t.grads[me][0]
            for x in xs { t.grads[x.id][0] += g }
        }
        me = result.id
        return result
    }

    /// Back-propagates from a scalar: every parameter's `grad` accumulates d(loss)/d(parameter).
    public func backpropagate(_ loss: Var) {
        grads[loss.id][0] = 1
        for i in stride(from: backward.count - 1, through: 0, by: -1) { backward[i](self) }
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
