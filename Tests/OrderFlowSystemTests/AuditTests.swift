import Foundation
import OrderFlowCore
import Testing

extension SystemTests {
    /// The audit trail of a running server, and `orderflow audit verify` against edited, deleted and inserted rows.
    @Suite("Audit trail")
    struct AuditTests {
        @Test("state-changing requests are recorded; verify passes on the real trail and names each tampered entry", .timeLimit(.minutes(2)))
        func trailIsRecordedAndTamperingDetected() async throws {
            let data = try TemporaryDirectory("audit")
            defer { data.remove() }
            let server = try await ServerUnderTest.start(dataDirectory: data)
            defer { server.stop() }
            for index in 1...6 {
                let amount = index == 1 ? 450 : 10
                #expect(try await server.api.send(.POST, "/orders", json: Array(#"{"OrderId":"a\#(index)","Amount":\#(amount)}"#.utf8)).status == 201)
            }
            #expect(try await server.api.send(.POST, "/orders/a2/fulfil").status == 200)
            #expect(try await server.api.send(.POST, "/orders/a2/cancel").status == 409)
            #expect(try await server.api.send(.GET, "/orders/a3").status == 200)  // reads are not recorded
            _ = try await eventually("the review of a1 opens") {
                try await server.api.json("/orders/a1")["review"]?.stringValue == "open" ? true : nil
            }
            #expect(try await server.api.send(.POST, "/reviews/a1/approve").status == 200)

            let entries = try #require(try await server.api.json("/audit?limit=1000")["entries"]?.arrayValue)
            #expect(entries.count == 9)
            #expect(entries.map { $0["sequence"]?.int64Value ?? 0 } == Array(1...9))
            #expect(entries.allSatisfy { $0["principal"]?.stringValue == "anonymous" && $0["sourceAddress"]?.stringValue == "127.0.0.1" })
            #expect(entries[0]["route"]?.stringValue == "/orders" && entries[0]["resource"]?.stringValue == "id=a1" && entries[0]["status"]?.int64Value == 201)
            #expect(entries[7]["route"]?.stringValue == "/orders/{id}/cancel" && entries[7]["resource"]?.stringValue == "id=a2" && entries[7]["status"]?.int64Value == 409)
            #expect(entries[8]["route"]?.stringValue == "/reviews/{orderId}/approve")
            #expect(entries.allSatisfy { ($0["requestId"]?.stringValue ?? "").count == 16 })
            for (earlier, later) in zip(entries, entries.dropFirst()) { #expect(later["previousHash"] == earlier["hash"]) }

            // A clean stop signs the end of the chain; the real trail verifies.
            server.process.send(SIGTERM)
            #expect(try await server.process.waitForExit(timeout: .seconds(30)) == .exited(0))
            let intact = try await CommandRun.run(["audit", "verify", "--data-dir", data.path])
            #expect(intact.termination == .exited(0), "\(intact.transcript)")
            #expect(intact.stdout.text.contains("audit trail intact: 9 entries, 1 signed digests, the last vouching for entry 9"), "\(intact.transcript)")

            let cases: [(String, String, String)] = [
                ("edited", "UPDATE audit_log SET status = 200 WHERE seq = 8", "entry 8 was edited"),
                ("deleted", "DELETE FROM audit_log WHERE seq = 4", "entry 4 was deleted"),
                ("deleted at the end", "DELETE FROM audit_log WHERE seq = 9", "entries after 8 were deleted"),
                ("inserted", """
                    UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 5; UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1000;
                    INSERT INTO audit_log SELECT 5, time, principal, method, route, 'id=forged', 201, source, request_id, hash, '\(String(repeating: "f", count: 64))' FROM audit_log WHERE seq = 4;
                    """, "entry 5 was inserted"),
            ]
            for (name, sql, expected) in cases {
                let copy = try TemporaryDirectory("audit-\(name.replacingOccurrences(of: " ", with: "-"))")
                defer { copy.remove() }
                for file in try FileManager.default.contentsOfDirectory(atPath: data.path) where file.hasPrefix("orderflow.sqlite") || file == "audit-signing.key" {
                    try FileManager.default.copyItem(atPath: data.url.appendingPathComponent(file).path, toPath: copy.url.appendingPathComponent(file).path)
                }
                try SQLiteShell.execute(sql, in: copy.url.appendingPathComponent("orderflow.sqlite").path)
                let run = try await CommandRun.run(["audit", "verify", "--data-dir", copy.path])
                #expect(run.termination == .exited(1), "\(name): \(run.transcript)")
                #expect(run.stdout.text.contains(expected), "\(name): \(run.transcript)")
            }
        }
    }
}

/// Changes a database the way someone with file access would: through Python's sqlite3 (not through OrderFlow).
enum SQLiteShell {
    static func execute(_ sql: String, in path: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit(); c.close()", path, sql]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw SystemTestFailure("python3 sqlite3 failed (\(process.terminationStatus)) on: \(sql)") }
    }
}
