import ArgumentParser
import AWSKit
import Foundation
import Logging
import OrderFlowAWS
import OrderFlowCore
import OrderFlowEmbedded
import OrderFlowServer

/// `orderflow audit verify`: checks the hash chain and the signed digests of the audit trail, in a data directory or,
/// with `--backend aws`, in the DynamoDB table.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "The audit trail.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every entry's hash, the chain between entries, and the signed digests; name each edited, inserted or deleted entry.",
            discussion: """
            Exit status 0: intact; 1: tampering found (one line per problem); 2: the trail cannot be read. With --backend aws \
            the entries and digests are read from ORDERFLOW_AWS_AUDIT_TABLE (default OrderFlowAudit) and the signing key \
            from --data-dir (a copy of the worker's audit-signing.key).
            """
        )
        @Option(help: "embedded (the data directory, the default) or aws (the DynamoDB audit table) (env ORDERFLOW_BACKEND).")
        var backend: String?
        @Option(name: .customLong("data-dir"), help: "The data directory holding audit-signing.key (and, embedded, orderflow.sqlite) (env ORDERFLOW_DATA_DIR, default ./orderflow-data).")
        var dataDirectory: String?

        func run() async throws {
            let directory = URL(fileURLWithPath: Settings.value(dataDirectory, env: "ORDERFLOW_DATA_DIR") ?? "orderflow-data")
            let keyPath = directory.appendingPathComponent("audit-signing.key").path
            let entries: [AuditEntry]
            let digests: [AuditDigest]
            switch Settings.value(backend, env: "ORDERFLOW_BACKEND") ?? "embedded" {
            case "embedded":
                let path = directory.appendingPathComponent("orderflow.sqlite").path
                guard FileManager.default.fileExists(atPath: path), FileManager.default.fileExists(atPath: keyPath) else {
                    printError("orderflow audit verify: no audit trail at \(directory.path) (needs orderflow.sqlite and audit-signing.key)")
                    throw ExitCode(2)
                }
                let trail = SQLiteAuditTrail(database: try AppDatabase(path: path))
                entries = try await trail.allEntries()
                digests = try await trail.digests()
            case "aws":
                guard FileManager.default.fileExists(atPath: keyPath) else {
                    printError("orderflow audit verify: no audit-signing.key in \(directory.path) (copy the worker's, from its data directory)")
                    throw ExitCode(2)
                }
                let read = try await Self.readAWS()
                entries = read.entries
                digests = read.digests
            case let other:
                printError("orderflow audit verify: --backend \(other) is not embedded or aws")
                throw ExitCode(2)
            }
            let key = try AuditSigningKey.load(directory: directory)
            let problems = AuditVerifier.verify(entries: entries, digests: digests, publicKey: key.publicKey)
            if problems.isEmpty {
                print("audit trail intact: \(entries.count) entries, \(digests.count) signed digests"
                      + (digests.last.map { ", the last vouching for entry \($0.sequence)" } ?? ""))
                return
            }
            for problem in problems.prefix(20) { print("TAMPERED: \(problem)") }
            if problems.count > 20 { print("TAMPERED: … \(problems.count - 20) more problems") }
            throw ExitCode(1)
        }

        /// Every entry and digest of the AWS trail; a missing region or an unreadable table is exit status 2.
        static func readAWS() async throws -> (entries: [AuditEntry], digests: [AuditDigest]) {
            var logger = Logger(label: "orderflow.audit")
            logger.logLevel = .warning
            let environment = ProcessInfo.processInfo.environment
            let client: AWSClient
            do {
                (client, _) = try AWSSettings.client(environment: environment, logger: logger)
            } catch {
                printError("orderflow audit verify: \(error)")
                throw ExitCode(2)
            }
            let table = environment["ORDERFLOW_AWS_AUDIT_TABLE"].flatMap { $0.isEmpty ? nil : $0 } ?? AWSResourceSettings.defaultAuditTable
            let trail = DynamoDBAuditTrail(dynamoDB: DynamoDB(client: client), table: table)
            do {
                let result = (try await trail.allEntries(), try await trail.digests())
                try? await client.shutdown()
                return result
            } catch {
                try? await client.shutdown()
                printError("orderflow audit verify: cannot read the audit table \(table): \(error)")
                throw ExitCode(2)
            }
        }
    }
}
