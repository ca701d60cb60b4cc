import AWSKit
import Logging
import MotoTestSupport
import OrderFlowApp
import OrderFlowCore
import Testing
@testable import OrderFlowAWS

@Suite("DynamoDB analytics store against moto")
struct DynamoDBAnalyticsStoreTests {
    static let minute: Int64 = 29_926_480  // 2026-11-25T06:40Z in epoch minutes

    static func fact(_ id: String, minor: Int64, currency: String = "USD", highValue: Bool = false, minuteOffset: Int64 = 0) -> OrderFact {
        OrderFact(orderId: OrderID(id)!, currency: currency, amountMinor: minor, highValue: highValue,
                  time: Timestamp(millisecondsSinceEpoch: (minute + minuteOffset) * 60_000 + 1_234))
    }

    static func withStore(_ body: (DynamoDBAnalyticsStore) async throws -> Void) async throws {
        let moto = try MotoEnvironment.require()
        try await withClient(try moto.client()) { client in
            let dynamoDB = DynamoDB(client: client)
            let table = uniqueName("OrdersAnalytics")
            try await dynamoDB.createTable(table, hashKey: "Key")
            try await body(DynamoDBAnalyticsStore(dynamoDB: dynamoDB, table: table))
        }
    }

    @Test func countsEachOrderOnceHoweverOftenItArrives() async throws {
        try await Self.withStore { store in
            let now = Timestamp(millisecondsSinceEpoch: (Self.minute + 1) * 60_000)
            #expect(try await store.snapshot(now: now) == AnalyticsSnapshot(orders: 0, highValueOrders: 0, revenueMinor: [:], ordersPerMinute: [:]))

            // 30 orders (more than one transaction's worth), one of them twice in the batch.
            var facts = (1...30).map { Self.fact("a-\($0)", minor: 1_000, highValue: $0 % 10 == 0, minuteOffset: $0 <= 20 ? 0 : 1) }
            facts.append(Self.fact("a-7", minor: 1_000))
            facts.append(Self.fact("e-1", minor: 250, currency: "EUR"))
            try await store.apply(facts, consumer: "analytics", shardId: "shardId-000000000000", checkpoint: "100")
            let expected = AnalyticsSnapshot(orders: 31, highValueOrders: 3, revenueMinor: ["USD": 30_000, "EUR": 250],
                                             ordersPerMinute: [Self.minute: 21, Self.minute + 1: 10])
            #expect(try await store.snapshot(now: now) == expected)

            // The batch read again after a crash, plus two new orders: only the new ones count.
            try await store.apply(facts + [Self.fact("b-1", minor: 500), Self.fact("b-2", minor: 500, highValue: true)],
                                  consumer: "analytics", shardId: "shardId-000000000000", checkpoint: "140")
            let after = try await store.snapshot(now: now)
            #expect(after.orders == 33)
            #expect(after.highValueOrders == 4)
            #expect(after.revenueMinor == ["USD": 31_000, "EUR": 250])
            #expect(after.ordersPerMinute == [Self.minute: 23, Self.minute + 1: 10])

            try await store.apply([], consumer: "analytics", shardId: "shardId-000000000001", checkpoint: "7")
            #expect(try await store.checkpoints(consumer: "analytics") == ["shardId-000000000000": "140", "shardId-000000000001": "7"])
            #expect(try await store.checkpoints(consumer: "other").isEmpty)

            // An hour later the per-minute window has moved past those minutes; totals stay.
            let later = try await store.snapshot(now: Timestamp(millisecondsSinceEpoch: (Self.minute + 61) * 60_000))
            #expect(later.ordersPerMinute.isEmpty)
            #expect(later.orders == 33)
        }
    }

    @Test func aBatchAndItsCheckpointAreOneTransactionAndARepeatedBatchCountsNothing() async throws {
        let moto = try MotoEnvironment.require()
        let counter = AWSRequestCounter()
        try await withClient(try moto.client(counter: counter)) { client in
            let dynamoDB = DynamoDB(client: client)
            let table = uniqueName("OrdersAnalytics")
            try await dynamoDB.createTable(table, hashKey: "Key")
            let store = DynamoDBAnalyticsStore(dynamoDB: dynamoDB, table: table)
            func calls(_ operation: String) -> Int { counter.counts(service: .dynamoDB, operation: operation).attempts }
            let facts = (1...90).map { Self.fact("t-\($0)", minor: 100, highValue: $0 <= 9) }
            try await store.apply(facts, consumer: "analytics", shardId: "shardId-000000000000", checkpoint: "90")
            #expect(calls("TransactWriteItems") == 1)
            #expect(calls("UpdateItem") == 0, "the checkpoint moved in the batch's transaction")
            #expect(try await store.checkpoints(consumer: "analytics") == ["shardId-000000000000": "90"])

            // The same batch read again (a crash before the checkpoint, or a relay's re-delivery) plus 10 new records:
            // the transaction is cancelled by the markers, and the 10 new orders are counted with the checkpoint.
            let more = (91...100).map { Self.fact("t-\($0)", minor: 100) }
            try await store.apply(facts + more, consumer: "analytics", shardId: "shardId-000000000000", checkpoint: "100")
            // A batch whose every order was counted before moves the checkpoint on its own.
            try await store.apply(more, consumer: "analytics", shardId: "shardId-000000000000", checkpoint: "101")
            #expect(calls("UpdateItem") == 1)
            #expect(try await store.checkpoints(consumer: "analytics") == ["shardId-000000000000": "101"])
            let snapshot = try await store.snapshot(now: Timestamp(millisecondsSinceEpoch: (Self.minute + 1) * 60_000))
            #expect(snapshot.orders == 100 && snapshot.highValueOrders == 9 && snapshot.revenueMinor == ["USD": 10_000])
            #expect(snapshot.ordersPerMinute == [Self.minute: 100])
        }
    }

    @Test func consumerOverKinesisCountsARedeliveredRecordOnce() async throws {
        let moto = try MotoEnvironment.require()
        try await withClient(try moto.client()) { client in
            let dynamoDB = DynamoDB(client: client)
            let table = uniqueName("OrdersAnalytics")
            try await dynamoDB.createTable(table, hashKey: "Key")
            let streamName = uniqueName("OrdersStream")
            try await MotoResources(client: client).stream(streamName, shards: 1)
            let stream = KinesisStream(client: client, streamName: streamName)
            let store = DynamoDBAnalyticsStore(dynamoDB: dynamoDB, table: table)
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let consumer = AnalyticsConsumer(stream: stream, store: store, logger: logger)

            let order = Order(
                id: OrderID("k-1")!, customerId: "c", currency: .seedDefault, items: [], amountMinor: 45_000, highValue: true,
                status: .accepted, review: nil, source: "api", payloadHash: "h",
                createdAt: Timestamp(millisecondsSinceEpoch: Self.minute * 60_000), updatedAt: Timestamp(millisecondsSinceEpoch: Self.minute * 60_000)
            )
            let event = StreamEntry(partitionKey: "k-1", data: OrderEvent(type: .accepted, order: order).encoded())
            // The relay crashed after putting the record and before marking it delivered: it is put again.
            try await stream.put([event])
            try await stream.put([event])
            #expect(try await consumer.consumeOnce() == 2)
            #expect(try await consumer.consumeOnce() == 0)
            let snapshot = try await store.snapshot(now: Timestamp(millisecondsSinceEpoch: Self.minute * 60_000 + 5_000))
            #expect(snapshot.orders == 1 && snapshot.highValueOrders == 1 && snapshot.revenueMinor == ["USD": 45_000])
            #expect(try await consumer.lag().values.reduce(0, +) == 0)
        }
    }
}

@Suite("DynamoDB analytics transactions")
struct AnalyticsTransactionChunkTests {
    @Test func chunksFitOneTransaction() {
        let sameMinute = (1...200).map { DynamoDBAnalyticsStoreTests.fact("s-\($0)", minor: 1) }
        #expect(DynamoDBAnalyticsStore.transactionChunks(sameMinute).map(\.count) == [96, 96, 8])
        // 96 orders over 96 minutes would need 96 + 1 + 96 + 1 items (markers, totals, buckets, checkpoint): split
        // until each fits.
        let spread = (1...96).map { DynamoDBAnalyticsStoreTests.fact("m-\($0)", minor: 1, minuteOffset: Int64($0)) }
        let chunks = DynamoDBAnalyticsStore.transactionChunks(spread)
        #expect(chunks.allSatisfy { $0.count * 2 + 2 <= 100 })
        #expect(chunks.flatMap { $0 }.map(\.orderId) == spread.map(\.orderId))
    }
}
