import Foundation
import Workbench

// Built by `make fuzz` with -sanitize=fuzzer -D FUZZING: main hands control to libFuzzer's driver,
// which calls `fuzzOne` with each input; SMARTSERVE_FUZZ_TARGET picks the target (traces,
// series, tokenizer, shell). A plain build gives a stub that says how to build it.
#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

let target = ProcessInfo.processInfo.environment["SMARTSERVE_FUZZ_TARGET"] ?? "traces"

/// What libFuzzer calls with each input.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzTargets.run(target, data.map { Data(bytes: $0, count: size) } ?? Data())
    return 0
}

/// The entry point (SwiftPM names an executable's main `<module>_main`; libFuzzer's own main is
/// not linked then): hand argv to libFuzzer's driver.
@_cdecl("smartserve_fuzz_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector, fuzzOne)
}
#else
@main
struct NotAFuzzBuild {
    static func main() {
        FileHandle.standardError.write(Data("smartserve-fuzz: build it with `make fuzz` (libFuzzer)\n".utf8))
        exit(2)
    }
}
#endif
