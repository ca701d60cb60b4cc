import AWSKit
import Crypto
import Foundation
import Logging
import OrderFlowApp
import OrderFlowAWS
import OrderFlowCore
import OrderFlowEmbedded
import OrderFlowServer

extension ServeOptions {
    /// Reads the AWS settings, checks that DynamoDB answers, and runs the processes of `role` until SIGTERM/SIGINT.
    /// Every misconfiguration (no region, a missing resource variable, an unreachable endpoint, no credentials) is one
    /// readable line and exit status 2.
    func serveAWS(role: AWSRole) async throws {
        let configuration = try resolvedConfiguration()
        let logging = try makeLogging()
        let logger = logging.logger
        let environment = ProcessInfo.processInfo.environment
        let resources = try Self.awsResources(environment)
        let (client, awsConfiguration) = try AWSSettings.client(environment: environment, logger: logger)
        do {
            try await run(role: role, configuration: configuration, resources: resources, awsConfiguration: awsConfiguration,
                          client: client, environment: environment, logging: logging)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try? await client.shutdown()
    }

    private func run(role: AWSRole, configuration: ServerConfiguration, resources: AWSResourceSettings, awsConfiguration: AWSConfiguration,
                     client: AWSClient, environment: [String: String], logging: LogSetup) async throws {
        let logger = logging.logger
        var beforePublish: @Sendable ([OutboxEntry]) async -> Void = { _ in }
        switch environment["ORDERFLOW_FAULT_INJECTION"] ?? "" {
        case "":
            break
        case "kill-before-publish":
            logger.warning("fault injection on: the process kills itself when the relay has read events and before it publishes them")
            beforePublish = { _ in kill(getpid(), SIGKILL) }
        case let other:
            throw UsageFailure("ORDERFLOW_FAULT_INJECTION=\(other) is not a known fault (kill-before-publish)")
        }

        var auth = AuthConfiguration()
        if configuration.apiKeysEnabled {
            let store = DynamoDBAPIKeyStore(dynamoDB: DynamoDB(client: client), table: resources.apiKeysTable)
            // A missing table or a role without GetItem on it fails here, as one line, not as 401s later.
            do {
                _ = try await store.key(id: "orderflow-startup-probe")
            } catch {
                throw UsageFailure("cannot read the API-key table \(resources.apiKeysTable) at \(awsConfiguration.endpoint(for: .dynamoDB)): \(error)")
            }
            auth.apiKeys = APIKeys(store: store)
        }
        if let settings = configuration.jwt {
            let verifier = JWTVerifier(settings: settings)
            do { try await verifier.load() } catch { throw UsageFailure("cannot load the JWT keys: \(error)") }
            auth.jwt = verifier
        }
        // Digests are signed by the workers only (the API role appends entries): one key, in the worker's data directory.
        var signingKey: Curve25519.Signing.PrivateKey? = nil
        if role != .api {
            do {
                try FileManager.default.createDirectory(at: configuration.dataDirectory, withIntermediateDirectories: true)
                signingKey = try AuditSigningKey.load(directory: configuration.dataDirectory)
            } catch {
                throw UsageFailure("cannot load or create the audit signing key in \(configuration.dataDirectory.path): \(error)")
            }
        }
        let system = AWSSystem.open(configuration, resources: resources, client: client, logger: logger, auth: auth,
                                    auditSigningKey: signingKey, beforePublish: beforePublish)
        // One read before listening: a wrong endpoint, region, table name or credentials fail here, as one line.
        do {
            _ = try await system.orderStore.order(OrderID("orderflow-startup-probe")!)
        } catch {
            throw UsageFailure("cannot read the DynamoDB table \(resources.ordersTable) at \(awsConfiguration.endpoint(for: .dynamoDB)): \(error)")
        }
        Self.bootstrapMetrics(system.services.metrics)
        let host = configuration.http.host
        let app = system.application(role: role) { port in
            logging.announce("OrderFlow \(EmbeddedSystem.version) (\(role.rawValue), backend aws, region \(awsConfiguration.region)) listening on http://\(host):\(port)")
        }
        let hangup = logging.reopenOnHangup()
        defer { hangup.cancel() }
        try await Self.run(app, host: host, port: configuration.http.port, logging: logging)
    }

    /// `ORDERFLOW_AWS_*` as the compute stack writes them; the topic ARN and the two queue URLs have no default.
    static func awsResources(_ environment: [String: String]) throws -> AWSResourceSettings {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let required = ["ORDERFLOW_AWS_HIGH_VALUE_TOPIC_ARN", "ORDERFLOW_AWS_HIGH_VALUE_QUEUE_URL", "ORDERFLOW_AWS_UPLOADS_QUEUE_URL"]
        let missing = required.filter { value($0) == nil }
        guard missing.isEmpty else {
            throw UsageFailure("--backend aws needs \(missing.joined(separator: ", ")) (the data stack's outputs; see deploy/README.md)")
        }
        var resources = AWSResourceSettings(
            highValueTopicARN: value("ORDERFLOW_AWS_HIGH_VALUE_TOPIC_ARN")!,
            highValueQueueURL: value("ORDERFLOW_AWS_HIGH_VALUE_QUEUE_URL")!,
            uploadsQueueURL: value("ORDERFLOW_AWS_UPLOADS_QUEUE_URL")!
        )
        if let table = value("ORDERFLOW_AWS_ORDERS_TABLE") { resources.ordersTable = table }
        if let table = value("ORDERFLOW_AWS_OUTBOX_TABLE") { resources.outboxTable = table }
        if let table = value("ORDERFLOW_AWS_ANALYTICS_TABLE") { resources.analyticsTable = table }
        if let table = value("ORDERFLOW_AWS_API_KEYS_TABLE") { resources.apiKeysTable = table }
        if let table = value("ORDERFLOW_AWS_DOCUMENTS_TABLE") { resources.documentsTable = table }
        if let table = value("ORDERFLOW_AWS_AUDIT_TABLE") { resources.auditTable = table }
        if let bucket = value("ORDERFLOW_AWS_UPLOADS_BUCKET") { resources.uploadsBucket = bucket }
        if let stream = value("ORDERFLOW_AWS_STREAM") { resources.streamName = stream }
        resources.highValueDeadLetterQueueURL = value("ORDERFLOW_AWS_HIGH_VALUE_DLQ_URL")
        resources.uploadsDeadLetterQueueURL = value("ORDERFLOW_AWS_UPLOADS_DLQ_URL")
        return resources
    }
}

/// The AWS client every AWS command builds from the standard variables (region, profile, endpoints, credentials).
enum AWSSettings {
    /// A client, or a one-line `UsageFailure` for a missing region, a bad endpoint or an unreadable profile file.
    static func client(environment: [String: String], logger: Logger, timeout: Duration = .seconds(25)) throws -> (AWSClient, AWSConfiguration) {
        let configuration: AWSConfiguration
        let files: AWSSharedFiles
        do {
            files = try AWSSharedFiles.load(environment: environment)
            configuration = try AWSConfiguration.resolve(environment: environment, files: files)
        } catch {
            throw UsageFailure("\(error)")
        }
        let client = AWSClient(
            configuration: configuration,
            credentialProvider: AWSCredentialChain.standard(environment: environment, files: files),
            requestTimeout: timeout,
            logger: logger
        )
        return (client, configuration)
    }
}
