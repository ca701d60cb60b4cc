import ArgumentParser
import AWSKit
import Foundation
import Logging
import OrderFlowAWS
import OrderFlowCore
import OrderFlowEmbedded
import OrderFlowServer

/// `orderflow logs …`: the log files of an instance.
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Log file helpers.", subcommands: [LogsArchiveCommand.self])
}

/// `orderflow logs archive`: seed 000's cron job as a command a timer runs after logrotate: every compressed rotated log
/// file (`app.log.2.gz`, `app.log-20261125.gz`) goes to the object store as `logs/<host>-<timestamp>.log.gz`, once.
struct LogsArchiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive",
        abstract: "Upload rotated, compressed log files to the object store under logs/<host>-<timestamp>.log.gz (each once).",
        discussion: """
        Uncompressed rotated files (logrotate's delaycompress keeps the newest one plain for a day) are left for the next \
        run, after logrotate has compressed them. The live log file is never touched. Files already archived (same key) are skipped.
        """
    )
    @Option(name: .customLong("log-file"), help: "The live log file whose rotations to archive (env ORDERFLOW_LOG_FILE).") var logFile: String?
    @Option(help: "embedded (the data directory's object store, the default) or aws (the uploads bucket, or ORDERFLOW_AWS_LOGS_BUCKET) (env ORDERFLOW_BACKEND).")
    var backend: String?
    @Option(name: .customLong("data-dir"), help: "With the embedded backend: the data directory (env ORDERFLOW_DATA_DIR, default ./orderflow-data).")
    var dataDirectory: String?
    @Option(help: "The host name in the object keys (default: this machine's).") var host: String?

    func run() async throws {
        do {
            guard let logFile = Settings.value(logFile, env: "ORDERFLOW_LOG_FILE") else {
                throw UsageFailure("--log-file (or ORDERFLOW_LOG_FILE) names the log file whose rotations to archive")
            }
            let host = Self.keySafe(host ?? ProcessInfo.processInfo.hostName)
            let files = try Self.rotatedFiles(of: logFile)
            switch Settings.value(backend, env: "ORDERFLOW_BACKEND") ?? "embedded" {
            case "embedded":
                let directory = URL(fileURLWithPath: Settings.value(dataDirectory, env: "ORDERFLOW_DATA_DIR") ?? "orderflow-data")
                let objects = try FileObjectStore(root: directory.appendingPathComponent("objects", isDirectory: true), bucket: ResourceNames().uploadsBucket,
                                                  notifications: [], clock: SystemClock())
                try await archive(files, host: host, to: objects)
            case "aws":
                var logger = Logger(label: "orderflow.logs")
                logger.logLevel = .warning
                let environment = ProcessInfo.processInfo.environment
                let bucket = [environment["ORDERFLOW_AWS_LOGS_BUCKET"], environment["ORDERFLOW_AWS_UPLOADS_BUCKET"]].compactMap { $0 }.first { !$0.isEmpty } ?? "myapp-uploads"
                let (client, _) = try AWSSettings.client(environment: environment, logger: logger)
                do {
                    try await archive(files, host: host, to: S3ObjectStore(client: client, bucket: bucket))
                } catch {
                    try? await client.shutdown()
                    throw error
                }
                try? await client.shutdown()
            case let other:
                throw UsageFailure("--backend \(other) is not embedded or aws")
            }
        } catch let failure as UsageFailure {
            printError("orderflow logs archive: \(failure)")
            throw ExitCode(2)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("orderflow logs archive: \(error)")
            throw ExitCode(1)
        }
    }

    func archive(_ files: [RotatedLog], host: String, to objects: any ObjectStore) async throws {
        let existing = Set(try await objects.list(prefix: "logs/\(host)-", limit: 10_000).map(\.key))
        var uploaded = 0, skipped = 0
        for file in files where file.compressed {
            let key = "logs/\(host)-\(file.timestamp).log.gz"
            if existing.contains(key) {
                skipped += 1
                continue
            }
            let bytes = try [UInt8](Data(contentsOf: file.url))
            _ = try await objects.put(key: key, bytes: bytes, contentType: "application/gzip")
            print("archived \(file.url.lastPathComponent) as \(objects.bucket)/\(key) (\(bytes.count) bytes)")
            uploaded += 1
        }
        let waiting = files.filter { !$0.compressed }.map(\.url.lastPathComponent)
        print("logs archive: \(uploaded) uploaded, \(skipped) already archived"
              + (waiting.isEmpty ? "" : ", \(waiting.count) not compressed yet (next run): \(waiting.joined(separator: ", "))"))
    }

    /// A rotated log file and the UTC time it was last written (its timestamp in the key).
    struct RotatedLog {
        let url: URL
        let compressed: Bool
        let timestamp: String
    }

    /// Files next to `logFile` named `<name>.<n>[.gz]` or `<name>-<date>[.gz]` (logrotate's numbering or dateext).
    static func rotatedFiles(of logFile: String) throws -> [RotatedLog] {
        let live = URL(fileURLWithPath: logFile)
        let directory = live.deletingLastPathComponent()
        let name = live.lastPathComponent
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw UsageFailure("cannot list \(directory.path): \(error.localizedDescription)")
        }
        return try entries.sorted().compactMap { entry -> RotatedLog? in
            guard entry != name, entry.hasPrefix(name + ".") || entry.hasPrefix(name + "-") else { return nil }
            var suffix = entry.dropFirst(name.count + 1)
            let compressed = suffix.hasSuffix(".gz")
            if compressed { suffix = suffix.dropLast(3) }
            guard !suffix.isEmpty, suffix.allSatisfy({ $0.isNumber }) else { return nil }
            let url = directory.appendingPathComponent(entry)
            let modified = try FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as? Date ?? Date()
            return RotatedLog(url: url, compressed: compressed, timestamp: Self.stamp(modified))
        }
    }

    /// `20261125T061500Z`.
    static func stamp(_ date: Date) -> String {
        let iso = Timestamp(millisecondsSinceEpoch: Int64(date.timeIntervalSince1970 * 1000)).iso8601
        return String(iso.prefix(19)).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "") + "Z"
    }

    /// Letters, digits, `.` and `-` of a host name (a key segment without surprises).
    static func keySafe(_ host: String) -> String {
        let safe = String(host.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "-" })
        return safe.isEmpty ? "host" : safe
    }
}
