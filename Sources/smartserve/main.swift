import Foundation
import LineEdit
import Workbench

/// `smartserve` with arguments is the CLI; without (or with `shell`), the shell on a terminal, or a
/// script read from standard input when it is not one. `--plugin PATH` works with every form.
let arguments: [String]
do { arguments = try PathResolver.extract(Array(CommandLine.arguments.dropFirst())) } catch {
    Terminal.error(ShellRunner.message(error))
    exit(ExitStatus.usage)
}
let rest = (try? PluginSetup.extract(arguments).rest) ?? arguments
if !rest.isEmpty && rest != ["shell"] {
    exit(CLI.main(arguments))
}
do {
    try PluginSetup.start(named: try PluginSetup.extract(arguments).plugins, discover: true)
} catch {
    Terminal.error(ShellRunner.message(error))
    exit(ExitStatus.input)
}

if isatty(STDIN_FILENO) == 0 {
    // Piped input: a script. No prompt, no history.
    var lines: [String] = []
    while let line = readLine() { lines.append(line) }
    let runner = ShellRunner()
    exit(runner.runScript(lines, name: "<stdin>") ? ExitStatus.success : runner.scriptStatus)
}

InteractiveShell.run()
