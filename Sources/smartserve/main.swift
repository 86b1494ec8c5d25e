import Foundation
import LineEdit
import Workbench

/// `smartserve` with arguments is the CLI; without, the shell on a terminal, or a script read
/// from standard input when it is not one.
let arguments = Array(CommandLine.arguments.dropFirst())
if !arguments.isEmpty && arguments != ["shell"] {
    exit(CLI.main(arguments))
}

if isatty(STDIN_FILENO) == 0 {
    // Piped input: a script. No prompt, no history.
    var lines: [String] = []
    while let line = readLine() { lines.append(line) }
    exit(ShellRunner().runScript(lines, name: "<stdin>") ? 0 : 1)
}

InteractiveShell.run()
