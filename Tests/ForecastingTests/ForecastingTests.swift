import Learning
import XCTest
@testable import Forecasting
import ServeAPI
import Workload

/// Models on synthetic series whose answer is known, plus the metrics and the autodiff.
final class ForecastingTests: XCTestCase {
    func forecast(_ m: any WorkloadPredictor, _ y: [Double], h: Int = 6) throws -> [Double] {
        try m.fit(y)
        return try m.predict(horizon: h, levels: [80, 95]).mean
    }

    func allModels(season: Int) -> [any WorkloadPredictor] {
        [NaiveForecaster(), SeasonalNaiveForecaster(season: season), MovingAverageForecaster(window: 5),
         ExponentialSmoothing(kind: .simple), ExponentialSmoothing(kind: .dampedTrend), ExponentialSmoothing(kind: .holtWinters(season: season)),
         ARIMAForecaster(), DLinearForecaster(lookBack: 24, horizon: 6, kernel: 5, epochs: 20),
         GRUForecaster(hidden: 4, sequence: 8, epochs: 3),
         EnsembleForecaster { [ExponentialSmoothing(kind: .simple), ARIMAForecaster()] }]
    }

    func testConstantSeriesGivesTheConstant() throws {
        let y = Array(repeating: 5.0, count: 240)
        for m in allModels(season: 12) {
            let f = try forecast(m, y)
            for v in f { XCTAssertEqual(v, 5, accuracy: m.name == "gru" || m.name == "dlinear" ? 0.05 : 1e-6, m.name) }
        }
    }

    func testPureTrendIsExtrapolated() throws {
        let y = (0..<240).map { 10 + 2 * Double($0) }
        let expected = (240..<246).map { 10 + 2 * Double($0) }
        for m in [ExponentialSmoothing(kind: .dampedTrend), ARIMAForecaster(), DLinearForecaster(lookBack: 24, horizon: 6, kernel: 5, epochs: 40)] as [ConformalForecaster] {
            let f = try forecast(m, y)
            for (a, b) in zip(f, expected) { XCTAssertEqual(a, b, accuracy: 0.01 * b, m.name) }
        }
        let a = ARIMAForecaster()
        try a.fit(y)
        XCTAssertEqual(a.d, 1)                               // lag-1 autocorrelation ≈ 1
        XCTAssertEqual(a.constant, 2, accuracy: 0.01)        // the drift is the slope
    }

    func testPureSeasonalPattern() throws {
        let pattern: [Double] = [3, 5, 9, 14, 20, 15, 10, 6, 4, 2, 1, 2]
        let y = (0..<240).map { pattern[$0 % 12] + 50 }
        let expected = (240..<252).map { pattern[$0 % 12] + 50 }
        XCTAssertEqual(try forecast(SeasonalNaiveForecaster(season: 12), y, h: 12), expected)
        let hw = ExponentialSmoothing(kind: .holtWinters(season: 12))
        for (a, b) in zip(try forecast(hw, y, h: 12), expected) { XCTAssertEqual(a, b, accuracy: 0.5) }
    }

    func testAR1CoefficientIsRecovered() throws {
        var rng = SeededRandom(seed: 11)
        var y = [0.0]
        for _ in 1..<3000 { y.append(0.7 * y.last! + rng.normal()) }
        let fixed = ARIMAForecaster(order: (1, 0, 0))
        try fixed.fit(y)
        XCTAssertEqual(fixed.ar[0], 0.7, accuracy: 0.05)
        XCTAssertEqual(fixed.constant, 0, accuracy: 0.1)
        let auto = ARIMAForecaster()
        try auto.fit(y)
        XCTAssertEqual(auto.d, 0)
        XCTAssertGreaterThanOrEqual(auto.p + auto.q, 1)
        // One step ahead from the last state: 0.7 × y_T.
        let f = try auto.predict(horizon: 1, levels: [95]).mean[0]
        XCTAssertEqual(f, 0.7 * y.last!, accuracy: 0.1 + 0.1 * abs(y.last!))
    }

    func testConformalIntervalsCoverIndependentNoise() throws {
        var rng = SeededRandom(seed: 5)
        let y = (0..<3000).map { _ in 10 + rng.normal() }
        let plan = try RollingOrigin.standard(length: y.count, horizon: 3, season: 1)
        let r = try plan.evaluate(ExponentialSmoothing(kind: .simple), on: y)
        XCTAssertGreaterThan(r.average.coverage95, 0.93)
        XCTAssertLessThan(r.average.coverage95, 0.97)
        XCTAssertGreaterThan(r.average.coverage80, 0.76)
        XCTAssertLessThan(r.average.coverage80, 0.84)
        // For N(0,1) noise around a known level, the best MAE is E|Z| = √(2/π) ≈ 0.798.
        XCTAssertEqual(r.average.mae, 0.798, accuracy: 0.05)
    }

    func testRollingOriginMetricsByHand() throws {
        // Naive on 1…6, initial 3, horizon 1: forecasts 3, 4, 5 for 4, 5, 6 → MAE 1; the in-sample
        // naive MAE on [1, 2, 3] is 1 → MASE 1; sMAPE = (1/7 + 1/9 + 1/11) / 3.
        let plan = RollingOrigin(initial: 3, step: 1, windows: 3, horizon: 1, season: 1)
        let r = try plan.evaluate(NaiveForecaster(), on: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(r.average.mae, 1)
        XCTAssertEqual(r.average.rmse, 1)
        XCTAssertEqual(r.average.mase, 1)
        XCTAssertEqual(r.average.smape, (1.0 / 7 + 1.0 / 9 + 1.0 / 11) / 3, accuracy: 1e-12)
        XCTAssertEqual(r.forecasts, 3)
    }

    func testBadInput() throws {
        XCTAssertThrowsError(try NaiveForecaster().fit([1, .nan, 3])) { XCTAssertEqual("\($0)", "naive: value 2 of the series is not a finite number") }
        XCTAssertThrowsError(try ExponentialSmoothing(kind: .holtWinters(season: 24)).fit(Array(repeating: 1, count: 40))) {
            XCTAssertTrue("\($0)".contains("holt-winters: the series has 40 points"), "\($0)")
        }
        XCTAssertThrowsError(try DLinearForecaster(lookBack: 120).fit(Array(repeating: 1, count: 20))) { XCTAssertTrue("\($0)".contains("dlinear")) }
        // A series shorter than the look-back shortens it: 100 points hold back 25 for the intervals,
        // leaving 75; after the horizon of 12 and 8 spare, half is 27.
        let short = DLinearForecaster(lookBack: 120)
        try short.fit(Array(repeating: 1, count: 100))
        XCTAssertEqual(short.lookBack, 27)
        let m = NaiveForecaster()
        try m.fit([1, 2, 3, 4])
        XCTAssertThrowsError(try m.predict(horizon: 0, levels: [95])) { XCTAssertTrue("\($0)".contains("at least 1 step")) }
        XCTAssertThrowsError(try NaiveForecaster().predict(horizon: 1, levels: [95])) { XCTAssertTrue("\($0)".contains("before fit")) }
        XCTAssertThrowsError(try RollingOrigin.standard(length: 10, horizon: 0, season: 1))
        XCTAssertThrowsError(try RollingOrigin.standard(length: 4, horizon: 6, season: 1)) { XCTAssertTrue("\($0)".contains("too short")) }
    }

    func testSeriesCSV() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("series-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("s.csv").path
        try "timestamp,value\n2024-01-01T00:00:00Z,3\n2024-01-01T00:00:10Z,4.5\n2024-01-01T00:00:20Z,6\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertTrue(SeriesLoader.isSeriesCSV(path))
        let s = try SeriesLoader.loadCSV(path)
        XCTAssertEqual(s.values, [3, 4.5, 6])
        XCTAssertEqual(s.step, 10)
        try "timestamp,value\n0,1\n1,NaN\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SeriesLoader.loadCSV(path)) { XCTAssertTrue("\($0)".contains("s.csv:3: value: is NaN"), "\($0)") }
        try "timestamp,value\n5,1\n4,1\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SeriesLoader.loadCSV(path)) { XCTAssertTrue("\($0)".contains("timestamps must increase"), "\($0)") }
    }

    func testEnsembleDropsFailingMembersAndWeighs() throws {
        var rng = SeededRandom(seed: 2)
        let y = (0..<300).map { _ in 10 + rng.normal() }
        let e = EnsembleForecaster { [ExponentialSmoothing(kind: .simple), ExponentialSmoothing(kind: .holtWinters(season: 500)), NaiveForecaster()] }
        try e.fit(y)
        XCTAssertEqual(e.members.map(\.name), ["ses", "naive"])
        XCTAssertEqual(e.dropped, ["holt-winters"])
        XCTAssertEqual(e.weights.reduce(0, +), 1, accuracy: 1e-12)
        // SES (error ≈ 0.8) outweighs naive (error ≈ 1.13 = 0.8·√2) on white noise.
        XCTAssertGreaterThan(e.weights[0], e.weights[1])
    }

    func testOnlineUpdateMovesTheForecast() throws {
        let m = ExponentialSmoothing(kind: .simple)
        try m.fit(Array(repeating: 1.0, count: 100) + (0..<50).map { _ in 1.0 })
        let before = try m.predict(horizon: 1, levels: [95]).mean[0]
        for _ in 0..<50 { m.update(10) }
        let after = try m.predict(horizon: 1, levels: [95]).mean[0]
        XCTAssertEqual(before, 1, accuracy: 1e-6)
        XCTAssertGreaterThan(after, 9)
    }

    func testGradientsMatchFiniteDifferences() {
        var rng = SeededRandom(seed: 3)
        let w = Parameter(rows: 3, cols: 2, rng: &rng), u = Parameter(rows: 1, cols: 3, rng: &rng), b = Parameter(rows: 3, cols: 1, rng: &rng)
        let x = [0.3, -0.7]
        func loss() -> (Tape, Tape.Var) {
            let t = Tape()
            let h = t.tanh(t.add(t.matvec(w, t.constant(x)), t.param(b)))
            let g = t.mul(t.sigmoid(h), t.oneMinus(h))
            return (t, t.mse(t.matvec(u, g), [0.25]))
        }
        let (tape, l) = loss()
        tape.backpropagate(l)
        for p in [w, u, b] {
            for i in 0..<p.value.count {
                let analytic = p.grad[i]
                let saved = p.value[i]
                p.value[i] = saved + 1e-6
                let up = loss().0.values.last![0]
                p.value[i] = saved - 1e-6
                let down = loss().0.values.last![0]
                p.value[i] = saved
                XCTAssertEqual(analytic, (up - down) / 2e-6, accuracy: 1e-6)
            }
        }
    }

    func testGRULearnsASine() throws {
        let y = (0..<400).map { sin(Double($0) * 2 * .pi / 20) }
        let g = GRUForecaster(hidden: 8, sequence: 20, epochs: 15)
        try g.fit(y)
        // The standardised sine has variance 1; a model that learned it predicts far better.
        XCTAssertLessThan(g.finalLoss, 0.1)
        XCTAssertGreaterThan(g.trainingSeconds, 0)
    }
}
