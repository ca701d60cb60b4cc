import GRDB

/// Tables of orders and the outbox.
enum OrderSchema {
    static func register(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v1-orders") { db in
            // `seq` gives listing a stable order that never changes under concurrent inserts.
            try db.execute(sql: """
                CREATE TABLE orders (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    order_id TEXT NOT NULL UNIQUE,
                    customer_id TEXT,
                    currency TEXT NOT NULL,
                    amount_minor INTEGER NOT NULL,
                    items TEXT NOT NULL,
                    high_value INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    review TEXT,
                    source TEXT NOT NULL,
                    payload_hash TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                CREATE INDEX orders_by_status ON orders(status, seq);
                CREATE INDEX orders_by_customer ON orders(customer_id, seq);
                CREATE INDEX orders_by_review ON orders(review, seq) WHERE review IS NOT NULL;
                CREATE INDEX orders_by_high_value ON orders(high_value, seq);
                CREATE TABLE outbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    event_id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    partition_key TEXT NOT NULL,
                    payload BLOB NOT NULL,
                    created_at INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("v2-outbox-count") { db in
            // Counting the backlog walks this narrow index instead of every (payload-sized) outbox row.
            try db.execute(sql: "CREATE INDEX outbox_by_created_at ON outbox(created_at)")
        }
    }
}
