/// Claims an ABI no host has, as a plugin built against another ServeAPI would.
@_cdecl("smartserve_plugin_entry")
public func smartservePluginEntry(_ hostABI: UInt32, _ registrar: UnsafeMutableRawPointer) -> UInt32 { hostABI + 100 }
