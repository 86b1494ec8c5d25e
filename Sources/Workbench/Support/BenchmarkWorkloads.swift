import ServeSim
import Workload

/// The workloads and configuration both benchmark programs measure (`smartserve-bench` prints
/// the figures against their targets, `Benchmarks/EngineBenchmarks` tracks them in the standard
/// harness), so the two always measure the same runs.
public enum BenchmarkWorkloads {
    /// ShareGPT-like lengths at a rate one H100 sustains for Llama-3.1-8B (25 req/s here).
    public static func shareGPTLike(_ n: Int, rate: Double = 25) throws -> Trace {
        try SyntheticWorkload(count: n, arrivals: .poisson(rate: rate),
                              prompt: .logNormal(median: 180, sigma: 1, min: 1, max: 2048),
                              output: .logNormal(median: 150, sigma: 0.9, min: 1, max: 1024), seed: 1).generate()
    }

    /// One H100 serving Llama-3.1-8B with vLLM's defaults.
    public static func h100() throws -> ClusterConfig {
        ClusterConfig(hardware: try HardwareCatalog.resolve("H100"), model: try ModelCatalog.resolve("meta-llama/Llama-3.1-8B"))
    }
}
