import ServeAPI

/// Sends a request to the instance with the fewest waiting requests, then the most free KV
/// blocks, then the lowest index.
final class LeastWaitingRouter: RequestRouter {
    let name = "least-waiting"
    func route(_ request: Int32, instances: UnsafeBufferPointer<InstanceLoad>) -> Int {
        var best = 0
        for k in 1..<instances.count {
            let a = instances[k], b = instances[best]
            if a.waiting < b.waiting || (a.waiting == b.waiting && a.freeBlocks > b.freeBlocks) { best = k }
        }
        return best
    }
}

@_cdecl("smartserve_plugin_entry")
public func smartservePluginEntry(_ hostABI: UInt32, _ registrar: UnsafeMutableRawPointer) -> UInt32 {
    PluginRegistrar.enter(hostABI, registrar) { plugin in
        plugin.describe(name: "least-waiting-router", version: "1.0.0")
        plugin.router(RouterEntry(name: "least-waiting", summary: "fewest waiting requests, then most free KV") { _ in LeastWaitingRouter() })
    }
}
