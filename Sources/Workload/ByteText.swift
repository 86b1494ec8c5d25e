#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A file's bytes with a trailing NUL, so C number parsers stop safely at the end.
/// Parsing works on byte ranges: no String per field, which keeps million-row loads fast.
public struct TextBuffer {
    public let bytes: [UInt8]
    public let path: String
    /// Whether the file began with a UTF-8 byte-order mark (dropped from `bytes`).
    public let hadBOM: Bool

    /// Reads the file straight into one array (no intermediate Data copy), so a load's peak
    /// memory is the file plus the columns.
    public init(path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw WorkloadError(file: path, "no such file")
        }
        guard !isDirectory.boolValue else { throw WorkloadError(file: path, "is a directory, expected a trace file") }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw WorkloadError(file: path, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw WorkloadError(file: path, "cannot stat: \(String(cString: strerror(errno)))") }
        let size = Int(st.st_size)
        var failure: Int32 = 0
        let b = [UInt8](unsafeUninitializedCapacity: size + 1) { buf, count in
            var done = 0
            while done < size {
                let n = read(fd, buf.baseAddress! + done, size - done)
                if n < 0 { if errno == EINTR { continue }; failure = errno; break }
                if n == 0 { break }
                done += n
            }
            buf[done] = 0
            count = done + 1
        }
        if failure != 0 { throw WorkloadError(file: path, "cannot read: \(String(cString: strerror(failure)))") }
        hadBOM = TextBuffer.startsWithBOM(b)
        bytes = hadBOM ? Array(b[3...]) : b
        self.path = path
        // LF and CRLF are read alike; a file with CRs and no LF at all is one giant line.
        let hasLF = bytes.withUnsafeBufferPointer { memchr($0.baseAddress!, 10, count) != nil }
        if !hasLF && bytes.withUnsafeBufferPointer({ memchr($0.baseAddress!, 13, count) != nil }) {
            throw WorkloadError(file: path, "has CR-only line endings (classic Mac OS); convert them to LF or CRLF")
        }
    }

    public init(data: Data, path: String) {
        var b = [UInt8](data)
        b.append(0)
        hadBOM = TextBuffer.startsWithBOM(b)
        bytes = hadBOM ? Array(b[3...]) : b
        self.path = path
    }

    /// A UTF-8 byte-order mark is not content (editors on Windows write one).
    static func startsWithBOM(_ b: [UInt8]) -> Bool { b.count >= 4 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF }

    /// The lines as strings, LF or CRLF ended (scripts and transcripts).
    public func lines() -> [String] {
        var out: [String] = []
        forEachLine { _, r in
            out.append(string(r))
            return true
        }
        return out
    }

    public init(string: String, path: String = "<text>") {
        self.init(data: Data(string.utf8), path: path)
    }

    /// Number of newline characters (+1 for a last line without one): an exact capacity for columns.
    public var lineCount: Int {
        bytes.withUnsafeBufferPointer { buf in
            var n = 0
            for i in 0..<count where buf[i] == 10 { n += 1 }
            return n + (count > 0 && buf[count - 1] != 10 ? 1 : 0)
        }
    }

    /// Length without the trailing NUL.
    public var count: Int { bytes.count - 1 }

    public func string(_ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }

    /// Calls `body(lineNumber, range)` for every line (without its newline or a trailing CR).
    /// Returning false stops the walk.
    public func forEachLine(_ body: (Int, Range<Int>) throws -> Bool) rethrows {
        var start = 0
        var number = 1
        let end = count
        try bytes.withUnsafeBufferPointer { buf in
            while start < end {
                var stop = start
                while stop < end && buf[stop] != 10 { stop += 1 }
                var lineEnd = stop
                if lineEnd > start && buf[lineEnd - 1] == 13 { lineEnd -= 1 }
                if try !body(number, start..<lineEnd) { return }
                start = stop + 1
                number += 1
            }
        }
    }

    /// Splits a line into field ranges on `separator`, honouring double quotes (no embedded newlines).
    public func fields(_ line: Range<Int>, separator: UInt8, into out: inout [Range<Int>]) {
        out.removeAll(keepingCapacity: true)
        var i = line.lowerBound
        var fieldStart = i
        var quoted = false
        while i < line.upperBound {
            let c = bytes[i]
            if c == 34 { quoted.toggle() }
            else if c == separator && !quoted {
                out.append(Self.unquote(fieldStart..<i, bytes))
                fieldStart = i + 1
            }
            i += 1
        }
        out.append(Self.unquote(fieldStart..<line.upperBound, bytes))
    }

    static func unquote(_ r: Range<Int>, _ b: [UInt8]) -> Range<Int> {
        var lo = r.lowerBound, hi = r.upperBound
        while lo < hi && b[lo] == 32 { lo += 1 }
        while hi > lo && b[hi - 1] == 32 { hi -= 1 }
        if hi - lo >= 2 && b[lo] == 34 && b[hi - 1] == 34 { return (lo + 1)..<(hi - 1) }
        return lo..<hi
    }

    /// A base-10 integer filling the whole range (optional sign), or nil.
    @inline(__always)
    public func integer(_ r: Range<Int>) -> Int64? {
        var i = r.lowerBound
        guard i < r.upperBound else { return nil }
        var negative = false
        if bytes[i] == 45 { negative = true; i += 1 } else if bytes[i] == 43 { i += 1 }
        guard i < r.upperBound else { return nil }
        var v: Int64 = 0
        while i < r.upperBound {
            let d = bytes[i] &- 48
            guard d < 10 else {
                // Accept "12.0" style integers written by float-minded tools.
                if bytes[i] == 46, let f = number(r) { return Checked.integer(f) }
                return nil
            }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int64(d))
            if o1 || o2 { return nil }
            v = s
            i += 1
        }
        return negative ? -v : v
    }

    /// A floating-point number filling the whole range, or nil.
    public func number(_ r: Range<Int>) -> Double? {
        guard !r.isEmpty else { return nil }
        return bytes.withUnsafeBufferPointer { buf -> Double? in
            let base = UnsafeRawPointer(buf.baseAddress! + r.lowerBound).assumingMemoryBound(to: CChar.self)
            var end: UnsafeMutablePointer<CChar>? = nil
            let v = strtod(base, &end)
            guard let end, UnsafeRawPointer(end) == UnsafeRawPointer(buf.baseAddress! + r.upperBound), v.isFinite else { return nil }
            return v
        }
    }

    public func equals(_ r: Range<Int>, _ s: [UInt8]) -> Bool {
        guard r.count == s.count else { return false }
        var j = 0
        for i in r { if bytes[i] != s[j] { return false }; j += 1 }
        return true
    }

    /// Parses `YYYY-MM-DD[ T]HH:MM:SS[.fffffff][Z|±HH:MM]` into ns since the Unix epoch (UTC).
    public func dateTime(_ r: Range<Int>) -> Int64? {
        let b = bytes
        var i = r.lowerBound
        func digits(_ n: Int) -> Int? {
            guard i + n <= r.upperBound else { return nil }
            var v = 0
            for k in 0..<n {
                let d = Int(b[i + k]) - 48
                guard d >= 0 && d < 10 else { return nil }
                v = v * 10 + d
            }
            i += n
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < r.upperBound, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(45), let month = digits(2), expect(45), let day = digits(2) else { return nil }
        guard i < r.upperBound, b[i] == 32 || b[i] == 84 else { return nil }
        i += 1
        guard let hour = digits(2), expect(58), let minute = digits(2), expect(58), let second = digits(2) else { return nil }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var nanos: Int64 = 0
        if i < r.upperBound && b[i] == 46 {
            i += 1
            var scale: Int64 = 100_000_000
            var any = false
            while i < r.upperBound, b[i] >= 48, b[i] <= 57 {
                nanos += Int64(b[i] - 48) * scale
                scale /= 10
                i += 1
                any = true
            }
            guard any else { return nil }
        }
        var offsetSeconds = 0
        if i < r.upperBound {
            if b[i] == 90 { i += 1 } else if b[i] == 43 || b[i] == 45 {
                let sign = b[i] == 45 ? -1 : 1
                i += 1
                guard let oh = digits(2) else { return nil }
                _ = expect(58)
                guard let om = digits(2) else { return nil }
                offsetSeconds = sign * (oh * 3600 + om * 60)
            }
        }
        guard i == r.upperBound else { return nil }
        let days = Self.daysFromCivil(year, month, day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second - offsetSeconds)
        // Nanoseconds since 1970 hold the years 1678–2262; later dates do not fit.
        let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow, ns <= Int64.max - nanos else { return nil }
        return ns + nanos
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    public static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Inverse of `daysFromCivil`.
    public static func civilFromDays(_ z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
