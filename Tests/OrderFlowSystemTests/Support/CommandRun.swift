import Foundation

/// One run of an `orderflow` command to its end.
struct CommandRun: Sendable {
    let arguments: [String]
    let termination: Termination
    let stdout: CapturedOutput
    let stderr: CapturedOutput
    /// From start to exit.
    let duration: Duration

    /// Runs `orderflow <arguments>` and waits (at most `timeout`) for it to exit and close its pipes.
    static func run(_ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(30)) async throws -> CommandRun {
        let started = ContinuousClock.now
        let process = try ChildProcess(arguments, environment: environment)
        defer { process.stop(grace: .zero) }
        let termination: Termination
        do {
            termination = try await process.waitForExit(timeout: timeout)
        } catch {
            throw SystemTestFailure("\(error)\nstdout so far:\n\(process.stdout.captured.text.suffix(2000))\nstderr so far:\n\(process.stderrTail)")
        }
        let duration = ContinuousClock.now - started
        // The process is gone, so the pipes end as soon as their last bytes are read.
        let stdout = try await process.stdout.untilEnd(timeout: .seconds(10))
        let stderr = try await process.stderr.untilEnd(timeout: .seconds(10))
        return CommandRun(arguments: arguments, termination: termination, stdout: stdout, stderr: stderr, duration: duration)
    }

    /// The command and everything it printed, for failure messages.
    var transcript: String {
        "orderflow \(arguments.joined(separator: " ")) → \(termination) after \(duration)\nstdout:\n\(stdout.text.suffix(2000))\nstderr:\n\(stderr.text.suffix(2000))"
    }
}
