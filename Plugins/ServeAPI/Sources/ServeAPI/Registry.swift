import Synchronization

/// A registered component: its name, a one-line summary, typed options and a factory.
public struct ComponentEntry<Product>: Sendable {
    public let name: String
    public let summary: String
    public let options: [OptionSpec]
    public let make: @Sendable (OptionValues) throws -> Product

    public init(name: String, summary: String, options: [OptionSpec] = [],
                make: @escaping @Sendable (OptionValues) throws -> Product) {
        self.name = name
        self.summary = summary
        self.options = options
        self.make = make
    }

    /// Validates `given` against the options, then builds the component.
    public func instantiate(_ given: [String: String] = [:]) throws -> Product {
        try make(OptionValues(given, specs: options, owner: name))
    }
}

/// One registry per extension point. Lives in the contracts library so that plugins loaded at
/// run time register into the same tables as the built-ins.
public final class ComponentRegistry<Product>: Sendable {
    private let entries = Mutex<[ComponentEntry<Product>]>([])
    private let origins = Mutex<[String: String]>([:])
    public let kind: String

    public init(kind: String) { self.kind = kind }

    /// Registers a built-in `entry` (replacing an earlier one of the same name).
    public func register(_ entry: ComponentEntry<Product>) {
        try? add(entry, origin: "built-in", override: true)
    }

    /// Registers `entry` from `origin` (a plugin's path). A name already taken is refused, naming
    /// who holds it, unless `override` is true.
    public func add(_ entry: ComponentEntry<Product>, origin: String, override: Bool) throws {
        if !override, let holder = self.origin(of: entry.name) {
            throw OptionError("\(kind) '\(entry.name)' is already registered by \(holder); register it with override: true to replace it")
        }
        entries.withLock { list in
            list.removeAll { $0.name == entry.name }
            list.append(entry)
        }
        origins.withLock { $0[entry.name] = origin }
    }

    /// Who registered `name` ("built-in" or a plugin's path); nil when nobody did.
    public func origin(of name: String) -> String? { origins.withLock { $0[name.lowercased()] ?? $0[name] } }

    public var all: [ComponentEntry<Product>] {
        entries.withLock { $0 }.sorted { $0.name < $1.name }
    }

    public var names: [String] { all.map(\.name) }

    public func entry(named name: String) throws -> ComponentEntry<Product> {
        let key = name.lowercased()
        if let found = entries.withLock({ $0.first { $0.name == key } }) { return found }
        let hint = closest(to: key, among: names).map { " — did you mean '\($0)'?" } ?? ""
        throw OptionError("unknown \(kind) '\(name)'\(hint) (known: \(names.joined(separator: ", ")))")
    }
}

public typealias SchedulerEntry = ComponentEntry<any StepScheduler>
public typealias RouterEntry = ComponentEntry<any RequestRouter>

public enum Registries {
    public static let schedulers = ComponentRegistry<any StepScheduler>(kind: "scheduler")
    public static let routers = ComponentRegistry<any RequestRouter>(kind: "router")
}

/// The candidate nearest to `word` by edit distance (insertions, deletions, substitutions and
/// adjacent transpositions), if it is near enough to be a likely typo.
public func closest(to word: String, among candidates: [String]) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }
    let w = Array(word.lowercased())
    let scored = candidates.map { ($0, distance(w, Array($0.lowercased()))) }.min { $0.1 < $1.1 }
    guard let (best, d) = scored, d <= max(2, w.count / 3) else { return nil }
    return best
}
