import GRDB

/// Tables of orders and the outbox.
enum OrderSchema {
    static func register(in migrator: inout DatabaseMigrator) {
    }
}
