import Foundation

/// Whether one model's rolling-origin losses are really lower than another's: the Diebold–Mariano
/// test of equal accuracy on the per-origin loss differences, with a Newey–West (Bartlett)
/// long-run variance over the lags at which consecutive origins' forecasts overlap, and the
/// Harvey–Leybourne–Newbold small-sample correction (the statistic scaled, then read against
/// Student's t with n − 1 degrees of freedom). With 20 origins a mean MASE carries a standard
/// error of several percent, so a margin is only worth stating with its uncertainty.
public struct AccuracyComparison: Sendable, Equatable {
    /// Mean of a − b over origins (negative: a has the lower loss).
    public var meanDifference: Double
    /// Standard error of that mean.
    public var standardError: Double
    /// The corrected statistic, t-distributed with `origins` − 1 degrees of freedom under equal accuracy.
    public var statistic: Double
    /// Two-sided p-value of equal accuracy.
    public var pValue: Double
    public var origins: Int

    /// Compares per-origin losses `a` and `b` (the same origins, in order); `overlap` is the
    /// number of later origins whose forecasts share actuals with an origin's (horizon / step,
    /// rounded up, less one). nil with fewer than 3 origins.
    public init?(_ a: [Double], _ b: [Double], overlap: Int) {
        guard a.count == b.count, a.count >= 3 else { return nil }
        let d = zip(a, b).map { $0 - $1 }
        guard let se = Self.standardError(of: d, overlap: overlap) else { return nil }
        let n = Double(d.count)
        meanDifference = d.reduce(0, +) / n
        origins = d.count
        // A difference that does not vary (to rounding) has no noise to weigh it against.
        let noisy = se > 1e-12 * abs(meanDifference)
        standardError = noisy ? se : 0
        let h = Double(min(overlap, d.count - 2) + 1)
        let correction = ((n + 1 - 2 * h + h * (h - 1) / n) / n).squareRoot()
        if noisy {
            statistic = meanDifference / se * correction
            pValue = StudentT.twoSidedP(statistic, degrees: n - 1)
        } else {
            // Identical losses (or a constant difference, which no noise explains).
            statistic = meanDifference == 0 ? 0 : (meanDifference > 0 ? .infinity : -.infinity)
            pValue = meanDifference == 0 ? 1 : 0
        }
    }

    /// The standard error of the mean of `x`, from the Newey–West long-run variance with
    /// Bartlett weights up to `overlap` lags (never negative); nil for fewer than 2 values.
    public static func standardError(of x: [Double], overlap: Int) -> Double? {
        guard x.count >= 2 else { return nil }
        let n = Double(x.count)
        let mean = x.reduce(0, +) / n
        let c = x.map { $0 - mean }
        func autocovariance(_ k: Int) -> Double {
            var s = 0.0
            for t in k..<c.count { s += c[t] * c[t - k] }
            return s / n
        }
        let lags = max(0, min(overlap, x.count - 1))
        var variance = autocovariance(0)
        if lags > 0 {
            for k in 1...lags { variance += 2 * (1 - Double(k) / Double(lags + 1)) * autocovariance(k) }
        }
        return (max(0, variance) / n).squareRoot()
    }
}

/// Student's t distribution, through the regularized incomplete beta function.
public enum StudentT {
    /// P(|T| ≥ |t|) for `degrees` degrees of freedom: I_{ν/(ν+t²)}(ν/2, 1/2).
    public static func twoSidedP(_ t: Double, degrees: Double) -> Double {
        guard t.isFinite else { return t.isNaN ? .nan : 0 }
        return regularizedBeta(degrees / (degrees + t * t), degrees / 2, 0.5)
    }

    /// I_x(a, b), by its continued fraction (evaluated with the modified Lentz method) on the
    /// side of x where it converges quickly.
    static func regularizedBeta(_ x: Double, _ a: Double, _ b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        if x > (a + 1) / (a + b + 2) { return 1 - regularizedBeta(1 - x, b, a) }
        let logGammas: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let logPowers: Double = a * log(x) + b * log(1 - x)
        return exp(logGammas + logPowers) * continuedFraction(x, a, b) / a
    }

    /// 1 / (1 + d1 / (1 + d2 / (1 + …))) with d_{2m+1} = −(a+m)(a+b+m)x / ((a+2m)(a+2m+1)) and
    /// d_{2m} = m(b−m)x / ((a+2m−1)(a+2m)).
    static func continuedFraction(_ x: Double, _ a: Double, _ b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var f = d
        for m in 1...300 {
            let m = Double(m)
            let even: Double = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            let odd: Double = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            for numerator in [even, odd] {
                d = 1 + numerator * d
                if abs(d) < tiny { d = tiny }
                c = 1 + numerator / c
                if abs(c) < tiny { c = tiny }
                d = 1 / d
                f *= d * c
            }
            if abs(d * c - 1) < 1e-15 { break }
        }
        return f
    }
}
