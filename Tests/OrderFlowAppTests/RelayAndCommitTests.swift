import Foundation
import Logging
import OrderFlowApp
import OrderFlowCore
import GRDB
import OrderFlowEmbedded
import Testing

@Suite("Outbox relay and group commit")
struct RelayAndCommitTests {
    let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }()

    func draft(_ id: String, _ amount: Int64) -> OrderDraft {
        OrderDraft(id: OrderID(id), customerId: "c", currency: .seedDefault, items: [], amountMinor: amount)
    }

    /// An order store, stream `OrdersStream` and topic `Topic` → queue `ReviewQueue` on one temporary database; with
    /// `brokenSubscription`, the topic also feeds a queue that no longer exists, so publishing fails until it is
    /// created again.
    struct Pipeline {
        let database: AppDatabase
        let messaging: SQLiteMessaging
        let store: SQLiteOrderStore
        let orders: OrderService
        let stream: SQLiteStream
        let topic: SQLiteTopic

        init(logger: Logger, brokenSubscription: String? = nil) async throws {
            database = try AppDatabase.temporary()
            messaging = SQLiteMessaging(database: database, logger: logger)
            store = SQLiteOrderStore(database: database)
            orders = OrderService(store: store, policy: .standard, clock: SystemClock())
            stream = messaging.stream(named: "OrdersStream")
            topic = messaging.topic(named: "Topic")
            try await messaging.ensureQueue(name: "ReviewQueue")
            try await messaging.subscribe(topic: "Topic", to: .queue("ReviewQueue"))
            if let broken = brokenSubscription {
                try await messaging.ensureQueue(name: broken)
                try await messaging.subscribe(topic: "Topic", to: .queue(broken))
                try await database.pool.write { db in try db.execute(sql: "DELETE FROM queue WHERE name = ?", arguments: [broken]) }
            }
        }

        func streamRecords() async throws -> Int {
            var records = 0
            for shard in try await stream.shardIds() { records += try await stream.countRecords(shardId: shard, after: nil) }
            return records
        }
    }

    @Test("a relay that fails half-way re-delivers everything and consumers count each order once")
    func relayFailureRedeliversWithoutDoubleCounting() async throws {
        // One of the topic's subscriptions points at a queue that then disappears: publishing fails after the stream
        // put succeeded — the worst place for a relay to stop.
        let pipeline = try await Pipeline(logger: logger, brokenSubscription: "NotYetCreated")
        let (database, messaging, store, orders, stream) = (pipeline.database, pipeline.messaging, pipeline.store, pipeline.orders, pipeline.stream)
        let relay = OutboxRelay(outbox: store, highValueTopic: pipeline.topic, ordersStream: stream, logger: logger)

        for i in 0..<20 { _ = try await orders.submit(draft("o\(i)", i % 4 == 0 ? 50_000 : 1_000), source: "test") }
        #expect(try await store.backlog() == 25)
        await #expect(throws: (any Error).self) { try await relay.relayOnce() }
        #expect(try await store.backlog() == 25, "nothing is marked delivered when a destination failed")

        try await messaging.ensureQueue(name: "NotYetCreated")
        var relayed = 0
        while try await store.backlog() > 0 { relayed += try await relay.relayOnce() }
        #expect(relayed == 25)

        // The stream now holds the accepted events twice (first attempt + re-delivery); the count must not.
        #expect(try await pipeline.streamRecords() == 40)
        let analytics = SQLiteAnalyticsStore(database: database)
        let consumer = AnalyticsConsumer(stream: stream, store: analytics, logger: logger)
        while try await consumer.consumeOnce() > 0 {}
        let snapshot = try await analytics.snapshot(now: SystemClock().now())
        #expect(snapshot.orders == 20)
        #expect(snapshot.highValueOrders == 5)
        #expect(snapshot.revenueMinor["USD"] == Int64(5 * 50_000 + 15 * 1_000))

        // Every high-value event reached the review queue; a review worker opens one case per order regardless.
        let queue = messaging.queue(named: "ReviewQueue")
        let worker = ReviewWorker(queue: queue, orders: orders, logger: logger)
        while try await worker.processOnce(wait: .zero) > 0 {}
        let open = try await orders.orders(matching: OrderQuery(review: .open))
        #expect(open.orders.map(\.id.rawValue).sorted() == ["o0", "o12", "o16", "o4", "o8"])
    }

    @Test("a relay batch with more high-value events than one publish may carry delivers all of them, each once")
    func relaySplitsLargeBatchesIntoPublishChunks() async throws {
        let pipeline = try await Pipeline(logger: logger)
        let (messaging, store, orders) = (pipeline.messaging, pipeline.store, pipeline.orders)
        let relay = OutboxRelay(outbox: store, highValueTopic: pipeline.topic, ordersStream: pipeline.stream, logger: logger)

        // 4 publish batches' worth of high-value orders (plus a remainder) and more accepted events than one put holds.
        let highValue = MessagingBatchLimit.topicPublish * 4 + 3
        let total = MessagingBatchLimit.streamPut + 20
        for i in 0..<total { _ = try await orders.submit(draft("o\(i)", i < highValue ? 50_000 : 1_000), source: "test") }
        #expect(try await store.backlog() == total + highValue)

        var relayed = 0
        while try await store.backlog() > 0 { relayed += try await relay.relayOnce() }
        #expect(relayed == total + highValue)
        #expect(try await messaging.queue(named: "ReviewQueue").depth().visible == highValue)
        #expect(try await pipeline.streamRecords() == total)
    }

    @Test("high-value events batched into messages: a redelivered message opens each review once; an illegal event dead-letters its message")
    func batchedHighValueMessagesOpenEachReviewOnce() async throws {
        let pipeline = try await Pipeline(logger: logger)
        let (messaging, store, orders) = (pipeline.messaging, pipeline.store, pipeline.orders)
        let relay = OutboxRelay(outbox: store, highValueTopic: pipeline.topic, ordersStream: pipeline.stream, logger: logger,
                                highValueEventsPerMessage: 100)
        for i in 0..<250 { _ = try await orders.submit(draft("o\(i)", i % 2 == 0 ? 50_000 : 1_000), source: "test") }
        while try await store.backlog() > 0 { _ = try await relay.relayOnce() }
        let queue = messaging.queue(named: "ReviewQueue")
        #expect(try await queue.depth().visible == 2, "125 high-value events in messages of up to 100")

        // SQS delivers at least once, and a relay that died before marking its batch delivered publishes it again:
        // the first message arrives a second time.
        let first = try #require(try await queue.receive(maxMessages: 1, waitTime: .zero, visibilityTimeout: .zero).first)
        #expect(OrderEvent.decodeAll(first.body)?.count == 100)
        try await queue.send([OutgoingMessage(body: first.body, attributes: first.attributes)])
        let worker = ReviewWorker(queue: queue, orders: orders, logger: logger)
        while try await worker.processOnce(wait: .zero) > 0 {}
        let open = try await orders.orders(matching: OrderQuery(review: .open, limit: 1000)).orders
        #expect(open.count == 125)
        #expect(Set(open.map(\.id)).count == 125)
        #expect(open.allSatisfy { $0.highValue })
        var depth = try await queue.depth()
        #expect(depth.visible == 0 && depth.inFlight == 0 && depth.deadLetters == 0)

        // One event of a message cannot succeed (o1 is not high-value): the message goes to the dead-letter queue
        // whole, and the review of its other order (already open) stays as it is.
        let o0 = try #require(try await orders.order(OrderID("o0")!))
        let o1 = try #require(try await orders.order(OrderID("o1")!))
        let body = [UInt8(ascii: "[")] + OrderEvent(type: .highValue, order: o0).encoded() + [UInt8(ascii: ",")]
            + OrderEvent(type: .highValue, order: o1).encoded() + [UInt8(ascii: "]")]
        try await queue.send([OutgoingMessage(body: body)])
        while try await worker.processOnce(wait: .zero) > 0 {}
        depth = try await queue.depth()
        #expect(depth.visible == 0 && depth.inFlight == 0 && depth.deadLetters == 1)
        #expect(try await orders.order(OrderID("o0")!)?.review == .open)
        #expect(try await orders.order(OrderID("o1")!)?.review == nil)
    }

    @Test("a relay batching high-value events keeps each message within one billing chunk and each publish within SNS's limits")
    func batchedTopicMessagesStayWithinLimits() {
        func entry(_ index: Int, type: OrderEventType, bytes: Int) -> OutboxEntry {
            OutboxEntry(id: Int64(index), eventId: "e\(index)", type: type, partitionKey: "o\(index)", payload: Array(repeating: UInt8(ascii: "x"), count: bytes))
        }
        let entries = (0..<400).map { entry($0, type: $0 % 4 == 0 ? .accepted : .highValue, bytes: 900) }
        let (stream, single) = OutboxEntry.destinations(of: entries)
        #expect(stream.count == 100 && single.count == 300)
        #expect(single.allSatisfy { $0.attributes["eventId"] != nil })
        let (_, batched) = OutboxEntry.destinations(of: entries, highValueEventsPerMessage: 100)
        // 300 events of 900 bytes: at most 60 KiB per message, so 68 per message rather than 100.
        #expect(batched.map(\.body.count).allSatisfy { $0 <= OutboxEntry.batchedMessageBytes })
        #expect(batched.count == 5)
        #expect(batched.map { Int($0.attributes["eventCount"] ?? "") ?? 0 }.reduce(0, +) == 300)
        let chunks = TopicMessage.publishChunks(batched)
        #expect(chunks.count == 2, "five messages of ~60 KiB need two PublishBatch calls of at most 240 KiB")
        #expect(chunks.flatMap { $0 } == batched)
        #expect(TopicMessage.publishChunks(single).map(\.count) == Array(repeating: 10, count: 30))
        // One event larger than the budget travels alone, in the single-event form.
        let (_, large) = OutboxEntry.destinations(of: [entry(0, type: .highValue, bytes: 70_000), entry(1, type: .highValue, bytes: 10)],
                                                  highValueEventsPerMessage: 100)
        #expect(large.map(\.body.count) == [70_000, 10])
    }

    @Test("the embedded relay delivers a batch in one transaction: a failure delivers nothing, a retry delivers each event once")
    func transactionalRelayIsAllOrNothing() async throws {
        let pipeline = try await Pipeline(logger: logger, brokenSubscription: "Gone")
        let (messaging, store, orders, stream, topic) = (pipeline.messaging, pipeline.store, pipeline.orders, pipeline.stream, pipeline.topic)
        let relay = OutboxRelay(outbox: store, highValueTopic: topic, ordersStream: stream, logger: logger,
                                transactional: store.transactionalDelivery(ordersStream: stream, highValueTopic: topic))

        for i in 0..<30 { _ = try await orders.submit(draft("o\(i)", i % 3 == 0 ? 50_000 : 1_000), source: "test") }
        #expect(try await store.backlog() == 40)
        await #expect(throws: (any Error).self) { try await relay.relayOnce() }
        #expect(try await store.backlog() == 40)
        #expect(try await pipeline.streamRecords() == 0, "a failed batch must leave nothing behind in the stream")
        #expect(try await messaging.queue(named: "ReviewQueue").depth().visible == 0)

        try await messaging.ensureQueue(name: "Gone")
        #expect(try await relay.relayOnce() == 40)
        #expect(try await store.backlog() == 0)
        #expect(try await pipeline.streamRecords() == 30)
        #expect(try await messaging.queue(named: "ReviewQueue").depth().visible == 10)
        #expect(try await relay.relayOnce() == 0)
    }

    @Test("concurrent submissions share transactions and keep idempotency and conflict rules")
    func groupCommitUnderConcurrency() async throws {
        let database = try AppDatabase.temporary()
        let store = SQLiteOrderStore(database: database)
        let orders = OrderService(store: store, policy: .standard, clock: SystemClock())
        // 400 submissions of 100 ids: each id 4 times, one of them with a different amount.
        let outcomes = try await withThrowingTaskGroup(of: (String, Int, AcceptOutcome).self) { group in
            for copy in 0..<4 {
                for i in 0..<100 {
                    group.addTask {
                        let amount: Int64 = copy == 3 ? 999 : 100
                        return ("o\(i)", copy, try await orders.submit(draft("o\(i)", amount), source: "test"))
                    }
                }
            }
            var all: [(String, Int, AcceptOutcome)] = []
            for try await outcome in group { all.append(outcome) }
            return all
        }
        var created: [String: Int] = [:]
        for (id, _, outcome) in outcomes {
            if case .created = outcome { created[id, default: 0] += 1 }
        }
        #expect(created.count == 100)
        #expect(created.values.allSatisfy { $0 == 1 })
        for i in 0..<100 {
            let mine = outcomes.filter { $0.0 == "o\(i)" }
            let stored = try #require(try await orders.order(OrderID("o\(i)")!))
            for (_, copy, outcome) in mine {
                let sameContent = (copy == 3) == (stored.amountMinor == 999)
                switch outcome {
                case .created(let order): #expect(order.amountMinor == stored.amountMinor)
                case .replayed: #expect(sameContent)
                case .conflict: #expect(!sameContent)
                }
            }
        }
        #expect(try await store.backlog() == 100)
    }

    @Test("with the stream in the order's transaction, accepted events are on the stream when accept returns, once each")
    func acceptedEventsGoStraightToTheStream() async throws {
        let database = try AppDatabase.temporary()
        let messaging = SQLiteMessaging(database: database, logger: logger)
        let stream = messaging.stream(named: "OrdersStream")
        let store = SQLiteOrderStore(database: database, ordersStream: stream)
        let orders = OrderService(store: store, policy: .standard, clock: SystemClock())
        // 60 orders at once (several group commits), every 6th high-value, and each submitted twice (replays add nothing).
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<2 {
                for i in 0..<60 {
                    group.addTask { _ = try await orders.submit(draft("s\(i)-a", i % 6 == 0 ? 50_000 : 1_000), source: "test") }
                }
            }
            try await group.waitForAll()
        }
        var partitionKeys: [String] = []
        for shard in try await stream.shardIds() {
            for record in try await stream.read(shardId: shard, after: nil, limit: 1000) {
                let event = try #require(OrderEvent.decode(record.data))
                #expect(event.type == .accepted)
                partitionKeys.append(record.partitionKey)
            }
        }
        #expect(partitionKeys.sorted() == (0..<60).map { "s\($0)-a" }.sorted(), "each order's accepted event is on the stream exactly once")
        // Only the high-value events wait in the outbox for the topic.
        let pending = try await store.pending(limit: 1000)
        #expect(pending.count == 10)
        #expect(pending.allSatisfy { $0.type == .highValue })
    }
}
