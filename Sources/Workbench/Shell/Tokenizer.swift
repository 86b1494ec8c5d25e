import Foundation
import Workload

/// Splits a command line into words: whitespace separates, single or double quotes group,
/// a backslash escapes the next character, and `#` starts a comment outside quotes.
public enum Tokenizer {
    public static func split(_ line: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character? = nil
        var escaped = false
        for c in line {
            if escaped { current.append(c); escaped = false; inWord = true; continue }
            if c == "\\" && quote != "'" { escaped = true; continue }
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
                continue
            }
            if c == "\"" || c == "'" { quote = c; inWord = true; continue }
            if c == "#" && !inWord { break }
            if c.isWhitespace {
                if inWord { words.append(current); current = ""; inWord = false }
                continue
            }
            current.append(c)
            inWord = true
        }
        if let q = quote { throw UsageError("unterminated \(q) quote") }
        if escaped { throw UsageError("a trailing backslash escapes nothing") }
        if inWord { words.append(current) }
        return words
    }

    /// Quotes a word so that `split` gives it back.
    public static func quote(_ word: String) -> String {
        if !word.isEmpty && word.allSatisfy({ !$0.isWhitespace && !"'\"\\#".contains($0) }) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
