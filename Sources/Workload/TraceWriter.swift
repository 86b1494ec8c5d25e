import Foundation

/// Writes a trace in any supported format. Files are written atomically (temporary file, then rename).
public enum TraceWriter {
    /// Base wall-clock time for formats that need dates (Azure): 2023-11-16 00:00:00 UTC, the
    /// first day of the Azure 2023 trace.
    static let azureEpochNanos: Int64 = Int64(TextBuffer.daysFromCivil(2023, 11, 16)) * 86_400 * 1_000_000_000

    public static func render(_ trace: Trace, as format: TraceFormat) -> String {
        var out = ""
        out.reserveCapacity(trace.count * 32)
        func seconds(_ ns: Int64) -> String { formatSeconds(ns) }
        switch format {
        case .llmservingsimTSV:
            out += "input_toks\toutput_toks\tarrival_time_ns\n"
            for i in 0..<trace.count {
                out += "\(trace.promptTokens[i])\t\(trace.outputTokens[i])\t\(trace.arrivals[i])\n"
            }
        case .llmservingsimJSONL:
            for i in 0..<trace.count {
                out += "{\"input_toks\":\(trace.promptTokens[i]),\"output_toks\":\(trace.outputTokens[i]),\"arrival_time_ns\":\(trace.arrivals[i])}\n"
            }
        case .burstGPT, .burstGPTv3:
            let v3 = format == .burstGPTv3
            out += v3 ? "Timestamp,Session ID,Elapsed time,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
                      : "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
            for i in 0..<trace.count {
                let model = trace.model(of: i) ?? "ChatGPT"
                let log = trace.logType(of: i) ?? "Conversation log"
                let p = trace.promptTokens[i], o = trace.outputTokens[i]
                // v1 timestamps are whole seconds; v3 keeps the fraction.
                let ts = v3 ? seconds(trace.arrivals[i]) : String(trace.arrivals[i] / 1_000_000_000)
                if v3 {
                    let session = trace.sessionIndex.map { $0[i] >= 0 ? "s\($0[i])" : "" } ?? ""
                    out += "\(ts),\(session),0,\(model),\(p),\(o),\(p + o),\(log)\n"
                } else {
                    out += "\(ts),\(model),\(p),\(o),\(p + o),\(log)\n"
                }
            }
        case .azure:
            out += "TIMESTAMP,ContextTokens,GeneratedTokens\n"
            for i in 0..<trace.count {
                out += "\(azureTimestamp(azureEpochNanos + trace.arrivals[i])),\(trace.promptTokens[i]),\(trace.outputTokens[i])\n"
            }
        case .mooncake:
            for i in 0..<trace.count {
                let ms = Double(trace.arrivals[i]) / 1e6
                let ids = trace.prefix.map { p in p.blocks(of: i).map(String.init).joined(separator: ", ") } ?? ""
                let msText = ms == ms.rounded() ? String(Int64(ms)) : String(ms)
                out += "{\"timestamp\": \(msText), \"input_length\": \(trace.promptTokens[i]), \"output_length\": \(trace.outputTokens[i]), \"hash_ids\": [\(ids)]}\n"
            }
        case .vidur:
            out += "arrived_at,num_prefill_tokens,num_decode_tokens\n"
            for i in 0..<trace.count {
                out += "\(seconds(trace.arrivals[i])),\(trace.promptTokens[i]),\(trace.outputTokens[i])\n"
            }
        case .vllmMeasured:
            for i in 0..<trace.count {
                out += "{\"request_id\": \"req-\(i)\", \"input_toks\": \(trace.promptTokens[i]), \"output_toks\": \(trace.outputTokens[i]), \"queued_ts\": \(seconds(trace.arrivals[i]))}\n"
            }
        }
        return out
    }

    public static func write(_ trace: Trace, as format: TraceFormat, to path: String) throws {
        try AtomicFile.write(render(trace, as: format), to: path)
    }

    /// Exact decimal seconds from ns (no floating-point rounding), trailing zeros trimmed.
    public static func formatSeconds(_ ns: Int64) -> String {
        let whole = ns / 1_000_000_000
        var frac = ns % 1_000_000_000
        if frac == 0 { return "\(whole).0" }
        var digits = 9
        while frac % 10 == 0 { frac /= 10; digits -= 1 }
        let f = String(frac)
        return "\(whole)." + String(repeating: "0", count: digits - f.count) + f
    }

    static func azureTimestamp(_ ns: Int64) -> String {
        let secs = ns / 1_000_000_000
        let days = Int(secs / 86_400)
        let rem = Int(secs % 86_400)
        let (y, m, d) = TextBuffer.civilFromDays(days)
        let frac = (ns % 1_000_000_000) / 100   // 7 fractional digits, as the Azure files have
        func pad(_ v: Int, _ n: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, n - s.count)) + s }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2)) \(pad(rem / 3600, 2)):\(pad(rem / 60 % 60, 2)):\(pad(rem % 60, 2)).\(pad(Int(frac), 7))"
    }
}

/// Writes files so that a crash never leaves one half-written: temporary file, then rename.
public enum AtomicFile {
    /// The prefix of every temporary file: `open` cleans stale ones it finds.
    public static let temporaryPrefix = ".smartserve-tmp-"

    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }

    /// Writes a temporary file beside the target, then renames it over the target (see
    /// `AtomicFileWriter`), so a reader sees the old file or the new one, never half of one.
    public static func write(_ data: Data, to path: String) throws {
        try AtomicFileWriter.write(to: path) { out in data.withUnsafeBytes { out.append(UnsafeRawBufferPointer($0)) } }
    }

    /// Removes the temporary files an interrupted write left in `dir`; returns their names.
    @discardableResult
    public static func removeStaleTemporaries(in dir: String) -> [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix(temporaryPrefix) }
        for n in names { unlink(dir + "/" + n) }
        return names
    }
}

/// A file written in pieces, published whole: bytes go through a 1 MiB buffer into a temporary
/// file beside the target (created exclusively under a random name: O_CREAT | O_EXCL |
/// O_NOFOLLOW, never an existing file, never through a link); `commit` syncs it and renames it
/// over the target. A writer dropped without `commit` (an error, an interrupted run) removes its
/// temporary file, so the target keeps its old content. Memory stays at the buffer's size
/// however large the file, which is how `--output` streams a million rows.
public final class AtomicFileWriter: TextSink {
    public let path: String
    private let temporary: String
    private var fd: Int32
    // A raw buffer and its fill: rows are written a byte at a time, where an array's append and
    // the runtime's exclusivity check on a class's stored property cost more than the byte.
    private let buffer: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) private var count = 0
    private var failure: String?
    private static let capacity = 1 << 20

    public init(path: String) throws {
        self.path = path
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw WorkloadError(file: path, "cannot write: \(error.localizedDescription)")
        }
        var fd: Int32 = -1
        var tmp = ""
        for _ in 0..<16 where fd < 0 {
            tmp = dir.appendingPathComponent(AtomicFile.temporaryPrefix + String(UInt64.random(in: 0...UInt64.max), radix: 36)).path
            fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            if fd < 0 && errno != EEXIST { break }
        }
        guard fd >= 0 else { throw WorkloadError(file: path, "cannot write: \(String(cString: strerror(errno)))") }
        self.fd = fd
        temporary = tmp
        buffer = .allocate(capacity: Self.capacity)
    }

    deinit {
        if fd >= 0 {
            close(fd)
            unlink(temporary)
        }
        buffer.deallocate()
    }

    public func append(_ bytes: UnsafeRawBufferPointer) {
        if count + bytes.count > Self.capacity { flush() }
        if bytes.count > Self.capacity {
            put(bytes)
        } else if let base = bytes.baseAddress {
            UnsafeMutableRawPointer(buffer + count).copyMemory(from: base, byteCount: bytes.count)
            count += bytes.count
        }
    }

    public func append(_ text: String) {
        var text = text
        text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// A decimal integer, without going through a String.
    public func append(_ value: Int64) {
        if count + 20 > Self.capacity { flush() }
        var end = count
        if value < 0 { buffer[end] = UInt8(ascii: "-"); end += 1 }
        // The digits' count first, then the digits from the last one back.
        var v = value.magnitude
        var digits = 1
        var scale: UInt64 = 10
        while digits < 20 && v >= scale { digits += 1; scale = scale &* 10 }
        end += digits
        count = end
        repeat { end -= 1; buffer[end] = UInt8(ascii: "0") + UInt8(v % 10); v /= 10 } while v > 0
    }

    public func append(byte: UInt8) {
        if count == Self.capacity { flush() }
        buffer[count] = byte
        count += 1
    }

    private func flush() {
        put(UnsafeRawBufferPointer(start: buffer, count: count))
        count = 0
    }

    private func put(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil, bytes.count > 0 else { return }
        var offset = 0
        while offset < bytes.count {
            let n = Foundation.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { failure = String(cString: strerror(errno)); return }
            offset += n
        }
    }

    /// Streams what `render` appends to `path`, published whole once it returned.
    public static func write(to path: String, _ render: (AtomicFileWriter) throws -> Void) throws {
        let out = try AtomicFileWriter(path: path)
        try render(out)
        try out.commit()
    }

    /// Writes what is buffered, syncs and renames the file over the target.
    public func commit() throws {
        flush()
        if failure == nil && fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        close(fd)
        fd = -1
        if failure == nil && rename(temporary, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary)
            throw WorkloadError(file: path, "cannot write: \(failure)")
        }
    }
}

/// Where rendered text goes: a file being streamed (`AtomicFileWriter`) or memory (`TextBytes`),
/// so one renderer serves both.
public protocol TextSink: AnyObject {
    func append(_ text: String)
    func append(_ value: Int64)
    func append(byte: UInt8)
}

/// Text rendered into memory.
public final class TextBytes: TextSink {
    public private(set) var bytes: [UInt8] = []
    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }
    public func append(_ text: String) { bytes.append(contentsOf: text.utf8) }
    public func append(_ value: Int64) { bytes.append(contentsOf: String(value).utf8) }
    public func append(byte: UInt8) { bytes.append(byte) }
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// What `render` appends, as a String.
    public static func rendering(capacity: Int = 0, _ render: (TextBytes) -> Void) -> String {
        let text = TextBytes(capacity: capacity)
        render(text)
        return text.string
    }
}
