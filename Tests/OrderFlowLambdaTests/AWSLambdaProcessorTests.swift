import AsyncHTTPClient
import AWSKit
import Foundation
import Logging
import MotoTestSupport
import OrderFlowAWS
import OrderFlowCore
import OrderFlowLambda
import OrderFlowServer
import Synchronization
import Testing

@Suite("Lambda processor on AWS (moto)")
struct AWSLambdaProcessorTests {
    @Test("direct and S3 events are stored in DynamoDB and their events relayed to SNS and Kinesis in the same invocation")
    func storesAndRelays() async throws {
        let moto = try MotoEnvironment.require()
        try await withClient(try moto.client()) { client in
            let resources = MotoResources(client: client)
            var names = AWSLambdaProcessor.Resources(highValueTopicARN: "")
            names.ordersTable = uniqueName("Orders")
            names.outboxTable = uniqueName("OrdersOutbox")
            names.uploadsBucket = uniqueName("myapp-uploads")
            names.streamName = uniqueName("OrdersStream")
            try await resources.table(names.ordersTable, hashKey: "OrderID")
            try await resources.table(names.outboxTable, hashKey: "EventId")
            try await resources.bucket(names.uploadsBucket)
            try await resources.stream(names.streamName, shards: 1)
            let queue = try await resources.queue(uniqueName("HighValueQueue"))
            names.highValueTopicARN = try await resources.topic(uniqueName("HighValueOrderTopic"), deliveringTo: queue.arn)

            let key = "orders/batch 7.jsonl"
            _ = try await S3ObjectStore(client: client, bucket: names.uploadsBucket)
                .put(key: key, bytes: Array("{\"OrderId\":\"L-2\",\"Amount\":\"20.00\"}\n{\"OrderId\":\"L-3\",\"Amount\":\"999.99\"}\n".utf8), contentType: nil)
            var logger = Logger(label: "lambda-aws-test")
            logger.logLevel = .critical
            let lines = Mutex<[String]>([])
            let processor = AWSLambdaProcessor(policy: .standard, resources: names, client: client, logger: logger,
                                               functionName: "orderflow-test", emit: { line in lines.withLock { $0.append(line) } })

            let server = try await RuntimeAPIServer.start()
            defer { server.stop() }
            server.enqueue(.init(requestId: "r1", body: #"{"OrderId":"1001","Amount":450}"#))
            let s3Event = ObjectCreatedNotification(bucket: names.uploadsBucket, key: key).encoded(time: Timestamp(millisecondsSinceEpoch: 0))
            server.enqueue(.init(requestId: "r2", body: String(decoding: s3Event, as: UTF8.self)))
            let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
            let loop = LambdaRunLoop(client: HTTPLambdaRuntimeClient(runtimeAPI: server.address, http: http), logger: logger)
            try await loop.run(maximumInvocations: 2, initialize: { processor }) { processor, invocation in
                try await processor.handle(invocation)
            }
            try await http.shutdown()
            var reports: [RuntimeAPIServer.Report] = []
            for await report in server.reports {
                reports.append(report)
                if reports.count == 2 { break }
            }
            guard case .response("r1", _) = reports[0], case .response("r2", _) = reports[1] else {
                Issue.record("unexpected reports: \(reports)")
                return
            }

            let store = DynamoDBOrderStore(dynamoDB: DynamoDB(client: client), tables: .init(orders: names.ordersTable, outbox: names.outboxTable))
            #expect(try await store.order(OrderID("1001")!)?.source == "lambda")
            #expect(try await store.order(OrderID("L-3")!)?.source == "upload:\(key)")
            #expect(try await store.order(OrderID("L-2")!)?.highValue == false)
            // Relayed within the invocations: nothing left in the outbox, three records on the stream, two messages queued.
            #expect(try await store.backlog() == 0)
            let stream = KinesisStream(client: client, streamName: names.streamName)
            let shard = try #require(try await stream.shardIds().first)
            #expect(try await stream.countRecords(shardId: shard, after: nil) == 3)
            let sqs = SQSQueue(client: client, queueURL: queue.url)
            var received: [QueueMessage] = []
            for _ in 0..<5 where received.count < 2 {
                received += try await sqs.receive(maxMessages: 10, waitTime: .seconds(1), visibilityTimeout: nil)
            }
            #expect(Set(received.map { $0.attributes["type"] }) == ["order.high_value"])
            #expect(received.count == 2)

            // One Embedded Metric Format line per invocation, with what that invocation did.
            let metricLines = lines.withLock { $0 }.compactMap { try? JSONParser.parse(Array($0.utf8)) }
            try #require(metricLines.count == 2)
            let definition = metricLines[0]["_aws"]?["CloudWatchMetrics"]?.arrayValue?.first
            #expect(definition?["Namespace"] == .string("OrderFlow"))
            #expect(definition?["Dimensions"] == .array([.array([.string("FunctionName")])]))
            let metricNames = Set(definition?["Metrics"]?.arrayValue?.compactMap { $0["Name"]?.stringValue } ?? [])
            #expect(metricNames.isSuperset(of: ["OrdersAccepted", "OrdersHighValue", "OrdersRejected", "AWSRequests", "AWSRetries", "InvocationDuration"]))
            #expect(metricLines[0]["_aws"]?["Timestamp"]?.int64Value ?? 0 > 1_700_000_000_000)
            #expect(metricLines[0]["FunctionName"] == .string("orderflow-test"))
            #expect(metricLines[0]["requestId"] == .string("r1"))
            #expect(metricLines[0]["OrdersAccepted"] == .number("1") && metricLines[0]["OrdersHighValue"] == .number("1"))
            #expect(metricLines[1]["OrdersAccepted"] == .number("2") && metricLines[1]["OrdersHighValue"] == .number("1"))
            for line in metricLines { #expect((line["AWSRequests"]?.int64Value ?? 0) >= 2, "\(line.serialized())") }
        }
    }
}
