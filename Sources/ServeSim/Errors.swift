/// A configuration that cannot work, with the numbers that show why.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The engine refused a scheduler's plan or could not make progress.
public struct SimulationError: Error, CustomStringConvertible, Equatable {
    public let description: String
    /// The plan fault, when the engine refused a plan.
    public let fault: PlanFault?
    public init(_ description: String, fault: PlanFault? = nil) {
        self.description = description
        self.fault = fault
    }

    /// The run was stopped on request (Ctrl-C) before it finished.
    public static let interrupted = SimulationError("interrupted")
}
