import Synchronization

/// Set by the SIGINT handler; polled by running simulations so Ctrl-C returns to the prompt.
public enum Interrupt {
    public static let flag = Atomic<Bool>(false)
    public static var requested: Bool { flag.load(ordering: .relaxed) }
    public static func clear() { flag.store(false, ordering: .relaxed) }
}
