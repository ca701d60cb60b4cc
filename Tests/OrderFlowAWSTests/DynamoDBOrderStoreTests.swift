import AWSKit
import MotoTestSupport
import OrderFlowApp
import OrderFlowCore
import Synchronization
import Testing
@testable import OrderFlowAWS

/// The DynamoDB order store against moto (authentication on): the API's idempotency and conflict rules, events
/// committed with their orders, listing with cursors, and the lifecycle under concurrent writers.
@Suite("DynamoDB order store against moto")
struct DynamoDBOrderStoreTests {
    /// Fresh `Orders` and `OrdersOutbox` tables with unique names, a store on them and an order service.
    struct Fixture {
        let client: AWSClient
        let dynamoDB: DynamoDB
        let tables: DynamoDBOrderStore.Tables
        let store: DynamoDBOrderStore
        let orders: OrderService

        init() async throws {
            let moto = try MotoEnvironment.require()
            client = try moto.client()
            dynamoDB = DynamoDB(client: client)
            tables = try await DynamoDBOrderStoreTests.createTables(dynamoDB)
            store = DynamoDBOrderStore(dynamoDB: dynamoDB, tables: tables)
            orders = OrderService(store: store, policy: .standard, clock: SystemClock())
        }

        func shutdown() async throws { try await client.shutdown() }
    }

    /// Fresh `Orders` and `OrdersOutbox` tables with unique names.
    static func createTables(_ dynamoDB: DynamoDB) async throws -> DynamoDBOrderStore.Tables {
        let tables = DynamoDBOrderStore.Tables(orders: uniqueName("Orders"), outbox: uniqueName("OrdersOutbox"))
        try await dynamoDB.createTable(tables.orders, hashKey: "OrderID")
        try await dynamoDB.createTable(tables.outbox, hashKey: "EventId")
        return tables
    }

    static func draft(_ id: String, minor: Int64, customer: String = "c-1") -> OrderDraft {
        let items = [OrderItem(sku: "SKU-1", quantity: 1, unitPriceMinor: minor)]
        return OrderDraft(id: OrderID(id), customerId: customer, currency: .seedDefault, items: items, amountMinor: minor)
    }

    @Test func newOrderIsStoredWithItsEventsAndReadsBackEqual() async throws {
        let fixture = try await Fixture()
        defer { Task { try? await fixture.shutdown() } }
        guard case .created(let created) = try await fixture.orders.submit(Self.draft("1001", minor: 45_000), source: "api") else {
            Issue.record("first submission was not created")
            return
        }
        #expect(created.highValue)
        #expect(try await fixture.store.order(created.id) == created)

        // The seed's attributes: OrderID as key, Amount as the exact decimal next to the minor units.
        let raw = try #require(try await fixture.dynamoDB.getItem(table: fixture.tables.orders, key: ["OrderID": .string("1001")]))
        #expect(raw["Amount"] == .number("450.00"))
        #expect(raw["AmountMinor"] == .number("45000"))

        let pending = try await fixture.store.pending(limit: 10)
        #expect(Set(pending.map(\.type)) == [.accepted, .highValue])
        #expect(Set(pending.map(\.eventId)) == Set(OrderEvent.events(for: created).map(\.eventId)))
        let envelope = try JSONParser.parse(String(decoding: try #require(pending.first).payload, as: UTF8.self))
        #expect(envelope["orderId"]?.stringValue == "1001")
        #expect(try await fixture.store.backlog() == 2)
    }

    @Test func replayReturnsTheStoredOrderAndConflictWritesNothing() async throws {
        let fixture = try await Fixture()
        defer { Task { try? await fixture.shutdown() } }
        let first = try await fixture.orders.submit(Self.draft("r-1", minor: 1_000), source: "api")
        guard case .created(let stored) = first else {
            Issue.record("expected created, got \(first)")
            return
        }
        let replay = try await fixture.orders.submit(Self.draft("r-1", minor: 1_000), source: "api")
        #expect(replay == .replayed(stored))
        let conflict = try await fixture.orders.submit(Self.draft("r-1", minor: 2_000), source: "api")
        #expect(conflict == .conflict(existing: stored))
        // One order, one event: neither the replay nor the conflict wrote anything.
        #expect(try await fixture.store.backlog() == 1)
        #expect(try await fixture.store.order(stored.id)?.amountMinor == 1_000)
    }

    @Test func concurrentSubmissionsOfOneIdCreateItExactlyOnce() async throws {
        let fixture = try await Fixture()
        defer { Task { try? await fixture.shutdown() } }
        let orders = fixture.orders
        let outcomes = try await withThrowingTaskGroup(of: AcceptOutcome.self) { group in
            for _ in 0..<8 {
                group.addTask { try await orders.submit(Self.draft("same-id", minor: 50_000), source: "api") }
            }
            var all: [AcceptOutcome] = []
            for try await outcome in group { all.append(outcome) }
            return all
        }
        let created = outcomes.filter { if case .created = $0 { true } else { false } }
        let replayed = outcomes.filter { if case .replayed = $0 { true } else { false } }
        #expect(created.count == 1)
        #expect(replayed.count == 7)
        #expect(try await fixture.store.backlog() == 2)
    }

    @Test func batchAcceptKeepsOneOutcomePerSubmissionInOrder() async throws {
        let fixture = try await Fixture()
        defer { Task { try? await fixture.shutdown() } }
        _ = try await fixture.orders.submit(Self.draft("b-2", minor: 100), source: "api")
        let drafts = (1...30).map { Self.draft("b-\($0)", minor: $0 == 2 ? 999 : Int64($0) * 100) }
        let outcomes = try await fixture.orders.submit(drafts, source: "upload:orders/batch.json")
        #expect(outcomes.count == 30)
        for (index, outcome) in outcomes.enumerated() {
            switch outcome {
            case .created(let order): #expect(order.id.rawValue == "b-\(index + 1)" && index != 1)
            case .conflict(let existing): #expect(existing.id.rawValue == "b-2" && index == 1)
            case .replayed: Issue.record("no submission was a replay")
            }
        }
    }

    @Test func listingPagesThroughEveryMatchExactlyOnce() async throws {
        let fixture = try await Fixture()
        defer { Task { try? await fixture.shutdown() } }
        let drafts = (1...23).map { Self.draft("l-\($0)", minor: $0 % 3 == 0 ? 40_000 : 1_000, customer: $0 % 2 == 0 ? "even" : "odd") }
        _ = try await fixture.orders.submit(drafts, source: "api")

        var seen: [String] = []
        var cursor: String? = nil
        var pages = 0
        repeat {
            let page = try await fixture.store.orders(matching: OrderQuery(limit: 5, cursor: cursor))
            #expect(page.orders.count <= 5)
            seen += page.orders.map(\.id.rawValue)
            cursor = page.nextCursor
            pages += 1
        } while cursor != nil && pages < 20
        #expect(seen.count == 23)
        #expect(Set(seen).count == 23)
        #expect(pages == 5)

        var highValue: [Order] = []
        cursor = nil
        repeat {
            let page = try await fixture.store.orders(matching: OrderQuery(highValue: true, limit: 2, cursor: cursor))
            highValue += page.orders
            cursor = page.nextCursor
        } while cursor != nil
        #expect(Set(highValue.map(\.id.rawValue)) == Set((1...23).filter { $0 % 3 == 0 }.map { "l-\($0)" }))

        let evenHigh = try await fixture.store.orders(matching: OrderQuery(customerId: "even", highValue: true, limit: 100))
        #expect(Set(evenHigh.orders.map(\.id.rawValue)) == ["l-6", "l-12", "l-18"])
        #expect(evenHigh.nextCursor == nil)

        await #expect(throws: OrderStoreError.invalidCursor) {
            try await fixture.store.orders(matching: OrderQuery(cursor: "not-a-cursor"))
        }
    }

    @Test func lifecycleFollowsTheStateMachine() async throws {
        let fixture = try await Fixture()
        defer { Task { try? await fixture.shutdown() } }
        let store = fixture.store
        _ = try await fixture.orders.submit([Self.draft("small", minor: 1_000), Self.draft("big", minor: 90_000)], source: "api")
        let small = try #require(OrderID("small"))
        let big = try #require(OrderID("big"))
        let later = Timestamp(millisecondsSinceEpoch: 1_900_000_000_000)

        let fulfilled = try await store.apply(.fulfil, to: small, at: later)
        #expect(fulfilled.status == .fulfilled && fulfilled.updatedAt == later)
        #expect(try await store.order(small) == fulfilled)
        // Idempotent: fulfilling again changes nothing.
        #expect(try await store.apply(.fulfil, to: small, at: later.adding(milliseconds: 5)) == fulfilled)
        await #expect(throws: OrderStoreError.self) { try await store.apply(.cancel, to: small, at: later) }

        // High-value: fulfilment waits for an approved review.
        await #expect(throws: OrderStoreError.self) { try await store.apply(.fulfil, to: big, at: later) }
        #expect(try await store.apply(.openReview, to: big, at: later).review == .open)
        let rejected = try await store.apply(.rejectReview, to: big, at: later)
        #expect(rejected.review == .rejected && rejected.status == .cancelled)
        #expect(try await store.order(big) == rejected)

        let missing = try #require(OrderID("missing"))
        await #expect(throws: OrderStoreError.notFound(missing)) {
            try await store.apply(.fulfil, to: missing, at: later)
        }
    }

    @Test func concurrentReviewDecisionsEndInOneOutcome() async throws {
        let fixture = try await Fixture()
        defer { Task { try? await fixture.shutdown() } }
        let store = fixture.store
        _ = try await fixture.orders.submit(Self.draft("race", minor: 70_000), source: "api")
        let id = try #require(OrderID("race"))
        _ = try await store.apply(.openReview, to: id, at: Timestamp(millisecondsSinceEpoch: 1))
        // Approvers and rejecters race; whichever lands first wins and every other decision is refused or a no-op.
        let results = await withTaskGroup(of: Result<Order, any Error>.self) { group in
            for index in 0..<6 {
                let action: OrderAction = index % 2 == 0 ? .approveReview : .rejectReview
                group.addTask {
                    do { return .success(try await store.apply(action, to: id, at: Timestamp(millisecondsSinceEpoch: 2))) }
                    catch { return .failure(error) }
                }
            }
            var all: [Result<Order, any Error>] = []
            for await result in group { all.append(result) }
            return all
        }
        let final = try #require(try await store.order(id))
        #expect(final.review == .approved || final.review == .rejected)
        for result in results {
            if case .failure(let error) = result { #expect(error is OrderStoreError) }
        }
        // moto 5.2.1's DynamoDB checks a ConditionExpression and applies the update without a lock while its server
        // handles requests on many threads, so two racing conditional updates can both succeed there (seen once in
        // about ten runs). DynamoDB itself applies a conditional write atomically, which is what the store relies on.
        let disagreeing = results.compactMap { result -> Order? in
            if case .success(let order) = result, order.review != final.review { return order }
            return nil
        }
        withKnownIssue("moto applies racing conditional updates without serializing them", isIntermittent: true) {
            #expect(disagreeing.isEmpty, "decisions reported as taken but overwritten: \(disagreeing.map { $0.review?.rawValue ?? "none" })")
        }
    }

    @Test func deliveredEventsLeaveTheOutbox() async throws {
        let fixture = try await Fixture()
        defer { Task { try? await fixture.shutdown() } }
        // Two calls, two transactions, two outbox items: 25 events (5 high-value orders) and 20.
        _ = try await fixture.orders.submit((1...20).map { Self.draft("o-\($0)", minor: $0 <= 5 ? 50_000 : 100) }, source: "api")
        _ = try await fixture.orders.submit((21...40).map { Self.draft("o-\($0)", minor: 100) }, source: "api")
        #expect(try await fixture.store.backlog() == 45)

        // Whole outbox items come out: at least one, even over the limit.
        let first = try await fixture.store.pending(limit: 1)
        #expect(first.count == 25 || first.count == 20)
        #expect(Set(first.map(\.receipt)).count == 1)
        try await fixture.store.markDelivered(first)
        let rest = try await fixture.store.pending(limit: 100)
        #expect(rest.count == 45 - first.count)
        #expect(Set(rest.map(\.eventId)).isDisjoint(with: first.map(\.eventId)))
        #expect(Set((first + rest).map(\.eventId)).count == 45)
        try await fixture.store.markDelivered(rest)
        #expect(try await fixture.store.backlog() == 0)
        #expect(try await fixture.store.pending(limit: 10).isEmpty)
    }

    @Test("a commit wakes the relay only after the bulk work in progress ended, so that work's transactions share one round",
          .timeLimit(.minutes(2)))
    func relayWaitsForBulkWorkInProgress() async throws {
        let moto = try MotoEnvironment.require()
        try await withClient(try moto.client()) { client in
            let dynamoDB = DynamoDB(client: client)
            let tables = try await Self.createTables(dynamoDB)
            let uploadBatch = WorkInProgress()
            // No poll interval to speak of and no batch window: only a commit wakes the waiter, and only the bulk work holds it.
            let store = DynamoDBOrderStore(dynamoDB: dynamoDB, tables: tables, maximumConcurrency: 1, pollInterval: .seconds(3600),
                                           batchWindow: .zero, bulkWork: uploadBatch, maximumHold: .seconds(3600))
            let orders = OrderService(store: store, policy: .standard, clock: SystemClock())

            let filesDone = Mutex(0)
            let waiting = AsyncStream<Void>.makeStream()
            let relayWoke = Task {
                waiting.continuation.yield()
                await store.waitForEntries(timeout: .seconds(3600))
                return filesDone.withLock { $0 }
            }
            for await _ in waiting.stream { break }
            try await uploadBatch.during {
                for file in 1...3 {
                    _ = try await orders.submit((1...10).map { Self.draft("f\(file)-\($0)", minor: $0 == 1 ? 50_000 : 100) },
                                                source: "upload:orders/f\(file).jsonl")
                    filesDone.withLock { $0 = file }
                }
            }
            // The first file's commit signalled at once; the waiter returned only after the third file was in.
            #expect(await relayWoke.value == 3)
            let round = try await store.pending(limit: 500)
            #expect(round.count == 33)
            #expect(Set(round.map(\.receipt)).count == 3)
        }
    }

    @Test("a relay scan that starts while bulk work runs waits for it, so a round after a productive one is not piecemeal",
          .timeLimit(.minutes(2)))
    func scanWaitsForBulkWorkInProgress() async throws {
        let moto = try MotoEnvironment.require()
        try await withClient(try moto.client()) { client in
            let dynamoDB = DynamoDB(client: client)
            let tables = try await Self.createTables(dynamoDB)
            let uploadBatch = WorkInProgress()
            let store = DynamoDBOrderStore(dynamoDB: dynamoDB, tables: tables, maximumConcurrency: 1, batchWindow: .zero,
                                           bulkWork: uploadBatch, maximumHold: .seconds(3600))
            let orders = OrderService(store: store, policy: .standard, clock: SystemClock())
            let firstFileIn = AsyncStream<Void>.makeStream(), goOn = AsyncStream<Void>.makeStream()
            let job = Task {
                try await uploadBatch.during {
                    _ = try await orders.submit((1...10).map { Self.draft("s1-\($0)", minor: 100) }, source: "upload:orders/s1.jsonl")
                    firstFileIn.continuation.yield()
                    for await _ in goOn.stream { break }
                    _ = try await orders.submit((1...10).map { Self.draft("s2-\($0)", minor: 100) }, source: "upload:orders/s2.jsonl")
                }
            }
            for await _ in firstFileIn.stream { break }
            let scanning = AsyncStream<Void>.makeStream()
            let scan = Task {
                scanning.continuation.yield()
                return try await store.pending(limit: 500)
            }
            for await _ in scanning.stream { break }
            goOn.continuation.yield()
            try await job.value
            // The scan began with the first file in and the second not yet written, and still returns both.
            let round = try await scan.value
            #expect(round.count == 20)
            #expect(Set(round.map(\.partitionKey)).count == 20)
        }
    }

    @Test("outbox items written during bulk work are left to their writer's relay; other processes take them only after the hold",
          .timeLimit(.minutes(2)))
    func bulkWorkOutboxItemsAreHeldForTheirWriter() async throws {
        let moto = try MotoEnvironment.require()
        try await withClient(try moto.client()) { client in
            let dynamoDB = DynamoDB(client: client)
            let tables = try await Self.createTables(dynamoDB)
            let clock = ManualClock()
            let uploadBatch = WorkInProgress()
            let worker = DynamoDBOrderStore(dynamoDB: dynamoDB, tables: tables, maximumConcurrency: 1, batchWindow: .zero,
                                            bulkWork: uploadBatch, maximumHold: .seconds(60), clock: clock)
            // Another process on the same tables (an API instance's relay).
            let api = DynamoDBOrderStore(dynamoDB: dynamoDB, tables: tables, clock: clock)
            let orders = OrderService(store: worker, policy: .standard, clock: clock)

            // Outside bulk work, any relay takes the events at once.
            _ = try await orders.submit(Self.draft("h-api", minor: 100), source: "api")
            let taken = try await api.pending(limit: 500)
            #expect(taken.map(\.partitionKey) == ["h-api"])
            try await api.markDelivered(taken)

            let seenByOther = try await uploadBatch.during {
                _ = try await orders.submit((1...10).map { Self.draft("h-\($0)", minor: 100) }, source: "upload:orders/h.jsonl")
                return try await api.pending(limit: 500)
            }
            #expect(seenByOther.isEmpty)
            #expect(try await api.pending(limit: 500).isEmpty)
            #expect(try await api.backlog() == 10)
            // The writer's own relay takes them.
            #expect(try await worker.pending(limit: 500).count == 10)
            // A writer that died never relays them: once the hold is over, any relay does.
            clock.advance(milliseconds: 60_000 + DynamoDBOrderStore.bulkHoldMargin.components.seconds * 1000 + 1)
            #expect(try await api.pending(limit: 500).count == 10)
        }
    }

    @Test func aBatchOfOrdersCostsOneTransactionPerNinetyNine() async throws {
        let moto = try MotoEnvironment.require()
        let counter = AWSRequestCounter()
        try await withClient(try moto.client(counter: counter)) { client in
            let dynamoDB = DynamoDB(client: client)
            let tables = try await Self.createTables(dynamoDB)
            // One transaction at a time: moto 5.2.1 runs each transaction against a deep copy of the whole table
            // (moto/dynamodb/models/__init__.py, transact_write_items) and turns any exception into a cancellation, so
            // concurrent transactions on distinct items sometimes cancel there, adding a retry to the count.
            let store = DynamoDBOrderStore(dynamoDB: dynamoDB, tables: tables, maximumConcurrency: 1)
            let orders = OrderService(store: store, policy: .standard, clock: SystemClock())
            _ = try await orders.submit((1...120).map { Self.draft("c-\($0)", minor: 100) }, source: "upload:orders/c.jsonl")
            #expect(counter.counts(service: .dynamoDB, operation: "TransactWriteItems").attempts == 2)
            // A replayed batch: each transaction is cancelled once, one BatchGetItem finds the orders, nothing is written.
            let again = try await orders.submit((1...120).map { Self.draft("c-\($0)", minor: 100) }, source: "upload:orders/c.jsonl")
            #expect(again.allSatisfy { if case .replayed = $0 { true } else { false } })
            #expect(counter.counts(service: .dynamoDB, operation: "TransactWriteItems").attempts == 4)
            #expect(counter.counts(service: .dynamoDB, operation: "BatchGetItem").attempts == 2)
            #expect(DynamoDBOrderWriter.transactionChunks((1...120).map { _ in
                OrderSubmission(order: Order(draft: Self.draft("x", minor: 1), id: OrderID("x")!, highValue: false, source: "api",
                                             at: Timestamp(millisecondsSinceEpoch: 0)), events: [])
            }).map(\.count) == [99, 21])
        }
    }

    @Test func aBatchWithRepeatsAndConflictsStoresEachOrderOnceWithItsEvents() async throws {
        let fixture = try await Fixture()
        defer { Task { try? await fixture.shutdown() } }
        // Stored before: r-1 (the batch repeats it as it is) and r-2 (the batch brings it with another body).
        _ = try await fixture.orders.submit([Self.draft("r-1", minor: 50_000), Self.draft("r-2", minor: 100)], source: "api")
        let outboxBefore = try await fixture.store.backlog()
        // 150 orders in one call (two transactions), with r-1 and r-2 among them, and d-7 twice as it is and d-8 twice
        // with different bodies.
        var drafts = (1...146).map { Self.draft("d-\($0)", minor: $0 % 2 == 0 ? 50_000 : 100) }
        drafts.insert(Self.draft("r-1", minor: 50_000), at: 10)
        drafts.insert(Self.draft("r-2", minor: 999), at: 120)
        drafts.append(Self.draft("d-7", minor: 100))
        drafts.append(Self.draft("d-8", minor: 123))
        let outcomes = try await fixture.orders.submit(drafts, source: "upload:orders/r.jsonl")
        #expect(outcomes.count == 150)
        var created = 0
        for (draft, outcome) in zip(drafts, outcomes) {
            switch (draft.id?.rawValue, outcome) {
            case ("r-1", .replayed(let stored)): #expect(stored.source == "api")
            case ("r-2", .conflict(let existing)): #expect(existing.amountMinor == 100)
            case (_, .created): created += 1
            case ("d-7", .replayed), ("d-8", .conflict): break
            default: Issue.record("unexpected outcome for \(draft.id?.rawValue ?? "?"): \(outcome)")
            }
        }
        #expect(created == 146)
        #expect(try await fixture.store.order(OrderID("d-8")!)?.amountMinor == 50_000)
        // Events only for the orders created now: 146 accepted, 73 high-value.
        #expect(try await fixture.store.backlog() - outboxBefore == 146 + 73)
    }

    @Test func aWorkersBatchOfReviewsIsOneReadAndOneTransaction() async throws {
        let moto = try MotoEnvironment.require()
        let counter = AWSRequestCounter()
        try await withClient(try moto.client(counter: counter)) { client in
            let dynamoDB = DynamoDB(client: client)
            let tables = try await Self.createTables(dynamoDB)
            let store = DynamoDBOrderStore(dynamoDB: dynamoDB, tables: tables)
            let orders = OrderService(store: store, policy: .standard, clock: SystemClock())
            _ = try await orders.submit((1...6).map { Self.draft("rv-\($0)", minor: $0 == 6 ? 100 : 50_000) }, source: "api")
            _ = try await store.apply(.openReview, to: OrderID("rv-5")!, at: Timestamp(millisecondsSinceEpoch: 1))
            let before = counter.snapshot()
            let ids = ["rv-1", "rv-2", "rv-3", "rv-4", "rv-5", "rv-6", "rv-missing"].map { OrderID($0)! }
            let results = try await store.apply(.openReview, to: ids, at: Timestamp(millisecondsSinceEpoch: 2))
            let after = counter.snapshot()
            func calls(_ operation: String) -> Int {
                let key = AWSRequestCounter.Key(service: "DynamoDB", operation: operation)
                return (after[key]?.attempts ?? 0) - (before[key]?.attempts ?? 0)
            }
            #expect(calls("BatchGetItem") == 1)
            #expect(calls("TransactWriteItems") == 1)
            #expect(calls("UpdateItem") == 0 && calls("GetItem") == 0)
            for (index, result) in results.prefix(5).enumerated() {
                #expect((try? result.get())?.review == .open, "rv-\(index + 1): \(result)")
            }
            guard case .failure(.illegalTransition) = results[5] else { Issue.record("rv-6 is not high-value: \(results[5])"); return }
            #expect(results[6] == .failure(.notFound(OrderID("rv-missing")!)))
            for id in ids.prefix(5) { #expect(try await store.order(id)?.review == .open) }
        }
    }

    @Test func cursorRoundTripsAndRejectsForeignText() throws {
        let id = try #require(OrderID("ord-abc_1.2:3"))
        #expect(DynamoDBOrderStore.decodeCursor(DynamoDBOrderStore.encodeCursor(id)) == id)
        #expect(DynamoDBOrderStore.decodeCursor("") == nil)
        #expect(DynamoDBOrderStore.decodeCursor("ZDo") == nil)  // "d:" with no id
        #expect(DynamoDBOrderStore.decodeCursor("eDpvcmQ") == nil)  // "x:ord"
    }

    @Test func unreadableItemsAreReportedNotGuessed() throws {
        var item = OrderItemMapping.item(for: Order(
            id: try #require(OrderID("u-1")), customerId: nil, currency: .seedDefault, items: [], amountMinor: 5,
            highValue: false, status: .accepted, review: nil, source: "api", payloadHash: "h",
            createdAt: Timestamp(millisecondsSinceEpoch: 1), updatedAt: Timestamp(millisecondsSinceEpoch: 1)
        ))
        #expect(throws: Never.self) { try OrderItemMapping.order(from: item) }
        item["Status"] = .string("shipped-to-mars")
        #expect(throws: OrderItemMapping.UnreadableItem.self) { try OrderItemMapping.order(from: item) }
    }
}
