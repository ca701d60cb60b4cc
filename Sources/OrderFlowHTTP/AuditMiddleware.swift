import Hummingbird
import Logging
import OrderFlowApp
import OrderFlowCore
import Synchronization

/// What inner middleware tells the audit middleware about a request (who the caller turned out to be).
public final class RequestNotes: Sendable {
    private let principal = Mutex<String?>(nil)
    private let audited = Mutex(false)

    public init() {}

    /// Set by a handler whose store recorded the request's audit entry in its own transaction (`POST /orders`
    /// embedded): the audit middleware then appends nothing more.
    public var auditRecorded: Bool {
        get { audited.withLock { $0 } }
        set { audited.withLock { $0 = newValue } }
    }

    public var principalId: String? {
        get { principal.withLock { $0 } }
        set { principal.withLock { $0 = newValue } }
    }
}

/// Appends every state-changing request (anything but GET and HEAD), accepted or refused, to the audit trail: who, what
/// route and ids, the status answered, when, from which address, with which request id. The entry is durable before
/// the response leaves (concurrent requests share the commit).
struct AuditMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let trail: any AuditTrail
    let clock: any WallClock

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        guard request.method != .get, request.method != .head else { return try await next(request, context) }
        do {
            let response = try await next(request, context)
            await record(request, context, status: response.status.code, location: response.headers[.location])
            return response
        } catch {
            await record(request, context, status: (error as? any HTTPResponseError)?.status.code ?? 500, location: nil)
            throw error
        }
    }

    func record(_ request: Request, _ context: AppRequestContext, status: Int, location: String?) async {
        guard !context.notes.auditRecorded else { return }
        var ids = context.parameters.map { "\($0.key)=\($0.value)" }.sorted()
        if let location, let id = location.split(separator: "/").last, ids.isEmpty { ids.append("id=\(id)") }
        let record = Self.record(request, context, time: clock.now(), status: status, resource: ids.joined(separator: " "))
        do {
            _ = try await trail.append([record])
        } catch {
            context.logger.error("could not append to the audit trail", metadata: ["error": "\(error)", "route": "\(record.route)"])
        }
    }

    /// The entry for `request` as the caller and route are known now.
    static func record(_ request: Request, _ context: AppRequestContext, time: Timestamp, status: Int, resource: String) -> AuditRecord {
        AuditRecord(
            time: time, principal: context.notes.principalId ?? "unauthenticated", method: request.method.rawValue,
            route: RouteScopes.normalized(context.endpointPath ?? request.uri.path), resource: resource, status: status,
            sourceAddress: context.remoteAddress ?? "", requestId: context.requestId ?? ""
        )
    }
}
