import Foundation

/// A roofline model of one engine step. Every operator takes max(compute time, memory time) at the
/// hardware's achievable fractions of peak; the step adds the CPU overheads. Per layer:
/// QKV and output projections, the (gated) MLP or routed experts, attention (prefill FLOPs over the
/// causal context, decode as KV bytes read), norms and elementwise work, and the TP all-reduces.
/// Then the LM head for sampled rows only, pipeline sends between stages, and KV swap traffic.
public struct RooflineModel: Sendable {
    public let config: ClusterConfig
    let flopRate: Double       // achievable FLOP/s per device
    let byteRate: Double       // achievable bytes/s per device
    let linkRate: Double       // bytes/s per direction
    let linkLatency: Double    // s
    let hostRate: Double
    let b: Double              // dtype bytes
    let t: Double              // TP degree
    let layersPerStage: Double
    let stages: Double
    let m: ModelSpec

    public init(config: ClusterConfig) {
        self.config = config
        let h = config.hardware
        flopRate = h.tflops * 1e12 * h.computeEfficiency
        byteRate = h.memoryBandwidthGBs * 1e9 * h.memoryEfficiency
        linkRate = h.linkBandwidthGBs * 1e9
        linkLatency = h.linkLatencyUs * 1e-6
        hostRate = h.hostBandwidthGBs * 1e9
        b = Double(config.model.dtypeBytes)
        t = Double(config.tensorParallel)
        stages = Double(config.pipelineParallel)
        layersPerStage = Double(config.model.layers) / Double(config.pipelineParallel)
        m = config.model
    }

    @inline(__always)
    func op(_ flops: Double, _ bytes: Double, _ cost: inout StepCost) -> Double {
        cost.flops += flops
        cost.bytes += bytes
        return max(flops / flopRate, bytes / byteRate)
    }

    /// A GEMM of T tokens by a K × N weight (per device): 2TKN FLOPs; weights, inputs and outputs moved.
    @inline(__always)
    func gemm(_ tokens: Double, _ k: Double, _ n: Double, _ cost: inout StepCost) -> Double {
        op(2 * tokens * k * n, (k * n + tokens * (k + n)) * b, &cost)
    }

    public func cost(_ s: StepShape) -> StepCost {
        var c = StepCost(seconds: 0, flops: 0, bytes: 0)
        guard s.sequences > 0 else { return c }
        let T = Double(s.tokens)
        let H = Double(m.hidden)
        let qHeads = Double(m.heads) / t
        let kvHeads = Double(config.kvHeadsPerDevice)
        let d = Double(m.headDim)

        // One layer on one device.
        var layer = 0.0
        layer += gemm(T, H, (qHeads + 2 * kvHeads) * d, &c)          // QKV
        layer += gemm(T, qHeads * d, H, &c)                          // output projection
        let mats = Double(m.mlpMatrices)
        if m.isMoE {
            let e = Double(m.experts), k = Double(m.expertsPerToken), f = Double(m.expertFFN) / t
            let touched = e * (1 - pow(1 - k / e, T))                // expected distinct experts hit
            layer += gemm(T, H, e, &c)                               // router
            layer += op(2 * T * k * mats * H * f, (touched * mats * H * f + T * k * (2 * H + (mats - 1) * f)) * b, &c)
        } else {
            let f = Double(m.ffn) / t
            layer += gemm(T, H, (mats - 1) * f, &c)                  // up (and gate)
            layer += gemm(T, f, H, &c)                               // down
        }
        // Attention: causal prefill pairs (QK^T and PV, 2 FLOPs per MAC each), KV reads, new KV written.
        let kvPerToken = 2 * kvHeads * d * b
        if s.prefillTokens > 0 {
            layer += op(4 * qHeads * d * s.prefillPairs,
                        s.prefillContext * kvPerToken + Double(s.prefillTokens) * 2 * qHeads * d * b, &c)
        }
        if s.decodes > 0 {
            layer += op(4 * qHeads * d * s.decodeContext,
                        s.decodeContext * kvPerToken + Double(s.decodes) * 2 * qHeads * d * b, &c)
        }
        // Norms, residual adds, rotary and the MLP activation: memory-bound streams over the activations.
        let ffnWidth = m.isMoE ? Double(m.expertFFN * m.expertsPerToken) / t : Double(m.ffn) / t
        layer += op(10 * T * H, (10 * T * H + 3 * T * ffnWidth) * b, &c)
        // Tensor-parallel all-reduces after attention and after the MLP (ring).
        if t > 1 {
            let bytes = T * H * b
            layer += 2 * (2 * (t - 1) / t * bytes / linkRate + linkLatency)
        }
        var seconds = layer * layersPerStage * stages
        c.flops *= layersPerStage * stages
        c.bytes *= layersPerStage * stages

        // LM head on the last stage, for sampled rows only (weights read once if anything samples).
        if s.sampled > 0 {
            let S = Double(s.sampled)
            let V = Double(m.vocab) / t
            seconds += op(2 * S * H * V, (H * V + S * H) * b + S * V * 4, &c)
        }
        if stages > 1 {
            seconds += (stages - 1) * (T * H * b / linkRate + linkLatency)
        }
        if s.swapBytes > 0 {
            seconds += s.swapBytes / Double(config.devicesPerInstance) / hostRate
        }
        seconds += config.hardware.stepOverheadMs * 1e-3 + Double(s.sequences) * config.hardware.perSequenceOverheadUs * 1e-6
        c.seconds = seconds
        // FLOPs and bytes above are per device; scale to the instance for MFU/MBU.
        c.flops *= t
        c.bytes *= t
        return c
    }
}
