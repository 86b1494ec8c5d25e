import Forecasting
import RL
import Schedulers
import ServeAPI

/// The component registries as the workbench uses them: the built-ins are registered exactly once,
/// before the first look-up, so plugins loaded later meet them (and a name clash is caught).
public enum Components {
    private static let builtins: Void = {
        Builtins.register()
        Forecasters.register()
        RLComponents.register()
    }()

    /// Registers the built-ins if that has not happened yet.
    public static func ready() { builtins }

    public static var schedulers: ComponentRegistry<any StepScheduler> { ready(); return Registries.schedulers }
    public static var routers: ComponentRegistry<any RequestRouter> { ready(); return Registries.routers }
    public static var lengthPredictors: ComponentRegistry<any LengthPredictor> { ready(); return Registries.lengthPredictors }
    public static var forecasters: ComponentRegistry<any WorkloadPredictor> { ready(); return Registries.forecasters }
    public static var autoscalers: ComponentRegistry<any InstanceAutoscaler> { ready(); return Registries.autoscalers }
}
