import Hummingbird
import HummingbirdCore
import Logging
import OrderFlowApp
import ServiceLifecycle

/// Settings of the HTTP edge.
public struct HTTPConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Largest accepted `POST /orders` body.
    public var orderBodyLimit: Int
    /// Largest accepted `PUT /uploads/…` body.
    public var uploadBodyLimit: Int
    /// `POST /upload`'s limit and whether contents are kept.
    public var documents = DocumentSettings()
    /// URL, header, connection, idle-time and rate limits.
    public var limits = EdgeLimits()

    public init(host: String = "127.0.0.1", port: Int = 8080, orderBodyLimit: Int = 1 << 20, uploadBodyLimit: Int = 16 << 20) {
        self.host = host
        self.port = port
        self.orderBodyLimit = orderBodyLimit
        self.uploadBodyLimit = uploadBodyLimit
    }
}

/// Every route of the API over `services`.
public func buildRouter(_ services: OrderFlowServices, configuration: HTTPConfiguration) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: RequestMetricsMiddleware(metrics: services.metrics))
    router.add(middleware: RequestIdentityMiddleware())
    if let trail = services.audit { router.add(middleware: AuditMiddleware(trail: trail, clock: services.clock)) }
    router.add(middleware: EdgeLimitsMiddleware(limits: configuration.limits))
    router.add(middleware: AuthMiddleware(auth: services.auth, limiter: configuration.limits.rateLimit.map {
        RateLimiter(rate: $0, burst: max(1, configuration.limits.rateBurst ?? $0 * 2))
    }))
    router.add(middleware: ProblemMiddleware())
    OrdersController(orders: services.orders, bodyLimit: configuration.orderBodyLimit,
                     auditClock: services.audit == nil ? nil : services.clock).addRoutes(to: router)
    ReviewsController(orders: services.orders).addRoutes(to: router)
    UploadsController(objects: services.objects, bodyLimit: configuration.uploadBodyLimit).addRoutes(to: router)
    OperationsController(services: services).addRoutes(to: router)
    DashboardController().addRoutes(to: router)
    if let documents = services.documents {
        DocumentsController(documents: documents, objects: services.objects, settings: configuration.documents, clock: services.clock).addRoutes(to: router)
    }
    return router
}

/// The HTTP application with the background `workers` attached, so one service group starts them and, on shutdown,
/// stops the server first (no new requests, in-flight ones finish) and the workers after it. `extraRoutes` adds routes
/// that are not the API's (the benchmarks' echo route).
public func buildApplication(
    _ services: OrderFlowServices,
    configuration: HTTPConfiguration,
    workers: [any Service],
    logger: Logger,
    extraRoutes: (Router<AppRequestContext>, HTTPConfiguration) -> Void = { _, _ in },
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = buildRouter(services, configuration: configuration)
    extraRoutes(router, configuration)
    return Application(
        router: router,
        server: .http1(configuration: .init(
            idleTimeout: .nanoseconds(Int64(configuration.limits.idleTimeout.components.seconds) * 1_000_000_000),
            httpDecoderConfiguration: .init(maxHeaderFieldSize: configuration.limits.maximumHeaderFieldBytes,
                                            maxHeaderListSize: configuration.limits.maximumHeaderBytes, maxHeaderFieldCount: 200)
        )),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "OrderFlow",
                             availableConnectionsDelegate: MaximumAvailableConnections(configuration.limits.maximumConnections)),
        services: workers,
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger
    )
}
