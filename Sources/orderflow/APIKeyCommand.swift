import ArgumentParser
import AWSKit
import Foundation
import Logging
import OrderFlowApp
import OrderFlowCore
import OrderFlowAWS
import OrderFlowEmbedded
import OrderFlowServer

/// `orderflow apikey create|list|revoke`: API keys for machine clients of a server run with `--auth apikey`.
struct APIKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apikey",
        abstract: "Create, list and revoke API keys (stored as hashes in the data directory, or in DynamoDB with --backend aws).",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Location: ParsableArguments {
        @Option(help: "embedded (the data directory, the default) or aws (the DynamoDB table ORDERFLOW_AWS_API_KEYS_TABLE, default OrderFlowApiKeys) (env ORDERFLOW_BACKEND).")
        var backend: String?
        @Option(name: .customLong("data-dir"), help: "With the embedded backend: the data directory (env ORDERFLOW_DATA_DIR, default ./orderflow-data).") var dataDirectory: String?

        /// Runs `body` over the keys of the chosen backend; on AWS the client is shut down afterwards either way.
        /// Misconfiguration (unknown backend, no region) is one line and exit status 2.
        func withKeys<Result>(_ body: (APIKeys) async throws -> Result) async throws -> Result {
            switch Settings.value(backend, env: "ORDERFLOW_BACKEND") ?? "embedded" {
            case "embedded":
                return try await body(APIKeys(store: SQLiteAPIKeyStore(database: try database())))
            case "aws":
                var logger = Logger(label: "orderflow.apikey")
                logger.logLevel = .warning
                let environment = ProcessInfo.processInfo.environment
                let client: AWSClient
                do {
                    (client, _) = try AWSSettings.client(environment: environment, logger: logger)
                } catch let failure as UsageFailure {
                    throw usage("\(failure)")
                }
                let table = environment["ORDERFLOW_AWS_API_KEYS_TABLE"].flatMap { $0.isEmpty ? nil : $0 } ?? AWSResourceSettings.defaultAPIKeysTable
                do {
                    let result = try await body(APIKeys(store: DynamoDBAPIKeyStore(dynamoDB: DynamoDB(client: client), table: table)))
                    try? await client.shutdown()
                    return result
                } catch {
                    try? await client.shutdown()
                    throw error
                }
            case let other:
                throw usage("--backend \(other) is not embedded or aws")
            }
        }

        var isAWS: Bool { (Settings.value(backend, env: "ORDERFLOW_BACKEND") ?? "embedded") == "aws" }

        func database() throws -> AppDatabase {
            let directory = URL(fileURLWithPath: Settings.value(dataDirectory, env: "ORDERFLOW_DATA_DIR") ?? "orderflow-data")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return try AppDatabase(path: directory.appendingPathComponent("orderflow.sqlite").path)
        }

        /// Key administration is an admin action: it goes into the audit trail (the data directory's, or on AWS the
        /// audit table ORDERFLOW_AWS_AUDIT_TABLE) as done by `cli:<user>` on this host.
        func audit(_ action: String, keyId: String) async throws {
            let user = ProcessInfo.processInfo.environment["USER"] ?? "unknown"
            let record = AuditRecord(time: SystemClock().now(), principal: "cli:\(user)", method: "CLI", route: "apikey \(action)",
                                     resource: "apikey=\(keyId)", status: 0, sourceAddress: "local", requestId: "")
            guard isAWS else {
                _ = try await SQLiteAuditTrail(database: database()).append([record])
                return
            }
            var logger = Logger(label: "orderflow.apikey")
            logger.logLevel = .warning
            let environment = ProcessInfo.processInfo.environment
            let (client, _) = try AWSSettings.client(environment: environment, logger: logger)
            let table = environment["ORDERFLOW_AWS_AUDIT_TABLE"].flatMap { $0.isEmpty ? nil : $0 } ?? AWSResourceSettings.defaultAuditTable
            do {
                _ = try await DynamoDBAuditTrail(dynamoDB: DynamoDB(client: client), table: table).append([record])
            } catch {
                try? await client.shutdown()
                throw error
            }
            try? await client.shutdown()
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print it once (only its hash is kept).")
        @Option(help: "What the key is for (shown by list and in the audit trail's principal).") var name: String
        @Option(help: "Comma-separated: \(Scope.allCases.map(\.rawValue).joined(separator: ", ")).") var scopes: String
        @OptionGroup var location: Location

        func run() async throws {
            let granted: Set<Scope>
            switch Scope.parseList(scopes) {
            case .success(let parsed) where !parsed.isEmpty: granted = parsed
            case .success: throw usage("--scopes names no scope")
            case .failure(let unknown): throw usage("--scopes: \(unknown)")
            }
            guard !name.isEmpty, name.count <= 100 else { throw usage("--name must be 1–100 characters") }
            let (key, text) = try await location.withKeys { try await $0.create(name: name, scopes: granted) }
            try await location.audit("create", keyId: key.id)
            print(text)
            printError("created API key \(key.id) (\(key.name)) with scopes \(key.scopes.sorted().map(\.rawValue).joined(separator: ",")); "
                       + "the key above is shown only now: send it as X-API-Key")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never their secrets).")
        @OptionGroup var location: Location

        func run() async throws {
            for key in try await location.withKeys({ try await $0.store.keys() }) {
                let state = key.revokedAt.map { "revoked \($0.iso8601)" } ?? "active"
                print("\(key.id)  \(key.name)  \(key.scopes.sorted().map(\.rawValue).joined(separator: ","))  created \(key.createdAt.iso8601)  \(state)")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key at once (it is kept, marked revoked, for the audit trail).")
        @Argument(help: "The key's id (from list).") var id: String
        @OptionGroup var location: Location

        func run() async throws {
            guard try await location.withKeys({ try await $0.store.revoke(id: id, at: SystemClock().now()) }) else { throw usage("no API key \(id)") }
            try await location.audit("revoke", keyId: id)
            print("revoked \(id)")
        }
    }
}

/// Prints the problem as one line; the caller throws the returned exit code (status 2).
private func usage(_ message: String) -> ExitCode {
    printError("orderflow apikey: \(message)")
    return ExitCode(2)
}
