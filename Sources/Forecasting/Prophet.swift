import Foundation

/// A Prophet-style additive regression (Taylor & Letham, 2018): y(t) = g(t) + Σ s_P(t) + h(t) + ε.
/// - g: a piecewise-linear trend, the slope changing at `changepoints` points spread evenly over
///   the first 80% of the series; the changes have Prophet's sparse Laplace prior of scale
///   `changepointScale` (`changepoint_prior_scale`), so most are exactly or nearly 0: the MAP
///   estimate with Gaussian noise σ² minimises ‖z − Xβ‖² + (2σ²/scale)·Σ|δ|, found by
///   iteratively reweighted ridge steps (the local quadratic approximation of Fan & Li, 2001:
///   penalty σ²/(scale·|δ|) on each change; 30 steps from a ridge start, σ² re-estimated from
///   each step's residuals); the last segment's slope continues into the future;
/// - s_P: a Fourier series of `order` harmonics (at most P/2) for each season P (given, else
///   detected, else none), shrunk by a prior of scale 10 as in Prophet;
/// - h: one effect shared by every holiday step (indices from the series' first point, joined
///   by +; future ones get the effect the past ones showed), as Prophet shares a holiday's effect
///   between its occurrences.
/// Fitted by penalised least squares on t scaled to [0, 1]. Like Prophet it does not update its
/// level online: new observations only move the clock (refit with `--refit` to follow them).
public final class ProphetForecaster: ConformalForecaster {
    let requestedSeasons: [Int]?
    let fallbackSeason: Int
    let order: Int
    let changepointCount: Int
    let changepointScale: Double
    let holidays: Set<Int>
    public private(set) var seasons: [Int] = []
    public private(set) var changepoints: [Double] = []
    public private(set) var coefficients: [Double] = []
    var span = 1.0, yMean = 0.0, yScale = 1.0
    var t = 0

    public init(seasons: [Int]? = nil, season: Int = 1, order: Int = 5, changepoints: Int = 25, changepointScale: Double = 0.05,
                holidays: [Int] = []) {
        requestedSeasons = seasons
        fallbackSeason = season
        self.order = order
        changepointCount = changepoints
        self.changepointScale = changepointScale
        self.holidays = Set(holidays)
        super.init(name: "prophet")
    }

    override public var minimumLength: Int { 10 }

    /// The regressors at step i: 1, time, one hinge per changepoint, Fourier terms, holidays.
    func row(_ i: Int) -> [Double] {
        let x = Double(i) / span
        var r = [1, x]
        for c in changepoints { r.append(max(0, x - c)) }
        for p in seasons {
            for k in 1...max(1, min(order, p / 2)) {
                let w = 2 * Double.pi * Double(k) * Double(i) / Double(p)
                r.append(sin(w))
                r.append(cos(w))
            }
        }
        if !holidays.isEmpty { r.append(holidays.contains(i) ? 1 : 0) }
        return r
    }

    /// The normal equations XᵀX (k × k, row-major) and Xᵀy of the design rows X.
    func normalEquations(_ rows: [[Double]], _ y: [Double]) -> (a: [Double], b: [Double], k: Int) {
        let k = rows[0].count
        var a = [Double](repeating: 0, count: k * k), b = [Double](repeating: 0, count: k)
        for (r, v) in zip(rows, y) {
            for p in 0..<k {
                b[p] += r[p] * v
                for q in p..<k { a[p * k + q] += r[p] * r[q] }
            }
        }
        for p in 0..<k { for q in 0..<p { a[p * k + q] = a[q * k + p] } }
        return (a, b, k)
    }

    /// The fitted value of one design row.
    static func fitted(_ row: [Double], _ beta: [Double]) -> Double { zip(row, beta).reduce(0) { $0 + $1.0 * $1.1 } }

    /// The residuals' mean square (at least 1e-6): the noise variance the priors are scaled by.
    static func noiseVariance(_ rows: [[Double]], _ y: [Double], _ beta: [Double]) -> Double {
        var sse = 0.0
        for (r, v) in zip(rows, y) { sse += pow(v - fitted(r, beta), 2) }
        return max(sse / Double(y.count), 1e-6)
    }

    /// Penalised least squares: (XᵀX + diag(penalties))·β = Xᵀy.
    func solve(_ e: (a: [Double], b: [Double], k: Int), penalties: [Double]) -> [Double]? {
        var a = e.a
        for p in 0..<e.k { a[p * e.k + p] += penalties[p] + 1e-9 }
        return LinearSystem.solve(a, e.b, e.k)
    }

    override public func train(_ y: [Double]) throws {
        let n = y.count
        span = Double(max(1, n - 1))
        var chosen = requestedSeasons ?? SeasonDetector.detect(y)
        if chosen.isEmpty && fallbackSeason > 1 { chosen = [fallbackSeason] }
        seasons = chosen.filter { $0 > 1 && 2 * $0 <= n }.sorted()
        yMean = y.reduce(0, +) / Double(n)
        let spread = y.reduce(0) { $0 + abs($1 - yMean) } / Double(n)
        yScale = spread > 1e-12 ? spread : 1
        let z = y.map { ($0 - yMean) / yScale }
        let fourier = seasons.reduce(0) { $0 + 2 * max(1, min(order, $1 / 2)) }
        // A first fit without changepoints estimates the noise that scales the changepoint prior.
        changepoints = []
        let basePenalties = [0.0, 0] + Array(repeating: 1 / 100.0, count: fourier) + Array(repeating: 0.01, count: holidays.isEmpty ? 0 : 1)
        let baseRows = (0..<n).map(row)
        guard let first = solve(normalEquations(baseRows, z), penalties: basePenalties) else { throw ForecastError("prophet: the regression is singular (too few points for its terms)") }
        let noise = Self.noiseVariance(baseRows, z, first)
        let count = min(changepointCount, n / 10)
        changepoints = count > 0 ? (1...count).map { 0.8 * Double($0) / Double(count + 1) } : []
        let rows = (0..<n).map(row)
        let equations = normalEquations(rows, z)
        var penalties = [0.0, 0] + Array(repeating: noise / (changepointScale * changepointScale), count: changepoints.count)
            + Array(repeating: noise / 100, count: fourier + (holidays.isEmpty ? 0 : 1))
        guard var beta = solve(equations, penalties: penalties) else { throw ForecastError("prophet: the regression is singular (too few points for its terms)") }
        // The Laplace prior's MAP by reweighted ridge steps (a change that shrinks to ~0 stays
        // there), the noise re-estimated from each step's residuals as Prophet estimates it jointly.
        for _ in 0..<30 where !changepoints.isEmpty {
            let sigma2 = Self.noiseVariance(rows, z, beta)
            for j in 0..<changepoints.count { penalties[2 + j] = sigma2 / (changepointScale * max(abs(beta[2 + j]), 1e-6)) }
            guard let next = solve(equations, penalties: penalties) else { break }
            beta = next
        }
        coefficients = beta
        t = n
    }

    override public func observe(_ y: Double) { t += 1 }

    override public func point(_ horizon: Int) -> [Double] {
        (0..<horizon).map { h in Self.fitted(row(t + h), coefficients) * yScale + yMean }
    }
}
