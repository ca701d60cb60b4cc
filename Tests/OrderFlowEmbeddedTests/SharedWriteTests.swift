import GRDB
import OrderFlowEmbedded
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
}
