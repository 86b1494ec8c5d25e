/// The length-predictor contract: before a run, one predicted output length per request.
/// Schedulers read the predictions through `RequestColumns.predictedOutput`; the oracle passes the
/// true lengths, the upper bound researchers start from.
///
/// A predictor sees the features the trace carries (`RequestFeatures`). An honest one uses a
/// request's true output only once that request could have finished before the request it
/// predicts (a training prefix, or labels revealed after a delay when learning online).
public protocol LengthPredictor: AnyObject {
    var name: String { get }
    /// Predicted output tokens for each request (same order as `prompts`). `outputs` are the true
    /// lengths: an honest predictor uses them only for requests it has "seen" (e.g. a training prefix).
    func predict(prompts: [Int32], outputs: [Int32], seed: UInt64) -> [Int32]
    /// Predicted output tokens from every feature the trace carries. The default calls
    /// `predict(prompts:outputs:seed:)`, so a predictor that needs only lengths implements that one.
    func predict(_ features: RequestFeatures, seed: UInt64) -> [Int32]
}

extension LengthPredictor {
    public func predict(_ features: RequestFeatures, seed: UInt64) -> [Int32] {
        predict(prompts: features.prompts, outputs: features.outputs, seed: seed)
    }
}

/// What is known about each request when it arrives (columns in arrival order), plus the true
/// output lengths a predictor may learn from once they are revealed.
public struct RequestFeatures: Sendable {
    public var prompts: [Int32]
    /// True output lengths (labels).
    public var outputs: [Int32]
    /// Arrival time, seconds from the first arrival.
    public var arrivals: [Double]
    /// Index into `models` per request, when the trace names models.
    public var model: [UInt8]?
    public var models: [String]
    /// Index into `logTypes` per request, when the trace has log types (BurstGPT's Conversation/API).
    public var logType: [UInt8]?
    public var logTypes: [String]
    /// Conversation or client session per request (-1 for none), when the trace has sessions.
    public var session: [Int32]?
    /// Turn within the session (1 for the first request of a session), when the trace has sessions.
    public var turn: [Int32]?

    public init(prompts: [Int32], outputs: [Int32], arrivals: [Double],
                model: [UInt8]? = nil, models: [String] = [], logType: [UInt8]? = nil, logTypes: [String] = [],
                session: [Int32]? = nil, turn: [Int32]? = nil) {
        self.prompts = prompts
        self.outputs = outputs
        self.arrivals = arrivals
        self.model = model
        self.models = models
        self.logType = logType
        self.logTypes = logTypes
        self.session = session
        self.turn = turn
    }

    public var count: Int { prompts.count }
}

public typealias PredictorEntry = ComponentEntry<any LengthPredictor>

extension Registries {
    public static let lengthPredictors = ComponentRegistry<any LengthPredictor>(kind: "predictor")
}
