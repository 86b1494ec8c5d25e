import ArgumentParser
import Foundation
import RL
import ServeSim
import Workload

/// `smartserve env serve`: the environment for agents trained elsewhere (Python's Gymnasium through
/// `python/smartserve_gym`), one JSON object per line on standard input and output.
public struct EnvCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "env", abstract: "Serve the scheduling environment to an external agent.", subcommands: [EnvServeCommand.self])
    public init() {}
}

public struct EnvServeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Speak the environment protocol as JSON lines on stdin/stdout.",
        discussion: """
        Requests, one per line, each answered by one line:
          {"cmd": "spaces"}                  → {"observation_size", "features", "action_space", "actions" | "action_dim"}
          {"cmd": "reset", "seed": 0}        → {"observation": [...], "info": {...}}
          {"cmd": "step", "action": 3}       → {"observation", "reward", "terminated", "truncated", "info"}
                                               (a list of numbers in [-1, 1] for --space continuous)
          {"cmd": "close"}                   → {"closed": true}, then exit
        A bad request is answered with {"error": "..."} and the server carries on.
        """)
    @OptionGroup var sim: SimulationArguments
    @OptionGroup var load: LoadArguments
    @OptionGroup var env: EnvironmentArguments
    @Option(help: "Action space: discrete (16 knob settings) or continuous (6 knobs in [-1, 1]).") var space: String = "discrete"
    public init() {}

    public func run() throws {
        guard let actionSpace = ActionSpace(name: space) else { throw UsageError("--space expects discrete or continuous, got '\(space)'") }
        let (trace, _) = try loadWorkload(sim.dataset, load)
        let server = EnvServer(try ServeEnv(try env.setup(trace, sim, space: actionSpace)))
        while let line = readLine() {
            let (reply, close) = server.handle(line)
            FileHandle.standardOutput.write(Data((reply + "\n").utf8))
            if close { return }
        }
    }
}

/// The protocol's request handling, separate from the I/O so tests can drive it directly.
public final class EnvServer {
    let env: ServeEnv
    public init(_ env: ServeEnv) { self.env = env }

    /// The reply line, and whether the client asked to close.
    public func handle(_ line: String) -> (String, Bool) {
        do {
            guard line.utf8.count <= 1 << 20, let data = line.data(using: .utf8),
                  let request = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw RLError("a request is one JSON object per line, e.g. {\"cmd\": \"reset\", \"seed\": 0}")
            }
            switch request["cmd"] as? String {
            case "spaces":
                var fields: [(String, JSON)] = [("observation_size", .integer(env.observationSize)),
                                                ("features", .array(ObservationTracker.featureNames.map { .string($0) })),
                                                ("action_space", .string(env.actionSpace.name))]
                fields.append(env.actionSpace == .discrete ? ("actions", .integer(env.actionSpace.size)) : ("action_dim", .integer(env.actionSpace.size)))
                if env.actionSpace == .discrete {
                    fields.append(("action_meanings", .array((0..<env.actionSpace.size).map { .string(env.actionSpace.describe(discrete: $0)) })))
                }
                return (JSON.object(fields).render(pretty: false), false)
            case "reset":
                var seed: UInt64 = 0
                if let s = request["seed"], !(s is NSNull) {
                    guard let n = s as? NSNumber, let v = UInt64(exactly: n.doubleValue) else { throw RLError("reset: \"seed\" must be a non-negative integer") }
                    seed = v
                }
                let (obs, info) = try env.reset(seed: seed)
                return (JSON.object([("observation", numbers(obs)), ("info", infoJSON(info))]).render(pretty: false), false)
            case "step":
                let outcome: StepOutcome
                if env.actionSpace == .discrete {
                    guard let n = request["action"] as? NSNumber, let a = Int(exactly: n.doubleValue), (0..<env.actionSpace.size).contains(a) else {
                        throw RLError("step: \"action\" must be an integer in 0...\(env.actionSpace.size - 1)")
                    }
                    outcome = try env.step(discrete: a)
                } else {
                    guard let list = request["action"] as? [Any], list.count == env.actionSpace.size,
                          let x = Optional(list.compactMap { ($0 as? NSNumber)?.doubleValue }), x.count == list.count, x.allSatisfy(\.isFinite) else {
                        throw RLError("step: \"action\" must be a list of \(env.actionSpace.size) finite numbers in [-1, 1]")
                    }
                    outcome = try env.step(continuous: x)
                }
                return (JSON.object([("observation", numbers(outcome.observation)), ("reward", .number(outcome.reward)),
                                     ("terminated", .bool(outcome.terminated)), ("truncated", .bool(outcome.truncated)),
                                     ("info", infoJSON(outcome.info))]).render(pretty: false), false)
            case "close":
                return (JSON.object([("closed", .bool(true))]).render(pretty: false), true)
            default:
                throw RLError("unknown \"cmd\" (one of spaces, reset, step, close)")
            }
        } catch {
            let message = ProjectError.describe(error)?.0 ?? String(describing: error)
            return (JSON.object([("error", .string(message))]).render(pretty: false), false)
        }
    }

    func numbers(_ x: [Double]) -> JSON { .array(x.map { .number($0) }) }

    func infoJSON(_ i: StepInfo) -> JSON {
        let t = i.tallies, r = i.rewardVector
        return .object([
            ("instance", .integer(i.instance)), ("time_s", .number(i.time)), ("requests", .integer(i.requests)), ("window_start", .integer(i.windowStart)),
            ("finished", .integer(t.finished)), ("waiting", .integer(t.waiting)), ("running", .integer(t.running)),
            ("reward_vector", .object(zip(RewardVector.names, r.values).map { ($0, JSON.number($1)) })),
        ])
    }
}
