/// Typed, documented options shared by every pluggable component.
/// The shell's completion, `describe` and validation all read these specs.
public enum OptionKind: Sendable, Equatable {
    case int
    case double
    case bool
    case string
    case choice([String])
    /// A path to a file the component reads (a policy, a table). The workbench records the file's
    /// SHA-256 with every run that uses it, and replay reports a changed file.
    case file

    public var label: String {
        switch self {
        case .int: return "int"
        case .double: return "double"
        case .bool: return "bool"
        case .string: return "string"
        case .choice(let values): return values.joined(separator: "|")
        case .file: return "file"
        }
    }
}

public struct OptionSpec: Sendable, Equatable {
    /// Declare this option on a scheduler that reads `predictedOutput`: the workbench then passes
    /// it the predictor named in the scheduler's spec (`mine:predictor=noisy-oracle,sigma=0.5`, the
    /// keys the scheduler does not know going to the predictor), or the run's `--predictor`.
    public static let lengthPredictor = OptionSpec("predictor", .string, default: "oracle",
                                                   doc: "length predictor (its options follow in the same spec, e.g. sjf:predictor=noisy-oracle,sigma=0.5)")

    public let name: String
    public let kind: OptionKind
    public let defaultValue: String
    public let range: ClosedRange<Double>?
    public let doc: String

    public init(_ name: String, _ kind: OptionKind, default defaultValue: String,
                range: ClosedRange<Double>? = nil, doc: String) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.range = range
        self.doc = doc
    }
}

public struct OptionError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Validated option values: every key is known and every value parses as its kind.
public struct OptionValues: Sendable, Equatable {
    public private(set) var raw: [String: String]

    /// Validates `given` against `specs`, filling defaults. `owner` names the component in errors.
    public init(_ given: [String: String], specs: [OptionSpec], owner: String) throws {
        var merged: [String: String] = [:]
        for spec in specs { merged[spec.name] = spec.defaultValue }
        for (key, value) in given {
            guard let spec = specs.first(where: { $0.name == key }) else {
                let known = specs.map(\.name).joined(separator: ", ")
                throw OptionError("\(owner): unknown option '\(key)' (options: \(known.isEmpty ? "none" : known))")
            }
            try OptionValues.check(value, against: spec, owner: owner)
            merged[key] = value
        }
        raw = merged
    }

    static func check(_ value: String, against spec: OptionSpec, owner: String) throws {
        let bad = { (expected: String) in
            OptionError("\(owner): option '\(spec.name)' expects \(expected), got '\(value)'")
        }
        switch spec.kind {
        case .int:
            guard let v = Int(value) else { throw bad("an integer") }
            if let r = spec.range, !r.contains(Double(v)) { throw bad("a value in \(r.lowerBound)...\(r.upperBound)") }
        case .double:
            guard let v = Double(value), v.isFinite else { throw bad("a number") }
            if let r = spec.range, !r.contains(v) { throw bad("a value in \(r.lowerBound)...\(r.upperBound)") }
        case .bool:
            guard ["true", "false", "1", "0", "yes", "no", "on", "off"].contains(value.lowercased()) else { throw bad("true or false") }
        case .string:
            break
        case .file:
            guard !value.isEmpty else { throw bad("a file path") }
        case .choice(let values):
            guard values.contains(value) else { throw bad("one of \(values.joined(separator: ", "))") }
        }
    }

    public func int(_ key: String) -> Int { Int(raw[key] ?? "") ?? 0 }
    public func double(_ key: String) -> Double { Double(raw[key] ?? "") ?? 0 }
    public func bool(_ key: String) -> Bool { ["true", "1", "yes", "on"].contains((raw[key] ?? "").lowercased()) }
    public func string(_ key: String) -> String { raw[key] ?? "" }
}
