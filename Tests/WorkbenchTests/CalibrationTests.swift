import Foundation
import XCTest
@testable import Workbench
@testable import ServeSim
import Schedulers
import Workload

final class CalibrationTests: XCTestCase {
    let llama = { try! ModelCatalog.resolve("meta-llama/Llama-3.1-8B") }()

    /// A device whose constants are known: the fit must find them again from step times alone.
    func target() throws -> HardwareProfile {
        var h = try HardwareCatalog.resolve("H100")
        h.computeEfficiency = 0.6
        h.memoryEfficiency = 0.7
        h.attentionEfficiency = 0.4
        h.kernelLatencyUs = 8
        h.mixedBatchAttentionFactor = 1.5
        return Calibration.deviceOnly(h)
    }

    func testFitRecoversKnownConstantsFromStepTimes() throws {
        let truth = RooflineModel(config: ClusterConfig(hardware: try target(), model: llama))
        let shapes = Calibration.probeShapes(tokenBudget: 2048, maxSeqs: 256)
        let times = shapes.map { truth.cost($0).seconds }
        let start = Calibration.deviceOnly(try HardwareCatalog.resolve("H100"))
        let fit = Calibration.fit(start, maxEvaluations: 2000) { h in
            Calibration.meanLogError(RooflineModel(config: ClusterConfig(hardware: h, model: self.llama)), shapes, times)
        }
        XCTAssertGreaterThan(fit.errorBefore, 0.05)
        XCTAssertLessThan(fit.errorAfter, 0.002)
        let t = try target()
        for p in Calibration.parameters {
            XCTAssertEqual(fit.hardware[keyPath: p.path], t[keyPath: p.path], accuracy: t[keyPath: p.path] * 0.05, p.key)
        }
    }

    func testCalibrateARunFolderRecoversItsDevice() throws {
        // "Measured" timestamps simulated on the known device, then calibrate from the catalog's H100.
        var c = ClusterConfig(hardware: try target(), model: llama)
        c.knobs.maxNumSeqs = 64
        let trace = try SyntheticWorkload(count: 120, arrivals: .poisson(rate: 8), prompt: .logNormal(median: 500, sigma: 0.8, min: 8, max: 3000),
                                          output: .logNormal(median: 120, sigma: 0.8, min: 2, max: 800), seed: 3).generate()
        let r = try Simulator(trace: trace, config: c, makeScheduler: { VLLMScheduler() }).run()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var lines = ""
        for i in 0..<trace.count {
            let q = Double(r.requests.arrival[i]) / 1e9, f = Double(r.requests.firstToken[i]) / 1e9, l = Double(r.requests.finish[i]) / 1e9
            lines += "{\"input_toks\": \(trace.promptTokens[i]), \"output_toks\": \(trace.outputTokens[i]), \"queued_ts\": \(q), \"first_token_ts\": \(f), \"last_token_ts\": \(l)}\n"
        }
        try lines.write(to: dir.appendingPathComponent("requests.jsonl"), atomically: true, encoding: .utf8)
        try "{\"model\": \"meta-llama/Llama-3.1-8B\", \"hardware\": \"H100\", \"engine_kwargs\": {\"max_num_seqs\": 64}}"
            .write(to: dir.appendingPathComponent("meta.json"), atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("hw.json").path
        let cmd = try CalibrateCommand.parse([dir.path, "--out", out, "--json"])
        try cmd.run()
        let fitted = try HardwareCatalog.resolve(out)
        let run = try MeasuredRun.load(dir.path, overrides: SetupOverrides(hardware: out))
        let measured = try MeasuredRequests.metrics(run.requestsPath)
        let before = Validation.error(Validation.rows(measured, Validation.perRequest(try Validation.simulate(
            try MeasuredRun.load(dir.path), config: try MeasuredRun.load(dir.path).config, latency: .roofline(RooflineModel(config: try MeasuredRun.load(dir.path).config))))))
        let after = Validation.error(Validation.rows(measured, Validation.perRequest(try Validation.simulate(run, config: run.config, latency: .roofline(RooflineModel(config: run.config))))))
        XCTAssertGreaterThan(before, 0.1)
        XCTAssertLessThan(after, 0.02)
        XCTAssertEqual(fitted.name, "H100")
    }

    /// The shared bundle: the fitted roofline reproduces the bundle's steps within a few percent,
    /// and validate with the written profile stays within 5% of the real run.
    func testCalibrateTheSharedBundleThenValidate() throws {
        guard let bundle = sharedData("llmservingsim-profiles/RTXPRO6000"),
              let run = sharedData("vllm-measured/RTXPRO6000-Llama-3.1-8B") else { return }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("rtx-\(UUID().uuidString).json").path
        let cmd = try CalibrateCommand.parse([bundle, "--out", out, "--json"])
        try cmd.run()
        let h = try HardwareCatalog.resolve(out)
        XCTAssertEqual(h.memoryBandwidthGBs, 1792)
        XCTAssertGreaterThan(h.mixedBatchAttentionFactor, 1)
        let v = try Validation.run(directory: run, overrides: SetupOverrides(hardware: out))
        for row in v.rows where row.stat == "mean" || row.stat == "p99" {
            XCTAssertLessThan(abs(row.diffPct), 5, "\(row.metric) \(row.stat): \(row.diffPct)%")
        }
    }
}
