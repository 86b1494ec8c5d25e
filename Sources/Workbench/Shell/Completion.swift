import Foundation
import Forecasting
import ServeAPI
import ServeSim

/// Tab-completion candidates, computed from the command table and the registries (so anything
/// registered, plugins included, completes).
public enum Completion {
    static let loadOptions = ["--req_num", "--rate-scale", "--start", "--end", "--model-filter", "--max-context",
                              "--context-policy", "--keep-failed", "--format"]

    public static func candidates(lineBeforeCursor line: String, word: String, session: Session) -> [String] {
        let endsInSpace = line.last.map { $0 == " " } ?? false
        var words = (try? Tokenizer.split(line)) ?? line.split(separator: " ").map(String.init)
        if !endsInSpace && !words.isEmpty { words.removeLast() }
        let matching = { (items: [String]) in items.filter { $0.hasPrefix(word) }.sorted() }
        guard let first = words.first else {
            return matching(shellCommands.map(\.name))
        }
        guard let command = ShellRunner.command(named: first) else { return [] }
        let index = words.count - 1          // arguments already complete
        /// A component's name first, then its option keys.
        func component(_ entries: [(name: String, options: [OptionSpec])]) -> [String] {
            if index == 0 { return matching(entries.map(\.name)) }
            let chosen = words.dropFirst().first
            return matching(entries.first { $0.name == chosen }?.options.map { $0.name + "=" } ?? [])
        }
        switch command.completion {
        case .none: return []
        case .command: return index == 0 ? matching(shellCommands.map(\.name)) : []
        case .file:
            if index == 0 { return files(word) }
            return command.name == "load" ? matching(loadOptions) : []
        case .scheduler: return component(Components.schedulers.all.map { ($0.name, $0.options) })
        case .router: return component(Components.routers.all.map { ($0.name, $0.options) })
        case .predictor: return component(Components.lengthPredictors.all.map { ($0.name, $0.options) })
        case .hardware: return index == 0 ? matching(HardwareCatalog.names) + (word.contains("/") || word.hasPrefix(".") ? files(word) : []) : []
        case .model: return index == 0 ? matching(ModelCatalog.names) + (word.hasPrefix(".") || word.hasPrefix("/") ? files(word) : []) : []
        case .setting: return index == 0 ? matching(SettingKeys.all.map(\.name)) : []
        case .run: return matching(session.runs.flatMap { ["\($0.number)", $0.label] })
        case .component:
            guard index == 0 else { return [] }
            return matching(Components.schedulers.names + Components.routers.names + Components.lengthPredictors.names + HardwareCatalog.names)
        case .forecaster:
            return index == 0 ? matching(Components.forecasters.names + ["--eval"]) : matching(["--horizon", "--freq", "--target", "--season", "--file", "--eval", "--models", "--protocol", "--refit", "--align",
                                                                                                        "--transform", "--point", "--intervals", "--initial", "--step", "--windows", "--files", "--global", "--json"])
        case .plugin: return index == 0 ? matching(["load", "check"]) : index == 1 ? files(word) : []
        case .datasetAction: return index == 0 ? matching(["info", "patterns", "features"]) : matching(["--freq", "--window", "--output"])
        }
    }

    /// Paths starting with `prefix`; directories end in "/".
    static func files(_ prefix: String) -> [String] {
        let dirPart: String
        let namePart: String
        if let slash = prefix.lastIndex(of: "/") {
            dirPart = String(prefix[...slash])
            namePart = String(prefix[prefix.index(after: slash)...])
        } else {
            dirPart = ""
            namePart = prefix
        }
        let dir = dirPart.isEmpty ? "." : dirPart
        guard let items = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
        return items.filter { $0.hasPrefix(namePart) && (!$0.hasPrefix(".") || namePart.hasPrefix(".")) }.sorted().map { item in
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent(item), isDirectory: &isDir)
            return dirPart + item + (isDir.boolValue ? "/" : "")
        }
    }
}
