import AWSKit
import Foundation
import MotoTestSupport
import OrderFlowAWS
import OrderFlowCore
import Testing

extension SystemTests {
    /// The AWS backend as deployed: `orderflow serve --backend aws` and `orderflow worker --backend aws` as child
    /// processes against moto (authentication on), over resources named like the data stack's.
    @Suite("AWS backend against moto")
    struct AWSBackendTests {
        /// The resources of one test run and the environment that points the binary at them.
        struct Deployment: Sendable {
            let ordersTable = uniqueName("Orders")
            let outboxTable = uniqueName("OrdersOutbox")
            let analyticsTable = uniqueName("OrdersAnalytics")
            let apiKeysTable = uniqueName("OrderFlowApiKeys")
            let documentsTable = uniqueName("OrderFlowDocuments")
            let auditTable = uniqueName("OrderFlowAudit")
            let streamName = uniqueName("OrdersStream")
            let bucket = uniqueName("myapp-uploads")
            var highValueQueue: (url: String, arn: String, deadLetterURL: String?) = ("", "", nil)
            var uploadsQueue: (url: String, arn: String, deadLetterURL: String?) = ("", "", nil)
            var topicARN = ""

            static func create(_ client: AWSClient) async throws -> Deployment {
                var deployment = Deployment()
                let resources = MotoResources(client: client)
                try await resources.table(deployment.ordersTable, hashKey: "OrderID")
                try await resources.table(deployment.outboxTable, hashKey: "EventId")
                try await resources.table(deployment.analyticsTable, hashKey: "Key")
                try await resources.table(deployment.apiKeysTable, hashKey: "KeyId")
                try await resources.table(deployment.documentsTable, hashKey: "DocumentId")
                try await resources.table(deployment.auditTable, hashKey: "Key")
                deployment.highValueQueue = try await resources.queue(uniqueName("HighValueQueue"), maxReceiveCount: 5)
                deployment.uploadsQueue = try await resources.queue(uniqueName("order-uploads"), maxReceiveCount: 5)
                deployment.topicARN = try await resources.topic(uniqueName("HighValueOrderTopic"), deliveringTo: deployment.highValueQueue.arn)
                try await resources.stream(deployment.streamName, shards: 1)
                try await resources.bucket(deployment.bucket)
                try await resources.notify(bucket: deployment.bucket, prefix: "orders/", queueURL: deployment.uploadsQueue.url,
                                           queueARN: deployment.uploadsQueue.arn)
                return deployment
            }

            func environment(_ moto: MotoEnvironment) -> [String: String] {
                [
                    "AWS_ENDPOINT_URL": moto.endpoint.absoluteString, "AWS_REGION": moto.region,
                    "AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey,
                    "AWS_EC2_METADATA_DISABLED": "true",
                    "ORDERFLOW_AWS_ORDERS_TABLE": ordersTable, "ORDERFLOW_AWS_OUTBOX_TABLE": outboxTable,
                    "ORDERFLOW_AWS_ANALYTICS_TABLE": analyticsTable, "ORDERFLOW_AWS_API_KEYS_TABLE": apiKeysTable,
                    "ORDERFLOW_AWS_DOCUMENTS_TABLE": documentsTable, "ORDERFLOW_AWS_AUDIT_TABLE": auditTable,
                    "ORDERFLOW_AWS_UPLOADS_BUCKET": bucket,
                    "ORDERFLOW_AWS_HIGH_VALUE_TOPIC_ARN": topicARN, "ORDERFLOW_AWS_HIGH_VALUE_QUEUE_URL": highValueQueue.url,
                    "ORDERFLOW_AWS_UPLOADS_QUEUE_URL": uploadsQueue.url, "ORDERFLOW_AWS_STREAM": streamName,
                ]
            }
        }

        @Test("an order's events survive a SIGKILL between the DynamoDB write and the publish; a worker delivers them once",
              .timeLimit(.minutes(3)))
        func eventsSurviveAKillBetweenWriteAndPublish() async throws {
            let moto = try MotoEnvironment.require()
            try await withClient(try moto.client()) { client in
                let deployment = try await Deployment.create(client)
                let environment = deployment.environment(moto)
                let data = try TemporaryDirectory("aws-crash")
                defer { data.remove() }
                let store = DynamoDBOrderStore(dynamoDB: DynamoDB(client: client),
                                               tables: .init(orders: deployment.ordersTable, outbox: deployment.outboxTable))
                let highValueQueue = SQSQueue(client: client, queueURL: deployment.highValueQueue.url)
                let order = Array(#"{"orderId":"aws-crash-1","customerId":"c-1","currency":"USD","items":[{"sku":"TV","quantity":1,"unitPrice":"450.00"}]}"#.utf8)
                let id = try #require(OrderID("aws-crash-1"))

                // An API instance that dies once its relay has read the events and before it publishes them.
                let api = try await ServerUnderTest.start(
                    dataDirectory: data, arguments: ["--backend", "aws"],
                    environment: environment.merging(["ORDERFLOW_FAULT_INJECTION": "kill-before-publish"]) { $1 }
                )
                defer { api.stop() }
                let firstReply = try? await api.api.send(.POST, "/orders", json: order)
                #expect(try await api.process.waitForExit(timeout: .seconds(30)) == .signalled(SIGKILL))
                if let firstReply { #expect(firstReply.status == 201) }

                // Written, not published: the order and both its events are in DynamoDB, the queue is empty.
                #expect(try await store.order(id)?.highValue == true)
                #expect(try await store.backlog() == 2)
                let depth = try await highValueQueue.depth()
                #expect(depth.visible + depth.inFlight == 0)

                // A worker (no fault) takes over; the client retries its request there and gets the stored order.
                let worker = try await ServerUnderTest.start(dataDirectory: data, arguments: ["--backend", "aws"], command: "worker",
                                                             environment: environment)
                defer { worker.stop() }
                let retry = try await worker.api.send(.POST, "/orders", json: order)
                #expect(retry.status == 200, "the retried order should be a replay: \(retry.text)")

                // The review worker opened the review from the queue message; the analytics consumer counted the order.
                let reviewed = try await eventually("the review of aws-crash-1 opens", timeout: .seconds(60)) {
                    let json = try await worker.api.json("/orders/aws-crash-1")
                    return json["review"]?.stringValue == "open" ? json : nil
                }
                #expect(reviewed["status"]?.stringValue == "accepted")
                let stats = try await eventually("/stats counts aws-crash-1", timeout: .seconds(60)) {
                    let json = try await worker.api.json("/stats")
                    return json["orders"]?.int64Value == 1 ? json : nil
                }
                #expect(stats["highValueOrders"]?.int64Value == 1)
                #expect(stats["revenue"]?["USD"]?.stringValue == "450.00")
                #expect(try await store.backlog() == 0)
                // Delivered once: the queue message was consumed and deleted, nothing went to the DLQ.
                let after = try await SQSQueue(client: client, queueURL: deployment.highValueQueue.url,
                                               deadLetterQueueURL: deployment.highValueQueue.deadLetterURL).depth()
                #expect(after.visible == 0 && after.inFlight == 0 && after.deadLetters == 0)
            }
        }
    
        @Test("--auth apikey on AWS: keys from `apikey create --backend aws` work on two API instances, scopes hold, revoke ends them",
              .timeLimit(.minutes(2)))
        func apiKeysInDynamoDB() async throws {
            let moto = try MotoEnvironment.require()
            try await withClient(try moto.client()) { client in
                let deployment = try await Deployment.create(client)
                let environment = deployment.environment(moto).merging(["ORDERFLOW_BACKEND": "aws"]) { $1 }
                let data = try TemporaryDirectory("aws-apikey")
                defer { data.remove() }
                let admin = try await CommandRun.run(["apikey", "create", "--name", "ops", "--scopes", "admin"], environment: environment)
                try #require(admin.termination == .exited(0), "\(admin.transcript)")
                let adminKey = admin.stdout.text.trimmingCharacters(in: .whitespacesAndNewlines)
                let writer = try await CommandRun.run(["apikey", "create", "--name", "shop", "--scopes", "orders:write,orders:read"],
                                                      environment: environment)
                let writerKey = writer.stdout.text.trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(adminKey.hasPrefix("ofk_") && writerKey.hasPrefix("ofk_") && adminKey != writerKey)
                // Nothing went into the data directory: the keys are in the table.
                #expect(!FileManager.default.fileExists(atPath: data.path + "/orderflow.sqlite"))

                let first = try await ServerUnderTest.start(dataDirectory: data, arguments: ["--backend", "aws", "--auth", "apikey"],
                                                            environment: environment)
                defer { first.stop() }
                let second = try await ServerUnderTest.start(dataDirectory: data, arguments: ["--backend", "aws", "--auth", "apikey"],
                                                             environment: environment)
                defer { second.stop() }
                let order = Array(#"{"OrderId":"key-1","Amount":25}"#.utf8)
                #expect(try await first.api.send(.POST, "/orders", json: order).status == 401)
                #expect(try await first.api.send(.POST, "/orders", json: order, headers: [("X-API-Key", writerKey)]).status == 201)
                #expect(try await second.api.send(.GET, "/orders/key-1", headers: [("X-API-Key", writerKey)]).status == 200)
                #expect(try await second.api.send(.GET, "/status", headers: [("X-API-Key", writerKey)]).status == 403)
                #expect(try await second.api.send(.GET, "/status", headers: [("X-API-Key", adminKey)]).status == 200)

                let list = try await CommandRun.run(["apikey", "list"], environment: environment)
                #expect(list.termination == .exited(0) && list.stdout.nonEmptyLines.count == 2, "\(list.transcript)")
                #expect(!list.stdout.text.contains(adminKey) && !list.stdout.text.contains(writerKey))
                let id = String(writerKey.dropFirst(4).prefix(16))
                let revoke = try await CommandRun.run(["apikey", "revoke", id], environment: environment)
                #expect(revoke.termination == .exited(0), "\(revoke.transcript)")
                // Revoked at once on every instance: nothing caches a key.
                for server in [first, second] {
                    #expect(try await server.api.send(.GET, "/orders/key-1", headers: [("X-API-Key", writerKey)]).status == 401)
                }
                #expect(try await first.api.send(.GET, "/orders/key-1", headers: [("X-API-Key", adminKey)]).status == 403)
                let unknown = try await CommandRun.run(["apikey", "revoke", "ffffffffffffffff"], environment: environment)
                #expect(unknown.termination == .exited(2), "\(unknown.transcript)")

                // Only hashes in the table.
                let items = try await DynamoDB(client: client).scan(table: deployment.apiKeysTable).items
                #expect(items.count == 2)
                let stored = items.map { "\($0)" }.joined()
                for key in [adminKey, writerKey] {
                    #expect(!stored.contains(String(key.suffix(64))))
                }
            }
        }

        @Test("serve --backend aws --auth apikey without its table is one line and exit status 2", .timeLimit(.minutes(1)))
        func apiKeysWithoutTheirTable() async throws {
            let moto = try MotoEnvironment.require()
            try await withClient(try moto.client()) { client in
                let deployment = try await Deployment.create(client)
                var environment = deployment.environment(moto)
                environment["ORDERFLOW_AWS_API_KEYS_TABLE"] = uniqueName("NoSuchTable")
                let run = try await CommandRun.run(["serve", "--backend", "aws", "--auth", "apikey", "--port", "0"], environment: environment)
                #expect(run.termination == .exited(2), "\(run.transcript)")
                #expect(run.stderr.text.contains("cannot read the API-key table"), "\(run.transcript)")
            }
        }

        @Test("documents on AWS: POST /upload on one instance, GET /documents (paged) and /documents/{id} on another, kept content in the bucket",
              .timeLimit(.minutes(2)))
        func documentsInDynamoDBAndS3() async throws {
            let moto = try MotoEnvironment.require()
            try await withClient(try moto.client()) { client in
                let deployment = try await Deployment.create(client)
                let environment = deployment.environment(moto)
                let data = try TemporaryDirectory("aws-documents")
                defer { data.remove() }
                let first = try await ServerUnderTest.start(dataDirectory: data, arguments: ["--backend", "aws", "--keep-documents"],
                                                            environment: environment)
                defer { first.stop() }
                let second = try await ServerUnderTest.start(dataDirectory: data, arguments: ["--backend", "aws"], environment: environment)
                defer { second.stop() }
                let port = try #require(URL(string: first.baseURL)?.port)
                let boundary = "b0undary"
                var ids: [String] = []
                for index in 1...5 {
                    let body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../inv-\(index).txt\"\r\nContent-Type: text/plain\r\n\r\ninvoice \(index)\r\n--\(boundary)--\r\n".utf8)
                    let head = Array("POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=\(boundary)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n".utf8)
                    let reply = try RawHTTP.exchange(port: port, request: head + body, closeWriteSide: false)
                    try #require(reply.hasPrefix("HTTP/1.1 201"), "\(reply.prefix(300))")
                    let bodyStart = try #require(reply.range(of: "\r\n\r\n"))
                    let json = try JSONParser.parse(Array(reply[bodyStart.upperBound...].utf8))
                    #expect(json["filename"]?.stringValue == "inv-\(index).txt")
                    #expect(json["stored"] == .bool(true))
                    #expect(json["sha256"]?.stringValue == SHA256Hex.digest("invoice \(index)"))
                    ids.append(try #require(json["id"]?.stringValue))
                }

                // Another instance reads the same metadata: every document once over pages of two.
                let listed = try await second.api.all("/documents", key: "documents", pageSize: 2)
                #expect(listed.compactMap { $0["id"]?.stringValue }.sorted() == ids.sorted())
                let one = try await second.api.json("/documents/\(ids[2])")
                #expect(one["filename"]?.stringValue == "inv-3.txt" && one["size_bytes"]?.int64Value == 9)
                #expect(try await second.api.send(.GET, "/documents/\(UUID().uuidString.lowercased())").status == 404)
                #expect(try await second.api.send(.GET, "/documents?cursor=bogus").status == 400)

                // The kept content is in the uploads bucket under documents/, outside the orders/ notifications.
                let objects = S3ObjectStore(client: client, bucket: deployment.bucket)
                #expect(try await objects.get(key: "documents/\(ids[0])") == Array("invoice 1".utf8))
                // Listed whole: moto 5.2.1 refuses the signature of a listing whose prefix holds "/".
                let keys = try await objects.list(prefix: "", limit: 100).map(\.key)
                #expect(Set(keys) == Set(ids.map { "documents/\($0)" }))
            }
        }

        @Test("audit on AWS: two instances append one chain, the worker signs it, audit verify --backend aws names edits, deletions, insertions",
              .timeLimit(.minutes(3)))
        func auditTrailInDynamoDB() async throws {
            let moto = try MotoEnvironment.require()
            try await withClient(try moto.client()) { client in
                let deployment = try await Deployment.create(client)
                let environment = deployment.environment(moto)
                let apiData = try TemporaryDirectory("aws-audit-api")
                defer { apiData.remove() }
                let workerData = try TemporaryDirectory("aws-audit-worker")
                defer { workerData.remove() }
                let api = try await ServerUnderTest.start(dataDirectory: apiData, arguments: ["--backend", "aws"], environment: environment)
                defer { api.stop() }
                let all = try await ServerUnderTest.start(dataDirectory: workerData, arguments: ["--backend", "aws", "--aws-role", "all"],
                                                          environment: environment)
                defer { all.stop() }
                // The API role signs nothing, so it has no key; the worker made one.
                #expect(!FileManager.default.fileExists(atPath: apiData.path + "/audit-signing.key"))
                #expect(FileManager.default.fileExists(atPath: workerData.path + "/audit-signing.key"))

                // Concurrent requests on both instances.
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for index in 1...8 {
                        let server = index % 2 == 0 ? api : all
                        group.addTask {
                            try await server.api.send(.POST, "/orders", json: Array(#"{"OrderId":"au-\#(index)","Amount":10}"#.utf8)).status
                        }
                    }
                    for try await status in group { #expect(status == 201) }
                }
                #expect(try await api.api.send(.POST, "/orders/au-1/fulfil").status == 200)
                #expect(try await all.api.send(.POST, "/orders/au-1/cancel").status == 409)
                let keyRun = try await CommandRun.run(["apikey", "create", "--backend", "aws", "--name", "ops", "--scopes", "admin"], environment: environment)
                #expect(keyRun.termination == .exited(0), "\(keyRun.transcript)")

                let entries = try #require(try await api.api.json("/audit?limit=1000")["entries"]?.arrayValue)
                #expect(entries.map { $0["sequence"]?.int64Value ?? 0 } == Array(1...11))
                for (earlier, later) in zip(entries, entries.dropFirst()) { #expect(later["previousHash"] == earlier["hash"]) }
                #expect(entries.last?["route"]?.stringValue == "apikey create")
                #expect(try await all.api.json("/audit?after=9")["entries"]?.arrayValue?.count == 2)

                // A clean stop of the signer signs the end of the chain; the real trail verifies.
                all.process.send(SIGTERM)
                #expect(try await all.process.waitForExit(timeout: .seconds(30)) == .exited(0))
                let verify = ["audit", "verify", "--backend", "aws", "--data-dir", workerData.path]
                let intact = try await CommandRun.run(verify, environment: environment)
                #expect(intact.termination == .exited(0), "\(intact.transcript)")
                #expect(intact.stdout.text.contains("audit trail intact: 11 entries, 1 signed digests, the last vouching for entry 11"), "\(intact.transcript)")

                // Someone with write access to the table, one change at a time (each undone after).
                let dynamoDB = DynamoDB(client: client)
                func key(_ sequence: Int) -> DynamoDBItem {
                    ["Key": .string("entry#" + String(repeating: "0", count: 19 - String(sequence).count) + String(sequence))]
                }
                let original8 = try #require(try await dynamoDB.getItem(table: deployment.auditTable, key: key(8)))
                _ = try await dynamoDB.updateItem(table: deployment.auditTable, key: key(8),
                                                  update: DynamoDB.Expression("SET #s = :s", names: ["#s": "Status"], values: [":s": .int(200)]))
                let edited = try await CommandRun.run(verify, environment: environment)
                #expect(edited.termination == .exited(1) && edited.stdout.text.contains("entry 8 was edited"), "\(edited.transcript)")
                try await dynamoDB.putItem(table: deployment.auditTable, item: original8)

                let original4 = try #require(try await dynamoDB.getItem(table: deployment.auditTable, key: key(4)))
                #expect(try await dynamoDB.batchDelete(table: deployment.auditTable, keys: [key(4)]).isEmpty)
                let deleted = try await CommandRun.run(verify, environment: environment)
                #expect(deleted.termination == .exited(1) && deleted.stdout.text.contains("entry 4 was deleted"), "\(deleted.transcript)")
                var forged = original4
                forged["Resource"] = .string("id=forged")
                forged["PreviousHash"] = .string(String(repeating: "f", count: 64))
                try await dynamoDB.putItem(table: deployment.auditTable, item: forged)
                let inserted = try await CommandRun.run(verify, environment: environment)
                #expect(inserted.termination == .exited(1) && inserted.stdout.text.contains("entry 4 was inserted"), "\(inserted.transcript)")
                try await dynamoDB.putItem(table: deployment.auditTable, item: original4)

                let original11 = try #require(try await dynamoDB.getItem(table: deployment.auditTable, key: key(11)))
                #expect(try await dynamoDB.batchDelete(table: deployment.auditTable, keys: [key(11)]).isEmpty)
                let truncated = try await CommandRun.run(verify, environment: environment)
                #expect(truncated.termination == .exited(1) && truncated.stdout.text.contains("entries after 10 were deleted"), "\(truncated.transcript)")
                try await dynamoDB.putItem(table: deployment.auditTable, item: original11)
                #expect(try await CommandRun.run(verify, environment: environment).termination == .exited(0))
            }
        }

        /// moto's endpoint and the test principal's keys, as the standard AWS variables.
        static func awsEnvironment(_ moto: MotoEnvironment) -> [String: String] {
            [
                "AWS_ENDPOINT_URL": moto.endpoint.absoluteString, "AWS_REGION": moto.region,
                "AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey,
                "AWS_EC2_METADATA_DISABLED": "true",
            ]
        }

        @Test("the seed-001 test plan on AWS: two stateless API instances, a worker, an upload through S3, resources from `orderflow aws setup`",
              .timeLimit(.minutes(3)))
        func seedTestPlanWithTwoAPIInstances() async throws {
            let moto = try MotoEnvironment.require()
            let aws = Self.awsEnvironment(moto)
            let suffix = "-" + String(uniqueName("e").suffix(8))
            // Twice: the second run finds everything in place and changes nothing.
            var settings: [String: String] = [:]
            for _ in 0..<2 {
                let setup = try await CommandRun.run(["aws", "setup", "--suffix=\(suffix)"], environment: aws)
                try #require(setup.termination == .exited(0), "\(setup.transcript)")
                var lines: [String: String] = [:]
                for line in setup.stdout.text.split(separator: "\n") {
                    let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
                    if parts.count == 2 { lines[parts[0]] = parts[1] }
                }
                if !settings.isEmpty { #expect(lines == settings) }
                settings = lines
            }
            #expect(settings["ORDERFLOW_AWS_ORDERS_TABLE"] == "Orders\(suffix)")
            let environment = aws.merging(settings) { $1 }
            let data = try TemporaryDirectory("aws-seed")
            defer { data.remove() }

            let first = try await ServerUnderTest.start(dataDirectory: data, arguments: ["--backend", "aws"], environment: environment)
            defer { first.stop() }
            let second = try await ServerUnderTest.start(dataDirectory: data, arguments: ["--backend", "aws"], environment: environment)
            defer { second.stop() }
            let worker = try await ServerUnderTest.start(dataDirectory: data, arguments: ["--backend", "aws"], command: "worker",
                                                         environment: environment)
            defer { worker.stop() }

            // Seed 001's table: a high-value order, one of exactly 300 (not high-value), each through another instance.
            #expect(try await first.api.send(.POST, "/orders", json: Array(#"{"OrderId":"1003","Amount":450}"#.utf8)).status == 201)
            #expect(try await second.api.send(.POST, "/orders", json: Array(#"{"OrderId":"1002","Amount":300}"#.utf8)).status == 201)
            // Stateless: each instance serves the other's orders and keeps the idempotency rules.
            #expect(try await second.api.json("/orders/1003")["amount"]?.stringValue == "450.00")
            #expect(try await first.api.send(.POST, "/orders", json: Array(#"{"OrderId":"1002","Amount":"300.00"}"#.utf8)).status == 200)
            #expect(try await second.api.send(.POST, "/orders", json: Array(#"{"OrderId":"1003","Amount":451}"#.utf8)).status == 409)

            // Seed 000's upload: orders/1001.json into the bucket; S3 notifies order-uploads, the worker ingests it.
            try await withClient(try moto.client()) { client in
                let bucket = try #require(settings["ORDERFLOW_AWS_UPLOADS_BUCKET"])
                _ = try await S3ObjectStore(client: client, bucket: bucket)
                    .put(key: "orders/1001.json", bytes: Array(#"{"OrderId":"1001","Amount":450}"#.utf8), contentType: "application/json")
            }
            let uploaded = try await eventually("the worker ingests orders/1001.json", timeout: .seconds(60)) {
                let reply = try await first.api.send(.GET, "/orders/1001")
                return reply.status == 200 ? reply.json : nil
            }
            #expect(uploaded["source"]?.stringValue == "upload:orders/1001.json")

            // SNS -> HighValueQueue -> a review case for 1001 and 1003, none for 1002; OrdersStream -> /stats counts each once.
            for id in ["1001", "1003"] {
                _ = try await eventually("the review of \(id) opens", timeout: .seconds(60)) {
                    try await second.api.json("/orders/\(id)")["review"]?.stringValue == "open" ? true : nil
                }
            }
            #expect(try await first.api.json("/orders/1002")["review"] == .null)
            #expect(try await first.api.json("/orders/1002")["highValue"] == .bool(false))
            // moto applies the clauses of one UpdateItem `ADD` one after another on the live item, so a read may land
            // between them (DynamoDB itself makes an item update atomic): wait for the whole update, then read again.
            _ = try await eventually("/stats counts three orders, two high-value", timeout: .seconds(60)) {
                let json = try await worker.api.json("/stats")
                return json["orders"]?.int64Value == 3 && json["highValueOrders"]?.int64Value == 2 && json["revenue"]?["USD"] != nil ? json : nil
            }
            let stats = try await worker.api.json("/stats")
            #expect(stats["orders"]?.int64Value == 3)
            #expect(stats["highValueOrders"]?.int64Value == 2)
            #expect(stats["revenue"]?["USD"]?.stringValue == "1200.00")
            let listed = try await first.api.all("/orders", key: "orders")
            #expect(Set(listed.compactMap { $0["orderId"]?.stringValue }) == ["1001", "1002", "1003"])
            let reviews = try await second.api.all("/reviews?status=open", key: "reviews")
            #expect(Set(reviews.compactMap { $0["orderId"]?.stringValue }) == ["1001", "1003"])
            #expect(reviews.count == 2)
            // The review decision goes through an instance too: approve, then fulfil.
            #expect(try await first.api.send(.POST, "/reviews/1001/approve").status == 200)
            #expect(try await second.api.send(.POST, "/orders/1001/fulfil").json?["status"]?.stringValue == "fulfilled")
            // The cost meter: this instance's AWS requests by service and operation.
            let status = try await first.api.json("/status")
            #expect(status["backend"]?.stringValue == "aws")
            #expect((status["awsRequests"]?["byOperation"]?["DynamoDB.TransactWriteItems"]?["attempts"]?.int64Value ?? 0) >= 1)
            #expect((status["awsRequests"]?["total"]?["attempts"]?.int64Value ?? 0) > 0)
            let queues = try await worker.api.json("/queues")
            for queue in queues["queues"]?.arrayValue ?? [] {
                #expect(queue["deadLetters"]?.int64Value == 0, "\(queue.serialized())")
            }
        }
    }
}
