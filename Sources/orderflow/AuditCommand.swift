import ArgumentParser
import Foundation
import OrderFlowCore
import OrderFlowEmbedded

/// `orderflow audit verify`: checks the hash chain and the signed digests of a data directory's audit trail.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "The audit trail.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every entry's hash, the chain between entries, and the signed digests; name each edited, inserted or deleted entry.",
            discussion: "Exit status 0: intact; 1: tampering found (one line per problem); 2: the trail cannot be read."
        )
        @Option(name: .customLong("data-dir"), help: "The data directory (env ORDERFLOW_DATA_DIR, default ./orderflow-data).") var dataDirectory: String?

        func run() async throws {
            let directory = URL(fileURLWithPath: Settings.value(dataDirectory, env: "ORDERFLOW_DATA_DIR") ?? "orderflow-data")
            let path = directory.appendingPathComponent("orderflow.sqlite").path
            let keyPath = directory.appendingPathComponent("audit-signing.key").path
            guard FileManager.default.fileExists(atPath: path), FileManager.default.fileExists(atPath: keyPath) else {
                printError("orderflow audit verify: no audit trail at \(directory.path) (needs orderflow.sqlite and audit-signing.key)")
                throw ExitCode(2)
            }
            let trail = SQLiteAuditTrail(database: try AppDatabase(path: path))
            let key = try AuditSigningKey.load(directory: directory)
            let entries = try await trail.allEntries()
            let digests = try await trail.digests()
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
    }
}
