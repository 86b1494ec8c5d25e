import XCTest
@testable import Forecasting
import ServeAPI
import Workload

/// The statsforecast-style refit protocol, clock binning, season detection and the models added
/// beside the originals, each against values worked out by hand.
final class ProtocolAndModelTests: XCTestCase {
    /// y = 2t: the naive forecast from origin o is y(o − 1), so its errors at h = 1…6 are 2h
    /// (MAE 7); the seasonal naive's in-sample MAE is 2m — MASE is 7 / (2m) at every origin.
    func testRefitProtocolByHand() throws {
        let y = (0..<200).map { 2 * Double($0) }
        let plan = try RollingOrigin.refitProtocol(length: y.count, season: 1)
        XCTAssertEqual(plan.initial, 200 - 6 - 19 * 6)
        XCTAssertEqual(plan.windows, 20)
        XCTAssertEqual(plan.step, 6)
        XCTAssertEqual(plan.lastOrigin + plan.horizon, 200)
        let r = try plan.evaluate(NaiveForecaster(), on: y)
        XCTAssertEqual(r.average.mae, 7, accuracy: 1e-12)
        XCTAssertEqual(r.average.mase, 3.5, accuracy: 1e-12)
        XCTAssertEqual(r.fits, 20)
        var seasonal = try RollingOrigin.refitProtocol(length: y.count, season: 5)
        XCTAssertEqual(try seasonal.evaluate(NaiveForecaster(), on: y).average.mase, 0.7, accuracy: 1e-12)
        // Refit every 12 observations with origins every 6: at origins 12, 24, …, 108 → 1 + 9 fits.
        seasonal.refit = .every(12)
        XCTAssertEqual(try seasonal.evaluate(NaiveForecaster(), on: y).fits, 10)
        seasonal.refit = .never
        XCTAssertEqual(try seasonal.evaluate(NaiveForecaster(), on: y).fits, 1)
        XCTAssertThrowsError(try RollingOrigin.refitProtocol(length: 100, season: 1)) { XCTAssertTrue("\($0)".contains("need the last 120 points"), "\($0)") }
        XCTAssertThrowsError(try RollingOrigin.Refit(parsing: "0")) { XCTAssertTrue("\($0)".contains("--refit expects"), "\($0)") }
        XCTAssertEqual(try RollingOrigin.Refit(parsing: "origin"), .everyOrigin)
    }

    /// Per-origin scaling: a series whose in-sample naive MAE doubles after the first origin.
    func testMASEIsScaledPerOrigin() throws {
        // Steps of 1 for 10 points, then steps of 3: naive errors from origin 10 (h = 1) are 3.
        var y: [Double] = (0..<10).map(Double.init)
        for _ in 0..<3 { y.append(y.last! + 3) }
        var plan = RollingOrigin(initial: 10, step: 1, windows: 3, horizon: 1, season: 1, refit: .everyOrigin, scaling: .perOrigin)
        // Origins 10, 11, 12: scales 1 (9 steps of 1 / 9), (9 + 3) / 10, (9 + 6) / 11.
        let expected = (3.0 / 1 + 3.0 / 1.2 + 3.0 / (15.0 / 11)) / 3
        XCTAssertEqual(try plan.evaluate(NaiveForecaster(), on: y).average.mase, expected, accuracy: 1e-12)
        plan.scaling = .initialWindow
        XCTAssertEqual(try plan.evaluate(NaiveForecaster(), on: y).average.mase, 3, accuracy: 1e-12)
    }

    /// Pinball loss and CRPS of a forecast whose bands are known: the naive on a constant series
    /// has zero-width bands at the truth, so every quantile loss is 0.
    func testPinballAndCRPS() throws {
        XCTAssertEqual(RollingOrigin.pinball(10, 8, 0.9), 0.9 * 2)
        XCTAssertEqual(RollingOrigin.pinball(10, 12, 0.9), 0.1 * 2, accuracy: 1e-12)
        let plan = RollingOrigin(initial: 50, step: 1, windows: 10, horizon: 3, season: 1)
        let r = try plan.evaluate(NaiveForecaster(), on: Array(repeating: 4, count: 80))
        XCTAssertEqual(r.average.pinball, 0)
        XCTAssertEqual(r.average.crps, 0)
        XCTAssertEqual(r.average.coverage95, 1)
    }

    /// Arrivals 0.7, 1.2, 1.9, 2.5 s past a whole second on the source clock: clock windows hold
    /// 1, 2, 1 requests; windows from the first arrival hold 2 (0.7, 1.2) and 2 (1.9, 2.5).
    func testClockAlignedBinning() throws {
        var t = Trace()
        t.arrivals = [0, 500_000_000, 1_200_000_000, 1_800_000_000]
        t.promptTokens = [1, 1, 1, 1]
        t.outputTokens = [1, 1, 1, 1]
        t.clockOrigin = 1_700_000_000_700_000_000
        XCTAssertEqual(try SeriesLoader.fromTrace(t, step: 1, target: .requests, alignment: .clock).values, [1, 2, 1])
        XCTAssertEqual(try SeriesLoader.fromTrace(t, step: 1, target: .requests, alignment: .clock).start, -0.7, accuracy: 1e-9)
        XCTAssertEqual(try SeriesLoader.fromTrace(t, step: 1, target: .requests).values, [2, 2])
    }

    func testLoadedTraceKeepsItsClock() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clock-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("azure.csv").path
        try "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.7000000,10,5\n2023-11-16 18:17:04.2000000,10,5\n2023-11-16 18:17:04.9000000,10,5\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let trace = try TraceLoader.load(path).0
        XCTAssertEqual(trace.arrivals, [0, 500_000_000, 1_200_000_000])
        XCTAssertEqual(try SeriesLoader.fromTrace(trace, step: 1, target: .requests, alignment: .clock).values, [1, 2])
        XCTAssertEqual(try SeriesLoader.fromTrace(trace, step: 1, target: .requests).values, [2, 1])
    }

    func testSeasonDetection() {
        var rng = SeededRandom(seed: 5)
        let daily = (0..<2000).map { 10 + 4 * sin(2 * Double.pi * Double($0) / 24) + rng.normal() }
        XCTAssertEqual(SeasonDetector.detect(daily).first, 24)
        // Two seasons (a short one inside a long one, like days in weeks): both found.
        let both = (0..<3000).map { i -> Double in
            let d = Double(i)
            return 3 * sin(2 * Double.pi * d / 12) + 5 * sin(2 * Double.pi * d / 84) + rng.normal()
        }
        let found = SeasonDetector.detect(both)
        XCTAssertTrue(found.contains(12) && found.contains(84), "\(found)")
        let noise = (0..<2000).map { _ in rng.normal() }
        XCTAssertEqual(SeasonDetector.detect(noise), [])
        // A trend alone is no season.
        XCTAssertEqual(SeasonDetector.detect((0..<1000).map { Double($0) + rng.normal() }), [])
    }

    /// On y = a + b·t the standard Theta extrapolates half the slope (Hyndman & Billah, 2003);
    /// the optimised one raises θ towards its bound to follow the line.
    func testThetaOnALine() throws {
        let y = (0..<300).map { 3 + 2 * Double($0) }
        let last = y.last!
        let theta = ThetaForecaster(optimised: false)
        let f = try theta.fitAndForecast(y)
        for (h, v) in f.enumerated() { XCTAssertEqual(v, last + Double(h + 1), accuracy: 0.05, "h \(h + 1)") }
        let otm = ThetaForecaster(optimised: true)
        let g = try otm.fitAndForecast(y)
        XCTAssertGreaterThan(otm.theta, 9)
        for (h, v) in g.enumerated() { XCTAssertEqual(v, last + 2 * Double(h + 1), accuracy: 0.25 * Double(h + 1), "h \(h + 1)") }
        // A constant series is forecast as the constant.
        for v in try ThetaForecaster(optimised: true, season: 12).fitAndForecast(Array(repeating: 7, count: 100)) { XCTAssertEqual(v, 7, accuracy: 1e-9) }
    }

    func testThetaAdjustsASignificantSeason() throws {
        let pattern: [Double] = [0, 2, 6, 2, 0, -2, -6, -2]
        let y = (0..<240).map { 50 + pattern[$0 % 8] }
        let theta = ThetaForecaster(optimised: false, season: 8)
        let f = try theta.fitAndForecast(y, h: 8)
        XCTAssertEqual(theta.seasonal.count, 8)
        for (h, v) in f.enumerated() { XCTAssertEqual(v, 50 + pattern[(240 + h) % 8], accuracy: 0.3, "h \(h + 1)") }
    }

    /// 3 every third window: sizes 3, intervals 3. Croston forecasts (1 − α/2)·3/3, TSB d·z = (1/3)·3.
    func testIntermittentDemand() throws {
        let y = (0..<300).map { $0 % 3 == 2 ? 3.0 : 0 }
        let croston = IntermittentForecaster(method: .croston)
        let c = try croston.fitAndForecast(y)
        XCTAssertEqual(c[0], 1 - croston.alpha / 2, accuracy: 1e-6)
        XCTAssertEqual(Set(c).count, 1)
        let tsb = IntermittentForecaster(method: .tsb)
        let t = try tsb.fitAndForecast(y)
        XCTAssertEqual(t[0], 1, accuracy: 0.35)
        XCTAssertGreaterThanOrEqual(t[0], 0)
        // A run of zeros: TSB's probability decays by (1 − β) per window (the size stays); Croston
        // changes nothing until the next non-zero value.
        for _ in 0..<200 { tsb.update(0); croston.update(0) }
        XCTAssertEqual(try tsb.predict(horizon: 1, levels: [95]).mean[0], t[0] * pow(1 - tsb.beta, 200), accuracy: 1e-9)
        XCTAssertEqual(try croston.predict(horizon: 1, levels: [95]).mean[0], c[0], accuracy: 1e-9)
    }

    func testCombinations() throws {
        // y ends 4, 8, 12, 20: naive 20, mean of the last 2 = 16, of the last 4 = 11.
        let y: [Double] = Array(repeating: 0, count: 40) + [4, 8, 12, 20]
        let members: () -> [ConformalForecaster] = { [NaiveForecaster(), MovingAverageForecaster(window: 2), MovingAverageForecaster(window: 4)] }
        XCTAssertEqual(try CombinationForecaster(method: .median, members: members).fitAndForecast(y, h: 2), [16, 16])
        XCTAssertEqual(try CombinationForecaster(method: .mean, members: members).fitAndForecast(y, h: 1)[0], 47.0 / 3, accuracy: 1e-12)
        // Akaike weights exp(−ΔAIC/2): AICs 10 and 12 give 1 and e^−1; a member without one gets their mean.
        let w = CombinationForecaster.akaikeWeights([10, 12, nil])
        let raw = [1, exp(-1.0), (1 + exp(-1.0)) / 2]
        for (a, b) in zip(w, raw.map { $0 / raw.reduce(0, +) }) { XCTAssertEqual(a, b, accuracy: 1e-12) }
        // A member that cannot fit is left out.
        let c = CombinationForecaster(method: .median) { [ExponentialSmoothing(kind: .holtWinters(season: 500)), NaiveForecaster()] }
        XCTAssertEqual(try c.fitAndForecast(y, h: 1), [20])
        XCTAssertEqual(c.members.map(\.name), ["naive"])
    }

    func testQuantileRegressionIsAMedian() {
        // Intercept only: the median of 1, 2, 3, 4, 100 is 3 (the mean would be 22); τ = 0.9 gives the top value but one.
        let xs = [Double](repeating: 1, count: 5), t: [Double] = [1, 2, 3, 4, 100]
        XCTAssertEqual(QuantileAutoregression.fitQuantile(xs, t, k: 1, tau: 0.5)[0], 3, accuracy: 1e-3)
        XCTAssertEqual(QuantileAutoregression.fitQuantile(xs, t, k: 1, tau: 0.7)[0], 4, accuracy: 1e-2)
    }

    /// A level that changes every 50 steps: the median of what follows, h ≤ 6 steps on, is the current level.
    func testQuantileAutoregressionFollowsPersistentLevels() throws {
        var rng = SeededRandom(seed: 9)
        var y: [Double] = []
        var level = 5.0
        for i in 0..<2000 {
            if i % 50 == 0 { level = Double(rng.integer(0, 20)) }
            y.append(level)
        }
        let f = try QuantileAutoregression().fitAndForecast(y)
        for v in f { XCTAssertEqual(v, y.last!, accuracy: 0.05 * max(1, y.last!)) }
    }

    func testCountMedians() {
        // Poisson(4.5): P(X ≤ 3) = 0.342, P(X ≤ 4) = 0.532 → 4. Poisson(2): P(≤ 1) = 0.406, P(≤ 2) = 0.677 → 2.
        XCTAssertEqual(CountMedianForecaster.median(mean: 4.5, dispersion: 1), 4)
        XCTAssertEqual(CountMedianForecaster.median(mean: 2, dispersion: 1), 2)
        // Mean 2, variance 6: negative binomial p = 1/3, r = 1 (geometric): P(0) = 1/3, P(≤ 1) = 5/9 → 1.
        XCTAssertEqual(CountMedianForecaster.median(mean: 2, dispersion: 3), 1)
        XCTAssertEqual(CountMedianForecaster.median(mean: 0, dispersion: 1), 0)
        XCTAssertEqual(CountMedianForecaster.median(mean: 1e6, dispersion: 1), 1e6, accuracy: 2)
        // Differences of a Poisson count with a fixed level have variance 2λ: dispersion ≈ 1.
        var rng = SeededRandom(seed: 1)
        let counts = (0..<1000).map { _ in poisson(6, &rng) }
        XCTAssertEqual(CountMedianForecaster.dispersion(counts), 1, accuracy: 0.15)
        XCTAssertThrowsError(try CountMedianForecaster(NaiveForecaster()).fit([1, 2.5, 3])) { XCTAssertTrue("\($0)".contains("value 2 is 2.5"), "\($0)") }
    }

    /// Two exact seasons (12 inside 84) and a slow trend: MSTL separates them and continues both.
    func testMSTLContinuesTwoSeasons() throws {
        func y(_ i: Int) -> Double {
            let t = Double(i)
            return 10 + 3 * sin(2 * Double.pi * t / 12) + 5 * sin(2 * Double.pi * t / 84) + 0.01 * t
        }
        let series = (0..<(84 * 12)).map(y)
        let given = MSTLForecaster(seasons: [12, 84])
        let f = try given.fitAndForecast(series, h: 24)
        for (h, v) in f.enumerated() { XCTAssertEqual(v, y(series.count + h), accuracy: 0.5, "h \(h + 1)") }
        let auto = MSTLForecaster()
        _ = try auto.fitAndForecast(series)
        XCTAssertEqual(auto.seasons, [12, 84])
    }

    /// A trend whose slope changes from 0.1 to 0.4 at 60%, a daily season and two holidays (+20):
    /// the forecast follows the new slope, the season, and the holiday on a future step.
    func testProphetTrendSeasonAndHolidays() throws {
        let n = 480, bend = 288
        func base(_ i: Int) -> Double {
            let t = Double(i)
            return 50 + 0.1 * min(t, Double(bend)) + 0.4 * max(0, t - Double(bend)) + 4 * sin(2 * Double.pi * t / 24)
        }
        let holidays = [100, 300, n + 5]
        let series = (0..<n).map { base($0) + (holidays.contains($0) ? 20 : 0) }
        let model = ProphetForecaster(seasons: [24], changepoints: 25, changepointScale: 0.5, holidays: holidays)
        let f = try model.fitAndForecast(series, h: 12)
        for h in 0..<12 where h != 5 { XCTAssertEqual(f[h], base(n + h), accuracy: 1.5, "h \(h + 1)") }
        XCTAssertEqual(f[5] - base(n + 5), 20, accuracy: 3)
        Forecasters.register()
        XCTAssertThrowsError(try Registries.forecasters.entry(named: "prophet").instantiate(["holidays": "3+x"])) {
            XCTAssertTrue("\($0)".contains("option 'holidays' expects step indices"), "\($0)")
        }
    }

    func testLSTMLearnsASineAndStopsEarly() throws {
        let y = (0..<400).map { sin(Double($0) * 2 * .pi / 20) }
        let lstm = LSTMForecaster(hidden: 8, sequence: 20, epochs: 15)
        try lstm.fit(y)
        XCTAssertLessThan(lstm.validationLoss, 0.1)
        // White noise has nothing to learn: the validation loss stops improving and training stops
        // long before its 300 epochs.
        var rng = SeededRandom(seed: 4)
        let noise = LSTMForecaster(hidden: 4, sequence: 10, epochs: 300, patience: 2)
        try noise.fit((0..<400).map { _ in rng.normal() })
        XCTAssertLessThan(noise.epochsRun, 300)
        XCTAssertGreaterThan(noise.validationLoss, 0.5)
    }

    /// Noise whose spread grows fivefold: adaptive bands (errors relative to the recent spread)
    /// grow about fivefold once the spread estimate (rate 0.05) has caught up; constant bands
    /// never change without new calibration errors.
    func testAdaptiveIntervalsFollowTheSpread() throws {
        var rng = SeededRandom(seed: 12)
        let model = MovingAverageForecaster(window: 50)
        model.adaptiveIntervals = true
        try model.fit((0..<2000).map { _ in 10 + rng.normal() })
        let calm = try model.predict(horizon: 1, levels: [95])
        for _ in 0..<300 { model.update(10 + 5 * rng.normal()) }
        let wild = try model.predict(horizon: 1, levels: [95])
        let ratio = (wild.upper[95]![0] - wild.lower[95]![0]) / (calm.upper[95]![0] - calm.lower[95]![0])
        XCTAssertEqual(ratio, 5, accuracy: 1.2)
    }

    func testTransforms() throws {
        for t in SeriesTransform.allCases {
            for y in [0.0, 1, 7.5, 1000] { XCTAssertEqual(t.inverse(t.forward(y)), y, accuracy: 1e-9 * max(1, y), "\(t)") }
        }
        XCTAssertEqual(SeriesTransform.anscombe.forward(0), 2 * 0.375.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(SeriesTransform.anscombe.inverse(0), 0)
        // A model on log1p(y) of a constant series forecasts the constant back on the original scale.
        let m = TransformedForecaster(NaiveForecaster(), transform: .log1p)
        try m.fit(Array(repeating: 9, count: 20))
        let f = try m.predict(horizon: 2, levels: [95])
        XCTAssertEqual(f.mean[0], 9, accuracy: 1e-9)
        XCTAssertEqual(f.lower[95]![0], 9, accuracy: 1e-9)
        XCTAssertThrowsError(try TransformedForecaster(NaiveForecaster(), transform: .anscombe).fit([1, -2, 3])) {
            XCTAssertTrue("\($0)".contains("--transform anscombe needs a non-negative series"), "\($0)")
        }
    }
}

/// Knuth's multiplication method: the number of uniforms whose product stays above e^−λ.
func poisson(_ lambda: Double, _ rng: inout SeededRandom) -> Double {
    var k = 0.0, p = 1.0
    let limit = exp(-lambda)
    while true {
        p *= rng.uniform()
        if p <= limit { return k }
        k += 1
    }
}

extension WorkloadPredictor {
    func fitAndForecast(_ y: [Double], h: Int = 6) throws -> [Double] {
        try fit(y)
        return try predict(horizon: h, levels: [80, 95]).mean
    }
}
