import ArgumentParser
import Foundation
import Workload

public struct ScriptCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "script",
        abstract: "Run a shell script (the shell's commands, one per line).",
        discussion: "An error stops the script with its line number and a non-zero exit unless --keep-going.\nExample: smartserve script study.sls")
    @Argument(help: "Script file.") var file: String
    @Flag(name: .customLong("keep-going"), help: "Continue after a failing line.") var keepGoing = false
    public init() {}

    public func run() throws {
        let runner = ShellRunner()
        // A script's relative paths also resolve against its own folder.
        runner.resolver.bases = [URL(fileURLWithPath: file).deletingLastPathComponent()]
        let ok = runner.runScript(try TextBuffer(path: file).lines(), name: file, keepGoing: keepGoing)
        if !ok { throw ExitCode(runner.scriptStatus) }
    }
}

public struct ReplayCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-execute a saved session and check that every run is identical.",
        discussion: "Example: smartserve replay sessions/examples/quickstart")
    @Argument(help: "Session folder.") var directory: String
    public init() {}

    public func run() throws {
        let report = try Replay.run(directory: directory)
        Terminal.out(report.text)
        if !report.identical { throw ExitCode(1) }
    }
}
