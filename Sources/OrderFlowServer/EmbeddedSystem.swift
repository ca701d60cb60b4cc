import Foundation
import Hummingbird
import Logging
import OrderFlowApp
import OrderFlowCore
import OrderFlowEmbedded
import OrderFlowHTTP
import ServiceLifecycle

/// The composition root of the embedded backend: SQLite and files under the data directory, the services over them,
/// and the background workers — everything `orderflow serve` runs in one process.
public struct EmbeddedSystem: Sendable {
    public let configuration: ServerConfiguration
    public let database: AppDatabase
    public let messaging: SQLiteMessaging
    public let orderStore: SQLiteOrderStore
    public let services: OrderFlowServices
    public let relay: OutboxRelay
    public let reviewWorker: ReviewWorker
    public let analyticsConsumer: AnalyticsConsumer
    public let uploadIngest: UploadIngestWorker
    public let highValueQueue: SQLiteQueue
    public let uploadsQueue: SQLiteQueue
    public let ordersStream: SQLiteStream
    let webhookDispatcher: WebhookDispatcher
    let auditDigests: AuditDigestService
    let walCheckpointer: WALCheckpointer
    let logger: Logger

    /// The version this binary reports.
    public static let version = "0.1.0"

    /// Opens (creating on first use) the data directory and wires every adapter and service.
    public static func open(_ configuration: ServerConfiguration, clock: any WallClock = SystemClock(), logger: Logger) async throws -> EmbeddedSystem {
        let directory = configuration.dataDirectory
        let database = try AppDatabase(path: directory.appendingPathComponent("orderflow.sqlite").path)
        let names = configuration.names
        let messaging = SQLiteMessaging(database: database, clock: clock, logger: logger)
        for queue in [names.highValueQueue, names.uploadsQueue] {
            try await messaging.ensureQueue(name: queue, visibilityTimeout: configuration.visibilityTimeout, maxReceiveCount: configuration.maxReceiveCount)
        }
        try await messaging.subscribe(topic: names.highValueTopic, to: .queue(names.highValueQueue))
        try await messaging.setPushSubscriptions(
            topic: names.highValueTopic, to: configuration.highValueWebhooks.map { .webhook(url: $0.url, secret: $0.secret) })
        let highValueQueue = messaging.queue(named: names.highValueQueue)
        let uploadsQueue = messaging.queue(named: names.uploadsQueue)
        let stream = messaging.stream(named: names.ordersStream, shardCount: configuration.streamShards)
        let objects = try FileObjectStore(
            root: directory.appendingPathComponent("objects", isDirectory: true),
            bucket: names.uploadsBucket,
            notifications: [.init(prefix: names.uploadsPrefix, queue: uploadsQueue)],
            clock: clock
        )
        let store = SQLiteOrderStore(database: database, ordersStream: stream)
        let highValueTopic = messaging.topic(named: names.highValueTopic)
        let orderService = OrderService(store: store, policy: configuration.highValuePolicy, clock: clock)
        let analyticsStore = SQLiteAnalyticsStore(database: database)
        let analyticsConsumer = AnalyticsConsumer(stream: stream, store: analyticsStore, logger: logger)
        let status = SystemStatus(
            version: version, backend: "embedded", clock: clock,
            databaseHealthy: { await database.isHealthy() },
            outbox: store, queues: messaging, analytics: analyticsConsumer
        )
        // Alarm state changes go to the `alerts` topic: always a log line, plus the configured webhooks and e-mail addresses.
        try await messaging.subscribe(topic: names.alertsTopic, to: .log)
        try await messaging.setPushSubscriptions(
            topic: names.alertsTopic,
            to: configuration.alertWebhooks.map { .webhook(url: $0.url, secret: $0.secret) } + configuration.alertEmails.map { .email(address: $0) })
        let alarms = Alarms(settings: configuration.alarms, sampler: AlarmSampler(queues: messaging, metrics: orderService.metrics),
                            topic: messaging.topic(named: names.alertsTopic), clock: clock, logger: logger)
        let auditTrail = SQLiteAuditTrail(database: database)
        let services = OrderFlowServices(orders: orderService, analytics: analyticsStore, objects: objects, queues: messaging, status: status,
                                         clock: clock, alarms: alarms, auth: try await authentication(configuration, database: database, clock: clock),
                                         audit: auditTrail, documents: SQLiteDocumentStore(database: database))
        let auditKey = try AuditSigningKey.load(directory: directory)
        return EmbeddedSystem(
            configuration: configuration,
            database: database,
            messaging: messaging,
            orderStore: store,
            services: services,
            relay: OutboxRelay(
                outbox: store, highValueTopic: highValueTopic, ordersStream: stream, logger: logger,
                transactional: store.transactionalDelivery(ordersStream: stream, highValueTopic: highValueTopic)
            ),
            reviewWorker: ReviewWorker(queue: highValueQueue, orders: orderService, logger: logger, concurrency: 4),
            analyticsConsumer: analyticsConsumer,
            uploadIngest: UploadIngestWorker(queue: uploadsQueue, objects: objects, orders: orderService, logger: logger),
            highValueQueue: highValueQueue,
            uploadsQueue: uploadsQueue,
            ordersStream: stream,
            webhookDispatcher: WebhookDispatcher(
                messaging: messaging, mailer: try configuration.smtpRelay.map { try SMTPMailer(relay: $0) }, logger: logger),
            auditDigests: AuditDigestService(trail: auditTrail, key: auditKey, clock: clock, logger: logger),
            walCheckpointer: try WALCheckpointer(database: database, logger: logger),
            logger: logger
        )
    }

    /// API keys from the database and a JWT verifier with its keys loaded, as configured.
    static func authentication(_ configuration: ServerConfiguration, database: AppDatabase, clock: any WallClock) async throws -> AuthConfiguration {
        var auth = AuthConfiguration()
        if configuration.apiKeysEnabled { auth.apiKeys = APIKeys(store: SQLiteAPIKeyStore(database: database), clock: clock) }
        if let settings = configuration.jwt {
            let verifier = JWTVerifier(settings: settings, clock: clock)
            try await verifier.load()
            auth.jwt = verifier
        }
        return auth
    }

    /// The background workers, in start order.
    public var workers: [any Service] {
        [walCheckpointer, relay, reviewWorker, analyticsConsumer, uploadIngest, webhookDispatcher,
         StreamRetention(stream: ordersStream, logger: logger)]
            + (services.alarms.map { [AlarmService(alarms: $0)] } ?? []) + [auditDigests]
    }

    /// The HTTP application with every worker attached (and `extraRoutes`, which are not the API's: see `buildApplication`).
    public func application(
        extraRoutes: (Router<AppRequestContext>, HTTPConfiguration) -> Void = { _, _ in },
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        buildApplication(services, configuration: configuration.http, workers: workers, logger: logger, extraRoutes: extraRoutes,
                         onServerRunning: onServerRunning)
    }
}

/// Deletes stream records older than the retention window, hourly.
struct StreamRetention: Service {
    let stream: SQLiteStream
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let removed = try await stream.trim()
                if removed > 0 { logger.info("stream retention trimmed records", metadata: ["stream": "\(stream.name)", "removed": "\(removed)"]) }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("stream retention failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(3600)) }
        }
    }
}
