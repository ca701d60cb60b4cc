import AWSKit
import Crypto
import Foundation
import Hummingbird
import Logging
import OrderFlowApp
import OrderFlowAWS
import OrderFlowCore
import OrderFlowHTTP
import ServiceLifecycle

/// Names of the AWS resources (deploy/cloudformation creates them; the seeds' names are the defaults).
public struct AWSResourceSettings: Sendable, Hashable {
    public var ordersTable = "Orders"
    public var outboxTable = "OrdersOutbox"
    public var analyticsTable = "OrdersAnalytics"
    /// API keys (`--auth apikey`), key `KeyId`.
    public var apiKeysTable = AWSResourceSettings.defaultAPIKeysTable
    /// The data stack's name of the API-key table.
    public static let defaultAPIKeysTable = "OrderFlowApiKeys"
    /// Document metadata (`POST /upload`, `GET /documents`), key `DocumentId`; kept contents go to the uploads bucket
    /// under `documents/`.
    public var documentsTable = "OrderFlowDocuments"
    /// The audit trail: entries, the chain's head and signed digests, key `Key`.
    public var auditTable = AWSResourceSettings.defaultAuditTable
    /// The data stack's name of the audit table.
    public static let defaultAuditTable = "OrderFlowAudit"
    public var uploadsBucket = "myapp-uploads"
    public var uploadsPrefix = "orders/"
    public var highValueTopicARN: String
    public var highValueQueueURL: String
    /// Default: the queue URL + `-dlq`, the data stack's naming.
    public var highValueDeadLetterQueueURL: String?
    public var uploadsQueueURL: String
    public var uploadsDeadLetterQueueURL: String?
    public var streamName = "OrdersStream"

    public init(highValueTopicARN: String, highValueQueueURL: String, uploadsQueueURL: String) {
        self.highValueTopicARN = highValueTopicARN
        self.highValueQueueURL = highValueQueueURL
        self.uploadsQueueURL = uploadsQueueURL
    }
}

/// What one process runs on AWS. API instances relay their own orders' events at once; workers relay whatever is
/// left (from API instances that died after committing) and run the queue and stream consumers.
public enum AWSRole: String, Sendable, CaseIterable {
    /// HTTP API + outbox relay (`orderflow serve --backend aws`).
    case api
    /// Outbox relay, review worker, upload ingestion, analytics consumer (`orderflow worker --backend aws`).
    case worker
    /// Everything in one process, like the embedded mode (development against moto or one small instance).
    case all
}

/// The composition root of the AWS backend: the AWSKit client, the adapters over DynamoDB, S3, SNS, SQS and Kinesis,
/// the services over them, and the workers of a role.
public struct AWSSystem: Sendable {
    public let configuration: ServerConfiguration
    public let client: AWSClient
    public let orderStore: DynamoDBOrderStore
    public let services: OrderFlowServices
    public let relay: OutboxRelay
    public let reviewWorker: ReviewWorker
    public let analyticsConsumer: AnalyticsConsumer
    public let uploadIngest: UploadIngestWorker
    /// Signs the end of the audit chain; only in the processes given the signing key (the workers), so every digest
    /// is signed by one key.
    let auditDigests: AuditDigestService?
    let logger: Logger

    /// Wires everything over `client`; with `auditSigningKey`, this process also signs audit digests.
    public static func open(_ configuration: ServerConfiguration, resources: AWSResourceSettings, client: AWSClient,
                            clock: any WallClock = SystemClock(), logger: Logger, auth: AuthConfiguration = .none,
                            auditSigningKey: Curve25519.Signing.PrivateKey? = nil,
                            beforePublish: @escaping @Sendable ([OutboxEntry]) async -> Void = { _ in }) -> AWSSystem {
        let dynamoDB = DynamoDB(client: client)
        let uploadBatches = WorkInProgress()
        let store = DynamoDBOrderStore(dynamoDB: dynamoDB, tables: .init(orders: resources.ordersTable, outbox: resources.outboxTable),
                                       batchWindow: Self.relayBatchWindow, bulkWork: uploadBatches, maximumHold: Self.relayMaximumHold)
        let highValueQueue = SQSQueue(client: client, queueURL: resources.highValueQueueURL,
                                      deadLetterQueueURL: resources.highValueDeadLetterQueueURL ?? resources.highValueQueueURL + "-dlq")
        let uploadsQueue = SQSQueue(client: client, queueURL: resources.uploadsQueueURL,
                                    deadLetterQueueURL: resources.uploadsDeadLetterQueueURL ?? resources.uploadsQueueURL + "-dlq")
        let topic = SNSTopic(client: client, topicARN: resources.highValueTopicARN)
        let stream = KinesisStream(client: client, streamName: resources.streamName)
        let objects = S3ObjectStore(client: client, bucket: resources.uploadsBucket)
        let analyticsStore = DynamoDBAnalyticsStore(dynamoDB: dynamoDB, table: resources.analyticsTable)
        let orderService = OrderService(store: store, policy: configuration.highValuePolicy, clock: clock)
        let analyticsConsumer = AnalyticsConsumer(stream: stream, store: analyticsStore, logger: logger)
        let queues = SQSQueueAdministration(client: client, queues: [highValueQueue, uploadsQueue])
        let probeKey = OrderID("orderflow-health-probe")!
        let status = SystemStatus(
            version: EmbeddedSystem.version, backend: "aws", clock: clock,
            databaseHealthy: { await Self.reachable(store, probeKey) },
            outbox: store, queues: queues, analytics: analyticsConsumer,
            providerRequests: { Self.providerRequests(client.counter) }
        )
        // In-process alarms log their changes; on AWS the CloudWatch alarms of deploy/ publish to the alerts topic.
        let alarms = Alarms(settings: configuration.alarms, sampler: AlarmSampler(queues: queues, metrics: orderService.metrics),
                            topic: nil, clock: clock, logger: logger)
        let auditTrail = DynamoDBAuditTrail(dynamoDB: dynamoDB, table: resources.auditTable)
        let services = OrderFlowServices(orders: orderService, analytics: analyticsStore, objects: objects, queues: queues, status: status,
                                         clock: clock, alarms: alarms, auth: auth, audit: auditTrail,
                                         documents: DynamoDBDocumentStore(dynamoDB: dynamoDB, table: resources.documentsTable))
        return AWSSystem(
            configuration: configuration, client: client, orderStore: store, services: services,
            relay: OutboxRelay(outbox: store, highValueTopic: topic, ordersStream: stream, logger: logger, batchSize: Self.relayBatchSize,
                               highValueEventsPerMessage: Self.highValueEventsPerMessage, beforePublish: beforePublish),
            reviewWorker: ReviewWorker(queue: highValueQueue, orders: orderService, logger: logger),
            analyticsConsumer: analyticsConsumer,
            uploadIngest: UploadIngestWorker(queue: uploadsQueue, objects: objects, orders: orderService, logger: logger,
                                             bulkWork: uploadBatches, gatherWindow: Self.uploadGatherWindow),
            auditDigests: auditSigningKey.map { AuditDigestService(trail: auditTrail, key: $0, clock: clock, logger: logger) },
            logger: logger
        )
    }

    /// Events per relay round: a round costs one scan, one Kinesis `PutRecords` per 500 records, one SNS `PublishBatch`
    /// per ten messages of high-value events (see below) and one delete per 25 outbox items (each holds up to 99 orders'
    /// events), so 1,500 events (an upload batch of ten 100-order files with its high-value events) go out in one round
    /// of about five requests; with 500 the same batch took three rounds and twice the publishes, deletes and scans.
    static let relayBatchSize = 1_500

    /// How long the relay lets commits gather after a local one: an upload's transactions, and often several uploads,
    /// then share one relay round (scan, put, publish, delete) and, downstream, one review round and one analytics
    /// transaction. It delays publishing by up to this much, never an acknowledgement.
    static let relayBatchWindow = Duration.seconds(1)

    /// How long the relay waits at most for the upload worker to finish the batch of notifications in hand (up to 10
    /// objects), so that the batch's events go out in one round: events of bulk uploads may wait this long. API
    /// processes ingest no uploads, so their orders' events never wait for it; in the `all` role they may. It is a
    /// safety net against a stuck ingestion, not the usual wait: a batch of ten large files may take a minute (with
    /// 30 s, batches against moto, which takes seconds per transaction, were relayed in pieces).
    static let relayMaximumHold = Duration.seconds(120)

    /// How long the upload worker lets notifications gather after a receive that was not full (files dropped in a
    /// burst then share one batch, and so one relay round): ingestion of a burst starts this much later.
    static let uploadGatherWindow = Duration.seconds(2)

    /// High-value events per SNS message: the review worker opens 100 reviews per DynamoDB transaction, so one message
    /// costs one publish, one receive share, one read and one transaction (the topic's only subscriber on AWS is the
    /// review queue, and the review worker reads both the single and the batched form).
    static let highValueEventsPerMessage = 100

    /// Requests this process made to AWS, by service and operation (the cost meter's counts).
    static func providerRequests(_ counter: AWSRequestCounter) -> [ProviderRequestCount] {
        let errors = counter.errorSnapshot()
        return counter.snapshot().map { key, counts in
            ProviderRequestCount(service: key.service, operation: key.operation, attempts: counts.attempts, retries: counts.retries,
                                 errors: errors[key] ?? [:])
        }
    }

    /// Whether the orders table answers a read (a missing item is an answer).
    static func reachable(_ store: DynamoDBOrderStore, _ key: OrderID) async -> Bool {
        do {
            _ = try await store.order(key)
            return true
        } catch {
            return false
        }
    }

    var alarmService: [any Service] {
        services.alarms.map { [AlarmService(alarms: $0)] } ?? []
    }

    var digestService: [any Service] {
        auditDigests.map { [$0] } ?? []
    }

    /// The background workers of `role`.
    public func workers(for role: AWSRole) -> [any Service] {
        switch role {
        case .api: [relay] + alarmService + digestService
        case .worker: [relay, reviewWorker, analyticsConsumer, uploadIngest] + alarmService + digestService
        case .all: [relay, reviewWorker, analyticsConsumer, uploadIngest] + alarmService + digestService
        }
    }

    /// The HTTP application with the workers of `role` attached.
    public func application(role: AWSRole, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        buildApplication(services, configuration: configuration.http, workers: workers(for: role), logger: logger, onServerRunning: onServerRunning)
    }
}
