import Foundation
import Logging
import OrderFlowApp
import OrderFlowCore
import OrderFlowEmbedded
import Testing

/// The upload worker's gathering: files dropped in a burst share one batch (and so, on AWS, one relay round).
@Suite("Upload batches")
struct UploadGatheringTests {
    static func file(_ name: String) -> [UInt8] {
        Array((1...3).map { #"{"OrderId":"\#(name)-\#($0)","Amount":\#($0 == 1 ? 450 : 20)}"# }.joined(separator: "\n").utf8)
    }

    static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }()

    /// The `order-uploads` queue, an object store under `root` that announces `orders/` keys on it, and an order service,
    /// on one temporary database.
    static func uploads(_ root: URL) async throws -> (SQLiteQueue, FileObjectStore, OrderService, Logger) {
        let database = try AppDatabase.temporary()
        let messaging = SQLiteMessaging(database: database, logger: logger)
        try await messaging.ensureQueue(name: "order-uploads")
        let queue = messaging.queue(named: "order-uploads")
        let objects = try FileObjectStore(root: root, bucket: "myapp-uploads", notifications: [.init(prefix: "orders/", queue: queue)],
                                          clock: SystemClock())
        return (queue, objects, OrderService(store: SQLiteOrderStore(database: database), policy: .standard, clock: SystemClock()), logger)
    }

    static func temporaryRoot() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("gather-\(UUID().uuidString)")
    }

    @Test("notifications that arrive within the gather window after a receive are handled in the same batch", .timeLimit(.minutes(1)))
    func burstSharesOneBatch() async throws {
        let root = Self.temporaryRoot()
        let (queue, objects, orders, logger) = try await Self.uploads(root)
        defer { try? FileManager.default.removeItem(at: root) }
        let batch = WorkInProgress()
        let worker = UploadIngestWorker(queue: queue, objects: objects, orders: orders, logger: logger, bulkWork: batch,
                                        gatherWindow: .seconds(3))

        _ = try await objects.put(key: "orders/a.jsonl", bytes: Self.file("a"), contentType: nil)
        let round = Task { try await worker.processOnce(wait: .seconds(10)) }
        // Once the first notification is in the worker's hands, two more files arrive.
        while try await queue.depth().inFlight == 0 { await Task.yield() }
        _ = try await objects.put(key: "orders/b.jsonl", bytes: Self.file("b"), contentType: nil)
        _ = try await objects.put(key: "orders/c.jsonl", bytes: Self.file("c"), contentType: nil)

        #expect(try await round.value == 3)
        for name in ["a", "b", "c"] {
            for n in 1...3 { #expect(try await orders.order(OrderID("\(name)-\(n)")!) != nil) }
        }
        let depth = try await queue.depth()
        #expect(depth.visible == 0 && depth.inFlight == 0)
        #expect(batch.count == 0)
    }

    @Test("without a gather window a receive takes what is there", .timeLimit(.minutes(1)))
    func noWindowTakesWhatIsThere() async throws {
        let root = Self.temporaryRoot()
        let (queue, objects, orders, logger) = try await Self.uploads(root)
        defer { try? FileManager.default.removeItem(at: root) }
        let worker = UploadIngestWorker(queue: queue, objects: objects, orders: orders, logger: logger)
        _ = try await objects.put(key: "orders/a.jsonl", bytes: Self.file("a"), contentType: nil)
        #expect(try await worker.processOnce(wait: .seconds(10)) == 1)
        #expect(try await orders.order(OrderID("a-3")!) != nil)
    }
}
