import Foundation
import Synchronization

/// How a child process ended.
enum Termination: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)

    var description: String {
        switch self {
        case .exited(let code): "exited with status \(code)"
        case .signalled(let signal): "killed by signal \(signal)"
        }
    }
}

/// The `orderflow` binary as a child process with its stdout and stderr captured. Stop it in every path with `stop()`
/// (synchronous, so it fits in a `defer`); should a test not get there, `ChildReaper` kills it when the test process
/// exits or is interrupted.
final class ChildProcess: Sendable {
    let arguments: [String]
    let pid: pid_t
    let stdout: OutputCapture
    let stderr: OutputCapture
    private let termination: Observed<Termination?>
    /// Signalled once, when the process has ended.
    private let exited: DispatchSemaphore
    private let process: Process

    /// Starts `orderflow` with `arguments`, without any `ORDERFLOW_*` variables from the test's environment but with
    /// `environment` added.
    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        let executable = try OrderFlowBinary.path()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ORDERFLOW_") }
            .merging(environment) { _, added in added }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let termination = Observed<Termination?>(nil)
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { finished in
            ChildReaper.forget(finished.processIdentifier)
            let ended: Termination = finished.terminationReason == .uncaughtSignal
                ? .signalled(finished.terminationStatus) : .exited(finished.terminationStatus)
            termination.update { $0 = ended }
            exited.signal()
        }
        do {
            try process.run()
        } catch {
            throw SystemTestFailure("cannot start \(executable) \(arguments.joined(separator: " ")): \(error)")
        }
        pid = process.processIdentifier
        ChildReaper.remember(pid)
        self.arguments = arguments
        self.process = process
        self.termination = termination
        self.exited = exited
        stdout = OutputCapture(reading: out.fileHandleForReading, name: "stdout of orderflow \(arguments.first ?? "")")
        stderr = OutputCapture(reading: err.fileHandleForReading, name: "stderr of orderflow \(arguments.first ?? "")")
    }

    /// How the process ended, or nil while it runs.
    var ended: Termination? { termination.value }

    /// Sends `signal` (SIGKILL, SIGTERM, SIGINT) to the process while it runs.
    func send(_ signal: Int32) {
        guard ended == nil, process.isRunning else { return }
        kill(pid, signal)
    }

    /// How the process ended, as soon as it has; fails when it still runs after `timeout`.
    func waitForExit(timeout: Duration) async throws -> Termination {
        let ended = try await termination.wait(for: "orderflow \(arguments.joined(separator: " ")) to exit", timeout: timeout) { $0 != nil }
        // Non-nil by the wait's condition.
        return ended ?? .exited(-1)
    }

    /// Stops the process if it still runs — SIGTERM, then SIGKILL when it has not exited after `grace` — and reaps it.
    /// Safe to call more than once and after the process has ended.
    func stop(grace: Duration = .seconds(5)) {
        if ended == nil, process.isRunning {
            kill(pid, SIGTERM)
            let (seconds, attoseconds) = grace.components
            let timeout = DispatchTime.now() + .nanoseconds(Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
            if exited.wait(timeout: timeout) == .timedOut {
                kill(pid, SIGKILL)
            } else {
                exited.signal()  // leave it signalled for any later call
            }
        }
        process.waitUntilExit()
    }

    /// The tail of stderr, for failure messages.
    var stderrTail: String { String(stderr.captured.text.suffix(3000)) }
}

/// The children still running, kept where a signal handler can read them, so that none outlives the test process:
/// they are killed with SIGKILL when it exits, and when it is interrupted (SIGINT, SIGTERM, SIGHUP) before it re-raises
/// the signal. The `defer { stop() }` of each test is the normal path; this is the backstop.
enum ChildReaper {
    private static let capacity = 256
    /// Lock-free slots of process ids (0: free): async-signal-safe to read.
    nonisolated(unsafe) private static let slots: UnsafeMutablePointer<Atomic<Int32>> = {
        let slots = UnsafeMutablePointer<Atomic<Int32>>.allocate(capacity: capacity)
        for index in 0..<capacity { (slots + index).initialize(to: Atomic(0)) }
        atexit { ChildReaper.killAll() }
        for number in [SIGINT, SIGTERM, SIGHUP] {
            let previous = signal(number, reapAndReraise)
            // Only take over signals nobody else handles or ignores.
            if unsafeBitCast(previous, to: Int.self) != unsafeBitCast(SIG_DFL, to: Int.self) {
                signal(number, previous)
            }
        }
        return slots
    }()

    static func remember(_ pid: pid_t) {
        for index in 0..<capacity where slots[index].compareExchange(expected: 0, desired: pid, ordering: .relaxed).exchanged {
            return
        }
    }

    static func forget(_ pid: pid_t) {
        for index in 0..<capacity where slots[index].compareExchange(expected: pid, desired: 0, ordering: .relaxed).exchanged {
            return
        }
    }

    /// SIGKILLs every child still remembered (async-signal-safe: atomic loads and `kill`).
    static func killAll() {
        for index in 0..<capacity {
            let pid = slots[index].load(ordering: .relaxed)
            if pid > 0 { kill(pid, SIGKILL) }
        }
    }
}

private func reapAndReraise(_ signalNumber: Int32) {
    ChildReaper.killAll()
    signal(signalNumber, SIG_DFL)
    raise(signalNumber)
}

/// Where the binary under test is: `ORDERFLOW_BIN`, else `.build/debug/orderflow` of this package.
enum OrderFlowBinary {
    static func path() throws -> String {
        let path: String
        if let configured = ProcessInfo.processInfo.environment["ORDERFLOW_BIN"], !configured.isEmpty {
            path = configured
        } else {
            // Tests/OrderFlowSystemTests/Support/ChildProcess.swift → the package root is four levels up.
            var root = URL(fileURLWithPath: #filePath)
            for _ in 0..<4 { root.deleteLastPathComponent() }
            path = root.appendingPathComponent(".build/debug/orderflow").path
        }
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw SystemTestFailure("the orderflow binary is not at \(path): build it (swift build) or set ORDERFLOW_BIN")
        }
        return path
    }
}

/// A fresh directory under the system's temporary directory, for one test's data.
struct TemporaryDirectory: Sendable {
    let url: URL

    init(_ label: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("orderflow-system-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// A directory at `path`, created if missing (removed by `remove()` like any other).
    init(existing path: String) throws {
        url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    var path: String { url.path }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}
