import XCTest
@testable import ServeSim
@testable import Schedulers
import ServeAPI
import Workload

/// A forecaster with a fixed mean and 80% band, so a test decides whether its intervals cover.
final class BandForecaster: WorkloadPredictor {
    let name = "band"
    let mean: Double, half: Double
    init(mean: Double, half: Double) { self.mean = mean; self.half = half }
    func fit(_ series: [Double]) throws {}
    func update(_ observation: Double) {}
    func predict(horizon: Int, levels: [Double]) throws -> Forecast {
        let m = [Double](repeating: mean, count: horizon)
        return Forecast(mean: m, lower: [80: m.map { $0 - half }], upper: [80: m.map { $0 + half }])
    }
}

final class SmartSchedulerTests: XCTestCase {
    func trace(_ n: Int = 600) throws -> Trace {
        try SyntheticWorkload(count: n, arrivals: .onOff(onRate: 40, offRate: 2, onSeconds: 4, offSeconds: 8),
                              prompt: .logNormal(median: 500, sigma: 1, min: 8, max: 4096),
                              output: .logNormal(median: 120, sigma: 1, min: 2, max: 1024), seed: 5).generate()
    }

    func config() throws -> ClusterConfig {
        var c = ClusterConfig(hardware: try HardwareCatalog.resolve("A100-80G"), model: try llama8B())
        c.knobs.maxNumSeqs = 32
        return c
    }

    func smart(_ forecaster: WorkloadPredictor, interval: Double = 1) -> SmartScheduler {
        var s = SmartScheduler.Settings()
        s.interval = interval
        return SmartScheduler(settings: s, forecaster: forecaster, baseline: VLLMScheduler())
    }

    /// Predictions ranked backwards (τ = −1) and a forecast whose band never holds the counts: no
    /// source is ever trusted, so the run is the baseline's, request for request.
    func testWithNothingTrustedItIsTheBaseline() throws {
        let t = try trace()
        let worst = t.outputTokens.map { 2000 - $0 }
        let vllm = try Simulator(trace: t, config: try config(), makeScheduler: { VLLMScheduler() }).run()
        let r = try Simulator(trace: t, config: try config(), makeScheduler: { self.smart(BandForecaster(mean: 1000, half: 0.001)) },
                              predictedOutput: worst).run()
        XCTAssertEqual(r.requests.finish, vllm.requests.finish)
        XCTAssertEqual(r.requests.firstToken, vllm.requests.firstToken)
        XCTAssertEqual(Set(r.timeSeries.modes.flatMap { $0 }), ["fallback"])
        XCTAssertFalse(r.schedulerEvents.contains { $0.kind.hasSuffix("trusted") })
    }

    /// True lengths and a band that always covers: both sources become trusted after their
    /// evidence (10 forecast intervals; 30 finished requests) and the run spends time in `smart`.
    func testTrustedPredictionsSwitchToSmartAndShorterJobsGoFirst() throws {
        let t = try trace()
        let vllm = try Simulator(trace: t, config: try config(), makeScheduler: { VLLMScheduler() }).run()
        let r = try Simulator(trace: t, config: try config(), makeScheduler: { self.smart(BandForecaster(mean: 5, half: 1e6)) },
                              predictedOutput: t.outputTokens).run()
        let kinds = r.schedulerEvents.map(\.kind)
        XCTAssertTrue(kinds.contains("forecast trusted"))
        XCTAssertTrue(kinds.contains("predictor trusted"))
        let forecastTrust = r.schedulerEvents.first { $0.kind == "forecast trusted" }!
        // Warm-up of 10 intervals, then 10 coverage checks: not before 20 s.
        XCTAssertGreaterThanOrEqual(Double(forecastTrust.time) * 1e-9, 20)
        XCTAssertTrue(r.schedulerEvents.first { $0.kind == "predictor trusted" }!.detail.contains("tau 1.00"))
        XCTAssertTrue(r.timeSeries.modes.contains(["smart"]))
        // Shortest-cost-first admission lowers mean TTFT under bursts (Conway's SPT result).
        func meanTTFT(_ x: RunResult) -> Double { (0..<x.requests.count).reduce(0) { $0 + x.requests.ttft($1) } / Double(x.requests.count) }
        XCTAssertLessThan(meanTTFT(r), meanTTFT(vllm))
    }

    /// A predictor that turns bad halfway through is caught: trusted first, then degraded after
    /// requests with inverted predictions finish, and the switch lands in the time series.
    func testAPredictorThatFailsIsDropped() throws {
        let t = try trace(800)
        let half = t.count / 2
        let predicted = t.outputTokens.enumerated().map { $0 < half ? $1 : 2000 - $1 }
        let r = try Simulator(trace: t, config: try config(), makeScheduler: { self.smart(BandForecaster(mean: 5, half: 1e6)) },
                              predictedOutput: predicted).run()
        let trusted = try XCTUnwrap(r.schedulerEvents.first { $0.kind == "predictor trusted" })
        let degraded = try XCTUnwrap(r.schedulerEvents.first { $0.kind == "predictor degraded" })
        XCTAssertLessThan(trusted.time, degraded.time)
        XCTAssertGreaterThan(degraded.time, t.arrivals[half])
        XCTAssertTrue(r.timeSeries.modes.contains(["smart-no-length"]))
        XCTAssertEqual(r.timeSeries.telemetry.count, r.timeSeries.promptTokens.count)
        XCTAssertEqual(r.timeSeries.telemetryColumns.count, r.timeSeries.telemetry[0].count)
    }

    /// With a policy scheduler, the policy decides while everything is trusted and only then: a
    /// Sarathi policy with 64-token chunks sets the budget to 64 exactly in the intervals spent
    /// in `smart` (the rules never go below their 512-token calm budget, the baseline uses 2048).
    func testAPolicyDecidesWhileEverythingIsTrusted() throws {
        let t = try trace()
        var s = SmartScheduler.Settings()
        s.interval = 1
        let r = try Simulator(trace: t, config: try config(), makeScheduler: {
            SmartScheduler(settings: s, forecaster: BandForecaster(mean: 5, half: 1e6), baseline: VLLMScheduler(),
                           policy: SarathiScheduler(chunk: 64))
        }, predictedOutput: t.outputTokens).run()
        let series = r.timeSeries
        XCTAssertTrue(series.modes.contains(["smart"]))
        XCTAssertTrue(series.modes.contains { $0 != ["smart"] })
        for (row, mode) in zip(series.telemetry, series.modes) {
            XCTAssertEqual(row[0] == 64, mode == ["smart"], "budget \(row[0]) in mode \(mode)")
        }
    }

    /// The automatic interval holds about eight arrivals: 16 arrivals 0.5 s apart give 4 s.
    func testAutomaticIntervalFromTheFirstArrivals() throws {
        let t = makeTrace((0..<40).map { (Double($0) * 0.5, 100, 10) })
        let r = try Simulator(trace: t, config: try config(), makeScheduler: { self.smart(BandForecaster(mean: 8, half: 1e6), interval: 0) },
                              predictedOutput: t.outputTokens).run()
        XCTAssertTrue(r.schedulerEvents.contains { $0.kind == "interval" && $0.detail.contains("interval 4.0 s") })
    }
}

final class LearnedPredictorTests: XCTestCase {
    /// Output length set by the request's model (two classes a decade apart) and independent of
    /// the prompt: the learned predictor ranks by class, the prompt-bin history cannot.
    func testLearnsFromTheModelFeature() {
        var rng = SeededRandom(seed: 4)
        let n = 2000
        let model = (0..<n).map { _ in UInt8(rng.uniform() < 0.5 ? 0 : 1) }
        let prompts = (0..<n).map { _ in Int32(10 + rng.uniform() * 2000) }
        let outputs = model.map { m in Int32((m == 0 ? 40 : 400) * exp(0.3 * rng.normal())) }
        let f = RequestFeatures(prompts: prompts, outputs: outputs, arrivals: (0..<n).map { Double($0) },
                                model: model, models: ["a", "b"])
        let learned = LearnedPredictor(delay: 30, quantile: 0, hidden: 8, learningRate: 0.01).predict(f, seed: 1)
        let history = HistoryPredictor(train: 0.2).predict(prompts: prompts, outputs: outputs, seed: 1)
        let truth = outputs.map(Double.init)
        // Two groups ranked right and the order within each left to chance: τ ≈ 0.5 at best.
        XCTAssertGreaterThan(Stats.kendallTau(learned.map(Double.init), truth), 0.4)
        XCTAssertLessThan(abs(Stats.kendallTau(history.map(Double.init), truth)), 0.1)
        // Geometric means of the two groups (40 and 400 under log-normal noise), within 15%.
        let late = (n / 2)..<n
        for m: UInt8 in [0, 1] {
            let xs = late.filter { model[$0] == m }.map { log(Double(learned[$0])) }
            let expected = m == 0 ? 40.0 : 400.0
            XCTAssertEqual(exp(xs.reduce(0, +) / Double(xs.count)), expected, accuracy: expected * 0.15)
        }
    }

    /// Labels are used only once revealed: with a delay longer than the trace nothing is learned,
    /// and every request gets the prior (128 tokens).
    func testNoLabelBeforeItsDelay() {
        let f = RequestFeatures(prompts: [10, 20, 30, 40], outputs: [5, 500, 5, 500], arrivals: [0, 1, 2, 3])
        XCTAssertEqual(LearnedPredictor(delay: 10, quantile: 0, hidden: 4, learningRate: 0.01).predict(f, seed: 0), [128, 128, 128, 128])
    }

    /// Recursive least squares equals the closed-form ridge solution (XᵀX + λI)⁻¹Xᵀy.
    func testRecursiveLeastSquaresIsRidge() {
        let xs: [[Double]] = [[1, 0], [0, 1], [1, 1]]
        let ys = [1.0, 2.0, 4.0]
        var rls = RecursiveLeastSquares(size: 2, ridge: 1)
        for (x, y) in zip(xs, ys) { rls.update(x, y) }
        // XᵀX + I = [[3, 1], [1, 3]], Xᵀy = [5, 6]; inverse = [[3, −1], [−1, 3]] / 8.
        XCTAssertEqual(rls.weights[0], (3 * 5 - 6) / 8.0, accuracy: 1e-12)
        XCTAssertEqual(rls.weights[1], (-5 + 3 * 6) / 8.0, accuracy: 1e-12)
    }
}
