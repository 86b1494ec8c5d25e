import ServeAPI

/// Registers the built-in forecasters with typed options.
public enum Forecasters {
    public static func register() { registerOnce }

    static let season = OptionSpec("season", .int, default: "60", range: 1...100_000, doc: "season length in steps")

    private static let registerOnce: Void = {
        let r = Registries.forecasters
        r.register(ForecasterEntry(name: "naive", summary: "the last value (baseline)") { _ in NaiveForecaster() })
        r.register(ForecasterEntry(name: "seasonal-naive", summary: "the value one season ago (baseline)", options: [season]) { o in
            SeasonalNaiveForecaster(season: o.int("season"))
        })
        r.register(ForecasterEntry(
            name: "moving-average", summary: "the mean of the last values (baseline)",
            options: [OptionSpec("window", .int, default: "10", range: 1...100_000, doc: "values averaged")]) { o in
            MovingAverageForecaster(window: o.int("window"))
        })
        r.register(ForecasterEntry(name: "ses", summary: "simple exponential smoothing (alpha fitted)") { _ in ExponentialSmoothing(kind: .simple) })
        r.register(ForecasterEntry(name: "holt", summary: "Holt's damped additive trend (alpha, beta, phi fitted)") { _ in
            ExponentialSmoothing(kind: .dampedTrend)
        })
        r.register(ForecasterEntry(name: "holt-winters", summary: "additive Holt-Winters with damped trend", options: [season]) { o in
            ExponentialSmoothing(kind: .holtWinters(season: o.int("season")))
        })
        r.register(ForecasterEntry(
            name: "arima", summary: "ARIMA with the order chosen by AIC (d by lag-1 autocorrelation, p ≤ 3, q ≤ 2)",
            options: [OptionSpec("order", .string, default: "auto", doc: "auto, or p,d,q written p-d-q (e.g. 1-0-0)")]) { o in
            let text = o.string("order")
            if text == "auto" { return ARIMAForecaster() }
            let parts = text.split(separator: "-").compactMap { Int($0) }
            guard parts.count == 3, parts.allSatisfy({ $0 >= 0 }), parts[1] <= 1, parts[0] <= 6, parts[2] <= 6 else {
                throw OptionError("arima: option 'order' expects auto or p-d-q with d ≤ 1 (e.g. 2-1-1), got '\(text)'")
            }
            return ARIMAForecaster(order: (parts[0], parts[1], parts[2]))
        })
        r.register(ForecasterEntry(
            name: "dlinear", summary: "trend/remainder decomposition with one linear map each (gradient descent)",
            options: [OptionSpec("lookback", .int, default: "120", range: 2...10_000, doc: "input window, steps"),
                      OptionSpec("horizon", .int, default: "12", range: 1...1000, doc: "steps forecast per pass (longer horizons recurse)"),
                      OptionSpec("kernel", .int, default: "25", range: 1...1000, doc: "moving-average kernel"),
                      OptionSpec("epochs", .int, default: "60", range: 1...10_000, doc: "training epochs")]) { o in
            DLinearForecaster(lookBack: o.int("lookback"), horizon: o.int("horizon"), kernel: o.int("kernel"), epochs: o.int("epochs"))
        })
        r.register(ForecasterEntry(
            name: "gru", summary: "a small GRU trained by backpropagation through time",
            options: [OptionSpec("hidden", .int, default: "12", range: 1...256, doc: "hidden units"),
                      OptionSpec("sequence", .int, default: "24", range: 2...1000, doc: "unrolled steps per training window"),
                      OptionSpec("epochs", .int, default: "12", range: 1...10_000, doc: "epochs of 64 windows")]) { o in
            GRUForecaster(hidden: o.int("hidden"), sequence: o.int("sequence"), epochs: o.int("epochs"))
        })
        r.register(ForecasterEntry(
            name: "ensemble", summary: "ses, holt and arima weighted by inverse recent error; skips members that fail") { _ in
            EnsembleForecaster { [ExponentialSmoothing(kind: .simple), ExponentialSmoothing(kind: .dampedTrend), ARIMAForecaster()] }
        })
    }()
}
