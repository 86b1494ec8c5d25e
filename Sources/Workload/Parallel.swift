import Foundation

/// Independent jobs on several cores with results in job order, so that what a command prints
/// never depends on how many cores ran it (`--jobs N`).
public enum Parallel {
    /// The default for `--jobs`: the cores this process may use.
    public static var cores: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// The most `--jobs` accepts: more threads than this only add memory (each job holds a run).
    public static let maxJobs = 256

    /// `body(0..<count)` on up to `jobs` threads, each taking the next unstarted index. Results are
    /// returned in index order; if any job throws, the error of the lowest failing index is
    /// rethrown once all started jobs ended. `body` must touch only its own job's state.
    public static func map<T>(_ count: Int, jobs: Int, _ body: (Int) throws -> T) throws -> [T] {
        let workers = min(max(1, jobs), count)
        if workers <= 1 { return try (0..<count).map(body) }
        var slots = [Result<T, Error>?](repeating: nil, count: count)
        let queue = JobCounter()
        withoutActuallyEscaping(body) { body in
            slots.withUnsafeMutableBufferPointer { out in
                nonisolated(unsafe) let base = out.baseAddress!
                nonisolated(unsafe) let run = body
                DispatchQueue.concurrentPerform(iterations: workers) { _ in
                    // After a failure no new job starts; the ones running finish.
                    while let i = queue.take(below: count) {
                        let r = Result { try run(i) }
                        if case .failure = r { queue.fail() }
                        base[i] = r
                    }
                }
            }
        }
        var results: [T] = []
        results.reserveCapacity(count)
        for slot in slots {
            guard let slot else { break }
            results.append(try slot.get())
        }
        // Reached only if nothing failed, and then every slot was filled.
        return results
    }

    /// Parses a `--jobs` value: 1...256 (default: `cores`).
    public static func jobs(_ value: Int?, option: String = "--jobs") throws -> Int {
        guard let v = value else { return cores }
        guard (1...maxJobs).contains(v) else { throw UsageError("\(option) expects 1...\(maxJobs) jobs, got \(v)") }
        return v
    }
}

/// The next job index, shared by the workers under a lock.
private final class JobCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private var failed = false

    func take(below count: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < count, !failed else { return nil }
        next += 1
        return next - 1
    }

    func fail() {
        lock.lock()
        failed = true
        lock.unlock()
    }
}
