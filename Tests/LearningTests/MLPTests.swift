import Foundation
import XCTest
@testable import Learning
import Workload

/// The hand-written batched gradients against central finite differences and against the tape.
final class MLPTests: XCTestCase {
    /// loss = Σ_rows Σ_j c_j · y_j, whose output gradient is c per row.
    func loss(_ net: MLP, _ x: [Double], _ count: Int, _ c: [Double]) -> Double {
        let y = net.forward(x, count: count).output
        return y.enumerated().reduce(0) { $0 + $1.element * c[$1.offset % c.count] }
    }

    func checkGradients(_ activation: Activation) {
        var rng = SeededRandom(seed: 11)
        let net = MLP(sizes: [3, 5, 4, 2], activation: activation, rng: &rng)
        let count = 3
        let x = (0..<(count * 3)).map { _ in rng.uniform() * 2 - 1 }
        let c = [0.7, -1.3]
        let trace = net.forward(x, count: count)
        let inputGrad = net.backward(trace, outputGradient: (0..<(count * 2)).map { c[$0 % 2] })
        let h = 1e-6
        for p in net.parameters {
            for i in p.value.indices {
                let keep = p.value[i]
                p.value[i] = keep + h
                let up = loss(net, x, count, c)
                p.value[i] = keep - h
                let down = loss(net, x, count, c)
                p.value[i] = keep
                let numeric = (up - down) / (2 * h)
                XCTAssertEqual(p.grad[i], numeric, accuracy: 1e-6 * max(1, abs(numeric)), "\(activation) parameter gradient")
            }
        }
        for i in x.indices {
            var xp = x, xm = x
            xp[i] += h
            xm[i] -= h
            let numeric = (loss(net, xp, count, c) - loss(net, xm, count, c)) / (2 * h)
            XCTAssertEqual(inputGrad[i], numeric, accuracy: 1e-6 * max(1, abs(numeric)), "\(activation) input gradient")
        }
    }

    func testTanhGradientsMatchFiniteDifferences() { checkGradients(.tanh) }
    func testReluGradientsMatchFiniteDifferences() { checkGradients(.relu) }

    /// The same one-hidden-layer tanh network written with the tape gives the same gradients.
    func testGradientsAgreeWithTheTape() {
        var rng = SeededRandom(seed: 5)
        let net = MLP(sizes: [2, 3, 1], activation: .tanh, rng: &rng)
        for b in net.biases { for i in b.value.indices { b.value[i] = rng.uniform() - 0.5 } }
        let x = [0.3, -0.8]
        let trace = net.forward(x, count: 1)
        net.backward(trace, outputGradient: [2 * (trace.output[0] - 0.5)])
        let tape = Tape()
        let w1 = Parameter(zeros: 3, cols: 2), b1 = Parameter(zeros: 3), w2 = Parameter(zeros: 1, cols: 3), b2 = Parameter(zeros: 1)
        w1.value = net.weights[0].value; b1.value = net.biases[0].value
        w2.value = net.weights[1].value; b2.value = net.biases[1].value
        let hidden = tape.tanh(tape.add(tape.matvec(w1, tape.constant(x)), tape.param(b1)))
        let out = tape.add(tape.matvec(w2, hidden), tape.param(b2))
        XCTAssertEqual(tape.value(out)[0], trace.output[0], accuracy: 1e-12)
        tape.backpropagate(tape.mse(out, [0.5]))
        for (a, b) in zip([w1, b1, w2, b2], net.parameters) {
            for i in a.grad.indices { XCTAssertEqual(a.grad[i], b.grad[i], accuracy: 1e-12) }
        }
    }

    func testCategoricalGradientsMatchFiniteDifferences() {
        let logits = [0.2, -1.0, 0.7, 0.1]
        let p = Categorical.probabilities(logits[...])
        XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-12)
        // Softmax by hand for the first entry.
        let z = logits.map(exp).reduce(0, +)
        XCTAssertEqual(p[0], exp(0.2) / z, accuracy: 1e-12)
        let h = 1e-6
        let glp = Categorical.logProbabilityGradient(p, 2), gh = Categorical.entropyGradient(p)
        for j in logits.indices {
            var up = logits, down = logits
            up[j] += h
            down[j] -= h
            let pu = Categorical.probabilities(up[...]), pd = Categorical.probabilities(down[...])
            XCTAssertEqual(glp[j], (log(pu[2]) - log(pd[2])) / (2 * h), accuracy: 1e-6)
            XCTAssertEqual(gh[j], (Categorical.entropy(pu) - Categorical.entropy(pd)) / (2 * h), accuracy: 1e-6)
        }
        // Uniform over 4: entropy log 4.
        XCTAssertEqual(Categorical.entropy([0.25, 0.25, 0.25, 0.25]), log(4), accuracy: 1e-12)
    }

    func testRunningMomentsMatchTheSampleStatistics() {
        var m = RunningMoments(size: 1)
        let xs = [2.0, 4, 4, 4, 5, 5, 7, 9]
        for x in xs { m.update([x]) }
        // Mean 5, population variance 4 (the textbook example), up to the tiny prior count.
        XCTAssertEqual(m.mean[0], 5, accuracy: 1e-3)
        XCTAssertEqual(m.variance[0], 4, accuracy: 1e-2)
        XCTAssertEqual(m.normalise([7])[0], 1, accuracy: 1e-2)
    }

    func testAdamStepsAgainstTheGradientSign() {
        let p = Parameter(zeros: 2)
        p.value = [1, -1]
        p.grad = [3, -0.5]
        var adam = Adam(learningRate: 0.1)
        adam.update([p])
        // Adam's first step moves each weight by the learning rate against its gradient's sign.
        XCTAssertEqual(p.value[0], 0.9, accuracy: 1e-6)
        XCTAssertEqual(p.value[1], -0.9, accuracy: 1e-6)
        XCTAssertEqual(p.grad, [0, 0])
    }
}
