import Foundation
import GRDB
import GRDBSQLite

/// One of our cached statements, bound and run through SQLite's C API. GRDB's `execute(arguments:)` first boxes every
/// value into a `StatementArguments` array of `DatabaseValue`s; on the single writer, which runs every order's inserts
/// in turn, that boxing measured more time than SQLite's own work. Used for the writer's frequent statements; they run
/// inside a transaction GRDB opened and commits, so its transaction bookkeeping and commit hooks are unaffected.
///
/// Bind the values in parameter order, then `run(in:)`. Texts and blobs are copied by SQLite (`SQLITE_TRANSIENT`).
struct DirectStatement {
    private let statement: Statement
    private let handle: OpaquePointer
    private var bound: CInt = 0

    init(_ statement: Statement) {
        self.statement = statement
        handle = statement.sqliteStatement
    }

    mutating func bind(_ value: String) {
        bound += 1
        var text = value
        text.withUTF8 { utf8 in
            if let base = utf8.baseAddress, utf8.count > 0 {
                base.withMemoryRebound(to: CChar.self, capacity: utf8.count) { sqlite3_bind_text(handle, bound, $0, CInt(utf8.count), transient) }
            } else {
                sqlite3_bind_text(handle, bound, "", 0, transient)
            }
        }
    }

    mutating func bind(_ value: String?) {
        guard let value else { return bindNull() }
        bind(value)
    }

    mutating func bind(_ value: Int64) {
        bound += 1
        sqlite3_bind_int64(handle, bound, value)
    }

    mutating func bind(_ value: Int) { bind(Int64(value)) }

    /// As GRDB stores booleans: the integers 0 and 1.
    mutating func bind(_ value: Bool) { bind(Int64(value ? 1 : 0)) }

    /// A blob; an empty one is an empty blob, not NULL.
    mutating func bind(bytes: some ContiguousBytes) {
        bound += 1
        bytes.withUnsafeBytes { raw in
            if let base = raw.baseAddress, raw.count > 0 {
                sqlite3_bind_blob(handle, bound, base, CInt(raw.count), transient)
            } else {
                sqlite3_bind_zeroblob(handle, bound, 0)
            }
        }
    }

    mutating func bindNull() {
        bound += 1
        sqlite3_bind_null(handle, bound)
    }

    /// Runs the statement with the values bound since the last run and resets it for the next. A statement with a
    /// parameter left unbound is refused (`SQLITE_MISUSE`) instead of storing NULL; an SQLite error is thrown as GRDB's
    /// `DatabaseError`, with the extended result code and SQLite's message.
    mutating func run(in db: Database) throws {
        defer { bound = 0 }
        let parameters = sqlite3_bind_parameter_count(handle)
        guard bound == parameters else {
            sqlite3_reset(handle)
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "\(bound) values bound for \(parameters) parameters", sql: statement.sql)
        }
        let code = sqlite3_step(handle)
        if code == SQLITE_DONE {
            sqlite3_reset(handle)
            return
        }
        let connection = db.sqliteConnection
        let extended = code == SQLITE_ROW ? SQLITE_MISUSE : sqlite3_extended_errcode(connection)
        let message = code == SQLITE_ROW ? "the statement returned rows" : String(cString: sqlite3_errmsg(connection))
        sqlite3_reset(handle)
        throw DatabaseError(resultCode: ResultCode(rawValue: extended), message: message, sql: statement.sql)
    }
}

/// SQLite copies the value before the bind call returns.
private let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
