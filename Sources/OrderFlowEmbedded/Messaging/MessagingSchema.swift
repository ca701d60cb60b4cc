import GRDB

/// Tables of the embedded queues, topics and streams.
enum MessagingSchema {
    static func register(in migrator: inout DatabaseMigrator) {
        // Filled in by the messaging adapter.
    }
}
