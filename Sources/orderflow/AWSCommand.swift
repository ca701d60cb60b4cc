import ArgumentParser
import AWSKit
import Foundation
import Logging
import OrderFlowAWS

/// `orderflow aws …`: helpers for the AWS backend.
struct AWSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aws",
        abstract: "AWS backend helpers.",
        subcommands: [AWSSetupCommand.self]
    )
}

/// `orderflow aws setup`: creates the AWS backend's resources idempotently, for development against an emulator (moto,
/// LocalStack) or a scratch account, and prints the `ORDERFLOW_AWS_*` lines `serve`/`worker --backend aws` read.
/// Production uses the CloudFormation stacks in deploy/ instead (they add encryption, alarms and least-privilege roles).
struct AWSSetupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setup",
        abstract: "Create tables, bucket, queues, topic and stream (idempotent) and print the ORDERFLOW_AWS_* settings."
    )

    @Option(help: "Appended to every resource name, to keep several setups apart in one account (e.g. -dev).")
    var suffix: String = ""

    @Option(name: .customLong("stream-shards"), help: "Shards of OrdersStream when it is created (default 1).")
    var streamShards: Int = 1

    func run() async throws {
        var logger = Logger(label: "orderflow.aws-setup")
        logger.logLevel = .warning
        guard suffix.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }), suffix.count <= 20 else {
            printError("orderflow aws setup: --suffix may hold letters, digits and '-' (at most 20)")
            throw ExitCode(2)
        }
        let client: AWSClient
        do {
            (client, _) = try AWSSettings.client(environment: ProcessInfo.processInfo.environment, logger: logger)
        } catch let failure as UsageFailure {
            printError("orderflow aws setup: \(failure)")
            throw ExitCode(2)
        }
        do {
            let lines = try await setUp(client)
            print(lines.joined(separator: "\n"))
        } catch {
            try? await client.shutdown()
            printError("orderflow aws setup: \(error)")
            throw ExitCode(1)
        }
        try? await client.shutdown()
    }

    func setUp(_ client: AWSClient) async throws -> [String] {
        let setup = AWSResourceSetup(client: client)
        let orders = "Orders" + suffix, outbox = "OrdersOutbox" + suffix, analytics = "OrdersAnalytics" + suffix
        let apiKeys = "OrderFlowApiKeys" + suffix, documents = "OrderFlowDocuments" + suffix, audit = "OrderFlowAudit" + suffix
        try await setup.table(orders, hashKey: "OrderID")
        try await setup.table(outbox, hashKey: "EventId")
        try await setup.table(analytics, hashKey: "Key")
        try await setup.table(apiKeys, hashKey: "KeyId")
        try await setup.table(documents, hashKey: "DocumentId")
        try await setup.table(audit, hashKey: "Key")
        let highValue = try await setup.queue("HighValueQueue" + suffix, maxReceiveCount: 5)
        let uploads = try await setup.queue("order-uploads" + suffix, maxReceiveCount: 5)
        let topicARN = try await setup.topic("HighValueOrderTopic" + suffix, deliveringTo: highValue.arn, queueURL: highValue.url)
        let stream = "OrdersStream" + suffix
        try await setup.stream(stream, shards: streamShards)
        let bucket = "myapp-uploads" + suffix.lowercased()
        try await setup.bucket(bucket)
        try await setup.notify(bucket: bucket, prefix: "orders/", queueURL: uploads.url, queueARN: uploads.arn)
        return [
            "ORDERFLOW_AWS_ORDERS_TABLE=\(orders)",
            "ORDERFLOW_AWS_OUTBOX_TABLE=\(outbox)",
            "ORDERFLOW_AWS_ANALYTICS_TABLE=\(analytics)",
            "ORDERFLOW_AWS_API_KEYS_TABLE=\(apiKeys)",
            "ORDERFLOW_AWS_DOCUMENTS_TABLE=\(documents)",
            "ORDERFLOW_AWS_AUDIT_TABLE=\(audit)",
            "ORDERFLOW_AWS_UPLOADS_BUCKET=\(bucket)",
            "ORDERFLOW_AWS_HIGH_VALUE_TOPIC_ARN=\(topicARN)",
            "ORDERFLOW_AWS_HIGH_VALUE_QUEUE_URL=\(highValue.url)",
            "ORDERFLOW_AWS_HIGH_VALUE_DLQ_URL=\(highValue.deadLetterURL ?? "")",
            "ORDERFLOW_AWS_UPLOADS_QUEUE_URL=\(uploads.url)",
            "ORDERFLOW_AWS_UPLOADS_DLQ_URL=\(uploads.deadLetterURL ?? "")",
            "ORDERFLOW_AWS_STREAM=\(stream)",
        ]
    }
}
