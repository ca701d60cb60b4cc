import Foundation

/// `orderflow serve` as a child process on a free port it picked itself (`--port 0`), over a data directory of the test's.
struct ServerUnderTest: Sendable {
    let process: ChildProcess
    /// `http://127.0.0.1:<port>`, read from the line the server prints once it listens.
    let baseURL: String

    var api: OrderFlowAPI { OrderFlowAPI(baseURL: baseURL) }

    /// Starts a server and returns as soon as it prints that it listens; kills it again when it does not.
    static func start(dataDirectory: TemporaryDirectory, arguments: [String] = [], command: String = "serve",
                      environment: [String: String] = [:]) async throws -> ServerUnderTest {
        let process = try ChildProcess(
            [command, "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDirectory.path, "--log-level", "warning"] + arguments,
            environment: environment
        )
        do {
            // {"time":…,"message":"OrderFlow 0.1.0 listening on http://127.0.0.1:PORT (data: DIR)",…}
            let line = try await process.stdout.line(containing: " listening on ", timeout: .seconds(60))
            guard let start = line.range(of: "http://") else { throw SystemTestFailure("no URL in the listening line: \(line)") }
            // The line is a JSON log record (the URL ends at its closing quote) or, with a log file, plain text.
            let url = String(line[start.lowerBound...].prefix { $0 != " " && $0 != "\"" })
            guard let port = URL(string: url)?.port, port > 0 else { throw SystemTestFailure("no port in the listening line: \(line)") }
            return ServerUnderTest(process: process, baseURL: url)
        } catch {
            process.stop(grace: .zero)
            throw SystemTestFailure("orderflow serve did not start: \(error)\nstderr:\n\(process.stderrTail)")
        }
    }

    /// Stops the server if it still runs — SIGTERM, SIGKILL when that is not enough — and reaps it (for `defer`).
    func stop() {
        process.stop()
    }
}
