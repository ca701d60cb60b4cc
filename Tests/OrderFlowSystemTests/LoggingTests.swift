import Foundation
import OrderFlowCore
import Testing

extension SystemTests {
    /// The log as operators get it: JSON lines with request and trace ids, and a log file that logrotate can rotate.
    @Suite("Logs")
    struct LoggingTests {
        @Test("a trace id sent to the API is on the API's log line and on the review worker's line for that order", .timeLimit(.minutes(1)))
        func traceIdFollowsTheOrder() async throws {
            let data = try TemporaryDirectory("trace")
            defer { data.remove() }
            let logFile = data.url.appendingPathComponent("app.log").path
            let server = try await ServerUnderTest.start(dataDirectory: data, arguments: ["--log-level", "debug", "--log-file", logFile])
            defer { server.stop() }

            let traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
            let reply = try await server.api.send(.POST, "/orders", json: Array(#"{"OrderId":"trace-1","Amount":450}"#.utf8),
                                                  headers: [("traceparent", "00-\(traceId)-00f067aa0ba902b7-01"), ("X-Request-Id", "client-req-7")])
            #expect(reply.status == 201)
            #expect(reply.header("X-Request-Id") == "client-req-7")
            #expect(reply.header("X-Trace-Id") == traceId)
            _ = try await eventually("the review of trace-1 opens") {
                try await server.api.json("/orders/trace-1")["review"]?.stringValue == "open" ? true : nil
            }
            let log = try await eventually("the review worker's line is in the log file") {
                let log = LogRecords(try String(contentsOfFile: logFile, encoding: .utf8))
                return log.with(message: "review case open").isEmpty ? nil : log
            }
            #expect(log.notJSON.isEmpty, "every line is a JSON object: \(log.notJSON.prefix(3))")
            for record in log.records {
                // The fixed fields are on every line, null when a line belongs to no request or trace.
                for field in ["time", "level", "message", "request_id", "trace_id"] {
                    #expect(record[field] != nil, "\(field) missing: \(record.serialized())")
                }
            }
            let accepted = try #require(log.with(message: "order accepted").first)
            #expect(accepted["request_id"]?.stringValue == "client-req-7")
            #expect(accepted["trace_id"]?.stringValue == traceId)
            let review = try #require(log.with(message: "review case open").first)
            #expect(review["orderId"]?.stringValue == "trace-1")
            #expect(review["trace_id"]?.stringValue == traceId)

            // Without a traceparent (or with a broken one) the edge starts a new trace and says which.
            let untraced = try await server.api.send(.POST, "/orders", json: Array(#"{"OrderId":"trace-2","Amount":5}"#.utf8),
                                                     headers: [("traceparent", "00-not-a-trace-01")])
            let newTrace = try #require(untraced.header("X-Trace-Id"))
            #expect(newTrace.count == 32 && newTrace != traceId)
            #expect(untraced.header("X-Request-Id")?.isEmpty == false)
        }

        @Test("SIGHUP reopens the log file: renamed under load, every accepted order has exactly one line across the files",
              .timeLimit(.minutes(2)))
        func sighupReopensWithoutLosingLines() async throws {
            let data = try TemporaryDirectory("sighup")
            defer { data.remove() }
            let logFile = data.url.appendingPathComponent("app.log").path
            let server = try await ServerUnderTest.start(dataDirectory: data, arguments: ["--log-level", "debug", "--log-file", logFile])
            defer { server.stop() }

            let orders = TestOrders.make(prefix: "hup", count: 3000)
            let load = OrderLoad(address: ServerAddress(server.baseURL), clients: 8, persistence: .stopAtFirstFailure)
            let running = Task { await load.run(orders) }
            var rotated: [String] = []
            for round in 1...4 {
                _ = try await load.ledger.wait(for: "\(round * 500) acknowledgements", timeout: .seconds(60)) {
                    $0.acknowledged.count >= round * 500 || $0.finishedClients == 8
                }
                // What logrotate does: rename the file, then signal; the server keeps writing to the renamed file until
                // it has reopened the path.
                let renamed = "\(logFile).\(round)"
                try FileManager.default.moveItem(atPath: logFile, toPath: renamed)
                rotated.append(renamed)
                server.process.send(SIGHUP)
                _ = try await eventually("the server reopens \(logFile)") { FileManager.default.fileExists(atPath: logFile) ? true : nil }
            }
            await running.value
            let ledger = load.ledger.value
            #expect(ledger.acknowledged.count == orders.count, "failures: \(ledger.failures.prefix(5))")
            server.process.send(SIGTERM)
            _ = try await server.process.waitForExit(timeout: .seconds(30))

            var accepted: [String: Int] = [:]
            var linesPerFile: [Int] = []
            for file in rotated + [logFile] {
                let log = LogRecords(try String(contentsOfFile: file, encoding: .utf8))
                #expect(log.notJSON.isEmpty, "\(file) has torn or foreign lines: \(log.notJSON.prefix(3))")
                linesPerFile.append(log.records.count)
                for record in log.with(message: "order accepted") {
                    if let id = record["orderId"]?.stringValue { accepted[id, default: 0] += 1 }
                }
            }
            #expect(Set(accepted.keys) == Set(ledger.acknowledged.keys), "orders without a line: \(Set(ledger.acknowledged.keys).subtracting(accepted.keys).prefix(10))")
            #expect(accepted.values.allSatisfy { $0 == 1 }, "orders with more than one line: \(accepted.filter { $0.value > 1 }.prefix(10))")
            // Rotation really happened under load: the renamed files after the first hold order lines too.
            #expect(linesPerFile.dropFirst().filter { $0 > 0 }.count >= 3, "lines per file: \(linesPerFile)")
            print("sighup test: \(accepted.count) order lines over \(linesPerFile.count) files, lines per file \(linesPerFile)")
        }
    }
}

extension SystemTests.LoggingTests {
    @Test("logs archive uploads each compressed rotation once as logs/<host>-<timestamp>.log.gz and leaves the rest")
    func archiveUploadsRotatedFilesOnce() async throws {
        let work = try TemporaryDirectory("archive")
        defer { work.remove() }
        let logs = work.url.appendingPathComponent("log")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let gzip: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]
        let files: [(String, [UInt8], String)] = [
            ("app.log", Array("live\n".utf8), "2026-11-25T10:00:00Z"),
            ("app.log.1", Array("yesterday\n".utf8), "2026-11-24T23:59:59Z"),
            ("app.log.2.gz", gzip, "2026-11-23T23:59:58Z"),
            ("app.log-20261121.gz", gzip + [1], "2026-11-21T23:59:57Z"),
            ("other.log.3.gz", gzip, "2026-11-20T00:00:00Z"),
        ]
        for (name, bytes, time) in files {
            let url = logs.appendingPathComponent(name)
            try Data(bytes).write(to: url)
            try FileManager.default.setAttributes([.modificationDate: try Date(time, strategy: .iso8601)], ofItemAtPath: url.path)
        }
        let data = work.url.appendingPathComponent("data")
        let arguments = ["logs", "archive", "--log-file", logs.appendingPathComponent("app.log").path, "--data-dir", data.path, "--host", "web-1"]
        let first = try await CommandRun.run(arguments)
        #expect(first.termination == .exited(0), "\(first.transcript)")
        #expect(first.stdout.text.contains("2 uploaded, 0 already archived, 1 not compressed yet (next run): app.log.1"), "\(first.transcript)")
        let bucket = data.appendingPathComponent("objects/myapp-uploads/logs")
        let stored = try FileManager.default.contentsOfDirectory(atPath: bucket.path).sorted()
        #expect(stored == ["web-1-20261121T235957Z.log.gz", "web-1-20261123T235958Z.log.gz"])
        #expect(try Data(contentsOf: bucket.appendingPathComponent("web-1-20261121T235957Z.log.gz")) == Data(gzip + [1]))

        let second = try await CommandRun.run(arguments)
        #expect(second.stdout.text.contains("0 uploaded, 2 already archived"), "\(second.transcript)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: bucket.path).count == 2)
        // The live file and the uncompressed rotation are untouched.
        #expect(try String(contentsOf: logs.appendingPathComponent("app.log"), encoding: .utf8) == "live\n")
    }
}
