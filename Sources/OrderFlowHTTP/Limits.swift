import Hummingbird
import HummingbirdCore
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

/// Refuses over-long request targets (414); the rate limit (429) is applied where the caller is known (AuthMiddleware).
struct EdgeLimitsMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let limits: EdgeLimits

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        guard request.uri.string.utf8.count <= limits.maximumURLBytes else {
            throw Problem(.uriTooLong, status: .uriTooLong, detail: "the request target is longer than \(limits.maximumURLBytes) bytes")
        }
        return try await next(request, context)
    }
}
