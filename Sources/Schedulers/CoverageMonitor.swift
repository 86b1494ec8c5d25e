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
