import Foundation

/// A combination of statistical forecasts in the style of the M4 competition's strong entries:
/// every member is fitted on the same data and the point forecasts are combined per horizon by
/// their median, their mean, or weights exp(−ΔAIC/2) (Akaike weights; members without an AIC
/// get the mean of the others' weights). Members that fail to fit are left out. Intervals are
/// conformal on the combination's own errors, like every model's.
public final class CombinationForecaster: ConformalForecaster {
    public enum Method: String, Sendable, CaseIterable { case median, mean, aic }
    let method: Method
    let makeMembers: () -> [ConformalForecaster]
    public private(set) var members: [ConformalForecaster] = []
    public private(set) var weights: [Double] = []

    public init(method: Method, members: @escaping () -> [ConformalForecaster]) {
        self.method = method
        makeMembers = members
        super.init(name: "combination")
    }

    override public var minimumLength: Int { 4 }

    override public func train(_ y: [Double]) throws {
        members = []
        var failures: [String] = []
        for m in makeMembers() {
            do { try m.fitPointOnly(y); members.append(m) } catch { failures.append("\(m.name): \(error)") }
        }
        guard !members.isEmpty else { throw ForecastError("combination: no member could be fitted (\(failures.joined(separator: "; ")))") }
        weights = Self.akaikeWeights(members.map(\.aic))
    }

    /// exp(−(AIC − min AIC)/2), normalised; a member without an AIC takes the mean of the known weights.
    static func akaikeWeights(_ aics: [Double?]) -> [Double] {
        let known = aics.compactMap { $0 }.filter(\.isFinite)
        guard let best = known.min() else { return Array(repeating: 1 / Double(aics.count), count: aics.count) }
        var raw = aics.map { a -> Double? in a.flatMap { $0.isFinite ? exp(-($0 - best) / 2) : nil } }
        let fill = raw.compactMap { $0 }.reduce(0, +) / Double(raw.compactMap { $0 }.count)
        raw = raw.map { $0 ?? fill }
        let total = raw.reduce(0) { $0 + $1! }
        return raw.map { $0! / total }
    }

    override public func observe(_ y: Double) { for m in members { m.update(y) } }

    override public func point(_ horizon: Int) -> [Double] {
        var paths: [[Double]] = [], w: [Double] = []
        for (k, m) in members.enumerated() {
            let p = m.point(horizon)
            if p.allSatisfy(\.isFinite) { paths.append(p); w.append(weights[k]) }
        }
        guard !paths.isEmpty else { return Array(repeating: history.last ?? 0, count: horizon) }
        let total = w.reduce(0, +)
        return (0..<horizon).map { h in
            let values = paths.map { $0[h] }
            switch method {
            case .median:
                let s = values.sorted()
                return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
            case .mean: return values.reduce(0, +) / Double(values.count)
            case .aic: return zip(values, w).reduce(0) { $0 + $1.0 * $1.1 } / total
            }
        }
    }
}
