@preconcurrency import CLibEdit
import Foundation

/// A thin wrapper over libedit's readline interface: line editing, persistent history and Tab
/// completion. Completion state lives in globals because libedit calls back through plain C
/// function pointers.
public final class LineEditor {
    /// Returns candidates for the word being completed, given the line up to the cursor.
    public typealias Completer = (_ lineBeforeCursor: String, _ word: String) -> [String]

    nonisolated(unsafe) static var completer: Completer?
    nonisolated(unsafe) static var candidates: [String] = []
    nonisolated(unsafe) static var candidateIndex = 0

    let historyPath: String?

    public init(name: String, historyPath: String?, completer: @escaping Completer) {
        self.historyPath = historyPath
        LineEditor.completer = completer
        smartserve_set_name(strdup(name))
        using_history()
        if let historyPath { _ = read_history(historyPath) }
        smartserve_set_completion { text, start, end in
            smartserve_completion_over()
            let line = String(cString: smartserve_line_buffer())
            let before = String(line.utf8.prefix(Int(end))) ?? line
            let word = text.map { String(cString: $0) } ?? ""
            LineEditor.candidates = LineEditor.completer?(before, word) ?? []
            LineEditor.candidateIndex = 0
            guard !LineEditor.candidates.isEmpty, let text else { return nil }
            // A directory or an option key (key=) continues the word: no space after it.
            let open = LineEditor.candidates.allSatisfy { $0.hasSuffix("/") || $0.hasSuffix("=") }
            smartserve_append_character(open ? 0 : 32)
            return rl_completion_matches(text) { _, state in
                if state == 0 { LineEditor.candidateIndex = 0 }
                guard LineEditor.candidateIndex < LineEditor.candidates.count else { return nil }
                defer { LineEditor.candidateIndex += 1 }
                return strdup(LineEditor.candidates[LineEditor.candidateIndex])
            }
        }
    }

    /// Reads one line with editing; nil at end of input (Ctrl-D) or when interrupted (Ctrl-C).
    public func readLine(prompt: String) -> String? {
        guard let raw = readline(prompt) else { return nil }
        defer { free(raw) }
        return String(cString: raw)
    }

    /// Adds a line to history (trimmed: completion appends a space) and saves the history file.
    public func remember(_ line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return }
        add_history(trimmed)
        if let historyPath { _ = write_history(historyPath) }
    }
}
