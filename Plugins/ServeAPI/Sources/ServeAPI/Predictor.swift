/// The length-predictor contract: before a run, one predicted output length per request.
/// Schedulers read the predictions through `RequestColumns.predictedOutput`; the oracle passes the
/// true lengths, the upper bound researchers start from.
public protocol LengthPredictor: AnyObject {
    var name: String { get }
    /// Predicted output tokens for each request (same order as `prompts`). `outputs` are the true
    /// lengths: an honest predictor uses them only for requests it has "seen" (e.g. a training prefix).
    func predict(prompts: [Int32], outputs: [Int32], seed: UInt64) -> [Int32]
}

public typealias PredictorEntry = ComponentEntry<any LengthPredictor>

extension Registries {
    public static let lengthPredictors = ComponentRegistry<any LengthPredictor>(kind: "predictor")
}
