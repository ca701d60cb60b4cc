import Logging
import OrderFlowCore

/// What every embedded queue, topic, stream and the webhook dispatcher built by one `SQLiteMessaging` share.
struct MessagingContext: Sendable {
    let database: AppDatabase
    let clock: any WallClock
    let logger: Logger
    let signals: MessagingSignals
}

/// The limits SQS, SNS and Kinesis enforce, kept here too so code that works embedded also works on AWS.
enum MessagingLimits {
    static let sendBatch = MessagingBatchLimit.queueSend
    static let receiveBatch = 10
    static let deleteBatch = 10
    static let messageBytes = 262_144
    static let maxWait: Duration = .seconds(20)
    static let maxVisibility: Duration = .seconds(43_200)
    static let maxReceiveCount = 1000
    static let queueNameLength = 80
    static let streamPutBatch = MessagingBatchLimit.streamPut
    static let streamRecordBytes = 1_048_576
    static let partitionKeyLength = 256
    static let streamReadBatch = 10_000

    /// SQS queue names: 1 to 80 ASCII letters, digits, hyphens and underscores.
    static func validateQueueName(_ name: String) throws {
        let valid = !name.isEmpty && name.utf8.count <= queueNameLength && name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F
        }
        guard valid else {
            throw MessagingError.invalidArgument("queue name \"\(name)\" must be 1 to \(queueNameLength) letters, digits, '-' or '_'")
        }
    }

    static func validateTimeout(_ timeout: Duration, name: String, max: Duration) throws {
        guard timeout >= .zero, timeout <= max else {
            throw MessagingError.invalidArgument("\(name) must be between 0 and \(max), got \(timeout)")
        }
    }
}
