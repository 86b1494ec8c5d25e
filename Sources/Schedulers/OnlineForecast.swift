import ServeAPI

/// How often a forecaster's one-interval-ahead band holds the count that then arrives, and
/// whether that earns trust. Counts are integers, so a band covers every count between its
/// rounded-out ends. The score is the mean of the checks so far until `window` of them, then a
/// moving average over about `window`. Trust needs at least min(10, window) checks and a score
/// 0.05 above `threshold`; it is lost below `threshold`.
struct CoverageMonitor {
    let window: Int
    let threshold: Double
    private(set) var coverage = 0.0
    private(set) var checks = 0
    private(set) var trusted = false

    init(window: Int, threshold: Double) {
        self.window = max(1, window)
        self.threshold = threshold
    }

    /// Scores the band that was forecast for the interval that just closed with `count` arrivals.
    mutating func check(_ count: Double, lo: Double, hi: Double) {
        let covered = count >= (lo - 1e-9).rounded(.down) && count <= (hi + 1e-9).rounded(.up) ? 1.0 : 0.0
        checks += 1
        coverage += (covered - coverage) / Double(min(checks, window))
    }

    /// Re-decides trust: true when it was just earned, false when just lost, nil when unchanged.
    /// `available` false (no forecast to act on) withdraws it.
    mutating func update(available: Bool = true) -> Bool? {
        let now = available && (trusted ? coverage >= threshold : checks >= min(10, window) && coverage >= threshold + 0.05)
        guard now != trusted else { return nil }
        trusted = now
        return now
    }

    /// The figures behind the last decision, for the log.
    var reason: String {
        "80% interval coverage \(String(format: "%.2f", coverage)) over \(min(checks, window)) intervals (trusted from \(String(format: "%.2f", threshold + 0.05)), lost below \(String(format: "%.2f", threshold)))"
    }
}

/// A forecaster fed one count per interval, as `smart` and the `forecast` autoscaler use it:
/// counts are collected until `warmup` of them, then the model is fitted and updated online;
/// after each interval it forecasts `horizon` intervals with an 80% band, and the band for the
/// next interval is scored against the count that then arrives (`coverage`). Under a refit
/// policy other than `never` the counts are kept (the latest `retained`) and the model is fitted
/// again on them when the policy says so, judged by the one-interval-ahead errors.
struct OnlineForecast {
    let forecaster: any WorkloadPredictor
    let warmup: Int
    /// The most counts kept for refits (the oldest are dropped first).
    static let retained = 10_000
    private(set) var history: [Double] = []
    private(set) var fitted = false
    /// The 80% band forecast for the interval now open (nil before the first forecast, or when
    /// the last forecast failed or had no band).
    private(set) var band: (lo: Double, hi: Double)? = nil
    /// The point forecast for the interval now open.
    private var expected: Double? = nil
    var coverage: CoverageMonitor
    private(set) var refit: RefitMonitor
    /// Fits after the first.
    private(set) var refits = 0

    init(forecaster: any WorkloadPredictor, warmup: Int, coverage: CoverageMonitor, refit: RefitPolicy = .never) {
        self.forecaster = forecaster
        self.warmup = warmup
        self.coverage = coverage
        self.refit = RefitMonitor(policy: refit)
    }

    /// Takes the count of the interval that just closed and forecasts `horizon` intervals from
    /// here: nil before the model is fitted or when it fails to forecast. A failed fit throws (the
    /// counts are kept, so the next interval tries again unless the caller drops some). `refitted`
    /// is called with the monitor's reason when the policy made the model fit again.
    mutating func observe(_ count: Double, horizon: Int, refitted: (String) -> Void = { _ in }) throws -> Forecast? {
        if let b = band { coverage.check(count, lo: b.lo, hi: b.hi) }
        if fitted {
            refit.observe(error: expected.map { abs(count - Swift.max(0, $0)) })
            if refit.policy != .never {
                history.append(count)
                if history.count > 2 * Self.retained { history.removeFirst(history.count - Self.retained) }
            }
            if refit.due {
                let reason = refit.reason
                // A failed refit leaves the model unfitted; the next interval fits it again from the kept counts.
                fitted = false
                try forecaster.fit(Array(history.suffix(Self.retained)))
                fitted = true
                refit.refitted()
                refits += 1
                refitted(reason)
            } else {
                forecaster.update(count)
            }
        } else {
            history.append(count)
            guard history.count >= warmup else { return nil }
            try forecaster.fit(Array(history.suffix(Self.retained)))
            fitted = true
            refit.refitted()
            if refit.policy == .never { history = [] }
        }
        guard let f = try? forecaster.predict(horizon: horizon, levels: [80]), let lo = f.lower[80], let hi = f.upper[80] else {
            band = nil
            expected = nil
            return nil
        }
        band = (max(0, lo[0]), hi[0])
        expected = f.mean[0]
        return f
    }

    /// Drops the older half of the counts gathered before a fit (after a fit failed on them).
    mutating func dropOlderHalf() { history.removeFirst(history.count / 2) }
}
