import Foundation
import OrderFlowCore
import Testing

extension SystemTests {
    /// The CLI's client commands against a live server: what they print, their exit status, and what the server then holds.
    @Suite("CLI client commands")
    struct CLIClientTests {
        @Test("submit stores the valid orders, reports the invalid one with exit 1, and a second run finds the ones with ids stored",
              .timeLimit(.minutes(1)))
        func submitFile() async throws {
            let data = try TemporaryDirectory("cli-submit")
            defer { data.remove() }
            let server = try await ServerUnderTest.start(dataDirectory: data)
            defer { server.stop() }
            let file = data.url.appendingPathComponent("orders.jsonl")
            try Data("""
                {"orderId":"cli-1","customerId":"c-1","currency":"USD","items":[{"sku":"A-1","quantity":3,"unitPrice":"12.50"}]}
                {"OrderID":"cli-2","Amount":450}
                {"customerId":"c-3","currency":"USD","items":[{"sku":"B-2","quantity":1,"unitPrice":"5.00"}]}
                {"Amount":99.95}
                {"OrderID":"cli-5","Amount":"twelve"}

                """.utf8).write(to: file)

            let first = try await CommandRun.run(["submit", file.path, "--url", server.baseURL])
            #expect(first.termination == .exited(1), "\(first.transcript)")
            #expect(first.stdout.nonEmptyLines.last?.hasPrefix("5 orders: 4 created, 0 already stored, 1 rejected, 0 failed") == true, "\(first.transcript)")
            #expect(first.stderr.nonEmptyLines.contains { $0.hasPrefix("#5:") && $0.contains("Amount") }, "\(first.transcript)")

            let cli1 = try await server.api.json("/orders/cli-1")
            #expect(cli1["amount"]?.stringValue == "37.50")
            #expect(cli1["source"]?.stringValue == "api")
            let cli2 = try await server.api.json("/orders/cli-2")
            #expect(cli2["amount"]?.stringValue == "450.00")
            #expect(cli2["highValue"]?.boolValue == true)
            #expect(try await server.api.send(.GET, "/orders/cli-5").status == 404)
            let stored = try await server.api.all("/orders", key: "orders")
            #expect(stored.count == 4, "the two orders without ids were given one each: \(stored.compactMap { $0["orderId"]?.stringValue })")

            // Orders with ids are replays now; the two without ids get new ids, so they are created again.
            let second = try await CommandRun.run(["submit", file.path, "--url", server.baseURL])
            #expect(second.termination == .exited(1), "\(second.transcript)")
            #expect(second.stdout.nonEmptyLines.last?.hasPrefix("5 orders: 2 created, 2 already stored, 1 rejected, 0 failed") == true, "\(second.transcript)")
            #expect(try await server.api.all("/orders", key: "orders").count == 6)
        }

        @Test("upload sends several files at once; a file it cannot send is named, the others still go up, and it exits 1",
              .timeLimit(.minutes(1)))
        func uploadManyWithOneMissing() async throws {
            let data = try TemporaryDirectory("cli-upload-many")
            defer { data.remove() }
            let server = try await ServerUnderTest.start(dataDirectory: data)
            defer { server.stop() }
            var paths: [String] = []
            for n in 1...5 {
                let file = data.url.appendingPathComponent("many-\(n).json")
                try Data(#"{"OrderID":"many-\#(n)","Amount":\#(n)}"#.utf8).write(to: file)
                paths.append(file.path)
            }
            let missing = data.url.appendingPathComponent("not-there.json").path
            paths.insert(missing, at: 2)
            let upload = try await CommandRun.run(["upload"] + paths + ["--concurrency", "3", "--url", server.baseURL])
            #expect(upload.termination == .exited(1), "\(upload.transcript)")
            #expect(upload.stdout.nonEmptyLines.count == 5, "\(upload.transcript)")
            #expect(upload.stderr.nonEmptyLines.contains { $0.contains("cannot read \(missing)") }, "\(upload.transcript)")
            #expect(upload.stderr.nonEmptyLines.last == "orderflow: 1 of 6 files not uploaded", "\(upload.transcript)")
            for n in 1...5 {
                let order = try await eventually("order many-\(n) ingested") {
                    let reply = try await server.api.send(.GET, "/orders/many-\(n)")
                    return reply.status == 200 ? reply.json : nil
                }
                #expect(order["source"]?.stringValue == "upload:orders/many-\(n).json")
            }
            let bad = try await CommandRun.run(["upload", paths[0], "--concurrency", "0", "--url", server.baseURL])
            #expect(bad.termination == .exited(64), "\(bad.transcript)")
        }

        @Test("upload stores the valid orders of a mixed file and dead-letters the object naming the bad line; redrive runs it again",
              .timeLimit(.minutes(1)))
        func uploadAndRedrive() async throws {
            let data = try TemporaryDirectory("cli-upload")
            defer { data.remove() }
            let server = try await ServerUnderTest.start(dataDirectory: data)
            defer { server.stop() }
            let api = server.api
            let name = "mixed-\(UUID().uuidString.prefix(8)).jsonl"
            let file = data.url.appendingPathComponent(name)
            try Data("""
                {"orderId":"up-1","customerId":"c-1","currency":"USD","items":[{"sku":"A-1","quantity":2,"unitPrice":"10.00"}]}
                {"OrderID":"up-2","Amount":"310.00"}
                this line is not JSON
                {"OrderID":"up-4","Amount":12}

                """.utf8).write(to: file)

            let upload = try await CommandRun.run(["upload", file.path, "--url", server.baseURL])
            #expect(upload.termination == .exited(0), "\(upload.transcript)")
            #expect(upload.stdout.text.contains("orders/\(name)"), "\(upload.transcript)")

            let source = "upload:orders/\(name)"
            for id in ["up-1", "up-2", "up-4"] {
                let order = try await eventually("order \(id) ingested from the upload") {
                    let reply = try await api.send(.GET, "/orders/\(id)")
                    return reply.status == 200 ? reply.json : nil
                }
                #expect(order["source"]?.stringValue == source, "\(order.serialized())")
            }
            var letters: [JSONValue] = []
            let deadLetter = try await eventually("the upload's notification in the order-uploads dead-letter queue") {
                letters = try await api.json("/queues/order-uploads/dlq")["messages"]?.arrayValue ?? []
                return letters.first
            } lastSeen: { "\(letters.count) dead letters" }
            #expect(letters.count == 1)
            let lastError = deadLetter["lastError"]?.stringValue ?? ""
            #expect(lastError.contains("orders/\(name)") && lastError.contains("#3"), "lastError should name the object and line 3: \(lastError)")
            #expect(try await deadLetterCount(api) == 1)

            let list = try await CommandRun.run(["dlq", "list", "order-uploads", "--url", server.baseURL])
            #expect(list.termination == .exited(0), "\(list.transcript)")
            #expect(list.stdout.text.contains("#3"), "\(list.transcript)")

            let redrive = try await CommandRun.run(["dlq", "redrive", "order-uploads", "--url", server.baseURL])
            #expect(redrive.termination == .exited(0), "\(redrive.transcript)")
            #expect((try? JSONParser.parse(redrive.stdout.text))?["redriven"]?.int64Value == 1, "\(redrive.transcript)")

            // The line is still bad, so the same message lands in the dead-letter queue again, dead-lettered anew.
            let firstTime = deadLetter["deadLetteredAt"]?.stringValue
            let again = try await eventually("the redriven message back in the dead-letter queue") {
                letters = try await api.json("/queues/order-uploads/dlq")["messages"]?.arrayValue ?? []
                return letters.first { $0["deadLetteredAt"]?.stringValue != firstTime }
            } lastSeen: { "dead letters: \(letters.map { $0.serialized() })" }
            #expect(letters.count == 1)
            #expect(again["messageId"] == deadLetter["messageId"])
            #expect(again["lastError"]?.stringValue?.contains("#3") == true, "\(again.serialized())")
            #expect(try await deadLetterCount(api) == 1)
            // Re-ingesting replayed the valid orders: still three, each once.
            let orders = try await api.all("/orders", key: "orders").compactMap { $0["orderId"]?.stringValue }
            #expect(orders.sorted() == ["up-1", "up-2", "up-4"])
        }

        @Test("with --auth apikey: a key made by apikey create works through ORDERFLOW_API_KEY, scopes hold, revoke ends it", .timeLimit(.minutes(1)))
        func apiKeysFromTheCLI() async throws {
            let data = try TemporaryDirectory("cli-apikey")
            defer { data.remove() }
            let admin = try await CommandRun.run(["apikey", "create", "--name", "ops", "--scopes", "admin", "--data-dir", data.path])
            #expect(admin.termination == .exited(0), "\(admin.transcript)")
            let adminKey = admin.stdout.text.trimmingCharacters(in: .whitespacesAndNewlines)
            let writer = try await CommandRun.run(["apikey", "create", "--name", "shop", "--scopes", "orders:write", "--data-dir", data.path])
            let writerKey = writer.stdout.text.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(adminKey.hasPrefix("ofk_") && writerKey.hasPrefix("ofk_") && adminKey != writerKey)
            let bad = try await CommandRun.run(["apikey", "create", "--name", "x", "--scopes", "orders:everything", "--data-dir", data.path])
            #expect(bad.termination == .exited(2) && bad.stderr.text.contains("orders:everything"), "\(bad.transcript)")

            let server = try await ServerUnderTest.start(dataDirectory: data, arguments: ["--auth", "apikey"])
            defer { server.stop() }
            let anonymous = try await CommandRun.run(["status", "--url", server.baseURL])
            #expect(anonymous.termination != .exited(0), "\(anonymous.transcript)")
            let asWriter = try await CommandRun.run(["status", "--url", server.baseURL], environment: ["ORDERFLOW_API_KEY": writerKey])
            #expect(asWriter.termination != .exited(0), "\(asWriter.transcript)")
            let asAdmin = try await CommandRun.run(["status", "--url", server.baseURL], environment: ["ORDERFLOW_API_KEY": adminKey])
            #expect(asAdmin.termination == .exited(0), "\(asAdmin.transcript)")

            let list = try await CommandRun.run(["apikey", "list", "--data-dir", data.path])
            #expect(list.stdout.nonEmptyLines.count == 2 && !list.stdout.text.contains(adminKey), "\(list.transcript)")
            let id = String(adminKey.dropFirst(4).prefix(16))
            #expect(try await CommandRun.run(["apikey", "revoke", id, "--data-dir", data.path]).termination == .exited(0))
            let revoked = try await CommandRun.run(["status", "--url", server.baseURL], environment: ["ORDERFLOW_API_KEY": adminKey])
            #expect(revoked.termination != .exited(0), "\(revoked.transcript)")
            // Reading the audit trail needs admin.
            let audit = try await server.api.send(.GET, "/audit", headers: [("X-API-Key", writerKey)])
            #expect(audit.status == 403)
        }

        @Test("status prints the server's report as JSON; a client command without a server is one error line", .timeLimit(.minutes(1)))
        func status() async throws {
            let data = try TemporaryDirectory("cli-status")
            defer { data.remove() }
            let server = try await ServerUnderTest.start(dataDirectory: data)
            defer { server.stop() }

            let run = try await CommandRun.run(["status", "--url", server.baseURL])
            #expect(run.termination == .exited(0), "\(run.transcript)")
            let report = try #require(try? JSONParser.parse(run.stdout.text), "stdout is not JSON: \(run.transcript)")
            #expect(report["backend"]?.stringValue == "embedded")
            #expect(report["queues"]?.arrayValue?.isEmpty == false)

            // A port nothing listens on: the one just freed by a listener we close.
            let listener = try ListeningSocket()
            listener.close()
            let unreachable = try await CommandRun.run(["status", "--url", "http://127.0.0.1:\(listener.port)"])
            #expect(unreachable.termination == .exited(1), "\(unreachable.transcript)")
            #expect(unreachable.stderr.nonEmptyLines.count == 1, "\(unreachable.transcript)")
            #expect(unreachable.stderr.text.contains("cannot reach"), "\(unreachable.transcript)")
            #expect(unreachable.stderr.text.contains("Connection refused"), "\(unreachable.transcript)")
            // A refused connection is an answer: said at once, not after the request's 30 s timeout.
            #expect(unreachable.duration < .seconds(10), "\(unreachable.transcript)")
        }

        func deadLetterCount(_ api: OrderFlowAPI) async throws -> Int64? {
            let queues = try await api.json("/queues")["queues"]?.arrayValue ?? []
            return queues.first { $0["name"]?.stringValue == "order-uploads" }?["deadLetters"]?.int64Value
        }
    }
}
