import Foundation
import ServeAPI
import Workload

/// Registers the `rl` scheduler: a trained policy file run as a scheduler.
public enum RLComponents {
    public static func register() { once }

    private static let once: Void = {
        Registries.schedulers.register(SchedulerEntry(
            name: "rl", summary: "a trained policy (smartserve rl train) choosing admission rule, budget, seats and KV watermark",
            options: [OptionSpec("policy", .file, default: "policy.json", doc: "policy file written by `smartserve rl train`"),
                      OptionSpec.lengthPredictor,
                      OptionSpec("starvation", .double, default: "600", range: 0...86_400,
                                 doc: "seconds of waiting after which a request is admitted before any other (0: never)")]) { o in
            let file = try PolicyFile.load(o.string("policy"))
            let policy = file.policy
            return ControlledScheduler(name: "rl", interval: file.interval, horizon: file.horizon, starvation: o.double("starvation"),
                                       decide: { policy.action(for: $0) })
        })
    }()
}

extension PolicyFile {
    /// Reads and checks a policy file (a regular file under 16 MB).
    public static func load(_ path: String) throws -> PolicyFile {
        guard let data = ConfigFile.read(path) else {
            throw RLError("policy file \(path): cannot read it (expected a regular JSON file under 16 MB written by `smartserve rl train`)")
        }
        return try decode(data, path: path)
    }
}
