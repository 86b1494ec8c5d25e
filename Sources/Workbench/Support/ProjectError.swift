import RL
import Forecasting
import PluginHost
import ServeAPI
import ServeSim
import Workload

/// The exit statuses of the CLI, the same for every command (the README lists them).
public enum ExitStatus {
    public static let success: Int32 = 0
    /// The work ran and failed: a simulation that could not finish, a model that could not be
    /// fitted, a training run that diverged.
    public static let runFailure: Int32 = 1
    /// The command line asked for something impossible: an unknown option, name or value, or a
    /// configuration that cannot exist (a model that does not fit in memory).
    public static let usage: Int32 = 2
    /// An input file is missing, unreadable or malformed (the message names file and line).
    public static let input: Int32 = 3
    /// Stopped by Ctrl-C (128 + SIGINT, as shells report it).
    public static let interrupted: Int32 = 130
}

/// The project's own error types, each already a complete one-line message.
enum ProjectError {
    /// The message and exit status for a project error; nil for anything else (argument parsing).
    static func describe(_ error: Error) -> (String, Int32)? {
        switch error {
        case let e as WorkloadError: return (e.description, ExitStatus.input)
        case let e as UsageError: return (e.description, ExitStatus.usage)
        case let e as OptionError: return (e.description, ExitStatus.usage)
        case let e as ConfigError: return (e.description, ExitStatus.usage)
        case let e as SimulationError: return (e.description, e == SimulationError.interrupted ? ExitStatus.interrupted : ExitStatus.runFailure)
        case let e as ForecastError: return (e.description, ExitStatus.runFailure)
        case let e as PluginError: return (e.description, ExitStatus.input)
        case let e as RLError: return (e.description, ExitStatus.runFailure)
        default: return nil
        }
    }
}
