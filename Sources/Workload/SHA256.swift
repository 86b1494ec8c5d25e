import Crypto
import Foundation

/// SHA-256 fingerprints of datasets, policy files and plugin libraries in session manifests:
/// swift-crypto's (BoringSSL's assembly on Linux, about 10× the hand-written version this replaced;
/// it costs about two minutes of a clean build on two cores).
public enum SHA256 {
    public static func hex<C: Collection>(_ message: C) -> String where C.Element == UInt8 {
        let digest = Crypto.SHA256.hash(data: [UInt8](message))
        return digest.map { String(format: "%02x", $0) }.joined()
    }

    /// SHA-256 of a file's bytes, whatever they are (traces, plugin libraries).
    public static func file(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw WorkloadError(file: path, "cannot read it") }
        return hex([UInt8](data))
    }
}

extension TextBuffer {
    /// SHA-256 of the file's bytes as they are on disk (a byte-order mark included), so it
    /// matches `SHA256.file`.
    public var sha256: String { SHA256.hex((hadBOM ? [0xEF, 0xBB, 0xBF] : []) + bytes.dropLast()) }
}
