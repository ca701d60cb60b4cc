/// What storing one order did.
public enum AcceptOutcome: Sendable, Hashable {
    /// A new order; its events are committed with it.
    case created(Order)
    /// The same id with the same content was stored before: the stored order, no new events.
    case replayed(Order)
    /// The same id was stored before with different content: nothing was written.
    case conflict(existing: Order)
}

/// One order to store with the events it produces, committed together or not at all.
public struct OrderSubmission: Sendable, Hashable {
    public var order: Order
    public var events: [OrderEvent]
    /// The audit entry of the request that submitted this order, for a store that records it in the order's own
    /// transaction (`OrderStore.recordsAuditWithOrders`); its status and resource follow the outcome
    /// (`AuditRecord.completed(by:)`).
    public var audit: AuditRecord?

    public init(order: Order, events: [OrderEvent], audit: AuditRecord? = nil) {
        self.order = order
        self.events = events
        self.audit = audit
    }
}

/// Filters and page position for listing orders.
public struct OrderQuery: Sendable, Hashable {
    public var status: OrderStatus?
    public var customerId: String?
    public var highValue: Bool?
    public var review: ReviewStatus?
    public var limit: Int
    /// Opaque position from a previous page's `nextCursor`.
    public var cursor: String?

    public static let maximumLimit = 1000
    public static let defaultLimit = 100

    public init(status: OrderStatus? = nil, customerId: String? = nil, highValue: Bool? = nil, review: ReviewStatus? = nil,
                limit: Int = OrderQuery.defaultLimit, cursor: String? = nil) {
        self.status = status
        self.customerId = customerId
        self.highValue = highValue
        self.review = review
        self.limit = limit
        self.cursor = cursor
    }
}

/// One page of orders, oldest first.
public struct OrderPage: Sendable, Hashable {
    public var orders: [Order]
    /// Give this back as `cursor` for the next page; nil on the last page.
    public var nextCursor: String?

    public init(orders: [Order], nextCursor: String?) {
        self.orders = orders
        self.nextCursor = nextCursor
    }
}

/// Errors every order store reports the same way.
public enum OrderStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(OrderID)
    case illegalTransition(IllegalTransition)
    case invalidCursor

    public var description: String {
        switch self {
        case .notFound(let id): "order \(id) does not exist"
        case .illegalTransition(let t): t.reason
        case .invalidCursor: "the cursor is not one this service issued"
        }
    }
}

/// Durable storage of orders and their outgoing events (port; embedded: SQLite, AWS: DynamoDB).
public protocol OrderStore: Sendable {
    /// Stores each submission with its events atomically and idempotently; one outcome per submission, in order.
    /// Returns only after the writes are durable.
    func accept(_ submissions: [OrderSubmission]) async throws -> [AcceptOutcome]

    /// The stored order, or nil.
    func order(_ id: OrderID) async throws -> Order?

    /// Orders matching `query`, in a stable order with cursor pagination.
    func orders(matching query: OrderQuery) async throws -> OrderPage

    /// Applies a lifecycle action atomically. Returns the order after it (unchanged when it was a no-op).
    /// Throws `OrderStoreError.notFound` or `.illegalTransition`.
    func apply(_ action: OrderAction, to id: OrderID, at time: Timestamp) async throws -> Order

    /// Applies `action` to each order, in one transaction where the store has them (a worker's batch); one result per
    /// id, in order. A per-order refusal is that order's `.failure`; only a store failure throws.
    func apply(_ action: OrderAction, to ids: [OrderID], at time: Timestamp) async throws -> [Result<Order, OrderStoreError>]

    /// See the extension's default (false).
    var recordsAuditWithOrders: Bool { get }
}

extension OrderStore {
    /// Whether `accept` appends each submission's `audit` record to the audit trail in the transaction that stores the
    /// order (so the entry is durable with the order, in one disk flush). Stores that do not leave it to the caller.
    public var recordsAuditWithOrders: Bool { false }

    /// One `apply` per id, for stores without multi-item transactions.
    public func apply(_ action: OrderAction, to ids: [OrderID], at time: Timestamp) async throws -> [Result<Order, OrderStoreError>] {
        var results: [Result<Order, OrderStoreError>] = []
        results.reserveCapacity(ids.count)
        for id in ids {
            do {
                results.append(.success(try await apply(action, to: id, at: time)))
            } catch let error as OrderStoreError {
                results.append(.failure(error))
            }
        }
        return results
    }
}

/// One event waiting in the outbox.
public struct OutboxEntry: Sendable, Hashable {
    public var id: Int64
    public var eventId: String
    public var type: OrderEventType
    public var partitionKey: String
    public var payload: [UInt8]
    /// Where the store keeps the entry, for `markDelivered` (the DynamoDB outbox item holding it); empty when `id`
    /// says it all (SQLite).
    public var receipt: String

    public init(id: Int64, eventId: String, type: OrderEventType, partitionKey: String, payload: [UInt8], receipt: String = "") {
        self.id = id
        self.eventId = eventId
        self.type = type
        self.partitionKey = partitionKey
        self.payload = payload
        self.receipt = receipt
    }
}

/// Events committed with their orders, waiting to be relayed to topics and streams.
public protocol Outbox: Sendable {
    /// Up to `limit` undelivered entries, oldest first.
    func pending(limit: Int) async throws -> [OutboxEntry]
    /// Marks entries (as `pending` returned them) delivered; they are never handed out again.
    func markDelivered(_ entries: [OutboxEntry]) async throws
    /// How many entries wait.
    func backlog() async throws -> Int
    /// Returns when new entries may have been committed, or after `timeout`.
    func waitForEntries(timeout: Duration) async
}

extension OutboxEntry {
    /// The largest body the relay gives a message that carries several high-value events: within one 64 KB chunk, the
    /// unit SNS and SQS bill a request by, so a batched message costs what a single one does.
    public static let batchedMessageBytes = 60 * 1024

    /// Where a batch goes: `order.accepted` events to the orders stream, `order.high_value` events to the topic, each
    /// in outbox order. With `highValueEventsPerMessage` 1 (the default, and what webhook receivers get) each
    /// high-value event is one message with its event id and type as attributes; above 1, consecutive events share a
    /// message whose body is a JSON array of envelopes (at most that many, and at most `batchedMessageBytes` unless one
    /// event alone is larger), read back with `OrderEvent.decodeAll`.
    public static func destinations(of entries: [OutboxEntry], highValueEventsPerMessage: Int = 1) -> (stream: [StreamEntry], topic: [TopicMessage]) {
        var stream: [StreamEntry] = []
        var highValue: [OutboxEntry] = []
        for entry in entries {
            switch entry.type {
            case .accepted: stream.append(StreamEntry(partitionKey: entry.partitionKey, data: entry.payload))
            case .highValue: highValue.append(entry)
            }
        }
        return (stream, topicMessages(highValue, eventsPerMessage: highValueEventsPerMessage))
    }

    static func topicMessages(_ entries: [OutboxEntry], eventsPerMessage: Int) -> [TopicMessage] {
        var messages: [TopicMessage] = []
        var group: [OutboxEntry] = []
        var bytes = 2
        func flush() {
            if group.count == 1 {
                messages.append(TopicMessage(body: group[0].payload, attributes: ["eventId": group[0].eventId, "type": group[0].type.rawValue]))
            } else if group.count > 1 {
                var body: [UInt8] = [UInt8(ascii: "[")]
                body.reserveCapacity(bytes)
                for (index, entry) in group.enumerated() {
                    if index > 0 { body.append(UInt8(ascii: ",")) }
                    body += entry.payload
                }
                body.append(UInt8(ascii: "]"))
                messages.append(TopicMessage(body: body, attributes: ["type": OrderEventType.highValue.rawValue, "eventCount": "\(group.count)"]))
            }
            group = []
            bytes = 2
        }
        for entry in entries {
            if !group.isEmpty && (group.count >= eventsPerMessage || bytes + entry.payload.count + 1 > batchedMessageBytes) { flush() }
            group.append(entry)
            bytes += entry.payload.count + 1
        }
        flush()
        return messages
    }
}

extension TopicMessage {
    /// `messages` in consecutive publish calls within both limits of one SNS `PublishBatch`: `MessagingBatchLimit
    /// .topicPublish` messages and `MessagingBatchLimit.topicPublishBytes` of bodies and attributes together.
    public static func publishChunks(_ messages: [TopicMessage]) -> [[TopicMessage]] {
        messages.chunks(ofAtMost: MessagingBatchLimit.topicPublish, bytes: MessagingBatchLimit.topicPublishBytes) { message in
            message.body.count + message.attributes.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count + 16 }
        }
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements, in order (for ports that take bounded batches).
    public func chunks(of size: Int) -> [[Element]] {
        precondition(size > 0, "chunk size must be positive")
        return stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }

    /// Consecutive chunks of at most `count` elements whose `size`s add up to at most `bytes` (an element over the
    /// budget on its own goes alone), in order.
    public func chunks(ofAtMost count: Int, bytes: Int, size: (Element) -> Int) -> [[Element]] {
        precondition(count > 0, "chunk size must be positive")
        var chunks: [[Element]] = []
        var current: [Element] = []
        var total = 0
        for element in self {
            let elementSize = size(element)
            if !current.isEmpty && (current.count == count || total + elementSize > bytes) {
                chunks.append(current)
                current = []
                total = 0
            }
            current.append(element)
            total += elementSize
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }
}

/// An outbox whose destinations (stream, topic) live in its own database, so it can move a batch to them and mark
/// it delivered in one transaction: delivered exactly once, and without reading the batch back in a second step.
public protocol TransactionalOutboxDelivery: Sendable {
    /// Delivers up to `limit` pending entries and marks them delivered, all or nothing; returns how many.
    func deliverPending(limit: Int) async throws -> Int
}
