import GRDB

/// Tables of the analytics aggregates and their stream checkpoints.
enum AnalyticsSchema {
    static func register(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v1-analytics") { db in
            try db.execute(sql: """
                CREATE TABLE analytics_counted (order_id TEXT PRIMARY KEY) WITHOUT ROWID;
                CREATE TABLE analytics_totals (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE analytics_revenue (currency TEXT PRIMARY KEY, amount_minor INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE analytics_minutes (minute INTEGER PRIMARY KEY, orders INTEGER NOT NULL);
                CREATE TABLE stream_checkpoints (
                    consumer TEXT NOT NULL,
                    shard_id TEXT NOT NULL,
                    sequence_number TEXT NOT NULL,
                    PRIMARY KEY (consumer, shard_id)
                ) WITHOUT ROWID;
                """)
        }
    }
}
