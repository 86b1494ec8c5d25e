import RL
import Forecasting
import PluginHost
import ServeAPI
import ServeSim
import Workload

/// The project's own error types, each already a complete one-line message.
enum ProjectError {
    /// The message and exit status for a project error; nil for anything else (argument parsing).
    static func describe(_ error: Error) -> (String, Int32)? {
        switch error {
        case let e as WorkloadError: return (e.description, 1)
        case let e as UsageError: return (e.description, 2)
        case let e as OptionError: return (e.description, 2)
        case let e as ConfigError: return (e.description, 1)
        case let e as SimulationError: return (e.description, 1)
        case let e as ForecastError: return (e.description, 1)
        case let e as PluginError: return (e.description, 1)
        case let e as RLError: return (e.description, 1)
        default: return nil
        }
    }
}
