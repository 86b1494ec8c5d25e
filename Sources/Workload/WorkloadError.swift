/// An error in a workload file or option, naming where and what was expected.
public struct WorkloadError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let line: Int?
    public let field: String?
    public let message: String

    public init(file: String, line: Int? = nil, field: String? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    public var description: String {
        var place = file
        if let line { place += ":\(line)" }
        if let field { place += ": \(field)" }
        return "\(place): \(message)"
    }
}

/// An error in an option value (CLI flag or shell argument).
public struct UsageError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
