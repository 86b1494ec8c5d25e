import Foundation
import LineEdit
import Workbench

/// The interactive shell: libedit line editing, history in the user's home, Tab completion,
/// Ctrl-C to stop a run (or clear the line), Ctrl-D to save and leave.
enum InteractiveShell {
    static func run() {
        // libedit converts the prompt and input through the locale; keep the prompt ASCII too.
        setlocale(LC_ALL, "")
        let runner = ShellRunner(interactive: true, showProgress: isatty(STDERR_FILENO) != 0)
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        let editor = LineEditor(name: "smartserve", historyPath: home + "/.smartserve_history") { line, word in
            Completion.candidates(lineBeforeCursor: line, word: word, session: runner.session)
        }
        Interrupt.catchSignal()
        print("SmartLLMServe \(Version.string) — `help` lists commands, Tab completes, Ctrl-D saves and exits.")
        while !runner.quitRequested {
            Interrupt.clear()
            guard let line = editor.readLine(prompt: runner.prompt) else {
                if Interrupt.requested {
                    print("")          // Ctrl-C at the prompt: a fresh line
                    continue
                }
                print("")
                break                  // Ctrl-D
            }
            editor.remember(line)
            do {
                try runner.execute(line)
            } catch {
                if Interrupt.requested {
                    FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
                    Terminal.error("interrupted; back at the prompt")
                } else {
                    Terminal.error(ShellRunner.message(error))
                }
            }
        }
        runner.saveOnExit()
        if let name = runner.session.directory?.path { print("session saved in \(name)") }
    }
}
