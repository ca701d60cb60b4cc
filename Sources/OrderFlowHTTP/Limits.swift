import Hummingbird
import HummingbirdCore
import NIOCore
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
            // cancellation). The deadline is an entry in `RequestDeadlines`, removed when the request ends: a NIO timer
            // per request cost two wake-ups of an event loop from another thread (schedule and cancel). The handler
            // task is always awaited, so neither it nor `next` outlives this call.
            let handler = UncheckedHandler(next: next)
            let work = Task { try await handler.next(request, context) }
            let timedOut = TimeoutFlag()
            let deadline = RequestDeadlines.shared.register(deadline: .now + timeout) {
                timedOut.value.store(true, ordering: .relaxed)
                work.cancel()
            }
            let result = await withTaskCancellationHandler {
                await work.result
            } onCancel: {
                work.cancel()
            }
            RequestDeadlines.shared.remove(deadline)
            if timedOut.value.load(ordering: .relaxed) {
                throw Problem(.requestTimeout, status: .requestTimeout, detail: "the request was not received and answered within \(Self.seconds(timeout)) s")
            }
            return try result.get()
        }
    }

    private static func seconds(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? String(milliseconds / 1000) : String(Double(milliseconds) / 1000)
    }
}

/// The deadlines of the requests in progress, and one watcher that expires those past theirs every `tick`: a
/// registration is a dictionary insert under a lock, with no timer and no thread woken. The watcher runs while there are
/// deadlines to watch and ends when there are none (the next registration starts it again).
final class RequestDeadlines: Sendable {
    static let shared = RequestDeadlines(tick: .milliseconds(100))

    private struct Entry {
        let deadline: ContinuousClock.Instant
        let expire: @Sendable () -> Void
    }

    private struct State {
        var lastID: UInt64 = 0
        var entries: [UInt64: Entry] = [:]
        var watching = false
    }

    private let state = Mutex(State())
    private let tick: Duration

    init(tick: Duration) {
        self.tick = tick
    }

    /// Calls `expire` once `deadline` has passed (within a tick), unless removed before; returns the entry's id.
    func register(deadline: ContinuousClock.Instant, expire: @escaping @Sendable () -> Void) -> UInt64 {
        let (id, startWatcher) = state.withLock { state in
            state.lastID += 1
            state.entries[state.lastID] = Entry(deadline: deadline, expire: expire)
            defer { state.watching = true }
            return (state.lastID, !state.watching)
        }
        if startWatcher {
            Task.detached { await self.watch() }
        }
        return id
    }

    /// Forgets an entry (its request ended); one already expired is gone anyway.
    func remove(_ id: UInt64) {
        state.withLock { _ = $0.entries.removeValue(forKey: id) }
    }

    /// Entries not yet expired or removed.
    var pending: Int { state.withLock { $0.entries.count } }

    private func watch() async {
        while true {
            try? await Task.sleep(for: tick)
            let now = ContinuousClock.now
            let (expired, done) = state.withLock { state in
                var expired: [Entry] = []
                for (id, entry) in state.entries where entry.deadline <= now {
                    expired.append(entry)
                    state.entries[id] = nil
                }
                if state.entries.isEmpty { state.watching = false }
                return (expired, state.entries.isEmpty)
            }
            for entry in expired { entry.expire() }
            if done { return }
        }
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
