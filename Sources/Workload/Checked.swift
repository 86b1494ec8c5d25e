import Foundation

/// Conversions from numbers read in files or typed by users into the engine's integer units,
/// which refuse what does not fit instead of trapping.
public enum Checked {
    /// The largest token count a request may have: far beyond any model's context (a 10M-token
    /// context is already exceptional), small enough that sums of a few counts stay in Int32.
    public static let maxTokens: Int64 = 100_000_000

    /// Nanoseconds in `value` units of `nanosPerUnit` ns (1e9: seconds), rounded; nil when not
    /// finite or beyond ±292 years (what Int64 nanoseconds hold).
    @inline(__always)
    public static func nanoseconds(_ value: Double, nanosPerUnit: Double) -> Int64? {
        let ns = (value * nanosPerUnit).rounded()
        guard ns.isFinite, abs(ns) < 9.2e18 else { return nil }
        return Int64(ns)
    }

    /// An integral Double as Int64; nil when fractional, not finite or out of range.
    @inline(__always)
    public static func integer(_ value: Double) -> Int64? {
        guard value.isFinite, value == value.rounded(), abs(value) < 9.2e18 else { return nil }
        return Int64(value)
    }
}

/// Small configuration files (JSON, YAML): only regular files, and not beyond `limit` bytes, so a
/// path such as /dev/zero or a huge file given by mistake cannot hang or exhaust memory.
public enum ConfigFile {
    public static let limit = 16 << 20

    /// The file's bytes, or nil when it is missing, unreadable, not a regular file or too large.
    public static func read(_ path: String) -> Data? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, Int(st.st_size) <= limit else { return nil }
        return FileManager.default.contents(atPath: path)
    }
}
