import Foundation
import Testing

extension SystemTests {
    /// A server that cannot start says why in one line on stderr and exits non-zero: no stack trace, no log noise.
    @Suite("Start-up errors")
    struct StartupErrorTests {
        @Test("--port out of range is one line naming --port", .timeLimit(.minutes(1)))
        func portOutOfRange() async throws {
            let data = try TemporaryDirectory("bad-port")
            defer { data.remove() }
            let run = try await CommandRun.run(["serve", "--port", "99999", "--data-dir", data.path])
            expectOneLineFailure(run, mentioning: ["--port", "99999"])
        }

        @Test("a port already in use is one line naming the address", .timeLimit(.minutes(1)))
        func portInUse() async throws {
            let data = try TemporaryDirectory("port-in-use")
            defer { data.remove() }
            let listener = try ListeningSocket()
            defer { listener.close() }
            let run = try await CommandRun.run(["serve", "--host", "127.0.0.1", "--port", String(listener.port), "--data-dir", data.path])
            expectOneLineFailure(run, mentioning: ["127.0.0.1:\(listener.port)"])
        }

        @Test("--high-value-threshold that is not a number is one line naming the option", .timeLimit(.minutes(1)))
        func thresholdNotANumber() async throws {
            let data = try TemporaryDirectory("bad-threshold")
            defer { data.remove() }
            let run = try await CommandRun.run(["serve", "--port", "0", "--data-dir", data.path, "--high-value-threshold", "abc"])
            expectOneLineFailure(run, mentioning: ["--high-value-threshold", "abc"])
        }

        @Test("no authentication on a non-loopback address is refused in one line; --auth jwt without a JWKS too", .timeLimit(.minutes(1)))
        func authenticationRequiredOffLoopback() async throws {
            let data = try TemporaryDirectory("no-auth")
            defer { data.remove() }
            let open = try await CommandRun.run(["serve", "--host", "0.0.0.0", "--port", "0", "--data-dir", data.path])
            expectOneLineFailure(open, mentioning: ["0.0.0.0", "without authentication", "--auth"])
            let noKeys = try await CommandRun.run(["serve", "--auth", "jwt", "--port", "0", "--data-dir", data.path])
            expectOneLineFailure(noKeys, mentioning: ["--jwks-url", "--jwks-file"])
            let missing = data.url.appendingPathComponent("missing-jwks.json").path
            let unreadable = try await CommandRun.run(["serve", "--auth", "jwt", "--jwks-file", missing, "--jwt-issuer", "https://issuer",
                                                       "--jwt-audience", "client", "--port", "0", "--data-dir", data.path])
            expectOneLineFailure(unreadable, mentioning: ["JWKS", missing])
        }

        @Test("alert e-mail settings that cannot work are one line each; a relay password never appears", .timeLimit(.minutes(1)))
        func alertEmailMisconfiguration() async throws {
            let data = try TemporaryDirectory("bad-smtp")
            defer { data.remove() }
            let base = ["serve", "--port", "0", "--data-dir", data.path]
            let noRelay = try await CommandRun.run(base + ["--alert-email", "ops@example.com"])
            expectOneLineFailure(noRelay, mentioning: ["--alert-email", "--smtp-relay"])
            let badAddress = try await CommandRun.run(base + ["--alert-email", "ops", "--smtp-relay", "smtp://127.0.0.1:25"])
            expectOneLineFailure(badAddress, mentioning: ["--alert-email", "ops"])
            let badScheme = try await CommandRun.run(base + ["--alert-email", "ops@example.com", "--smtp-relay", "http://u:hunter2@mail.example.com"])
            expectOneLineFailure(badScheme, mentioning: ["--smtp-relay", "smtp or smtps"])
            #expect(!badScheme.stderr.text.contains("hunter2") && !badScheme.stdout.text.contains("hunter2"))
            let missingCA = data.url.appendingPathComponent("missing-ca.pem").path
            let noCA = try await CommandRun.run(base + ["--alert-email", "ops@example.com", "--smtp-relay", "smtps://u:hunter2@mail.example.com",
                                                        "--smtp-ca-file", missingCA])
            expectOneLineFailure(noCA, mentioning: ["--smtp-relay", missingCA])
            #expect(!noCA.stderr.text.contains("hunter2") && !noCA.stdout.text.contains("hunter2"))
        }

        /// Non-zero exit (not a crash: a trap would be a signal), nothing on stdout about listening, and exactly one
        /// non-empty line on stderr holding each of `fragments`.
        func expectOneLineFailure(_ run: CommandRun, mentioning fragments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
            guard case .exited(let status) = run.termination, status != 0 else {
                Issue.record("expected a non-zero exit status: \(run.transcript)", sourceLocation: sourceLocation)
                return
            }
            #expect(!run.stdout.text.contains("listening on"), "\(run.transcript)", sourceLocation: sourceLocation)
            let lines = run.stderr.nonEmptyLines
            #expect(lines.count == 1, "stderr should be exactly one line: \(run.transcript)", sourceLocation: sourceLocation)
            for fragment in fragments {
                #expect(lines.first?.contains(fragment) == true, "stderr should mention \(fragment): \(run.transcript)", sourceLocation: sourceLocation)
            }
            for trace in ["Fatal error", "Stack dump", "Current stack trace", "backtrace"] {
                #expect(!run.stderr.text.contains(trace), "stderr holds a crash report: \(run.transcript)", sourceLocation: sourceLocation)
            }
        }
    }
}
