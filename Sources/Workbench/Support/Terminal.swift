import Foundation
import Workload

/// Where commands write. Standard output carries results; warnings and errors go to standard error
/// so that piping `--json` output stays clean.
public enum Terminal {
    public static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    /// Writes `text` to `path` atomically and reports `note`, or prints the text when no path is given.
    static func emit(_ text: String, to path: String?, note: String) throws {
        if let path {
            try AtomicFile.write(text, to: path)
            out(note)
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    public static func warn(_ text: String) {
        FileHandle.standardError.write(Data("warning: \(text)\n".utf8))
    }

    public static func error(_ text: String) {
        FileHandle.standardError.write(Data("error: \(text)\n".utf8))
    }
}
