import OrderFlowCore
import Synchronization

/// Accepting orders and moving them through their life; the one place the API, uploads and the CLI go through.
public final class OrderService: Sendable {
    public let store: any OrderStore
    public let policy: HighValuePolicy
    /// Where accepted, high-value, replayed and rejected orders are counted.
    public let metrics: OrderFlowMetrics
    private let clock: any WallClock
    /// The orders this process stored most recently, newest last (the dashboard's "recent orders").
    private let recent = Mutex<[Order]>([])
    static let recentLimit = 50

    public init(store: any OrderStore, policy: HighValuePolicy, clock: any WallClock, metrics: OrderFlowMetrics = OrderFlowMetrics()) {
        self.store = store
        self.policy = policy
        self.clock = clock
        self.metrics = metrics
    }

    /// Stores one validated order with its events; idempotent on the order id.
    /// `audit`: the request's audit record, recorded with the order when `recordsAuditWithOrders` (ignored otherwise).
    public func submit(_ draft: OrderDraft, source: String, traceparent: String? = nil, audit: AuditRecord? = nil) async throws -> AcceptOutcome {
        var submission = submission(for: draft, source: source, traceparent: traceparent)
        if store.recordsAuditWithOrders { submission.audit = audit }
        let outcomes = try await store.accept([submission])
        guard let outcome = outcomes.first else { throw OrderServiceError.storeReturnedNothing }
        remember(outcomes)
        return outcome
    }

    /// Stores many orders in as few transactions as the store allows; one outcome per draft, in order.
    public func submit(_ drafts: [OrderDraft], source: String, traceparent: String? = nil) async throws -> [AcceptOutcome] {
        try await submit(drafts.map { (draft: $0, source: source) }, traceparent: traceparent)
    }

    /// Stores many orders, each with its own source (the files of an upload batch), in as few transactions as the store
    /// allows; one outcome per draft, in order.
    public func submit(_ drafts: [(draft: OrderDraft, source: String)], traceparent: String? = nil) async throws -> [AcceptOutcome] {
        let outcomes = try await store.accept(drafts.map { submission(for: $0.draft, source: $0.source, traceparent: traceparent) })
        remember(outcomes)
        return outcomes
    }

    /// Whether `submit(_:source:traceparent:audit:)` records the audit entry in the order's transaction.
    public var recordsAuditWithOrders: Bool { store.recordsAuditWithOrders }

    private func remember(_ outcomes: [AcceptOutcome]) {
        metrics.record(outcomes)
        let created = outcomes.suffix(Self.recentLimit).compactMap { outcome -> Order? in
            if case .created(let order) = outcome { return order }
            return nil
        }
        guard !created.isEmpty else { return }
        // Appended in place and trimmed now and then, instead of copying the last 50 orders for every order stored.
        recent.withLock { recent in
            recent.append(contentsOf: created)
            if recent.count > 2 * Self.recentLimit { recent.removeFirst(recent.count - Self.recentLimit) }
        }
    }

    /// Up to `limit` orders this process stored most recently, newest first. Process-local: on AWS each API instance
    /// knows its own; the orders themselves are read from the store.
    public func recentlyAccepted(limit: Int = 20) -> [Order] {
        recent.withLock { Array($0.suffix(min(limit, Self.recentLimit)).reversed()) }
    }

    func submission(for draft: OrderDraft, source: String, traceparent: String?) -> OrderSubmission {
        let now = clock.now()
        let id = draft.id ?? OrderID.generate(at: now)
        let order = Order(draft: draft, id: id, highValue: policy.isHighValue(draft.amount), source: source, at: now)
        return OrderSubmission(order: order, events: OrderEvent.events(for: order, traceparent: traceparent))
    }

    /// The stored order, or nil.
    public func order(_ id: OrderID) async throws -> Order? {
        try await store.order(id)
    }

    /// A page of orders.
    public func orders(matching query: OrderQuery) async throws -> OrderPage {
        try await store.orders(matching: query)
    }

    /// Applies a lifecycle action (fulfil, cancel, approve or reject the review).
    public func perform(_ action: OrderAction, on id: OrderID) async throws -> Order {
        try await store.apply(action, to: id, at: clock.now())
    }

    /// Applies a lifecycle action to several orders at once (one transaction where the store allows); one result per id.
    public func perform(_ action: OrderAction, on ids: [OrderID]) async throws -> [Result<Order, OrderStoreError>] {
        try await store.apply(action, to: ids, at: clock.now())
    }
}

/// Failures of the order service that are not the store's own errors.
public enum OrderServiceError: Error, Sendable {
    case storeReturnedNothing
}
