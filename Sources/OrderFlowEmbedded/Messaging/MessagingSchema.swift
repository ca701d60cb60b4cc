import GRDB

/// Tables of the embedded queues, topics and streams.
enum MessagingSchema {
    static func register(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v1-messaging") { db in
            try db.create(table: "queue") { t in
                t.primaryKey("name", .text)
                t.column("visibility_timeout_ms", .integer).notNull()
                t.column("max_receive_count", .integer).notNull()
                // NULL for a queue without redrive policy, such as a dead-letter queue itself.
                t.column("dead_letter_queue", .text)
            }

            try db.create(table: "queue_message") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("queue", .text).notNull()
                t.column("message_id", .text).notNull()
                t.column("body", .blob).notNull()
                t.column("attributes", .text).notNull().defaults(to: "{}")
                t.column("sent_at", .integer).notNull()
                t.column("visible_at", .integer).notNull()
                t.column("receive_count", .integer).notNull().defaults(to: 0)
                t.column("receipt_handle", .text)
                t.column("last_error", .text)
                t.column("dead_lettered_at", .integer)
                t.column("source_queue", .text)
            }
            // Receive scans visible messages of one queue in visibility order, and finds the next one to wake for.
            try db.create(index: "queue_message_on_queue_visible_at", on: "queue_message", columns: ["queue", "visible_at"])
            try db.execute(sql: """
                CREATE UNIQUE INDEX queue_message_on_receipt_handle ON queue_message(receipt_handle)
                WHERE receipt_handle IS NOT NULL
                """)

            try db.create(table: "topic_subscription") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("topic", .text).notNull()
                t.column("kind", .text).notNull().check { ["queue", "webhook", "log"].contains($0) }
                // Queue name, webhook URL, or empty for a log subscription.
                t.column("target", .text).notNull()
                t.column("secret", .text)
                t.uniqueKey(["topic", "kind", "target"])
            }

            try db.create(table: "webhook_delivery") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("subscription_id", .integer).notNull()
                    .references("topic_subscription", onDelete: .cascade)
                t.column("body", .blob).notNull()
                t.column("event_id", .text)
                t.column("created_at", .integer).notNull()
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("next_attempt_at", .integer).notNull()
                t.column("last_error", .text)
                t.column("state", .text).notNull().check { ["pending", "failed"].contains($0) }
            }
            try db.create(index: "webhook_delivery_on_state_next_attempt_at", on: "webhook_delivery", columns: ["state", "next_attempt_at"])
            try db.create(index: "webhook_delivery_on_subscription_id", on: "webhook_delivery", columns: ["subscription_id"])

            try db.create(table: "stream_record") { t in
                t.column("stream", .text).notNull()
                t.column("shard", .integer).notNull()
                t.column("seq", .integer).notNull()
                t.column("partition_key", .text).notNull()
                t.column("data", .blob).notNull()
                t.column("arrived_at", .integer).notNull()
                t.primaryKey(["stream", "shard", "seq"])
            }
            try db.create(index: "stream_record_on_stream_arrived_at", on: "stream_record", columns: ["stream", "arrived_at"])

            // The last sequence number handed out per shard survives trimming, so numbers are never reused: a consumer's
            // checkpoint stays meaningful even after every record it saw has expired.
            try db.create(table: "stream_shard") { t in
                t.column("stream", .text).notNull()
                t.column("shard", .integer).notNull()
                t.column("last_seq", .integer).notNull()
                t.primaryKey(["stream", "shard"])
            }
        }
    }
}
