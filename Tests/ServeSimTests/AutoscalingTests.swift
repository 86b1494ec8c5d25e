import XCTest
@testable import ServeSim
@testable import Schedulers
import ServeAPI
import Workload

/// Asks for fixed fleet sizes at given decision times.
final class ScriptedAutoscaler: InstanceAutoscaler {
    let name = "scripted"
    let interval: Double
    let coldStart: Double
    let minInstances = 1
    let maxInstances: Int
    let plan: [Int64: Int]
    var seen: [ClusterState] = []
    init(interval: Double, coldStart: Double, max: Int, plan: [Double: Int]) {
        self.interval = interval
        self.coldStart = coldStart
        maxInstances = max
        self.plan = Dictionary(uniqueKeysWithValues: plan.map { (Int64(($0.key * 1e9).rounded()), $0.value) })
    }
    func desired(_ state: ClusterState) -> Int {
        seen.append(state)
        return plan[state.now] ?? (state.serving + state.starting)
    }
}

final class AutoscalingTests: XCTestCase {
    /// One request a second for 30 s, each done in milliseconds on the simple device.
    func steadyTrace() -> Trace { makeTrace((0..<30).map { (Double($0), 10, 2) }) }

    func config(instances: Int) throws -> ClusterConfig {
        var c = ClusterConfig(hardware: simpleHardware(), model: try llama8B())
        c.instances = instances
        return c
    }

    /// Up to 2 at 10 s (serving from 12 s after the 2 s cold start), back to 1 at 20 s. The second
    /// instance is powered 10 s, idle when drained, so it stops at once: GPU-seconds = end + 10.
    func testScaleUpAfterTheColdStartAndDownByDraining() throws {
        let t = steadyTrace()
        let scaler = ScriptedAutoscaler(interval: 10, coldStart: 2, max: 2, plan: [10: 2, 20: 1])
        let r = try Simulator(trace: t, config: try config(instances: 2), makeScheduler: { VLLMScheduler() },
                              router: RoundRobinRouter(), autoscaler: scaler).run()
        let q = r.requests
        for i in 0..<q.count {
            let a = Double(q.arrival[i]) * 1e-9
            if a < 12 || a >= 20 { XCTAssertEqual(q.instance[i], 0, "request at \(a) s") }
        }
        // Requests at 12…19 s see two serving instances and alternate: four each.
        let both = (0..<q.count).filter { (12.0..<20.0).contains(Double(q.arrival[$0]) * 1e-9) }
        XCTAssertEqual(both.filter { q.instance[$0] == 1 }.count, 4)
        let end = Double(q.finish.max()!) * 1e-9
        let scaling = try XCTUnwrap(r.scaling)
        XCTAssertEqual(scaling.gpuSeconds, end + 10, accuracy: 1e-9)
        XCTAssertEqual(scaling.peakInstances, 2)
        XCTAssertEqual(scaling.changes.map(\.time), [10, 20])
        XCTAssertEqual(scaling.changes.map(\.to), [2, 1])
        // The state the autoscaler saw: ten arrivals per 10 s interval, one serving then two.
        XCTAssertEqual(scaler.seen.prefix(2).map(\.arrivals), [10, 10])
        XCTAssertEqual(scaler.seen[1].serving, 2)
        XCTAssertEqual(RunSummary(r).gpuSeconds, end + 10, accuracy: 1e-9)
    }

    /// A fleet held at one instance is the single-instance run, and costs its makespan.
    func testAFleetOfOneIsTheSingleInstanceRun() throws {
        let t = steadyTrace()
        let one = try Simulator(trace: t, config: try config(instances: 1), makeScheduler: { VLLMScheduler() }).run()
        let scaled = try Simulator(trace: t, config: try config(instances: 3), makeScheduler: { VLLMScheduler() }, router: RoundRobinRouter(),
                                   autoscaler: ScriptedAutoscaler(interval: 5, coldStart: 1, max: 1, plan: [:])).run()
        XCTAssertEqual(scaled.requests.finish, one.requests.finish)
        XCTAssertEqual(scaled.gpuSeconds, one.gpuSeconds, accuracy: 1e-9)
        XCTAssertEqual(one.gpuSeconds, Double(one.requests.finish.max()!) * 1e-9, accuracy: 1e-12)
    }

    func testBoundsAreChecked() throws {
        XCTAssertThrowsError(try Simulator(trace: steadyTrace(), config: try config(instances: 2), makeScheduler: { VLLMScheduler() },
                                           router: RoundRobinRouter(), autoscaler: ScriptedAutoscaler(interval: 5, coldStart: 1, max: 3, plan: [:])))
        // A decision every 0.01 s over 1e9 s of arrivals: refused before any memory is spent.
        let far = makeTrace([(0, 10, 2), (1e9, 10, 2)])
        XCTAssertThrowsError(try Simulator(trace: far, config: try config(instances: 2), makeScheduler: { VLLMScheduler() },
                                           router: RoundRobinRouter(), autoscaler: ScriptedAutoscaler(interval: 0.01, coldStart: 1, max: 2, plan: [:]))) {
            XCTAssertTrue("\($0)".contains("longer interval"), "\($0)")
        }
    }

    /// HPA's rule: ⌈serving × utilisation / target⌉ outside a 10% tolerance; scale-down only to
    /// the highest recommendation of the stabilisation window.
    func testReactiveFollowsTheHPARule() {
        let hpa = ReactiveAutoscaler(interval: 15, coldStart: 0, min: 1, max: 8, targetUtilisation: 0.6, stabilization: 300)
        XCTAssertEqual(hpa.desired(ClusterState(now: 0, serving: 2, utilisation: 0.9)), 3)          // ⌈2 × 1.5⌉
        XCTAssertEqual(hpa.desired(ClusterState(now: 15_000_000_000, serving: 3, utilisation: 0.63)), 3)  // within tolerance
        // Load falls to 0.1: raw ⌈3 × 1/6⌉ = 1, but 3 was recommended within 300 s.
        XCTAssertEqual(hpa.desired(ClusterState(now: 30_000_000_000, serving: 3, utilisation: 0.1)), 3)
        XCTAssertEqual(hpa.desired(ClusterState(now: 400_000_000_000, serving: 3, utilisation: 0.1)), 1)
    }

    /// Once its forecast has covered for 10 intervals, the forecast autoscaler sizes for the upper
    /// band: 20.5 arrivals per 10 s × 1.5 busy s per request / 0.5 target = 6.15, so 7 instances.
    func testForecastSizesForTheUpperBand() {
        let f = ForecastAutoscaler(forecaster: BandForecaster(mean: 20, half: 0.5), interval: 10, horizon: 30, coldStart: 20, min: 1, max: 16,
                                   targetUtilisation: 0.5, warmup: 5, coverageMin: 0.6, downAfter: 3, stabilization: 300)
        var history: [Double] = []
        var last = 0
        for k in 1...16 {
            history.append(20)
            last = f.desired(ClusterState(now: Int64(k) * 10_000_000_000, serving: 1, arrivals: 20, arrivalHistory: history,
                                          utilisation: 0.5, busySecondsPerRequest: 1.5))
            if k < 15 { XCTAssertEqual(last, 1, "interval \(k): reactive (within tolerance) until trusted") }
        }
        XCTAssertEqual(last, 7)
        var log: [SchedulerEvent] = []
        f.drainEvents(into: &log)
        XCTAssertEqual(log.map(\.kind), ["forecast trusted"])
    }

    /// Counts of 10 for 30 intervals, then 50. The model forecasts the last count it was fitted
    /// on (warm-up 5) and ignores updates. Never refitted it stays at 10. Every 7 intervals it
    /// refits at intervals 12, 19, 26, 33 and 40 (5 refits, the last on a 50). On drift (window 5)
    /// the reference error after the fit is 0, so the first miss (interval 31, by 40) refits at
    /// once: one refit, forecasting 50 from then on.
    func testOnlineForecastRefitsByPolicy() throws {
        final class LevelAtFit: WorkloadPredictor {
            let name = "level-at-fit"
            var level = 0.0
            func fit(_ series: [Double]) throws { level = series.last! }
            func update(_ observation: Double) {}
            func predict(horizon: Int, levels: [Double]) throws -> Forecast {
                let m = [Double](repeating: level, count: horizon)
                return Forecast(mean: m, lower: [80: m], upper: [80: m])
            }
        }
        let counts = (1...40).map { $0 <= 30 ? 10.0 : 50.0 }
        for (policy, refits, last, firstRefit) in [(RefitPolicy.never, 0, 10.0, nil), (.every(7), 5, 50, 12), (.drift(window: 5, ratio: 1.5), 1, 50, 31)] {
            var online = OnlineForecast(forecaster: LevelAtFit(), warmup: 5, coverage: CoverageMonitor(window: 30, threshold: 0.6), refit: policy)
            var refittedAt: [Int] = []
            var forecast: Forecast? = nil
            for (k, c) in counts.enumerated() { forecast = try online.observe(c, horizon: 1) { _ in refittedAt.append(k + 1) } }
            XCTAssertEqual(online.refits, refits, "\(policy)")
            XCTAssertEqual(refittedAt.count, refits, "\(policy)")
            XCTAssertEqual(refittedAt.first, firstRefit, "\(policy)")
            XCTAssertEqual(forecast?.mean[0], last, "\(policy)")
        }
        // The autoscaler logs the refit with the drift figures.
        let f = ForecastAutoscaler(forecaster: LevelAtFit(), interval: 10, horizon: 30, coldStart: 20, min: 1, max: 16,
                                   targetUtilisation: 0.5, warmup: 5, coverageMin: 0.6, downAfter: 3, stabilization: 300,
                                   refit: .drift(window: 5, ratio: 1.5))
        var history: [Double] = []
        for (k, c) in counts.enumerated() {
            history.append(c)
            _ = f.desired(ClusterState(now: Int64(k + 1) * 10_000_000_000, serving: 1, arrivals: Int(c), arrivalHistory: history,
                                       utilisation: 0.5, busySecondsPerRequest: 1.5))
        }
        var log: [SchedulerEvent] = []
        f.drainEvents(into: &log)
        let refit = log.filter { $0.kind == "forecast refit" }
        XCTAssertEqual(refit.count, 1)
        XCTAssertEqual(refit.first?.time, 310_000_000_000)
        XCTAssertTrue(refit.first?.detail.contains("mean |one-step error| 8.0 over the last 5") == true, refit.first?.detail ?? "")
    }
}
