import ArgumentParser
import Foundation
import GRDB
import Logging
import OrderFlowCore
import OrderFlowEmbedded
import OrderFlowServer

/// The export file: JSON Lines. The first line describes the file; each further line is one order with its review
/// state and its payload hash (so replays and conflicts are still told apart after a restore).
enum ExportFormat {
    static let kind = "orderflow-export"
    static let version = 1

    static func header(exportedAt: Timestamp, source: String) -> JSONValue {
        .object(["type": .string(kind), "version": .int(Int64(version)), "exportedAt": .string(exportedAt.iso8601), "source": .string(source)])
    }

    static func line(_ order: Order) -> JSONValue {
        .object(["type": .string("order"), "payloadHash": .string(order.payloadHash), "order": order.json])
    }

    /// An order line back to the order; nil when the line is not one.
    static func order(from json: JSONValue) -> Order? {
        guard json["type"]?.stringValue == "order", let hash = json["payloadHash"]?.stringValue, !hash.isEmpty,
              let data = json["order"], var order = Order(json: data) else { return nil }
        order.payloadHash = hash
        return order
    }
}

/// `orderflow export --to FILE`: every order (with its review) as JSON Lines, a consistent snapshot of a data
/// directory, also while a server is running on it.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every order (and its review) to a JSON Lines file: a consistent snapshot, safe while the server runs."
    )
    @Option(name: .customLong("to"), help: "The file to write (replaced if it exists).") var file: String
    @Option(name: .customLong("data-dir"), help: "The data directory (env ORDERFLOW_DATA_DIR, default ./orderflow-data).") var dataDirectory: String?

    func run() async throws {
        try await reportingFailures("export") {
            let store = try openStore(dataDirectory)
            let temporary = file + ".partial"
            guard FileManager.default.createFile(atPath: temporary, contents: nil) else { throw UsageFailure("cannot create \(temporary)") }
            let output = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            let writer = BufferedLines(output)
            writer.append(ExportFormat.header(exportedAt: SystemClock().now(), source: store.path))
            let progress = Progress(label: "exported", total: nil)
            let count = try await store.store.exportSnapshot { order in
                writer.append(ExportFormat.line(order))
                progress.step()
            }
            try writer.flush()
            try output.close()
            // Whole or not at all: a file that exists under the final name is complete.
            _ = try? FileManager.default.removeItem(atPath: file)
            try FileManager.default.moveItem(atPath: temporary, toPath: file)
            progress.finish()
            print("exported \(count) orders to \(file)")
        }
    }
}

/// `orderflow import FILE`: orders from an export into a data directory. Orders already there with the same content
/// are skipped, so importing twice changes nothing; each new order's events go through the pipeline again (stream
/// for /stats; a high-value order without a review yet also to the review queue).
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Read orders from an export file into a data directory; orders already there are skipped (idempotent)."
    )
    @Argument(help: "A file written by `orderflow export`.") var file: String
    @Option(name: .customLong("data-dir"), help: "The data directory (env ORDERFLOW_DATA_DIR, default ./orderflow-data).") var dataDirectory: String?

    func run() async throws {
        try await reportingFailures("import") {
            guard let input = FileHandle(forReadingAtPath: file) else { throw UsageFailure("cannot read \(file)") }
            let directory = URL(fileURLWithPath: Settings.value(dataDirectory, env: "ORDERFLOW_DATA_DIR") ?? "orderflow-data")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var configuration = ServerConfiguration()
            configuration.dataDirectory = directory
            var logger = Logger(label: "orderflow-import")
            logger.logLevel = .error
            let system = try await EmbeddedSystem.open(configuration, logger: logger)
            let total = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int).flatMap { $0 }
            let progress = Progress(label: "imported", total: total, unit: "bytes")
            var created = 0, identical = 0, conflicting: [String] = [], lineNumber = 0
            var batch: [OrderSubmission] = []
            func flush() async throws {
                guard !batch.isEmpty else { return }
                for outcome in try await system.orderStore.accept(batch) {
                    switch outcome {
                    case .created: created += 1
                    case .replayed: identical += 1
                    case .conflict(let existing): conflicting.append(existing.id.rawValue)
                    }
                }
                batch.removeAll(keepingCapacity: true)
            }
            var reader = LineReader(input)
            while let line = try reader.next() {
                lineNumber += 1
                progress.advance(to: line.offset)
                guard !line.bytes.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) else { continue }
                guard let json = try? JSONParser.parse(line.bytes) else { throw UsageFailure("\(file):\(lineNumber) is not JSON") }
                if lineNumber == 1 {
                    guard json["type"]?.stringValue == ExportFormat.kind, json["version"]?.int64Value == Int64(ExportFormat.version) else {
                        throw UsageFailure("\(file) is not an OrderFlow export (version \(ExportFormat.version))")
                    }
                    continue
                }
                guard let order = ExportFormat.order(from: json) else { throw UsageFailure("\(file):\(lineNumber) is not an order line") }
                var events = [OrderEvent(type: .accepted, order: order)]
                if order.highValue && order.review == nil && order.status == .accepted { events.append(OrderEvent(type: .highValue, order: order)) }
                batch.append(OrderSubmission(order: order, events: events))
                if batch.count == 500 { try await flush() }
            }
            try await flush()
            progress.finish()
            print("imported \(file): \(created) new, \(identical) already there (skipped), \(conflicting.count) conflicting (kept as they were)"
                  + (conflicting.isEmpty ? "" : ": " + conflicting.prefix(10).joined(separator: ", ") + (conflicting.count > 10 ? ", …" : "")))
            if !conflicting.isEmpty { throw ExitCode(1) }
        }
    }
}

/// `orderflow backup --to FILE`: an online copy of the SQLite database (SQLite's backup API), safe while the server runs.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the database to FILE while the server keeps running (SQLite online backup); restore by putting it back as orderflow.sqlite."
    )
    @Option(name: .customLong("to"), help: "The file to write; must not exist.") var file: String
    @Option(name: .customLong("data-dir"), help: "The data directory (env ORDERFLOW_DATA_DIR, default ./orderflow-data).") var dataDirectory: String?

    func run() async throws {
        try await reportingFailures("backup") {
            guard !FileManager.default.fileExists(atPath: file) else { throw UsageFailure("\(file) exists; choose a new file") }
            let store = try openStore(dataDirectory)
            let target = try DatabaseQueue(path: file)
            let progress = Progress(label: "copied", total: nil, unit: "pages")
            try store.database.pool.backup(to: target) { step in
                progress.set(step.completedPageCount, total: step.totalPageCount)
            }
            progress.finish()
            let orders = try await target.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM orders") ?? 0 }
            print("backed up \(store.path) to \(file) (\(orders) orders)")
        }
    }
}

/// The database of an existing data directory (never a new one: a typo in the path must not look like an empty export).
private func openStore(_ option: String?) throws -> (database: AppDatabase, store: SQLiteOrderStore, path: String) {
    let directory = Settings.value(option, env: "ORDERFLOW_DATA_DIR") ?? "orderflow-data"
    let path = URL(fileURLWithPath: directory).appendingPathComponent("orderflow.sqlite").path
    guard FileManager.default.fileExists(atPath: path) else { throw UsageFailure("no OrderFlow database at \(path)") }
    let database = try AppDatabase(path: path)
    let stream = SQLiteMessaging(database: database, clock: SystemClock(), logger: Logger(label: "orderflow")).stream(named: ResourceNames().ordersStream, shardCount: 2)
    return (database, SQLiteOrderStore(database: database, ordersStream: stream), path)
}

/// Runs `body`; a usage failure or any other error is one line on stderr and exit status 2.
private func reportingFailures(_ command: String, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch let failure as UsageFailure {
        printError("orderflow \(command): \(failure)")
        throw ExitCode(2)
    } catch {
        printError("orderflow \(command): \(error)")
        throw ExitCode(2)
    }
}
