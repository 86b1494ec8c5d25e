import Foundation

/// A roofline model of one engine step. Every kernel's time blends its compute time and its memory
/// time (plus a fixed kernel latency) as √(compute² + memory²): the hard max(compute, memory) of
/// the textbook roofline undershoots kernels near the ridge point, where neither bound is reached
/// (measured GEMMs of the RTX PRO 6000 profile bundle: mean error 7% with this blend, 13% with max).
/// The step's device time meets the engine's CPU time as `stepSeconds` describes. Per layer:
/// QKV and output projections, the (gated) MLP or routed experts, attention (prefill FLOPs over the
/// causal context, decode as KV bytes read), norms and elementwise work, and the TP all-reduces.
/// Then the LM head for sampled rows only, pipeline sends between stages, and KV swap traffic.
public struct RooflineModel: Sendable {
    public let config: ClusterConfig
    let flopRate: Double       // achievable FLOP/s per device (GEMMs)
    let attentionRate: Double  // achievable FLOP/s of attention kernels
    let byteRate: Double       // achievable bytes/s per device
    let linkRate: Double       // bytes/s per direction
    let linkLatency: Double    // s
    let hostRate: Double
    let kernelLatency: Double  // s per kernel
    let mixedAttention: Double // decode attention slowdown in steps that also prefill
    let b: Double              // dtype bytes
    let t: Double              // TP degree
    let ep: Double             // expert-parallel ranks (1 = experts split by TP)
    let layersPerStage: Double
    let stages: Double
    let m: ModelSpec

    public init(config: ClusterConfig) {
        self.config = config
        let h = config.hardware
        flopRate = h.tflops * 1e12 * h.computeEfficiency
        attentionRate = h.tflops * 1e12 * h.attentionEfficiency
        byteRate = h.memoryBandwidthGBs * 1e9 * h.memoryEfficiency
        linkRate = h.linkBandwidthGBs * 1e9
        linkLatency = h.linkLatencyUs * 1e-6
        hostRate = h.hostBandwidthGBs * 1e9
        kernelLatency = h.kernelLatencyUs * 1e-6
        mixedAttention = h.mixedBatchAttentionFactor
        b = Double(config.model.dtypeBytes)
        t = Double(config.tensorParallel)
        ep = Double(config.expertParallelDegree)
        stages = Double(config.pipelineParallel)
        layersPerStage = Double(config.model.layers) / Double(config.pipelineParallel)
        m = config.model
    }

    /// `kernels` launches moving `bytes` and computing `flops` at `rate` FLOP/s (default: GEMMs').
    @inline(__always)
    func op(_ flops: Double, _ bytes: Double, kernels: Double = 1, rate: Double? = nil, _ cost: inout StepCost) -> Double {
        cost.flops += flops
        cost.bytes += bytes
        let compute = flops / (rate ?? flopRate), memory = bytes / byteRate + kernels * kernelLatency
        return (compute * compute + memory * memory).squareRoot()
    }

    /// A GEMM of T tokens by a K × N weight (per device): 2TKN FLOPs; weights, inputs and outputs moved.
    @inline(__always)
    func gemm(_ tokens: Double, _ k: Double, _ n: Double, _ cost: inout StepCost) -> Double {
        op(2 * tokens * k * n, (k * n + tokens * (k + n)) * b, &cost)
    }

    public func cost(_ s: StepShape) -> StepCost {
        cost(s, terms: terms(tokens: s.tokens, sampled: s.sampled))
    }

    /// What a step's cost owes to its token count and sampled rows alone: per layer the weight
    /// GEMMs, then the norms and elementwise work and the communication; the LM head. Every step
    /// of a decode stretch shares them, so `pricer` keeps them (the sums are formed in the same
    /// order either way, so the cost is the same to the last bit).
    struct TokenTerms {
        var tokens = -1, sampled = -1
        /// Seconds, FLOPs and bytes of one layer's GEMMs, summed in the order `cost` adds them.
        var gemms = StepCost(seconds: 0, flops: 0, bytes: 0)
        var norms = StepCost(seconds: 0, flops: 0, bytes: 0)
        var communication = 0.0
        var head = StepCost(seconds: 0, flops: 0, bytes: 0)
    }

    func terms(tokens: Int, sampled: Int) -> TokenTerms {
        var terms = TokenTerms()
        terms.tokens = tokens
        terms.sampled = sampled
        let T = Double(tokens)
        let H = Double(m.hidden)
        let qHeads = Double(m.heads) / t
        let kvHeads = Double(config.kvHeadsPerDevice)
        let d = Double(m.headDim)
        var c = StepCost(seconds: 0, flops: 0, bytes: 0)
        var layer = 0.0
        layer += gemm(T, H, (qHeads + 2 * kvHeads) * d, &c)          // QKV
        layer += gemm(T, qHeads * d, H, &c)                          // output projection
        let mats = Double(m.mlpMatrices)
        if m.isMoE {
            let e = Double(m.experts), k = Double(m.expertsPerToken)
            layer += gemm(T, H, e, &c)                               // router
            if ep > 1 {
                // Whole experts, E/ep per rank; balanced routing brings each rank about T × k
                // token-expert pairs, drawn from all ranks' tokens.
                let f = Double(m.expertFFN)
                let touched = e / ep * (1 - pow(1 - k / e, T * ep))
                layer += op(2 * T * k * mats * H * f, (touched * mats * H * f + T * k * (2 * H + (mats - 1) * f)) * b, &c)
            } else {
                let f = Double(m.expertFFN) / t
                let touched = e * (1 - pow(1 - k / e, T))            // expected distinct experts hit
                layer += op(2 * T * k * mats * H * f, (touched * mats * H * f + T * k * (2 * H + (mats - 1) * f)) * b, &c)
            }
        } else {
            let f = Double(m.ffn) / t
            layer += gemm(T, H, (mats - 1) * f, &c)                  // up (and gate)
            layer += gemm(T, f, H, &c)                               // down
        }
        c.seconds = layer
        terms.gemms = c
        // Norms, residual adds, rotary and the MLP activation: memory-bound streams over the activations.
        let ffnWidth = m.isMoE ? Double(m.expertFFN * m.expertsPerToken) / t : Double(m.ffn) / t
        // Four kernels: two norms, rotary embedding, activation.
        terms.norms.seconds = op(10 * T * H, (10 * T * H + 3 * T * ffnWidth) * b, kernels: 4, &terms.norms)
        terms.communication = communicationPerLayer(tokens: T)
        // LM head on the last stage, for sampled rows only (weights read once if anything samples).
        if sampled > 0 {
            let S = Double(sampled)
            let V = Double(m.vocab) / t
            terms.head.seconds = op(2 * S * H * V, (H * V + S * H) * b + S * V * 4, &terms.head)
        }
        return terms
    }

    func cost(_ s: StepShape, terms: TokenTerms) -> StepCost {
        guard s.sequences > 0 else { return StepCost(seconds: 0, flops: 0, bytes: 0) }
        let qHeads = Double(m.heads) / t
        let kvHeads = Double(config.kvHeadsPerDevice)
        let d = Double(m.headDim)

        // One layer on one device.
        var c = StepCost(seconds: 0, flops: terms.gemms.flops, bytes: terms.gemms.bytes)
        var layer = terms.gemms.seconds
        // Attention: causal prefill pairs (QK^T and PV, 2 FLOPs per MAC each), KV reads, new KV written.
        let kvPerToken = 2 * kvHeads * d * b
        if s.prefillTokens > 0 {
            layer += op(4 * qHeads * d * s.prefillPairs,
                        s.prefillContext * kvPerToken + Double(s.prefillTokens) * 2 * qHeads * d * b, rate: attentionRate, &c)
        }
        if s.decodes > 0 {
            let decode = op(4 * qHeads * d * s.decodeContext,
                            s.decodeContext * kvPerToken + Double(s.decodes) * 2 * qHeads * d * b, rate: attentionRate, &c)
            // Beside a prefill chunk, decodes leave the decode-only kernel path for the generic
            // variable-length one.
            layer += s.prefillTokens > 0 ? decode * mixedAttention : decode
        }
        c.flops += terms.norms.flops
        c.bytes += terms.norms.bytes
        layer += terms.norms.seconds
        layer += terms.communication
        var seconds = layer * layersPerStage * stages
        c.flops *= layersPerStage * stages
        c.bytes *= layersPerStage * stages
        if s.sampled > 0 {
            seconds += terms.head.seconds
            c.flops += terms.head.flops
            c.bytes += terms.head.bytes
        }
        c.seconds = stepSeconds(device: seconds, s)
        // FLOPs and bytes above are per device; scale to the instance for MFU/MBU.
        c.flops *= t
        c.bytes *= t
        return c
    }

    /// `cost` for one run's steps (not to be shared between threads), keeping token terms: by
    /// batch size for steps in which every token samples (decode steps, a few hundred sizes at
    /// most), else the last step's.
    public var pricer: (StepShape) -> StepCost {
        final class Kept {
            var bySize: [TokenTerms] = []
            var last = TokenTerms()
        }
        let kept = Kept()
        func current(_ slot: inout TokenTerms, _ s: StepShape) -> TokenTerms {
            if slot.tokens != s.tokens || slot.sampled != s.sampled { slot = terms(tokens: s.tokens, sampled: s.sampled) }
            return slot
        }
        return { s in
            guard s.tokens == s.sampled && s.tokens < 4096 else { return cost(s, terms: current(&kept.last, s)) }
            if s.tokens >= kept.bySize.count { kept.bySize.append(contentsOf: repeatElement(TokenTerms(), count: s.tokens + 1 - kept.bySize.count)) }
            return cost(s, terms: current(&kept.bySize[s.tokens], s))
        }
    }

    /// Link time of one layer: the TP ring all-reduces after attention and after the MLP, and
    /// under expert parallelism the all-to-all dispatch and combine around the MoE block (each
    /// token's hidden state to its k experts, the share on other ranks crossing the link).
    public func communicationPerLayer(tokens T: Double) -> Double {
        var seconds = 0.0
        let H = Double(m.hidden)
        if t > 1 {
            seconds += 2 * (2 * (t - 1) / t * T * H * b / linkRate + linkLatency)
        }
        if ep > 1 {
            let bytes = T * Double(m.expertsPerToken) * H * b * (ep - 1) / ep
            seconds += 2 * (bytes / linkRate + linkLatency)
        }
        return seconds
    }

    /// What a step's device time adds besides its layers and LM head: pipeline sends between
    /// stages and KV swap over the host link.
    public func transfers(_ s: StepShape) -> Double {
        var seconds = 0.0
        if stages > 1 {
            seconds += (stages - 1) * (Double(s.tokens) * Double(m.hidden) * b / linkRate + linkLatency)
        }
        if s.swapBytes > 0 {
            seconds += s.swapBytes / Double(config.devicesPerInstance) / hostRate
        }
        return seconds
    }

    /// The engine's CPU work for a step (scheduling, input preparation, sampling bookkeeping).
    public func cpuSeconds(_ s: StepShape) -> Double {
        config.hardware.stepOverheadMs * 1e-3 + Double(s.sequences) * config.hardware.perSequenceOverheadUs * 1e-6
    }

    /// A step's duration from its device time: with asynchronous scheduling (vLLM V1) the CPU
    /// prepares the next step while the device runs this one, so the step lasts the longer of the
    /// two; without it, CPU and device time add up.
    public func stepSeconds(device: Double, _ s: StepShape) -> Double {
        let gpu = device + transfers(s)
        return config.knobs.asyncScheduling ? max(gpu, cpuSeconds(s)) : gpu + cpuSeconds(s)
    }

    /// Layers this device runs per step across the pipeline (all of them, stage after stage).
    public var layersPerStep: Double { layersPerStage * stages }
}
