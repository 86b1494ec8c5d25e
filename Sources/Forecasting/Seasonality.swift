import Foundation

/// Finds season lengths from the data, for `--season auto`. On the linearly detrended series (the
/// last 8,192 points at most), a periodogram peak among periods 2 … n/3 is a season candidate when
/// it stands out from the spectrum around it: periodogram ordinates of a smooth spectrum S are
/// about S·Exp(1), so with m frequencies tested at 1% a peak must exceed ln(m/0.01)·S, S being
/// estimated from the median of the ordinates within ±max(5, j/4) frequencies (neighbours ±1
/// left out: a peak leaks into them). The local test keeps bursty, autocorrelated series (whose
/// spectrum rises towards low frequencies) from reading as seasonal. Each period n/j is refined
/// to the whole lag within ±15% with the most power at its own frequency, which must also show
/// an autocorrelation above the 99% band 2.58/√n; a candidate within 15% of a season found is
/// the same season. Up to three, strongest first: a short season inside a long one (days in
/// weeks) shows as its own peak.
public enum SeasonDetector {
    public static let maxPoints = 8192

    static func detrended(_ y: ArraySlice<Double>) -> [Double] {
        let n = Double(y.count)
        let mt = (n - 1) / 2, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0
        for (i, v) in y.enumerated() { sxy += (Double(i) - mt) * (v - my); sxx += (Double(i) - mt) * (Double(i) - mt) }
        let b = sxx > 0 ? sxy / sxx : 0
        return y.enumerated().map { $0.element - my - b * (Double($0.offset) - mt) }
    }

    static func autocorrelation(_ x: [Double], lag k: Int, energy: Double) -> Double {
        var s = 0.0
        for i in k..<x.count { s += x[i] * x[i - k] }
        return s / energy
    }

    /// |Σ x(t)·e^(−2πi·f·t)|², with the twiddle factor advanced by rotation.
    static func powerAt(_ x: [Double], frequency f: Double) -> Double {
        let w = 2 * Double.pi * f
        let (cw, sw) = (cos(w), sin(w))
        var c = 1.0, s = 0.0, re = 0.0, im = 0.0
        for v in x {
            re += v * c
            im += v * s
            (c, s) = (c * cw - s * sw, s * cw + c * sw)
        }
        return re * re + im * im
    }

    /// Detected seasons, strongest first ([] when the series shows none).
    public static func detect(_ y: [Double]) -> [Int] {
        let x = detrended(y.suffix(maxPoints)[...])
        let n = x.count
        guard n >= 12 else { return [] }
        let band = 2.58 / Double(n).squareRoot()
        let lowest = 3                       // frequency index: periods up to n/3
        let highest = n / 2
        let m = highest - lowest + 1
        guard m >= 3 else { return [] }
        let threshold = log(Double(m) / 0.01)
        let energy = x.reduce(0) { $0 + $1 * $1 }
        guard energy > 1e-12 else { return [] }
        var power: [(j: Int, p: Double)] = []
        var total = 0.0
        for j in lowest...highest {
            let p = powerAt(x, frequency: Double(j) / Double(n))
            power.append((j, p))
            total += p
        }
        guard total > 0 else { return [] }
        /// The spectrum's level around index i (into `power`), from the median of its neighbourhood.
        func localLevel(_ i: Int) -> Double {
            let w = max(5, power[i].j / 4)
            var around: [Double] = []
            for k in max(0, i - w)...min(power.count - 1, i + w) where abs(k - i) > 1 { around.append(power[k].p) }
            guard !around.isEmpty else { return total / Double(power.count) }
            around.sort()
            return around[around.count / 2] / log(2.0)
        }
        var found: [Int] = []
        for (i, candidate) in power.enumerated().sorted(by: { $0.element.p > $1.element.p }).map({ ($0.offset, $0.element) }) {
            guard found.count < 3, candidate.p > 0 else { break }
            guard candidate.p > threshold * localLevel(i) else { continue }
            let period = Double(n) / Double(candidate.j)
            if found.contains(where: { abs(Double($0) - period) <= 0.15 * Double($0) }) { continue }
            let lo = max(2, Int((0.85 * period).rounded(.down))), hi = min(n / 2, Int((1.15 * period).rounded(.up)))
            guard lo <= hi else { continue }
            // The whole lag with the most power at its own frequency (1/lag, between Fourier frequencies).
            var lag = lo, strongest = -Double.infinity
            for k in lo...hi {
                let v = powerAt(x, frequency: 1 / Double(k))
                if v > strongest { (lag, strongest) = (k, v) }
            }
            if autocorrelation(x, lag: lag, energy: energy) > band && !found.contains(lag) { found.append(lag) }
        }
        return found
    }
}
