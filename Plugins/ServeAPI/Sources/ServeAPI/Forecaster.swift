/// A forecast: the mean path and, per confidence level (e.g. 80, 95), the lower and upper bands.
public struct Forecast: Sendable, Equatable {
    public var mean: [Double]
    public var lower: [Double: [Double]]
    public var upper: [Double: [Double]]

    public init(mean: [Double], lower: [Double: [Double]] = [:], upper: [Double: [Double]] = [:]) {
        self.mean = mean
        self.lower = lower
        self.upper = upper
    }
}

/// The workload-forecasting contract (statsforecast's shape): fit on a series at a fixed frequency,
/// forecast h steps ahead with intervals, and take new observations online without a refit.
public protocol WorkloadPredictor: AnyObject {
    var name: String { get }
    func fit(_ series: [Double]) throws
    func predict(horizon: Int, levels: [Double]) throws -> Forecast
    func update(_ observation: Double)
}

public typealias ForecasterEntry = ComponentEntry<any WorkloadPredictor>

extension Registries {
    public static let forecasters = ComponentRegistry<any WorkloadPredictor>(kind: "forecaster")
}
