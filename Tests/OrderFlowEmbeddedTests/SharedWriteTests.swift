import Dispatch
import GRDB
@testable import OrderFlowEmbedded
import Synchronization
import Testing

@Suite("Shared write transactions")
struct SharedWriteTests {
    struct Refused: Error {}

    @Test("concurrent writes commit together, and one that throws undoes only its own changes")
    func failingWriteIsUndoneAlone() async throws {
        let database = try AppDatabase.temporary()
        try await database.pool.write { db in try db.execute(sql: "CREATE TABLE t (x INTEGER NOT NULL)") }
        let results = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            for value in 0..<60 {
                group.addTask {
                    do {
                        try await database.write { db in
                            try db.execute(sql: "INSERT INTO t (x) VALUES (?)", arguments: [value])
                            if value % 4 == 0 { throw Refused() }
                        }
                        return (value, true)
                    } catch is Refused {
                        return (value, false)
                    }
                }
            }
            var results: [Int: Bool] = [:]
            for try await (value, committed) in group { results[value] = committed }
            return results
        }
        let stored = try await database.pool.read { db in try Set(Int.fetchAll(db, sql: "SELECT x FROM t")) }
        #expect(stored == Set(results.filter(\.value).map(\.key)))
        #expect(stored == Set((0..<60).filter { $0 % 4 != 0 }))
    }

    @Test("a write returns its body's value once committed, visible to readers")
    func returnsTheBodysValue() async throws {
        let database = try AppDatabase.temporary()
        let rowID: Int64 = try await database.write { db in
            try db.execute(sql: "CREATE TABLE t (x TEXT)")
            try db.execute(sql: "INSERT INTO t (x) VALUES ('a')")
            return db.lastInsertedRowID
        }
        let text = try await database.pool.read { db in try String.fetchOne(db, sql: "SELECT x FROM t WHERE rowid = ?", arguments: [rowID]) }
        #expect(text == "a")
    }

    // MARK: The write loop

    /// Counts the transactions the database commits.
    final class CommitCounter: TransactionObserver, Sendable {
        let commits = Mutex(0)
        func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
        func databaseDidChange(with event: DatabaseEvent) {}
        func databaseDidCommit(_ db: Database) { commits.withLock { $0 += 1 } }
        func databaseDidRollback(_ db: Database) {}
    }

    /// A write that holds the writer until released, so that the test can queue others behind it.
    struct HeldWrite: Sendable {
        let task: Task<Void, any Error>
        let release: @Sendable () -> Void

        /// Starts a write that inserts `value` into `t` and then waits; returns once its body runs.
        static func start(_ database: AppDatabase, inserting value: Int) async -> HeldWrite {
            let entered = AsyncStream<Void>.makeStream()
            let gate = DispatchSemaphore(value: 0)
            let task = Task {
                try await database.write { db in
                    try db.execute(sql: "INSERT INTO t (x) VALUES (?)", arguments: [value])
                    entered.continuation.yield()
                    gate.wait()
                }
            }
            for await _ in entered.stream { break }
            return HeldWrite(task: task, release: { gate.signal() })
        }
    }

    static func waitUntilQueued(_ database: AppDatabase, count: Int) async {
        while database.queuedWrites < count { await Task.yield() }
    }

    static func values(in database: AppDatabase) async throws -> [Int] {
        try await database.pool.read { db in try Int.fetchAll(db, sql: "SELECT x FROM t ORDER BY rowid") }
    }

    @Test("writes queued while a transaction commits share the next one; a batched write runs once for all its callers")
    func queuedWritesShareOneTransaction() async throws {
        let database = try AppDatabase.temporary()
        try await database.pool.write { db in try db.execute(sql: "CREATE TABLE t (x INTEGER NOT NULL)") }
        let counter = CommitCounter()
        database.pool.add(transactionObserver: counter, extent: .observerLifetime)
        let calls = Mutex<[[Int]]>([])
        let doubling = BatchedWrite<Int, Int> { items, db in
            calls.withLock { $0.append(items) }
            for item in items { try db.execute(sql: "INSERT INTO t (x) VALUES (?)", arguments: [item]) }
            return items.map { $0 * 2 }
        }
        let held = await HeldWrite.start(database, inserting: 0)
        let singles = (1...40).map { (value: Int) in
            Task { try await database.write { db in try db.execute(sql: "INSERT INTO t (x) VALUES (?)", arguments: [value]) } }
        }
        let batched = [[101, 102], [103], [104, 105, 106]].map { items in Task { try await database.write(items, with: doubling) } }
        await Self.waitUntilQueued(database, count: 43)
        held.release()
        try await held.task.value
        for single in singles { try await single.value }
        #expect(try await batched[0].value == [202, 204])
        #expect(try await batched[1].value == [206])
        #expect(try await batched[2].value == [208, 210, 212])
        #expect(counter.commits.withLock { $0 } == 2, "the held write's transaction, then one for all 43 queued")
        let call = calls.withLock { $0 }
        #expect(call.count == 1 && Set(call[0]) == Set(101...106), "one call for the three callers: \(call)")
        #expect(Set(try await Self.values(in: database)) == Set(0...40).union(101...106))
    }

    @Test("a batched write that throws fails only its own callers; the rest of its transaction commits once")
    func failingBatchIsUndoneAlone() async throws {
        let database = try AppDatabase.temporary()
        try await database.pool.write { db in try db.execute(sql: "CREATE TABLE t (x INTEGER NOT NULL)") }
        let refusing = BatchedWrite<Int, Int> { items, db in
            for item in items { try db.execute(sql: "INSERT INTO t (x) VALUES (?)", arguments: [item]) }
            if items.contains(-1) { throw Refused() }
            return items
        }
        let accepting = BatchedWrite<Int, Int> { items, db in
            for item in items { try db.execute(sql: "INSERT INTO t (x) VALUES (?)", arguments: [item]) }
            return items
        }
        let held = await HeldWrite.start(database, inserting: 0)
        let good = Task { try await database.write([1, 2], with: accepting) }
        let refusedCallers = [[10, 11], [12, -1]].map { items in Task { try await database.write(items, with: refusing) } }
        let single = Task { try await database.write { db in try db.execute(sql: "INSERT INTO t (x) VALUES (3)") } }
        await Self.waitUntilQueued(database, count: 4)
        held.release()
        try await held.task.value
        #expect(try await good.value == [1, 2])
        try await single.value
        for caller in refusedCallers {
            await #expect(throws: Refused.self) { try await caller.value }
        }
        // The single write and the good batch ran in the undone attempt too; they are stored once.
        #expect(try await Self.values(in: database).sorted() == [0, 1, 2, 3])
    }

    @Test("after its turn the write loop lets other writes of the pool have the writer queue")
    func turnsLetOtherWritesIn() async throws {
        for (turn, expected) in [(Duration.zero, [0, 7, 1]), (.seconds(3600), [0, 1, 7])] {
            let database = try AppDatabase.temporary(writeTurn: turn)
            try await database.pool.write { db in try db.execute(sql: "CREATE TABLE t (x INTEGER NOT NULL)") }
            let held = await HeldWrite.start(database, inserting: 0)
            // Queued on GRDB's writer queue behind the loop's turn, which is holding it.
            let direct = AsyncStream<Void>.makeStream()
            database.pool.asyncWriteWithoutTransaction { db in
                try? db.execute(sql: "INSERT INTO t (x) VALUES (7)")
                direct.continuation.yield()
            }
            let next = Task { try await database.write { db in try db.execute(sql: "INSERT INTO t (x) VALUES (1)") } }
            await Self.waitUntilQueued(database, count: 1)
            held.release()
            try await held.task.value
            try await next.value
            for await _ in direct.stream { break }
            #expect(try await Self.values(in: database) == expected, "turn \(turn)")
        }
    }
}
