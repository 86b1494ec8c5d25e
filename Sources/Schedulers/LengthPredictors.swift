import Foundation
import ServeAPI
import Workload

/// The true output length: the upper bound for length-aware scheduling.
public final class OraclePredictor: LengthPredictor {
    public let name = "oracle"
    public init() {}
    public func predict(prompts: [Int32], outputs: [Int32], seed: UInt64) -> [Int32] { outputs }
}

/// The true length times a log-normal error exp(σ·N(0,1)): σ = 0 is the oracle, larger σ a worse
/// predictor. Seeded, so a run is reproducible.
public final class NoisyOraclePredictor: LengthPredictor {
    public let name = "noisy-oracle"
    let sigma: Double
    public init(sigma: Double) { self.sigma = sigma }
    public func predict(prompts: [Int32], outputs: [Int32], seed: UInt64) -> [Int32] {
        var rng = SeededRandom(seed: seed ^ 0x1E57_0F_A11)
        return outputs.map { Int32(max(1, (Double($0) * exp(sigma * rng.normal())).rounded())) }
    }
}
