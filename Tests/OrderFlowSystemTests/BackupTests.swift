import Foundation
import OrderFlowCore
import Testing

extension SystemTests {
    /// Keeping the data: export → import into an empty data directory gives back every order and review; a second
    /// import changes nothing; export and backup work while the server keeps taking orders.
    @Suite("Export, import and backup")
    struct BackupTests {
        @Test("export under load is a consistent snapshot; import restores every order and review; a second import is a no-op; backup opens as a data directory",
              .timeLimit(.minutes(2)))
        func exportImportBackup() async throws {
            let work = try TemporaryDirectory("backup")
            defer { work.remove() }
            let source = work.url.appendingPathComponent("source").path
            let server = try await ServerUnderTest.start(dataDirectory: TemporaryDirectory(existing: source))
            defer { server.stop() }

            // 120 orders, one in ten high-value; then decisions and a fulfilment, so reviews and statuses vary.
            let orders = TestOrders.make(prefix: "bk", count: 120)
            for order in orders { #expect(try await server.api.send(.POST, "/orders", json: order.body).status == 201) }
            try await PipelineCheck.waitUntilSettled(server.api)
            let open = try await server.api.all("/reviews?status=open", key: "reviews").compactMap { $0["orderId"]?.stringValue }.sorted()
            try #require(open.count >= 3)
            #expect(try await server.api.send(.POST, "/reviews/\(open[0])/approve").status == 200)
            #expect(try await server.api.send(.POST, "/orders/\(open[0])/fulfil").status == 200)
            #expect(try await server.api.send(.POST, "/reviews/\(open[1])/reject").status == 200)
            let upload = try RawHTTP.exchange(port: try #require(URL(string: server.baseURL)?.port),
                                              request: DocumentUploadTests.head(length: DocumentUploadTests.body("kept").count) + DocumentUploadTests.body("kept"),
                                              closeWriteSide: false)
            #expect(upload.hasPrefix("HTTP/1.1 201"), "\(upload.prefix(200))")

            // Export and backup while another client keeps submitting.
            let more = TestOrders.make(prefix: "live", count: 400)
            let load = OrderLoad(address: ServerAddress(server.baseURL), clients: 4, persistence: .stopAtFirstFailure)
            let running = Task { await load.run(more) }
            _ = try await load.ledger.wait(for: "the live load to start", timeout: .seconds(30)) { $0.acknowledged.count >= 20 }
            let snapshot = work.url.appendingPathComponent("during.jsonl").path
            let during = try await CommandRun.run(["export", "--to", snapshot, "--data-dir", source])
            #expect(during.termination == .exited(0), "\(during.transcript)")
            let backupFile = work.url.appendingPathComponent("copy.sqlite").path
            let backup = try await CommandRun.run(["backup", "--to", backupFile, "--data-dir", source])
            #expect(backup.termination == .exited(0), "\(backup.transcript)")
            await running.value
            #expect(load.ledger.value.acknowledged.count == more.count)

            // The snapshot taken under load: whole lines, each order once, every one identical to what the server holds.
            let snapshotLines = try exportLines(snapshot)
            let stored = try await ordersById(server.api)
            #expect(Set(snapshotLines.keys).isSubset(of: stored.keys))
            #expect(snapshotLines.count >= 140 && snapshotLines.count < 520, "\(snapshotLines.count) orders in the snapshot")
            for (id, order) in snapshotLines where order["status"]?.stringValue == "accepted" && order["review"] == .null {
                #expect(stored[id]?["amount"] == order["amount"], "\(id)")
            }

            // After the load: export, import into an empty data directory, import again.
            try await PipelineCheck.waitUntilSettled(server.api)
            let file = work.url.appendingPathComponent("all.jsonl").path
            #expect(try await CommandRun.run(["export", "--to", file, "--data-dir", source]).termination == .exited(0))
            let target = work.url.appendingPathComponent("restored").path
            let first = try await CommandRun.run(["import", file, "--data-dir", target])
            #expect(first.termination == .exited(0), "\(first.transcript)")
            #expect(first.stdout.text.contains("520 new, 0 already there"), "\(first.transcript)")
            #expect(first.stdout.text.contains("documents: 1 new, 0 already there;"), "\(first.transcript)")
            #expect(first.stdout.text.contains("audit entries restored"), "\(first.transcript)")
            let second = try await CommandRun.run(["import", file, "--data-dir", target])
            #expect(second.stdout.text.contains("0 new, 520 already there (skipped), 0 conflicting"), "\(second.transcript)")
            #expect(second.stdout.text.contains("documents: 0 new, 1 already there;"), "\(second.transcript)")
            #expect(second.stdout.text.contains("audit entries skipped"), "\(second.transcript)")

            let restored = try await ServerUnderTest.start(dataDirectory: TemporaryDirectory(existing: target))
            defer { restored.stop() }
            try await PipelineCheck.waitUntilSettled(restored.api)
            let original = try await ordersById(server.api)
            let copy = try await ordersById(restored.api)
            #expect(copy.count == 520)
            #expect(copy == original, "orders differ: \(Set(copy.keys).symmetricDifference(original.keys).prefix(5)), \(original.filter { copy[$0.key] != $0.value }.keys.prefix(5))")
            #expect(try await restored.api.json("/orders/\(open[0])")["status"]?.stringValue == "fulfilled")
            #expect(try await restored.api.json("/orders/\(open[1])")["review"]?.stringValue == "rejected")
            #expect(try await restored.api.json("/documents") == (try await server.api.json("/documents")))
            // The audit trail came back entry for entry: same sequence numbers and hashes.
            let originalTrail = try #require(try await server.api.json("/audit?limit=5")["entries"]?.arrayValue)
            let restoredTrail = try #require(try await restored.api.json("/audit?limit=5")["entries"]?.arrayValue)
            #expect(originalTrail.count == 5 && restoredTrail == originalTrail)
            // The restored system counted every order once, and an identical resubmission is still a replay.
            let stats = try await eventually("the restored /stats counts 520 orders") {
                let stats = try await restored.api.json("/stats")
                return stats["orders"]?.int64Value == 520 ? stats : nil
            }
            #expect(stats["highValueOrders"] == (try await server.api.json("/stats"))["highValueOrders"])
            #expect(try await restored.api.send(.POST, "/orders", json: orders[5].body).status == 200)

            // The online backup is a working database: a server starts on it and serves the orders it held.
            let backupDirectory = work.url.appendingPathComponent("from-backup")
            try FileManager.default.createDirectory(at: backupDirectory, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: backupFile, toPath: backupDirectory.appendingPathComponent("orderflow.sqlite").path)
            let fromBackup = try await ServerUnderTest.start(dataDirectory: TemporaryDirectory(existing: backupDirectory.path))
            defer { fromBackup.stop() }
            let backedUp = try await ordersById(fromBackup.api)
            #expect(backedUp.count >= 140 && Set(backedUp.keys).isSubset(of: original.keys))
            #expect(backedUp[orders[0].id] == original[orders[0].id])
        }

        /// Every order of the server, by id, as the API shows it (the whole JSON, timestamps included).
        func ordersById(_ api: OrderFlowAPI) async throws -> [String: JSONValue] {
            var result: [String: JSONValue] = [:]
            for order in try await api.all("/orders", key: "orders") {
                if let id = order["orderId"]?.stringValue { result[id] = order }
            }
            return result
        }

        /// The order lines of an export file, by id (other lines only checked for their type); fails on a torn or repeated line.
        func exportLines(_ path: String) throws -> [String: JSONValue] {
            let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            try #require(lines.first.map { (try? JSONParser.parse(Array($0.utf8)))?["type"]?.stringValue } == "orderflow-export")
            var orders: [String: JSONValue] = [:]
            for line in lines.dropFirst() {
                let json = try JSONParser.parse(Array(line.utf8))
                guard json["type"]?.stringValue == "order" else {
                    #expect(["document", "audit"].contains(json["type"]?.stringValue ?? ""), "unknown line \(line.prefix(100))")
                    continue
                }
                let order = try #require(json["order"])
                let id = try #require(order["orderId"]?.stringValue)
                #expect(orders[id] == nil, "\(id) twice")
                orders[id] = order
            }
            return orders
        }
    }
}
