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

    /// Reads and ingests one object; throws `UploadError` when the object cannot be read as a whole.
    public func ingest(key: String) async throws -> Report {
        guard let bytes = try await objects.get(key: key) else { throw UploadError.missing }
        guard bytes.count <= maximumObjectSize else { throw UploadError.tooLarge(limit: maximumObjectSize) }
        let document = UploadDocument.parse(bytes)
        var report = Report(key: key, problems: document.problems)
        orders.metrics.orderRejected(reason: "upload-invalid", count: document.problems.count)
        let source = "upload:\(key)"
        var start = 0
        while start < document.orders.count {
            let chunk = Array(document.orders[start..<min(start + 1000, document.orders.count)])
            let outcomes = try await orders.submit(chunk.map(\.draft), source: source)
            for (uploaded, outcome) in zip(chunk, outcomes) {
                switch outcome {
                case .created: report.accepted += 1
                case .replayed: report.replayed += 1
                case .conflict(let existing):
                    report.problems.append(UploadProblem(position: uploaded.position, reason: "order \(existing.id) already exists with different content"))
                }
            }
            start += 1000
        }
        report.problems.sort { $0.position < $1.position }
        return report
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
