import Hummingbird
import HummingbirdCore
import NIOCore
import NIOPosix
import OrderFlowCore
import Synchronization

/// Limits at the edge, beyond the per-route body limits.
public struct EdgeLimits: Sendable {
    /// Longest request target (path and query) in bytes: 414 above.
    public var maximumURLBytes = 8 * 1024
    /// Largest single header field and all header fields together (the HTTP decoder closes the connection above).
    public var maximumHeaderFieldBytes = 16 * 1024
    public var maximumHeaderBytes = 32 * 1024
    /// A connection with nothing to read or write for this long is closed (slow or stalled clients).
    public var idleTimeout: Duration = .seconds(60)
    /// A request not answered this long after its handling began (its body still arriving, or its work unfinished) is
    /// cancelled and answered `408`; nil: no limit.
    public var requestTimeout: Duration? = .seconds(60)
    /// Open connections at most; further ones wait in the listen backlog.
    public var maximumConnections = 1024
    /// Requests per second each principal (or client address, without authentication) may make; nil: no limit.
    public var rateLimit: Double?
    /// How many requests above the rate a principal may burst.
    public var rateBurst: Double?

    public init() {}
}

/// A token bucket per key: `rate` tokens a second up to `burst`; a request takes one.
final class RateLimiter: Sendable {
    let rate: Double
    let burst: Double
    private let buckets = Mutex<[String: (tokens: Double, at: ContinuousClock.Instant)]>([:])

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = burst
    }

    /// nil when the request may go ahead, else the seconds until a token is there.
    func take(_ key: String, now: ContinuousClock.Instant = .now) -> Double? {
        buckets.withLock { buckets in
            var bucket = buckets[key] ?? (burst, now)
            let elapsed = now - bucket.at
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(burst, bucket.tokens + seconds * rate)
            bucket.at = now
            defer {
                buckets[key] = bucket
                if buckets.count > 100_000 { buckets.removeAll(keepingCapacity: true) }  // bounded memory under a flood of keys
            }
            guard bucket.tokens >= 1 else { return (1 - bucket.tokens) / rate }
            bucket.tokens -= 1
            return nil
        }
    }
}

/// Refuses over-long request targets (414) and cancels requests that take longer than the request timeout (408); the
/// rate limit (429) is applied where the caller is known (AuthMiddleware).
struct EdgeLimitsMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let limits: EdgeLimits

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        guard request.uri.string.utf8.count <= limits.maximumURLBytes else {
            throw Problem(.uriTooLong, status: .uriTooLong, detail: "the request target is longer than \(limits.maximumURLBytes) bytes")
        }
        guard let timeout = limits.requestTimeout, request.uri.path != "/health" else { return try await next(request, context) }
        return try await withoutActuallyEscaping(next) { next in
            // The handler runs in a task of its own so the deadline can cancel it (a stalled body read ends with the
            // cancellation). The deadline is a NIO scheduled task, which is removed when cancelled: a timer per
            // request that stayed queued until it fired would hold memory for the whole timeout at every request rate.
            // The handler task is always awaited, so neither it nor `next` outlives this call.
            let handler = UncheckedHandler(next: next)
            let work = Task { try await handler.next(request, context) }
            let timedOut = TimeoutFlag()
            let deadline = Self.timers.next().scheduleTask(in: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000
                + timeout.components.attoseconds / 1_000_000_000)) {
                timedOut.value.store(true, ordering: .relaxed)
                work.cancel()
            }
            let result = await withTaskCancellationHandler {
                await work.result
            } onCancel: {
                work.cancel()
            }
            deadline.cancel()
            if timedOut.value.load(ordering: .relaxed) {
                throw Problem(.requestTimeout, status: .requestTimeout, detail: "the request was not received and answered within \(Self.seconds(timeout)) s")
            }
            return try result.get()
        }
    }

    /// The event loops that run the deadlines (NIO's shared ones, which the HTTP server uses too).
    private static let timers: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton

    private static func seconds(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? String(milliseconds / 1000) : String(Double(milliseconds) / 1000)
    }
}

/// Set by a request's deadline when it fires.
private final class TimeoutFlag: Sendable {
    let value = Atomic<Bool>(false)
}

/// The next handler of a middleware, carried into the child task that runs it. It is called once, inside the
/// middleware's own call and task group, which is what makes handing it across safe.
private struct UncheckedHandler: @unchecked Sendable {
    let next: (Request, AppRequestContext) async throws -> Response
}
