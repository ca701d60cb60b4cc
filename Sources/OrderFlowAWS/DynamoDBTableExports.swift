import AWSKit
import Foundation

/// Point-in-time exports of DynamoDB tables into S3 (seed 004: "export DynamoDB to S3 before teardown"): DynamoDB
/// writes a consistent copy of the table as of one moment, as DynamoDB JSON files under the prefix, without reading
/// the table's capacity; the tables need point-in-time recovery, which `orderflow aws setup` and the data stack turn on.
public struct DynamoDBTableExports: Sendable {
    public let client: AWSClient

    public init(client: AWSClient) {
        self.client = client
    }

    /// One export, as DynamoDB describes it.
    public struct Export: Sendable, Hashable {
        public var table: String
        public var arn: String
        /// `IN_PROGRESS`, `COMPLETED` or `FAILED`.
        public var status: String
        public var bucket: String
        public var prefix: String
        public var itemCount: Int?
        public var failure: String?
    }

    /// Why an export could not be made.
    public enum ExportError: Error, CustomStringConvertible {
        case pointInTimeRecoveryOff(table: String)
        case failed(table: String, reason: String)
        case timedOut(tables: [String], after: Duration)

        public var description: String {
            switch self {
            case .pointInTimeRecoveryOff(let table):
                "point-in-time recovery is off on table \(table); turn it on (orderflow aws setup does, and so does the data stack) and export again"
            case .failed(let table, let reason): "the export of \(table) failed: \(reason)"
            case .timedOut(let tables, let limit): "exports of \(tables.joined(separator: ", ")) not complete after \(limit)"
            }
        }
    }

    private struct ExportInput: Encodable {
        let TableArn: String
        let S3Bucket: String
        let S3Prefix: String
        let ExportFormat: String
    }

    private struct ExportArnInput: Encodable {
        let ExportArn: String
    }

    private struct ExportOutput: Decodable {
        struct Description: Decodable {
            let ExportArn: String
            let ExportStatus: String
            let S3Bucket: String?
            let S3Prefix: String?
            let ItemCount: Int?
            let FailureCode: String?
            let FailureMessage: String?
        }

        let ExportDescription: Description
    }

    /// Starts a full export of `table` (DynamoDB JSON) to `bucket` under `prefix`.
    public func start(table: String, bucket: String, prefix: String) async throws -> Export {
        let arn = try await client.json(.dynamoDB, operation: "DescribeTable", input: DynamoDBTableName(TableName: table), as: DescribeTableOutput.self)
            .Table.TableArn
        do {
            let output = try await client.json(
                .dynamoDB, operation: "ExportTableToPointInTime",
                input: ExportInput(TableArn: arn, S3Bucket: bucket, S3Prefix: prefix, ExportFormat: "DYNAMODB_JSON"), as: ExportOutput.self)
            return Self.export(table: table, output.ExportDescription, bucket: bucket, prefix: prefix)
        } catch {
            if error.serviceError?.hasCode("PointInTimeRecoveryUnavailableException") == true {
                throw ExportError.pointInTimeRecoveryOff(table: table)
            }
            throw error
        }
    }

    /// The export's current description.
    public func describe(_ export: Export) async throws -> Export {
        let output = try await client.json(.dynamoDB, operation: "DescribeExport", input: ExportArnInput(ExportArn: export.arn), as: ExportOutput.self)
        return Self.export(table: export.table, output.ExportDescription, bucket: export.bucket, prefix: export.prefix)
    }

    /// Polls until each export has completed (first after half a second, the pause doubling up to `interval`); throws
    /// at the first failed one or after `timeout`. `progress` hears each export as it completes.
    public func waitForAll(
        _ exports: [Export], timeout: Duration = .seconds(3600), interval: Duration = .seconds(10),
        progress: @Sendable (Export) -> Void = { _ in }
    ) async throws -> [Export] {
        let deadline = ContinuousClock.now + timeout
        var pause = min(Duration.milliseconds(500), interval)
        var pending = exports
        var done: [Export] = []
        while !pending.isEmpty {
            var still: [Export] = []
            for export in pending {
                let current = try await describe(export)
                switch current.status {
                case "COMPLETED":
                    done.append(current)
                    progress(current)
                case "FAILED":
                    throw ExportError.failed(table: current.table, reason: current.failure ?? "no reason given")
                default:
                    still.append(current)
                }
            }
            pending = still
            guard !pending.isEmpty else { break }
            guard ContinuousClock.now < deadline else { throw ExportError.timedOut(tables: pending.map(\.table), after: timeout) }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, interval)
        }
        return exports.compactMap { started in done.first { $0.arn == started.arn } }
    }

    private static func export(table: String, _ description: ExportOutput.Description, bucket: String, prefix: String) -> Export {
        let failure = [description.FailureCode, description.FailureMessage].compactMap { $0 }.joined(separator: ": ")
        return Export(
            table: table, arn: description.ExportArn, status: description.ExportStatus, bucket: description.S3Bucket ?? bucket,
            prefix: description.S3Prefix ?? prefix, itemCount: description.ItemCount, failure: failure.isEmpty ? nil : failure)
    }
}

/// The input of DynamoDB operations that name one table (DescribeTable).
struct DynamoDBTableName: Encodable {
    let TableName: String
}

/// The part of DescribeTable's answer OrderFlow reads.
struct DescribeTableOutput: Decodable {
    struct Table: Decodable {
        let TableArn: String
        let TableStatus: String
    }

    let Table: Table
}
