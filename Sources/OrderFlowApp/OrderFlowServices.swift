import OrderFlowCore

/// The services the HTTP edge and the CLI call, built by the composition root for one backend.
public struct OrderFlowServices: Sendable {
    public let orders: OrderService
    public let analytics: any AnalyticsStore
    public let objects: any ObjectStore
    public let queues: any QueueAdministration
    public let status: SystemStatus
    public let clock: any WallClock
    /// The built-in alarms (`GET /alarms`), when the composition root runs them.
    public let alarms: Alarms?
    /// How callers authenticate (none: loopback only).
    public let auth: AuthConfiguration
    /// Where state-changing requests are recorded (nil: not kept).
    public let audit: (any AuditTrail)?
    /// Document metadata (nil: the service is off on this backend).
    public let documents: (any DocumentStore)?
    /// The process's metrics (the order service records into the same registry).
    public var metrics: OrderFlowMetrics { orders.metrics }

    public init(orders: OrderService, analytics: any AnalyticsStore, objects: any ObjectStore, queues: any QueueAdministration,
                status: SystemStatus, clock: any WallClock, alarms: Alarms? = nil, auth: AuthConfiguration = .none,
                audit: (any AuditTrail)? = nil, documents: (any DocumentStore)? = nil) {
        self.orders = orders
        self.analytics = analytics
        self.objects = objects
        self.queues = queues
        self.status = status
        self.clock = clock
        self.alarms = alarms
        self.auth = auth
        self.audit = audit
        self.documents = documents
    }
}
