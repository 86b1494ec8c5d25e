import Foundation
import XCTest

/// Locates `../shared/data` beside the project; tests that need it skip with a printed reason.
enum SharedData {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/data")

    static func path(_ relative: String) throws -> String {
        let p = root.appendingPathComponent(relative).path
        guard FileManager.default.fileExists(atPath: p) else {
            print("skipping: \(p) is absent (the shared data folder is not beside the project)")
            throw XCTSkip("shared data absent: \(relative)")
        }
        return p
    }
}

/// A temporary directory removed after the test.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("smartserve-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
