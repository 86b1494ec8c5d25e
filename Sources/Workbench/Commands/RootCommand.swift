import ArgumentParser
import Foundation
import Workload

/// The command tree. The CLI parses argv with it; the shell parses each line with it, so both run
/// the very same code.
public struct SmartServeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "smartserve",
        abstract: "SmartLLMServe: explore LLM serving workloads and simulate vLLM-class engines.",
        version: Version.string,
        subcommands: [RunCommand.self, CompareCommand.self, SweepCommand.self, MergeCommand.self, ValidateCommand.self, CalibrateCommand.self, DatasetCommand.self, PluginsCommand.self, PluginCommand.self,
                      PredictorsCommand.self, ForecastCommand.self, ReportCommand.self, PlotCommand.self, RLCommand.self, EnvCommand.self, ScriptCommand.self, ReplayCommand.self])

    public init() {}
}

public enum Version {
    public static let string = "0.1.0"
}

/// Runs the CLI: maps project errors to one clear line and a non-zero exit.
public enum CLI {
    public static func main(_ arguments: [String]) -> Int32 {
        do {
            let (plugins, rest) = try PluginSetup.extract(try PathResolver.extract(arguments))
            try PluginSetup.start(named: plugins, discover: true)
            var command = try SmartServeCommand.parseAsRoot(rest)
            try command.run()
            return 0
        } catch {
            if let (message, code) = ProjectError.describe(error) {
                Terminal.error(message)
                return code
            }
            let code = SmartServeCommand.exitCode(for: error)
            if code == .success {
                Terminal.out(SmartServeCommand.fullMessage(for: error))
                return ExitStatus.success
            }
            if let exit = error as? ExitCode { return exit.rawValue }
            // The argument parser's own errors (unknown option, bad value) are usage errors.
            FileHandle.standardError.write(Data((SmartServeCommand.fullMessage(for: error) + "\n").utf8))
            return ExitStatus.usage
        }
    }
}
