import Foundation
import GRDB
import Logging
import OrderFlowCore
@testable import OrderFlowEmbedded
import Testing

@Suite("WAL checkpointing")
struct WALCheckpointerTests {
    let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }()

    /// ~1 KB orders like the API benchmark's: 12 items with long SKUs.
    func submission(_ index: Int) -> OrderSubmission {
        let items = (0..<12).map { OrderItem(sku: "SKU-\(1000 + $0 * 37)-WIDGET-STANDARD-EDITION", quantity: 1, unitPriceMinor: 200) }
        let draft = OrderDraft(id: OrderID("wal-\(index)"), customerId: "customer-\(index % 1000)", currency: .seedDefault,
                               items: items, amountMinor: 2400)
        let order = Order(draft: draft, id: draft.id!, highValue: false, source: "test", at: Timestamp(millisecondsSinceEpoch: 1_795_000_000_000))
        return OrderSubmission(order: order, events: OrderEvent.events(for: order))
    }

    @Test("under a sustained write load the WAL stays bounded and every order is stored once")
    func walStaysBoundedUnderLoad() async throws {
        let autocheckpointPages = 500
        let database = try AppDatabase.temporary(walAutocheckpointPages: autocheckpointPages)
        let messaging = SQLiteMessaging(database: database, logger: logger)
        let store = SQLiteOrderStore(database: database, ordersStream: messaging.stream(named: "OrdersStream"))
        let checkpointer = try WALCheckpointer(database: database, logger: logger)
        let checkpointing = Task { try await checkpointer.run() }

        let writers = 8
        let perWriter = 1000
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    for n in 0..<perWriter {
                        let outcomes = try await store.accept([submission(writer * perWriter + n)])
                        guard case .created = outcomes.first else { throw WALTestError.notCreated }
                    }
                }
            }
            try await group.waitForAll()
        }
        checkpointing.cancel()
        try await checkpointing.value

        let pageSize = try await database.pool.read { db in try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096 }
        let databaseBytes = try Self.fileSize(database.path)
        let walBytes = try Self.fileSize(database.path + "-wal")
        // The WAL file never shrinks, so its size is the high-water mark of the whole run: it must have restarted
        // rather than grown with the data (a group commit of 8 orders adds a few dozen pages over the threshold).
        let bound = 2 * autocheckpointPages * (pageSize + 24)
        #expect(walBytes <= bound, "WAL reached \(walBytes) bytes; bound \(bound)")
        #expect(databaseBytes >= 4 * bound, "the load wrote too little (\(databaseBytes) bytes) to show anything")
        let stored = try await database.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM orders") ?? 0 }
        #expect(stored == writers * perWriter)

        // Quiet again: one checkpoint copies everything left.
        let progress = try await checkpointer.checkpoint()
        #expect(progress.checkpointedFrames == progress.walFrames)
    }

    static func fileSize(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
    }

    enum WALTestError: Error {
        case notCreated
    }
}

@Suite("Durability settings")
struct DurabilitySettingsTests {
    @Test("the writer commits with synchronous = FULL in WAL mode (GRDB's WAL set-up must not leave it at NORMAL)")
    func writerFlushesEveryCommit() async throws {
        let database = try AppDatabase.temporary()
        let (journal, synchronous) = try await database.pool.write { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
        }
        #expect(journal == "wal")
        #expect(synchronous == 2)
    }
}
