import Foundation

/// `scripts/smtp-test-relay` (aiosmtpd, a real SMTP server from PyPI; scripts/test installs it) as a child process on
/// 127.0.0.1: every message it accepts lands in a Maildir the test reads. Stop it with `stop()` in a `defer`;
/// `ChildReaper` kills it should the test process end first.
final class SMTPTestRelay: Sendable {
    let port: Int
    /// The self-signed certificate to trust, when started with TLS.
    let caFile: String?
    let maildir: URL
    private let process: Process
    private let stderr: OutputCapture

    /// Starts the relay on `port` (0: a free one) and returns once it listens.
    static func start(in directory: TemporaryDirectory, port: Int = 0, tls: Bool = false, user: String? = nil, password: String? = nil)
        async throws -> SMTPTestRelay
    {
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { root.deleteLastPathComponent() }
        let script = root.appendingPathComponent("scripts/smtp-test-relay").path
        let maildir = directory.url.appendingPathComponent("maildir-\(UUID().uuidString.prefix(6))")
        var arguments = ["python3", script, "--maildir", maildir.path, "--port", String(port)]
        if tls { arguments.append("--tls") }
        if let user { arguments += ["--user", user, "--password", password ?? ""] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        ChildReaper.remember(process.processIdentifier)
        let stdout = OutputCapture(reading: out.fileHandleForReading, name: "stdout of smtp-test-relay")
        let stderr = OutputCapture(reading: err.fileHandleForReading, name: "stderr of smtp-test-relay")
        let ready: String
        do {
            ready = try await stdout.line(containing: "ready", timeout: .seconds(30))
        } catch {
            kill(process.processIdentifier, SIGKILL)
            throw SystemTestFailure("smtp-test-relay did not start (scripts/test installs aiosmtpd): \(error)\n\(stderr.captured.text.suffix(2000))")
        }
        let words = ready.split(separator: " ").map(String.init)
        guard words.count >= 2, let bound = Int(words[1]) else { throw SystemTestFailure("smtp-test-relay said \(ready)") }
        return SMTPTestRelay(port: bound, caFile: words.count > 2 ? words[2] : nil, maildir: maildir, process: process, stderr: stderr)
    }

    private init(port: Int, caFile: String?, maildir: URL, process: Process, stderr: OutputCapture) {
        self.port = port
        self.caFile = caFile
        self.maildir = maildir
        self.process = process
        self.stderr = stderr
    }

    /// The raw text of every message accepted so far.
    func messages() -> [String] {
        let new = maildir.appendingPathComponent("new")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: new.path)) ?? []
        return names.sorted().compactMap { try? String(contentsOf: new.appendingPathComponent($0), encoding: .utf8) }
    }

    /// Kills the relay (SIGKILL: nothing of it needs to survive) and waits until it is gone.
    func stop() {
        let pid = process.processIdentifier
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
        ChildReaper.forget(pid)
    }
}

/// One message of the relay's Maildir: headers (unfolded, by lower-cased name) and the body.
struct ReceivedMail {
    var headers: [String: String] = [:]
    var body: String

    init(_ text: String) {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n")
        let parts = normalized.components(separatedBy: "\n\n")
        body = parts.dropFirst().joined(separator: "\n\n")
        for line in (parts.first ?? "").split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
    }
}
