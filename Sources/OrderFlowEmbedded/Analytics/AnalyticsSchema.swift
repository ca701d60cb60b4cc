import GRDB

/// Tables of the analytics aggregates and their stream checkpoints.
enum AnalyticsSchema {
    static func register(in migrator: inout DatabaseMigrator) {
    }
}
