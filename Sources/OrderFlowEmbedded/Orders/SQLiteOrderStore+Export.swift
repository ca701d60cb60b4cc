import GRDB
import OrderFlowCore

extension SQLiteOrderStore {
    /// Hands every order to `body`, oldest first, from one read transaction: a consistent snapshot (WAL isolation)
    /// while writers go on. Returns how many orders there were.
    public func exportSnapshot(_ body: @escaping @Sendable (Order) throws -> Void) async throws -> Int {
        try await database.pool.read { db in
            var count = 0
            let rows = try Row.fetchCursor(db, sql: "SELECT \(OrderRecord.Columns.all) FROM orders ORDER BY seq")
            while let row = try rows.next() {
                try body(try OrderRecord.order(from: row))
                count += 1
            }
            return count
        }
    }
}
