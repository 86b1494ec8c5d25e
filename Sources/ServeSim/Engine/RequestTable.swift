import ServeAPI
import Workload

/// Per-request engine state as columns in manually managed buffers: the step loop indexes them
/// with request ids, and schedulers read them through `RequestColumns` without copies.
final class RequestTable {
    enum Phase: UInt8 { case pending = 0, waiting, running, finished }

    let count: Int
    let arrival: UnsafeMutablePointer<Int64>
    let prompt: UnsafeMutablePointer<Int32>
    let output: UnsafeMutablePointer<Int32>
    let predicted: UnsafeMutablePointer<Int32>
    let generated: UnsafeMutablePointer<Int32>
    let computed: UnsafeMutablePointer<Int32>
    let allocatedBlocks: UnsafeMutablePointer<Int32>
    let registeredUnits: UnsafeMutablePointer<Int32>
    let preemptions: UnsafeMutablePointer<Int32>
    let firstScheduled: UnsafeMutablePointer<Int64>
    let firstToken: UnsafeMutablePointer<Int64>
    let lastToken: UnsafeMutablePointer<Int64>
    let maxGap: UnsafeMutablePointer<Int64>
    let instance: UnsafeMutablePointer<Int16>
    let phase: UnsafeMutablePointer<UInt8>
    let requestClass: UnsafeMutablePointer<UInt8>
    /// Step number in which the request was last planned (detects duplicates in a plan).
    let stamp: UnsafeMutablePointer<UInt32>

    init(trace: Trace) {
        count = trace.count
        func make<T>(_ v: T) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(1, trace.count))
            p.initialize(repeating: v, count: max(1, trace.count))
            return p
        }
        arrival = make(0)
        prompt = make(0)
        output = make(0)
        predicted = make(0)
        generated = make(0)
        computed = make(0)
        allocatedBlocks = make(0)
        registeredUnits = make(0)
        preemptions = make(0)
        firstScheduled = make(-1)
        firstToken = make(-1)
        lastToken = make(-1)
        maxGap = make(0)
        instance = make(0)
        phase = make(0)
        requestClass = make(0)
        stamp = make(UInt32.max)
        trace.arrivals.withUnsafeBufferPointer { arrival.update(from: $0.baseAddress!, count: count) }
        trace.promptTokens.withUnsafeBufferPointer { prompt.update(from: $0.baseAddress!, count: count) }
        trace.outputTokens.withUnsafeBufferPointer {
            output.update(from: $0.baseAddress!, count: count)
            predicted.update(from: $0.baseAddress!, count: count)
        }
    }

    /// Whether the columns only the step loop needs were freed (`releaseWorkingColumns`).
    private(set) var workingColumnsReleased = false

    /// Frees the columns only a running simulation reads (arrival, lengths, prediction, progress,
    /// blocks, phase, class, stamps: 38 of the 80 bytes per request) once it has ended, before the
    /// results are copied out, so the copy does not add to the peak. What results and callers read
    /// afterwards stays: generated tokens, preemptions, the timestamps and the instance.
    func releaseWorkingColumns() {
        guard !workingColumnsReleased else { return }
        workingColumnsReleased = true
        arrival.deallocate(); prompt.deallocate(); output.deallocate(); predicted.deallocate()
        computed.deallocate(); allocatedBlocks.deallocate(); registeredUnits.deallocate()
        phase.deallocate(); stamp.deallocate(); requestClass.deallocate()
    }

    deinit {
        releaseWorkingColumns()
        generated.deallocate(); preemptions.deallocate(); firstScheduled.deallocate(); firstToken.deallocate()
        lastToken.deallocate(); maxGap.deallocate(); instance.deallocate()
    }

    var columns: RequestColumns {
        RequestColumns(arrival: UnsafePointer(arrival), promptTokens: UnsafePointer(prompt),
                       generated: UnsafePointer(generated), computed: UnsafePointer(computed),
                       allocatedBlocks: UnsafePointer(allocatedBlocks), predictedOutput: UnsafePointer(predicted),
                       preemptions: UnsafePointer(preemptions), requestClass: UnsafePointer(requestClass))
    }

    @inline(__always) func pending(_ i: Int) -> Int { Int(prompt[i]) + Int(generated[i]) - Int(computed[i]) }
}
