/// The last value, repeated.
public final class NaiveForecaster: ConformalForecaster {
    public init() { super.init(name: "naive") }
    override public var minimumLength: Int { 1 }
    override public func point(_ horizon: Int) -> [Double] { Array(repeating: history.last ?? 0, count: horizon) }
}

/// The value one season earlier: ŷ(T+h) = y(T + h − m·⌈h/m⌉).
public final class SeasonalNaiveForecaster: ConformalForecaster {
    let season: Int
    public init(season: Int) {
        self.season = season
        super.init(name: "seasonal-naive")
    }
    override public var minimumLength: Int { season }
    override public func point(_ horizon: Int) -> [Double] {
        let n = history.count
        return (1...horizon).map { h in history[n - season + (h - 1) % season] }
    }
}

/// The mean of the last `window` values.
public final class MovingAverageForecaster: ConformalForecaster {
    let window: Int
    private var sum = 0.0
    public init(window: Int) {
        self.window = window
        super.init(name: "moving-average")
    }
    override public var minimumLength: Int { window }
    override public func train(_ series: [Double]) throws { sum = series.suffix(window).reduce(0, +) }
    override public func observe(_ y: Double) {
        sum += y - history[history.count - 1 - window]
    }
    override public func point(_ horizon: Int) -> [Double] { Array(repeating: sum / Double(window), count: horizon) }
}
