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
                    "ORDERFLOW_AWS_ANALYTICS_TABLE": analyticsTable, "ORDERFLOW_AWS_UPLOADS_BUCKET": bucket,
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
