import Foundation
import ServeSim
import Synchronization

/// Set by the SIGINT handler; polled by running simulations so Ctrl-C stops a run cleanly (the
/// shell returns to its prompt; the CLI exits with status 130).
public enum Interrupt {
    public static let flag = Atomic<Bool>(false)
    public static var requested: Bool { flag.load(ordering: .relaxed) }
    public static func clear() { flag.store(false, ordering: .relaxed) }

    /// From now on Ctrl-C sets the flag instead of killing the process.
    public static func catchSignal() {
        signal(SIGINT) { _ in Interrupt.flag.store(true, ordering: .relaxed) }
    }
}

/// The `[#####.....] 40%` line a running simulation draws on standard error.
public enum ProgressBar {
    /// Hooks that draw the bar (when `show`) and stop the run on Ctrl-C.
    public static func hooks(show: Bool) -> Simulator.Hooks {
        return Simulator.Hooks(progress: { fraction in
            guard show else { return }
            let width = 30
            let filled = max(0, min(width, Int(fraction * Double(width))))
            FileHandle.standardError.write(Data("\r  simulating [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] \(Int(fraction * 100))%".utf8))
        }, shouldStop: { Interrupt.requested })
    }

    public static func clear(show: Bool) {
        if show { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    /// Hooks for each of `count` runs going on at once, reporting their mean progress through
    /// `hooks` (one call at a time) and stopping each of them on Ctrl-C.
    static func combined(_ hooks: Simulator.Hooks, count: Int) -> (Int) -> Simulator.Hooks {
        let lock = NSLock()
        nonisolated(unsafe) var fractions = [Double](repeating: 0, count: max(1, count))
        return { job in
            Simulator.Hooks(progress: { f in
                guard let report = hooks.progress else { return }
                lock.lock()
                defer { lock.unlock() }
                fractions[job] = f
                report(fractions.reduce(0, +) / Double(fractions.count))
            }, shouldStop: hooks.shouldStop)
        }
    }

    /// Runs `body` with the bar on a terminal and Ctrl-C caught (from the command's start, see
    /// `Interrupt.catchSignal`, so a Ctrl-C while loading stops the run as it begins).
    static func around<T>(_ body: (Simulator.Hooks) throws -> T) throws -> T {
        let show = isatty(STDERR_FILENO) != 0
        Interrupt.catchSignal()
        defer { clear(show: show) }
        return try body(hooks(show: show))
    }
}
