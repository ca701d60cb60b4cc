import AWSKit
import Foundation
import Logging
import OrderFlowApp
import OrderFlowAWS
import OrderFlowCore
import OrderFlowLambda

/// The Lambda processor on AWS: the event handler over DynamoDB and S3, and after each invocation a bounded relay of
/// the outbox to SNS and Kinesis, so the events of what it just stored go out at once. A relay failure does not fail the
/// invocation: the orders and their events are committed, and the workers' relay delivers them later.
public struct AWSLambdaProcessor: Sendable {
    /// The resources the processor touches (its role may touch nothing else).
    public struct Resources: Sendable, Hashable {
        public var ordersTable = "Orders"
        public var outboxTable = "OrdersOutbox"
        public var uploadsBucket = "myapp-uploads"
        public var highValueTopicARN: String
        public var streamName = "OrdersStream"

        public init(highValueTopicARN: String) {
            self.highValueTopicARN = highValueTopicARN
        }
    }

    public let handler: OrderEventHandler
    public let relay: OutboxRelay
    let logger: Logger
    /// Relay rounds after an invocation (100 events each).
    let relayRounds: Int
    let metrics: OrderFlowMetrics
    let requests: AWSRequestCounter
    let clock: any WallClock
    /// Where the metric line of each invocation goes (stdout, which Lambda sends to CloudWatch Logs).
    let emit: @Sendable (String) -> Void
    /// The `FunctionName` dimension of the metric lines.
    let functionName: String

    public init(policy: HighValuePolicy, resources: Resources, client: AWSClient, clock: any WallClock = SystemClock(), logger: Logger,
                relayRounds: Int = 5, functionName: String = "orderflow-processor",
                emit: @escaping @Sendable (String) -> Void = { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }) {
        let store = DynamoDBOrderStore(dynamoDB: DynamoDB(client: client), tables: .init(orders: resources.ordersTable, outbox: resources.outboxTable))
        let orders = OrderService(store: store, policy: policy, clock: clock)
        let objects = S3ObjectStore(client: client, bucket: resources.uploadsBucket)
        handler = OrderEventHandler(orders: orders, uploads: UploadIngest(objects: objects, orders: orders), logger: logger)
        relay = OutboxRelay(
            outbox: store, highValueTopic: SNSTopic(client: client, topicARN: resources.highValueTopicARN),
            ordersStream: KinesisStream(client: client, streamName: resources.streamName), logger: logger, batchSize: 100,
            highValueEventsPerMessage: AWSSystem.highValueEventsPerMessage
        )
        self.logger = logger
        self.relayRounds = relayRounds
        self.metrics = orders.metrics
        self.requests = client.counter
        self.clock = clock
        self.emit = emit
        self.functionName = functionName
    }

    /// Handles one invocation, then relays.
    public func handle(_ invocation: LambdaInvocation) async throws -> [UInt8] {
        let start = ContinuousClock.now
        let ordersBefore = metrics.orderCounts()
        let requestsBefore = requests.total()
        defer { emitMetrics(invocation, since: start, ordersBefore: ordersBefore, requestsBefore: requestsBefore) }
        let response = try await handler.handle(invocation.body)
        do {
            for _ in 0..<relayRounds {
                if try await relay.relayOnce() == 0 { break }
            }
        } catch {
            logger.warning("relay after the invocation failed; the workers' relay will deliver the events",
                           metadata: ["requestId": "\(invocation.requestId)", "error": "\(error)"])
        }
        return response
    }

    /// One Embedded Metric Format line for the invocation: the orders it accepted, found high-value, found already
    /// stored or refused, the AWS requests it made (retries apart) and how long it took.
    func emitMetrics(_ invocation: LambdaInvocation, since start: ContinuousClock.Instant, ordersBefore: OrderFlowMetrics.OrderCounts,
                     requestsBefore: AWSRequestCounter.Counts) {
        let orders = metrics.orderCounts()
        let calls = requests.total()
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        emit(EmbeddedMetricFormat.line(
            namespace: "OrderFlow", dimensions: [("FunctionName", functionName)],
            metrics: [
                .init("OrdersAccepted", Double(orders.accepted - ordersBefore.accepted)),
                .init("OrdersHighValue", Double(orders.highValue - ordersBefore.highValue)),
                .init("OrdersReplayed", Double(orders.replayed - ordersBefore.replayed)),
                .init("OrdersRejected", Double(orders.rejected - ordersBefore.rejected)),
                .init("AWSRequests", Double(calls.attempts - requestsBefore.attempts)),
                .init("AWSRetries", Double(calls.retries - requestsBefore.retries)),
                .init("InvocationDuration", (milliseconds * 10).rounded() / 10, unit: "Milliseconds"),
            ],
            at: clock.now(), properties: [("requestId", invocation.requestId)]
        ))
    }
}
