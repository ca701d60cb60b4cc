import ArgumentParser
import AWSKit
import Foundation
import GRDB
import Logging
import OrderFlowAWS
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

    static func line(_ document: Document) -> JSONValue {
        var json = document.json
        if case .object(var members) = json {
            members.append(JSONMember(key: "uploaded_at_ms", value: .int(document.uploadedAt.millisecondsSinceEpoch)))
            members.append(JSONMember(key: "object_key", value: .string(orNull: document.objectKey)))
            json = .object(members)
        }
        return .object(["type": .string("document"), "document": json])
    }

    static func line(_ entry: AuditEntry) -> JSONValue {
        .object([
            "type": .string("audit"), "sequence": .int(entry.sequence), "timeMs": .int(entry.record.time.millisecondsSinceEpoch),
            "principal": .string(entry.record.principal), "method": .string(entry.record.method), "route": .string(entry.record.route),
            "resource": .string(entry.record.resource), "status": .int(Int64(entry.record.status)),
            "sourceAddress": .string(entry.record.sourceAddress), "requestId": .string(entry.record.requestId),
            "previousHash": .string(entry.previousHash), "hash": .string(entry.hash),
        ])
    }

    static func document(from json: JSONValue) -> Document? {
        guard json["type"]?.stringValue == "document", let d = json["document"], let id = d["id"]?.stringValue,
              let filename = d["filename"]?.stringValue, let size = d["size_bytes"]?.int64Value, let type = d["content_type"]?.stringValue,
              let sha = d["sha256"]?.stringValue, let time = d["uploaded_at_ms"]?.int64Value, let uploader = d["uploader"]?.stringValue else { return nil }
        return Document(id: id, filename: filename, sizeBytes: size, contentType: type, sha256: sha, uploadedAt: Timestamp(millisecondsSinceEpoch: time),
                        uploader: uploader, objectKey: d["object_key"]?.stringValue)
    }

    static func auditEntry(from json: JSONValue) -> AuditEntry? {
        guard json["type"]?.stringValue == "audit", let sequence = json["sequence"]?.int64Value, let time = json["timeMs"]?.int64Value,
              let principal = json["principal"]?.stringValue, let method = json["method"]?.stringValue, let route = json["route"]?.stringValue,
              let resource = json["resource"]?.stringValue, let status = json["status"]?.int64Value,
              let source = json["sourceAddress"]?.stringValue, let requestId = json["requestId"]?.stringValue,
              let previous = json["previousHash"]?.stringValue, let hash = json["hash"]?.stringValue else { return nil }
        return AuditEntry(sequence: sequence, record: AuditRecord(time: Timestamp(millisecondsSinceEpoch: time), principal: principal, method: method,
                                                                  route: route, resource: resource, status: Int(status), sourceAddress: source, requestId: requestId),
                          previousHash: previous, hash: hash)
    }

    /// An order line back to the order; nil when the line is not one.
    static func order(from json: JSONValue) -> Order? {
        guard json["type"]?.stringValue == "order", let hash = json["payloadHash"]?.stringValue, !hash.isEmpty,
              let data = json["order"], var order = Order(json: data) else { return nil }
        order.payloadHash = hash
        return order
    }
}

/// `orderflow export --to FILE`: every order (with its review), document and audit entry as JSON Lines, a consistent
/// snapshot of a data directory, also while a server is running on it. `--backend aws`: a point-in-time export of every
/// table of the AWS backend into the uploads bucket (seed 004's export before teardown).
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every order, document and audit entry to a JSON Lines file (a consistent snapshot, safe while the server runs); on AWS, export the tables to the uploads bucket."
    )
    @Option(name: .customLong("to"), help: "The file to write (replaced if it exists); embedded backend.") var file: String?
    @Option(name: .customLong("data-dir"), help: "The data directory (env ORDERFLOW_DATA_DIR, default ./orderflow-data).") var dataDirectory: String?
    @Option(help: "embedded (the default) or aws: point-in-time exports of the tables to the uploads bucket (env ORDERFLOW_BACKEND).")
    var backend: String?
    @Option(help: "aws: the key prefix in the uploads bucket; each export goes under PREFIX<UTC time>/<table>.") var prefix: String = "exports/"
    @Option(name: .customLong("wait"), help: "aws: seconds to wait for the exports to complete (default 3600).") var waitSeconds: Int = 3600

    func run() async throws {
        try await reportingFailures("export") {
            switch Settings.value(backend, env: "ORDERFLOW_BACKEND") ?? "embedded" {
            case "embedded":
                guard let file else { throw UsageFailure("--to FILE names the file to write") }
                try await exportEmbedded(to: file)
            case "aws":
                guard file == nil else { throw UsageFailure("--to is for the embedded backend; on AWS the tables are exported to the uploads bucket") }
                try await exportAWS()
            case let other:
                throw UsageFailure("--backend \(other) is not embedded or aws")
            }
        }
    }

    func exportEmbedded(to file: String) async throws {
        let store = try openStore(dataDirectory)
        let temporary = file + ".partial"
        guard FileManager.default.createFile(atPath: temporary, contents: nil) else { throw UsageFailure("cannot create \(temporary)") }
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
        let writer = BufferedLines(output)
        writer.append(ExportFormat.header(exportedAt: SystemClock().now(), source: store.path))
        let progress = Progress(label: "exported", total: nil)
        let counts = try await DataSnapshot.read(store.database) { item in
            switch item {
            case .order(let order): writer.append(ExportFormat.line(order))
            case .document(let document): writer.append(ExportFormat.line(document))
            case .audit(let entry): writer.append(ExportFormat.line(entry))
            }
            progress.step()
        }
        try writer.flush()
        try output.close()
        // Whole or not at all: a file that exists under the final name is complete.
        _ = try? FileManager.default.removeItem(atPath: file)
        try FileManager.default.moveItem(atPath: temporary, toPath: file)
        progress.finish()
        print("exported \(counts.orders) orders, \(counts.documents) documents and \(counts.auditEntries) audit entries to \(file)")
    }

    /// The tables of the AWS backend (`ORDERFLOW_AWS_*_TABLE`, the seeds' names by default), in export order.
    static func awsTables(_ environment: [String: String]) -> [String] {
        let settings = [
            ("ORDERFLOW_AWS_ORDERS_TABLE", "Orders"), ("ORDERFLOW_AWS_OUTBOX_TABLE", "OrdersOutbox"),
            ("ORDERFLOW_AWS_ANALYTICS_TABLE", "OrdersAnalytics"), ("ORDERFLOW_AWS_API_KEYS_TABLE", "OrderFlowApiKeys"),
            ("ORDERFLOW_AWS_DOCUMENTS_TABLE", "OrderFlowDocuments"), ("ORDERFLOW_AWS_AUDIT_TABLE", "OrderFlowAudit"),
        ]
        return settings.map { name, fallback in environment[name].flatMap { $0.isEmpty ? nil : $0 } ?? fallback }
    }

    func exportAWS() async throws {
        guard prefix.isEmpty || (!prefix.hasPrefix("/") && prefix.count <= 512) else { throw UsageFailure("--prefix \(prefix) must be a relative key prefix") }
        guard waitSeconds >= 0 else { throw UsageFailure("--wait \(waitSeconds) must not be negative") }
        var logger = Logger(label: "orderflow.export")
        logger.logLevel = .warning
        let environment = ProcessInfo.processInfo.environment
        let bucket = environment["ORDERFLOW_AWS_UPLOADS_BUCKET"].flatMap { $0.isEmpty ? nil : $0 } ?? "myapp-uploads"
        let (client, _) = try AWSSettings.client(environment: environment, logger: logger)
        do {
            let exports = DynamoDBTableExports(client: client)
            let stamp = Self.stamp(Date())
            var started: [DynamoDBTableExports.Export] = []
            for table in Self.awsTables(environment) {
                started.append(try await exports.start(table: table, bucket: bucket, prefix: "\(prefix)\(stamp)/\(table)"))
            }
            let done = try await exports.waitForAll(started, timeout: .seconds(waitSeconds)) { export in
                print("\(export.table): \(export.itemCount.map(String.init) ?? "?") items exported to s3://\(export.bucket)/\(export.prefix)")
            }
            print("exported \(done.count) tables to s3://\(bucket)/\(prefix)\(stamp)/ (point in time, DynamoDB JSON)")
        } catch {
            try? await client.shutdown()
            throw error
        }
        try? await client.shutdown()
    }

    /// `20261125T120000Z`: sorts by time, safe in a key.
    static func stamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
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
            var documentsNew = 0, documentsThere = 0
            var auditEntries: [AuditEntry] = []
            let documentStore = SQLiteDocumentStore(database: system.database)
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
                if let document = ExportFormat.document(from: json) {
                    if try await documentStore.insertIfAbsent(document) { documentsNew += 1 } else { documentsThere += 1 }
                    continue
                }
                if let entry = ExportFormat.auditEntry(from: json) {
                    auditEntries.append(entry)
                    continue
                }
                guard let order = ExportFormat.order(from: json) else { throw UsageFailure("\(file):\(lineNumber) is not an order, document or audit line") }
                var events = [OrderEvent(type: .accepted, order: order)]
                if order.highValue && order.review == nil && order.status == .accepted { events.append(OrderEvent(type: .highValue, order: order)) }
                batch.append(OrderSubmission(order: order, events: events))
                if batch.count == 500 { try await flush() }
            }
            try await flush()
            var auditNote = "no audit entries"
            if !auditEntries.isEmpty {
                auditNote = try await SQLiteAuditTrail(database: system.database).restore(auditEntries)
                    ? "\(auditEntries.count) audit entries restored"
                    : "\(auditEntries.count) audit entries skipped (the trail here is not empty)"
            }
            progress.finish()
            print("documents: \(documentsNew) new, \(documentsThere) already there; \(auditNote)")
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
