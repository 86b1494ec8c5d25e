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
        seasonal.refit = .online(.every(12))
        XCTAssertEqual(try seasonal.evaluate(NaiveForecaster(), on: y).fits, 10)
        seasonal.refit = .never
        XCTAssertEqual(try seasonal.evaluate(NaiveForecaster(), on: y).fits, 1)
        XCTAssertThrowsError(try RollingOrigin.refitProtocol(length: 100, season: 1)) { XCTAssertTrue("\($0)".contains("need the last 120 points"), "\($0)") }
        XCTAssertThrowsError(try RollingOrigin.Refit(parsing: "0")) { XCTAssertTrue("\($0)".contains("--refit expects"), "\($0)") }
        XCTAssertEqual(try RollingOrigin.Refit(parsing: "origin"), .everyOrigin)
    }

    /// Forecasts the last value it was fitted on and ignores online updates, so only refits move it.
    final class LastValueAtFit: WorkloadPredictor {
        let name = "last-value-at-fit"
        var level = 0.0
        func fit(_ series: [Double]) throws { level = series.last! }
        func predict(horizon: Int, levels: [Double]) throws -> Forecast {
            let path = Array(repeating: level, count: horizon)
            return Forecast(mean: path, lower: [80: path, 95: path], upper: [80: path, 95: path])
        }
        func update(_ observation: Double) {}
    }

    /// A level shift from 10 to 50 at t = 200, origins 100…299, h = 1. Never refitted the model
    /// misses by 40 at each of the 100 origins from 200: MAE 40·100/200 = 20. Every 50
    /// observations it refits at 150 and 200 (still on 10s: the last value before 200 is 10) and
    /// at 250: misses at 200…249, MAE 10, 4 fits. On drift (window 10) the reference error is 0,
    /// so the first miss (at 200) makes a refit due before the forecast from 201: one miss, MAE
    /// 0.2, 2 fits.
    func testRefitOnDriftCatchesALevelShift() throws {
        let y = (0..<300).map { $0 < 200 ? 10.0 : 50.0 }
        var plan = RollingOrigin(initial: 100, step: 1, windows: 200, horizon: 1, season: 1)
        for (refit, mae, fits) in [(RollingOrigin.Refit.never, 20.0, 1), (.online(.every(50)), 10, 4), (.online(.drift(window: 10, ratio: 1.5)), 0.2, 2)] {
            plan.refit = refit
            let r = try plan.evaluate(LastValueAtFit(), on: y)
            XCTAssertEqual(r.average.mae, mae, accuracy: 1e-12, "\(refit)")
            XCTAssertEqual(r.fits, fits, "\(refit)")
        }
        // With origins every 5 steps the drift test forecasts one step itself between origins:
        // the miss at 200 is still caught before the next observation.
        plan = RollingOrigin(initial: 100, step: 5, windows: 40, horizon: 1, season: 1, refit: .online(.drift(window: 10, ratio: 1.5)))
        XCTAssertEqual(try plan.evaluate(LastValueAtFit(), on: y).fits, 2)
    }

    func testRefitPoliciesParseAndDecide() throws {
        XCTAssertEqual(try RefitPolicy(parsing: "drift"), .drift(window: 30, ratio: 1.5))
        XCTAssertEqual(try RefitPolicy(parsing: "drift:20:2"), .drift(window: 20, ratio: 2))
        XCTAssertEqual(try RefitPolicy(parsing: "12"), .every(12))
        XCTAssertEqual(try RefitPolicy(parsing: "never"), .never)
        for (bad, says) in [("0", "refit expects never"), ("drift:1", "drift window expects"), ("drift:20:0.5", "drift ratio expects"),
                            ("drift:20:nan", "drift ratio expects"), ("sometimes", "refit expects never"), ("drift:3:2:1", "refit expects never")] {
            XCTAssertThrowsError(try RefitPolicy(parsing: bad)) { XCTAssertTrue("\($0)".contains(says), "\(bad): \($0)") }
        }
        XCTAssertThrowsError(try RollingOrigin.Refit(parsing: "drift:x")) { XCTAssertTrue("\($0)".contains("--refit expects"), "\($0)") }
        // Window 10, ratio 1.5: ten errors of 1 set the reference, ten more fill the latest window
        // (mean 1); each error of 2 then raises its mean by 0.1: not due at 1.5 (five), due at 1.6.
        var m = RefitMonitor(policy: .drift(window: 10, ratio: 1.5))
        for _ in 0..<20 { m.observe(error: 1) }
        for k in 1...5 {
            m.observe(error: 2)
            XCTAssertFalse(m.due, "after \(k) errors of 2")
        }
        m.observe(error: 2)
        XCTAssertTrue(m.due)
        XCTAssertEqual(m.recentError!, 1.6, accuracy: 1e-12)
        m.refitted()
        XCTAssertFalse(m.due)
        var every = RefitMonitor(policy: .every(3))
        for k in 0..<3 {
            XCTAssertFalse(every.due, "after \(k)")
            every.observe(error: nil)
        }
        XCTAssertTrue(every.due)
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
    /// One kink (slope 1 then 3 at t = 100 of 200, a little noise): the Laplace prior keeps the
    /// slope changes sparse — the changepoints near the kink (20 of them, one per 10 points, spaced
    /// 0.8·199/21 ≈ 7.6 steps apart) carry the change of 2 in slope, and at most 4 move by more
    /// than 5% of the largest.
    func testProphetChangepointsAreSparse() throws {
        var rng = SeededRandom(seed: 31)
        let y = (0..<200).map { t in Double(t) + 2 * Double(max(0, t - 100)) + 0.5 * rng.normal() }
        let model = ProphetForecaster(seasons: [], changepoints: 25, changepointScale: 0.05)
        try model.train(y)
        XCTAssertEqual(model.changepoints.count, 20)
        let deltas = Array(model.coefficients[2..<22])
        let largest = deltas.map(abs).max()!
        XCTAssertLessThanOrEqual(deltas.filter { abs($0) > 0.05 * largest }.count, 4, "\(deltas)")
        // On the original scale (t scaled to [0, 1] by 199 steps, y by its mean deviation) the changes add up to 2.
        XCTAssertEqual(deltas.reduce(0, +) * model.yScale / 199, 2, accuracy: 0.1)
        let f = try model.fitAndForecast(y, h: 5)
        for h in 0..<5 { XCTAssertEqual(f[h], Double(200 + h) + 2 * Double(100 + h), accuracy: 3, "h \(h + 1)") }
    }

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

    /// A sine of period 20 is learnt well enough to continue it 12 steps (the whole direct head)
    /// and beyond (recursively); noise stops training early; two fits with one seed agree exactly;
    /// a short series gets a shorter look-back instead of failing.
    func testTransformerLearnsASineAndStopsEarly() throws {
        let y = (0..<400).map { sin(Double($0) * 2 * .pi / 20) }
        let model = TransformerForecaster(lookBack: 20, horizon: 12, width: 8, heads: 2, epochs: 40)
        let f = try model.fitAndForecast(y, h: 24)
        XCTAssertLessThan(model.validationLoss, 0.05)
        let mae = (0..<24).map { abs(f[$0] - sin(Double(400 + $0) * 2 * .pi / 20)) }.reduce(0, +) / 24
        XCTAssertLessThan(mae, 0.2)
        let again = TransformerForecaster(lookBack: 20, horizon: 12, width: 8, heads: 2, epochs: 40)
        XCTAssertEqual(try again.fitAndForecast(y, h: 24), f)
        var rng = SeededRandom(seed: 4)
        let noise = TransformerForecaster(lookBack: 10, horizon: 4, width: 8, heads: 1, epochs: 300, patience: 2)
        try noise.fit((0..<400).map { _ in rng.normal() })
        XCTAssertLessThan(noise.epochsRun, 300)
        XCTAssertGreaterThan(noise.validationLoss, 0.5)
        let short = TransformerForecaster()
        let shortForecast = try short.fitAndForecast(Array(y.prefix(40)), h: 12)
        XCTAssertLessThan(short.lookBack, 24)
        XCTAssertTrue(shortForecast.count == 12 && shortForecast.allSatisfy(\.isFinite))
        Forecasters.register()
        XCTAssertThrowsError(try Registries.forecasters.entry(named: "transformer").instantiate(["width": "10", "heads": "4"])) {
            XCTAssertTrue("\($0)".contains("heads=4 must divide width=10"), "\($0)")
        }
    }

    /// One GRU and one Transformer trained across three sines of period 20 at scales 1, 10 and
    /// 100 (offsets 0, 50, 500): each series is standardised by its own mean and deviation, so
    /// the shared weights continue every one of them (error under 20% of its amplitude); a series
    /// too short for the shared look-back, and a recurrent class with no sibling, are refused.
    func testNetsTrainGloballyAcrossSeries() throws {
        let panel = [(1.0, 0.0), (10, 50), (100, 500)].map { a, b in (0..<300).map { b + a * sin(Double($0) * 2 * .pi / 20) } }
        let models: [any PooledTraining] = [GRUForecaster(hidden: 8, sequence: 20, epochs: 15),
                                            TransformerForecaster(lookBack: 20, horizon: 6, width: 8, heads: 2, epochs: 30)]
        for model in models {
            try model.trainPooled(panel)
            for (k, y) in panel.enumerated() {
                let local = model.sharingParameters()
                try local.fit(y)
                let f = try local.predict(horizon: 6, levels: []).mean
                let amplitude = [1.0, 10, 100][k], offset = [0.0, 50, 500][k]
                for h in 0..<6 {
                    XCTAssertEqual(f[h], offset + amplitude * sin(Double(300 + h) * 2 * .pi / 20), accuracy: 0.2 * amplitude, "\(model.name) series \(k) h \(h + 1)")
                }
            }
            XCTAssertThrowsError(try model.trainPooled([panel[0], Array(panel[1].prefix(10))])) {
                XCTAssertTrue("\($0)".contains("too short for the global model"), "\($0)")
            }
        }
        final class Bare: RecurrentForecaster {}
        XCTAssertThrowsError(try Bare(name: "bare", hidden: 2, sequence: 4, epochs: 1, seed: 0).trainPooled(panel)) {
            XCTAssertTrue("\($0)".contains("cannot be trained globally"), "\($0)")
        }
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

    /// Count-scaled intervals on 4, 8, 4, 8, …: the naive forecast misses by 4 every step, which is
    /// 4/√4 = 2 after forecasting 4 and 4/√8 ≈ 1.41 after forecasting 8, so the 95% quantile of the
    /// scaled errors is 2 and the band's half-width is 2·√8 ≈ 5.66 from an 8 and 2·√4 = 4 from a 4.
    /// Constant bands are ±4 from either.
    func testCountIntervalsScaleWithTheForecastLevel() throws {
        let y = (0..<2000).map { $0 % 2 == 0 ? 4.0 : 8 }
        let count = NaiveForecaster(), constant = NaiveForecaster()
        count.intervalScaling = .countLevel
        for m in [count, constant] { try m.fit(y) }
        func half(_ m: NaiveForecaster) throws -> Double { let f = try m.predict(horizon: 1, levels: [95]); return f.upper[95]![0] - f.mean[0] }
        XCTAssertEqual(try half(count), 2 * 8.0.squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(try half(constant), 4, accuracy: 1e-9)
        for m in [count, constant] { m.update(4) }
        XCTAssertEqual(try half(count), 4, accuracy: 1e-9)
        XCTAssertEqual(try half(constant), 4, accuracy: 1e-9)
    }

    /// Adaptive conformal inference: a miss moves the 95% band's α by γ·(0.05 − 1) = −0.00475, a
    /// hit by γ·0.05 = +0.00025 (γ = 0.005). After the noise triples, constant bands (errors from
    /// the calm past) miss far more than 5% of the next 500 observations; adapted levels cover
    /// closer to 95%.
    func testAdaptiveLevelsFollowTheMisses() throws {
        var rng = SeededRandom(seed: 5)
        let calm = (0..<2000).map { _ in 10 + rng.normal() }
        let aci = MovingAverageForecaster(window: 50), constant = MovingAverageForecaster(window: 50)
        aci.adaptiveLevels = true
        for m in [aci, constant] { try m.fit(calm) }
        let before = aci.aciAlpha[95]!
        aci.update(1000)
        XCTAssertEqual(aci.aciAlpha[95]!, before - 0.005 * 0.95, accuracy: 1e-12)
        let hit = try aci.predict(horizon: 1, levels: []).mean[0]
        let alpha = aci.aciAlpha[95]!
        aci.update(hit)
        XCTAssertEqual(aci.aciAlpha[95]!, alpha + 0.005 * 0.05, accuracy: 1e-12)
        var covered = [0, 0]
        for _ in 0..<500 {
            let y = 10 + 3 * rng.normal()
            for (k, m) in [aci, constant].enumerated() {
                let f = try m.predict(horizon: 1, levels: [95])
                if y >= f.lower[95]![0] && y <= f.upper[95]![0] { covered[k] += 1 }
                m.update(y)
            }
        }
        XCTAssertLessThan(covered[1], 450, "constant bands under-cover after the change")
        XCTAssertGreaterThan(covered[0], covered[1] + 10)
        XCTAssertLessThan(abs(Double(covered[0]) / 500 - 0.95), abs(Double(covered[1]) / 500 - 0.95))
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

/// Every registered model's h-step forecast is the start of its longer one: the forecaster
/// prices one path per state (the 12 steps its calibration scores) and answers shorter
/// predictions from it, so a model whose short and long forecasts differed would be misreported.
final class PointPathTests: XCTestCase {
    func testEveryModelsShortForecastIsThePrefixOfItsLongOne() throws {
        Forecasters.register()
        // A noisy daily-like cycle of 600 counts, long enough for every model's look-back.
        var rng = SeededRandom(seed: 4)
        let y = (0..<600).map { t in max(0, 20 + 8 * sin(2 * Double.pi * Double(t) / 48) + 4 * (rng.uniform() - 0.5)).rounded() }
        for name in Registries.forecasters.names {
            let entry = try Registries.forecasters.entry(named: name)
            guard let m = try entry.instantiate(entry.options.contains { $0.name == "season" } ? ["season": "48"] : [:]) as? ConformalForecaster else {
                XCTFail("\(name) is not a ConformalForecaster"); continue
            }
            try m.fit(Array(y.prefix(560)))
            for v in y[560..<566] { m.update(v) }
            // The model itself, not `predict` (which answers from one path per state).
            let long = m.point(12)
            XCTAssertEqual(long.count, 12, name)
            for h in [1, 6, 11] { XCTAssertEqual(m.point(h), Array(long.prefix(h)), "\(name) at h = \(h)") }
            XCTAssertEqual(try m.predict(horizon: 6, levels: []).mean, Array(long.prefix(6)), name)
        }
    }
}
