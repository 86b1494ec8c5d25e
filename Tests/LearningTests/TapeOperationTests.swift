import Foundation
import XCTest
@testable import Learning
import Workload

/// The fused and row-wise tape operations: values worked out by hand, gradients against central
/// finite differences, and an evaluating tape giving the same values as a recording one.
final class TapeOperationTests: XCTestCase {
    /// q = k = (1, 2), v = (10, 20), one head of width 1 (scale 1): row 0 weighs the values by
    /// softmax(1, 2) = (0.2689, 0.7311), row 1 by softmax(2, 4) = (0.1192, 0.8808); causally row 0
    /// sees only itself.
    func testAttentionByHand() {
        let t = Tape()
        let q = t.constant([1, 2]), v = t.constant([10, 20])
        let full = t.value(t.attention(queries: q, keys: q, values: v, rows: 2, heads: 1, causal: false))
        XCTAssertEqual(full[0], 10 * 0.268941 + 20 * 0.731059, accuracy: 1e-4)
        XCTAssertEqual(full[1], 10 * 0.119203 + 20 * 0.880797, accuracy: 1e-4)
        let causal = t.value(t.attention(queries: q, keys: q, values: v, rows: 2, heads: 1, causal: true))
        XCTAssertEqual(causal[0], 10, accuracy: 1e-12)
        XCTAssertEqual(causal[1], full[1], accuracy: 1e-12)
    }

    /// Row (1, 2, 3): mean 2, variance 2/3, so (−1.2247, 0, 1.2247) before gain 2 and bias 1.
    func testLayerNormByHand() {
        let t = Tape()
        let gain = Parameter(zeros: 3), bias = Parameter(zeros: 3)
        gain.value = [2, 2, 2]
        bias.value = [1, 1, 1]
        let y = t.value(t.layerNormRows(t.constant([1, 2, 3, 5, 5, 5]), rows: 2, gain: gain, bias: bias))
        let r = 1 / (2.0 / 3 + 1e-5).squareRoot()
        for (got, want) in zip(y, [1 - 2 * r, 1, 1 + 2 * r, 1, 1, 1]) { XCTAssertEqual(got, want, accuracy: 1e-9) }
    }

    /// A small encoder block built from every new operation; one input matrix serves as queries,
    /// keys and values at once so their gradients must add.
    func testGradientsMatchFiniteDifferences() {
        var rng = SeededRandom(seed: 21)
        let rows = 3, width = 4
        let embed = Parameter(rows: width, cols: 2, rng: &rng), embedBias = Parameter(rows: width, cols: 1, rng: &rng)
        let gain = Parameter(rows: width, cols: 1, rng: &rng), bias = Parameter(rows: width, cols: 1, rng: &rng)
        let key = Parameter(rows: width, cols: width, rng: &rng)
        let mixA = Parameter(rows: 2, cols: rows * width, rng: &rng), mixB = Parameter(rows: 2, cols: rows * width, rng: &rng)
        let mixBias = Parameter(rows: 2, cols: 1, rng: &rng)
        let x = (0..<(rows * 2)).map { _ in rng.uniform() * 2 - 1 }
        let parameters = [embed, embedBias, gain, bias, key, mixA, mixB, mixBias]
        func loss(recording: Bool = true) -> (Tape, Tape.Var) {
            let t = Tape(recording: recording)
            let h = t.linearRows(t.constant(x), rows: rows, embed, embedBias)
            let n = t.layerNormRows(h, rows: rows, gain: gain, bias: bias)
            let shared = t.attention(queries: n, keys: n, values: n, rows: rows, heads: 2, causal: false)
            let causal = t.attention(queries: n, keys: t.linearRows(n, rows: rows, key, nil), values: h, rows: rows, heads: 1, causal: true)
            let out = t.affine([(mixA, t.relu(shared)), (mixB, causal)], bias: mixBias)
            return (t, t.mse(out, [0.3, -0.2]))
        }
        let (tape, l) = loss()
        tape.backpropagate(l)
        XCTAssertEqual(loss(recording: false).0.values.last![0], tape.value(l)[0])
        let step = 1e-6
        for p in parameters {
            for i in 0..<p.value.count {
                let saved = p.value[i]
                p.value[i] = saved + step
                let up = loss(recording: false).0.values.last![0]
                p.value[i] = saved - step
                let down = loss(recording: false).0.values.last![0]
                p.value[i] = saved
                let numeric = (up - down) / (2 * step)
                XCTAssertEqual(p.grad[i], numeric, accuracy: 1e-6 * max(1, abs(numeric)))
            }
        }
    }
}
