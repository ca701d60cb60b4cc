import Hummingbird
import OrderFlowCore

/// The one request context of the OrderFlow HTTP edge.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The trace this request belongs to (the client's `traceparent`, or a new trace); set by the identity middleware.
    public var trace: TraceContext?
    /// Who is calling (set by the auth middleware on routes that need a scope).
    public var principal: Principal?
    /// The request id (the client's `X-Request-Id` when it is a sane token, or a new one).
    public var requestId: String?

    /// Filled in by inner middleware for the outer ones (the audit middleware reads the principal).
    public let notes = RequestNotes()
    /// The client's address.
    public let remoteAddress: String?

    public init(source: Source) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    /// Bodies are read explicitly with per-route limits, so the framework's default decoder limit is the largest of them.
    public var maxUploadSize: Int { 16 << 20 }
}
