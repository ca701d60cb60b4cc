import Foundation
import Synchronization
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
    static func uploads(_ root: URL) async throws -> (SQLiteQueue, FileObjectStore, OrderService, SQLiteMessaging) {
        let database = try AppDatabase.temporary()
        let messaging = SQLiteMessaging(database: database, logger: Self.logger)
        try await messaging.ensureQueue(name: "order-uploads")
        let queue = messaging.queue(named: "order-uploads")
        let objects = try FileObjectStore(root: root, bucket: "myapp-uploads", notifications: [.init(prefix: "orders/", queue: queue)],
                                          clock: SystemClock())
        return (queue, objects, OrderService(store: SQLiteOrderStore(database: database), policy: .standard, clock: SystemClock()), messaging)
    }

    static func temporaryRoot() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("gather-\(UUID().uuidString)")
    }

    @Test("notifications that arrive within the gather window after a receive are handled in the same batch", .timeLimit(.minutes(1)))
    func burstSharesOneBatch() async throws {
        let root = Self.temporaryRoot()
        let (queue, objects, orders, _) = try await Self.uploads(root)
        defer { try? FileManager.default.removeItem(at: root) }
        let batch = WorkInProgress()
        let worker = UploadIngestWorker(queue: queue, objects: objects, orders: orders, logger: Self.logger, bulkWork: batch,
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

    /// The real store underneath, with a record of each `accept` call: the sources of its submissions.
    final class AcceptRecorder: OrderStore {
        let store: any OrderStore
        let calls = Mutex<[[String]]>([])
        /// A call with an order of this source fails (a store that cannot take that file's orders).
        let failing: String?
        init(_ store: any OrderStore, failing: String? = nil) {
            self.store = store
            self.failing = failing
        }
        struct Refused: Error {}
        func accept(_ submissions: [OrderSubmission]) async throws -> [AcceptOutcome] {
            calls.withLock { $0.append(submissions.map(\.order.source)) }
            if let failing, submissions.contains(where: { $0.order.source == failing }) { throw Refused() }
            return try await store.accept(submissions)
        }
        func order(_ id: OrderID) async throws -> Order? { try await store.order(id) }
        func orders(matching query: OrderQuery) async throws -> OrderPage { try await store.orders(matching: query) }
        func apply(_ action: OrderAction, to id: OrderID, at time: Timestamp) async throws -> Order {
            try await store.apply(action, to: id, at: time)
        }
    }

    @Test("the files of one batch are submitted together (one store call), each order with its own file as source",
          .timeLimit(.minutes(1)))
    func batchFilesShareOneSubmission() async throws {
        let root = Self.temporaryRoot()
        let (queue, objects, plain, _) = try await Self.uploads(root)
        defer { try? FileManager.default.removeItem(at: root) }
        let recorder = AcceptRecorder(plain.store)
        let orders = OrderService(store: recorder, policy: .standard, clock: SystemClock())
        let worker = UploadIngestWorker(queue: queue, objects: objects, orders: orders, logger: Self.logger)
        for name in ["a", "b", "c"] {
            _ = try await objects.put(key: "orders/\(name).jsonl", bytes: Self.file(name), contentType: nil)
        }
        #expect(try await worker.processOnce(wait: .seconds(10)) == 3)
        let calls = recorder.calls.withLock { $0 }
        #expect(calls.count == 1)
        #expect(calls.first?.count == 9)
        for name in ["a", "b", "c"] {
            #expect(try await orders.order(OrderID("\(name)-2")!)?.source == "upload:orders/\(name).jsonl")
        }
        let depth = try await queue.depth()
        #expect(depth.visible == 0 && depth.inFlight == 0 && depth.deadLetters == 0)
    }

    @Test("in a batch, a broken file and a file with a conflicting order go to the DLQ with their reasons; the others are done",
          .timeLimit(.minutes(1)))
    func batchDeadLettersOnlyItsBadFiles() async throws {
        let root = Self.temporaryRoot()
        let (queue, objects, orders, messaging) = try await Self.uploads(root)
        defer { try? FileManager.default.removeItem(at: root) }
        let worker = UploadIngestWorker(queue: queue, objects: objects, orders: orders, logger: Self.logger)
        _ = try await orders.submit(OrderDraft(id: OrderID("c-1"), customerId: "c", currency: .seedDefault,
                                               items: [OrderItem(sku: "x", quantity: 1, unitPriceMinor: 1)], amountMinor: 1), source: "api")
        _ = try await objects.put(key: "orders/a.jsonl", bytes: Self.file("a"), contentType: nil)
        _ = try await objects.put(key: "orders/broken.json", bytes: Array("not json".utf8), contentType: nil)
        _ = try await objects.put(key: "orders/c.jsonl", bytes: Self.file("c"), contentType: nil)
        #expect(try await worker.processOnce(wait: .seconds(10)) == 3)
        #expect(try await orders.order(OrderID("a-3")!) != nil)
        // The conflicting file's other orders are kept.
        #expect(try await orders.order(OrderID("c-2")!)?.source == "upload:orders/c.jsonl")
        let letters = try await messaging.deadLetters(of: "order-uploads", limit: 10)
        #expect(letters.count == 2)
        #expect(letters.contains { $0.lastError?.contains("orders/broken.json") == true })
        #expect(letters.contains { $0.lastError?.contains("orders/c.jsonl") == true && $0.lastError?.contains("c-1") == true })
        let depth = try await queue.depth()
        #expect(depth.visible == 0 && depth.inFlight == 0)
    }

    @Test("when a batch's joint submission fails, its files are tried one by one: the failing one is retried later, the others are done",
          .timeLimit(.minutes(1)))
    func failedBatchFallsBackToOneByOne() async throws {
        let root = Self.temporaryRoot()
        let (queue, objects, plain, messaging) = try await Self.uploads(root)
        defer { try? FileManager.default.removeItem(at: root) }
        let recorder = AcceptRecorder(plain.store, failing: "upload:orders/b.jsonl")
        let orders = OrderService(store: recorder, policy: .standard, clock: SystemClock())
        let worker = UploadIngestWorker(queue: queue, objects: objects, orders: orders, logger: Self.logger)
        for name in ["a", "b", "c"] {
            _ = try await objects.put(key: "orders/\(name).jsonl", bytes: Self.file(name), contentType: nil)
        }
        #expect(try await worker.processOnce(wait: .seconds(10)) == 3)
        #expect(recorder.calls.withLock { $0.count } == 4)
        #expect(try await orders.order(OrderID("a-1")!) != nil)
        #expect(try await orders.order(OrderID("c-3")!) != nil)
        #expect(try await orders.order(OrderID("b-1")!) == nil)
        // b's message is still in the queue for its retry (in flight until its backoff ends, visible after: a slow
        // machine may already be past it); nothing was dead-lettered.
        let depth = try await queue.depth()
        #expect(depth.visible + depth.inFlight == 1 && depth.deadLetters == 0)
        #expect(try await messaging.deadLetters(of: "order-uploads", limit: 10).isEmpty)
    }

    @Test("without a gather window a receive takes what is there", .timeLimit(.minutes(1)))
    func noWindowTakesWhatIsThere() async throws {
        let root = Self.temporaryRoot()
        let (queue, objects, orders, _) = try await Self.uploads(root)
        defer { try? FileManager.default.removeItem(at: root) }
        let worker = UploadIngestWorker(queue: queue, objects: objects, orders: orders, logger: Self.logger)
        _ = try await objects.put(key: "orders/a.jsonl", bytes: Self.file("a"), contentType: nil)
        #expect(try await worker.processOnce(wait: .seconds(10)) == 1)
        #expect(try await orders.order(OrderID("a-3")!) != nil)
    }
}
