import OrderFlowCore

/// Reads one uploaded object and accepts every valid order in it with `source = upload:<key>`; what it could not accept
/// comes back as problems. The upload worker (embedded and AWS) and the Lambda processor share it.
public struct UploadIngest: Sendable {
    /// Objects larger than this are refused whole (bounded memory): 16 MiB.
    public static let defaultMaximumObjectSize = 16 << 20

    let objects: any ObjectStore
    let orders: OrderService
    let maximumObjectSize: Int

    public init(objects: any ObjectStore, orders: OrderService, maximumObjectSize: Int = UploadIngest.defaultMaximumObjectSize) {
        self.objects = objects
        self.orders = orders
        self.maximumObjectSize = maximumObjectSize
    }

    /// What ingesting one object did.
    public struct Report: Sendable, Hashable {
        public var key: String
        public var accepted = 0
        public var replayed = 0
        public var problems: [UploadProblem] = []

        /// The problems as one line (the first 20), for a dead letter's reason or an error message.
        public var problemSummary: String {
            problems.prefix(20).map(\.description).joined(separator: "; ")
                + (problems.count > 20 ? "; … \(problems.count - 20) more" : "")
        }
    }

    /// An object read and split into orders, not yet submitted.
    public struct ReadObject: Sendable {
        public let key: String
        /// The object's size in bytes.
        public let size: Int
        let document: UploadDocument
    }

    /// Reads and ingests one object; throws `UploadError` when the object cannot be read as a whole.
    public func ingest(key: String) async throws -> Report {
        guard let report = try await accept([try await read(key: key)]).first else { preconditionFailure("one report per object") }
        return report
    }

    /// Reads one object and splits it into orders; throws `UploadError` when the object cannot be read as a whole.
    public func read(key: String) async throws -> ReadObject {
        guard let bytes = try await objects.get(key: key) else { throw UploadError.missing }
        guard bytes.count <= maximumObjectSize else { throw UploadError.tooLarge(limit: maximumObjectSize) }
        return ReadObject(key: key, size: bytes.count, document: UploadDocument.parse(bytes))
    }

    /// Accepts the orders of several objects together (each with its own object as source), 1,000 per store call, so
    /// a batch of files shares the store's transactions; one report per object, in order.
    public func accept(_ read: [ReadObject]) async throws -> [Report] {
        var reports = read.map { Report(key: $0.key, problems: $0.document.problems) }
        for object in read {
            orders.metrics.orderRejected(reason: "upload-invalid", count: object.document.problems.count)
        }
        let all = read.indices.flatMap { index in read[index].document.orders.map { (object: index, uploaded: $0) } }
        for chunk in all.chunks(of: 1000) {
            let outcomes = try await orders.submit(chunk.map { (draft: $0.uploaded.draft, source: "upload:\(read[$0.object].key)") })
            for (entry, outcome) in zip(chunk, outcomes) {
                switch outcome {
                case .created: reports[entry.object].accepted += 1
                case .replayed: reports[entry.object].replayed += 1
                case .conflict(let existing):
                    reports[entry.object].problems.append(UploadProblem(
                        position: entry.uploaded.position, reason: "order \(existing.id) already exists with different content"))
                }
            }
        }
        for index in reports.indices { reports[index].problems.sort { $0.position < $1.position } }
        return reports
    }
}

/// Why an uploaded object cannot be ingested at all.
public enum UploadError: Error, Sendable, CustomStringConvertible {
    case missing
    case tooLarge(limit: Int)

    public var description: String {
        switch self {
        case .missing: "the object does not exist"
        case .tooLarge(let limit): "the object is larger than \(limit) bytes"
        }
    }
}
