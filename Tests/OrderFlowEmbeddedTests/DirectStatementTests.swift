import Foundation
import GRDB
import Testing
@testable import OrderFlowEmbedded

@Suite("Direct statements (binding through SQLite's C API)")
struct DirectStatementTests {
    static func database() throws -> DatabaseQueue {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, note TEXT, n INTEGER NOT NULL, flag INTEGER NOT NULL, data BLOB NOT NULL)")
        }
        return queue
    }

    @Test("every kind of value is stored exactly as GRDB would store it, the statement is reusable, changes are counted")
    func valuesRoundTrip() throws {
        let queue = try Self.database()
        let rows: [(String, String?, Int64, Bool, [UInt8])] = [
            ("plain", "a note", 42, true, [1, 2, 3]),
            ("", nil, Int64.min, false, []),
            ("ünïcødé — 🧾 ok", "", Int64.max, true, Array(repeating: 0, count: 5000)),
        ]
        try queue.write { db in
            for (name, note, n, flag, data) in rows {
                var insert = try DirectStatement(db.cachedStatement(sql: "INSERT INTO t (name, note, n, flag, data) VALUES (?, ?, ?, ?, ?)"))
                insert.bind(name)
                insert.bind(note)
                insert.bind(n)
                insert.bind(flag)
                insert.bind(bytes: data)
                try insert.run(in: db)
                #expect(db.changesCount == 1)
            }
        }
        let stored = try queue.read { db in try Row.fetchAll(db, sql: "SELECT name, note, n, flag, data, typeof(note) AS noteType, typeof(data) AS dataType FROM t ORDER BY id") }
        #expect(stored.count == rows.count)
        for (row, expected) in zip(stored, rows) {
            #expect(row["name"] as String == expected.0)
            #expect(row["note"] as String? == expected.1)
            #expect(row["noteType"] as String == (expected.1 == nil ? "null" : "text"))
            #expect(row["n"] as Int64 == expected.2)
            #expect(row["flag"] as Bool == expected.3)
            #expect(Array(row["data"] as Data) == expected.4)
            #expect(row["dataType"] as String == "blob")
        }
    }

    @Test("a constraint violation throws GRDB's error with the constraint code, and the statement works again afterwards")
    func constraintViolation() throws {
        let queue = try Self.database()
        try queue.write { db in
            func insert(_ name: String) throws {
                var statement = try DirectStatement(db.cachedStatement(sql: "INSERT INTO t (name, n, flag, data) VALUES (?, ?, ?, ?)"))
                statement.bind(name)
                statement.bind(Int64(1))
                statement.bind(false)
                statement.bind(bytes: [UInt8]())
                try statement.run(in: db)
            }
            try insert("one")
            let error = try #require(throws: DatabaseError.self) { try insert("one") }
            #expect(error.resultCode == .SQLITE_CONSTRAINT)
            #expect(error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE)
            #expect(error.message?.contains("t.name") == true)
            try insert("two")
        }
        #expect(try queue.read { db in try String.fetchAll(db, sql: "SELECT name FROM t ORDER BY id") } == ["one", "two"])
    }

    @Test("binding fewer values than the statement has parameters is an error, not a silent NULL")
    func missingParameter() throws {
        let queue = try Self.database()
        try queue.write { db in
            var statement = try DirectStatement(db.cachedStatement(sql: "INSERT INTO t (name, n, flag, data) VALUES (?, ?, ?, ?)"))
            statement.bind("short")
            statement.bind(Int64(1))
            let error = try #require(throws: DatabaseError.self) { try statement.run(in: db) }
            #expect(error.resultCode == .SQLITE_MISUSE)
        }
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") } == 0)
    }
}
