import Foundation
import Workload

/// Where commands write. Standard output carries results; warnings and errors go to standard error
/// so that piping `--json` output stays clean.
public enum Terminal {
    /// The terminal's width in columns (`COLUMNS`, else the window's, else 100).
    public static var columns: Int {
        if let c = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), c > 0 { return c }
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 { return Int(size.ws_col) }
        return 100
    }

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

    /// Context for a person (what a command ran on) on standard error, beside the results.
    public static func note(_ text: String) {
        FileHandle.standardError.write(Data((escaped(text) + "\n").utf8))
    }

    public static func warn(_ text: String) {
        FileHandle.standardError.write(Data("warning: \(escaped(text))\n".utf8))
    }

    /// One line on standard error; control characters (a file's bytes quoted in the message)
    /// are escaped so they cannot reach the terminal.
    public static func error(_ text: String) {
        FileHandle.standardError.write(Data("error: \(escaped(text))\n".utf8))
    }

    /// `text` with control characters written as \n, \r, \t or \u{XX}.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || ($0.value >= 0x7f && $0.value < 0xa0) }) else { return text }
        var out = ""
        for u in text.unicodeScalars {
            switch u.value {
            case 0x0a: out += "\\n"
            case 0x0d: out += "\\r"
            case 0x09: out += "\\t"
            case 0..<0x20, 0x7f..<0xa0: out += "\\u{\(String(u.value, radix: 16))}"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }
}
