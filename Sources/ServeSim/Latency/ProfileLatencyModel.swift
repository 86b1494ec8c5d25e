import Foundation

/// Step latency from a measured LLMServingSim 2.0 profile bundle.
///
/// A step walks the model as the bundle describes it: `embedding` once; per block the dense layers
/// (`layernorm` twice, `qkv_proj`, `rotary_emb`, `o_proj`, `gate_up_proj`, `act_fn`, `down_proj`,
/// or the MoE block from `moe.csv`) looked up by the step's tokens, plus attention; then
/// `final_layernorm`, and `lm_head` + `sampler` by the sequences sampled. What the bundle does not
/// measure comes from the roofline's hardware constants: TP all-reduces and EP all-to-alls per
/// layer, pipeline sends, KV swap, and the engine's CPU overheads per step and per sequence.
///
/// Attention uses the 4-D table (prefill chunk, prefill KV, decodes, decode KV). Several prefill
/// chunks in one step are priced as the same number of equal chunks with the step's causal work
/// (the first inside the mixed kernel, each further one at its own cost less one kernel launch,
/// the table's smallest time). Decodes of mixed lengths get the bundle's skew correction:
/// t(mean KV) + alpha × (t(max KV) − t(mean KV)), where the share of long decodes is read from the
/// batch's min, mean and max as for a two-length batch (mean − min) / (max − min).
public struct ProfileLatencyModel: Sendable {
    public let bundle: ProfileBundle
    let roofline: RooflineModel
    /// Per-block dense time (µs) by integer token count 0...denseLimit, and per-step dense time.
    let blockDense: [Double]
    let stepDense: [Double]
    /// lm_head + sampler (µs) by sequences 0...sampleLimit.
    let sampling: [Double]
    let blockLayers: [(name: String, curve: Curve, times: Double)]
    let stepLayers: [Curve]
    let minAttention: Double
    let moeExperts: Double
    let moeTopK: Double

    public init(bundle: ProfileBundle, config: ClusterConfig) throws {
        guard ModelCatalog.sameShapeName(bundle.model, config.model.name) else {
            throw ConfigError("latency profile \(bundle.directory) was measured for \(bundle.model), but the run uses \(config.model.name)")
        }
        // A bundle times one GPU: refuse another catalog GPU (names outside the catalog pass).
        if let measured = try? HardwareCatalog.resolve(bundle.hardware), let used = try? HardwareCatalog.resolve(config.hardware.name),
           measured.name != used.name {
            throw ConfigError("latency profile \(bundle.directory) was measured on \(measured.name), but the run uses \(used.name); use --hardware \(measured.name) or a profile of \(used.name)")
        }
        guard bundle.tensorParallel == config.tensorParallel else {
            throw ConfigError("latency profile \(bundle.directory): loaded for TP \(bundle.tensorParallel), the run uses TP \(config.tensorParallel)")
        }
        if config.model.isMoE && bundle.moe == nil {
            throw ConfigError("latency profile \(bundle.directory)/tp\(bundle.tensorParallel): \(config.model.name) is a MoE model but the bundle has no moe.csv")
        }
        self.bundle = bundle
        roofline = RooflineModel(config: config)
        let perStep: Set<String> = ["embedding", "final_layernorm", "lm_head", "sampler"]
        var layers: [(String, Curve, Double)] = []
        for (name, curve) in bundle.dense.sorted(by: { $0.key < $1.key }) where !perStep.contains(name) {
            // One `layernorm` row stands for both of a block's norms (before attention and before the MLP).
            layers.append((name, curve, name == "layernorm" ? 2 : 1))
        }
        blockLayers = layers
        let once = ["embedding", "final_layernorm"].compactMap { bundle.dense[$0] }
        stepLayers = once
        // Tabulated up to the budget (beyond it, per-layer lookups); never more than 1M entries.
        let denseLimit = min(1 << 20, config.knobs.maxNumBatchedTokens)
        blockDense = (0...denseLimit).map { t in layers.reduce(0) { $0 + $1.1.at(Double(t)) * $1.2 } }
        stepDense = (0...denseLimit).map { t in once.reduce(0) { $0 + $1.at(Double(t)) } }
        let sampleLimit = min(1 << 20, max(config.knobs.maxNumSeqs, 1))
        let lm = bundle.perSequence["lm_head"]!, sampler = bundle.perSequence["sampler"]
        sampling = (0...sampleLimit).map { s in s == 0 ? 0 : lm.at(Double(s)) + (sampler?.at(Double(s)) ?? 0) }
        minAttention = bundle.attention.value(0, 0, 1, 0)
        moeExperts = Double(config.model.experts)
        moeTopK = Double(config.model.expertsPerToken)
    }

    @inline(__always)
    func perBlockDense(_ tokens: Int) -> Double {
        tokens < blockDense.count ? blockDense[tokens] : blockLayers.reduce(0) { $0 + $1.curve.at(Double(tokens)) * $1.times }
    }

    /// Attention of one block for the step, µs.
    public func attention(_ s: StepShape) -> Double {
        let grid = bundle.attention
        let m = Double(s.prefillChunks)
        var chunk = 0.0, kp = 0.0
        if s.prefillChunks > 0 {
            chunk = Double(s.prefillTokens) / m
            // Equal chunks with the step's causal pairs: pairs = tokens × (kp + (chunk + 1) / 2).
            kp = max(0, s.prefillPairs / Double(s.prefillTokens) - (chunk + 1) / 2)
        }
        let n = Double(s.decodes)
        var time: Double
        if s.decodes > 0 {
            let mean = s.decodeContext / n
            time = grid.value(chunk, kp, n, mean)
            let longest = Double(s.maxDecodeContext), shortest = Double(s.minDecodeContext)
            if let skew = bundle.skew, longest > shortest {
                let share = (mean - shortest) / (longest - shortest)
                let alpha = skew.alpha(pc: chunk, n: n, share: share, kvBig: longest, kp: kp)
                time += alpha * (grid.value(chunk, kp, n, longest) - time)
            }
        } else {
            time = grid.value(chunk, kp, 0, 0)
        }
        if s.prefillChunks > 1 {
            time += (m - 1) * max(0, grid.value(chunk, kp, 0, 0) - minAttention)
        }
        return time
    }

    /// The MoE block of one layer on one rank, µs: the table at the step's tokens and the experts
    /// it activates on this rank (expected distinct experts of E hit by T × k choices, E/ep each).
    func moe(_ tokens: Double) -> Double {
        guard let table = bundle.moe, moeExperts > 0 else { return 0 }
        let ep = roofline.ep
        let e = moeExperts / ep
        let activated = e * (1 - pow(1 - moeTopK / moeExperts, tokens * ep))
        return table.value(tokens, activated)
    }

    public func cost(_ s: StepShape) -> StepCost {
        var c = roofline.cost(s)          // FLOPs and bytes for MFU/MBU
        guard s.sequences > 0 else { return c }
        let block = perBlockDense(s.tokens) + attention(s) + moe(Double(s.tokens))
        let dense = s.tokens < stepDense.count ? stepDense[s.tokens] : stepLayers.reduce(0) { $0 + $1.at(Double(s.tokens)) }
        let sampled = s.sampled < sampling.count ? sampling[s.sampled]
            : bundle.perSequence["lm_head"]!.at(Double(s.sampled)) + (bundle.perSequence["sampler"]?.at(Double(s.sampled)) ?? 0)
        let layers = roofline.layersPerStep
        let device = (block * 1e-6 + roofline.communicationPerLayer(tokens: Double(s.tokens))) * layers + (dense + sampled) * 1e-6
        c.seconds = roofline.stepSeconds(device: device, s)
        return c
    }
}
