import Foundation

/// Caches another provider's expiring credentials and fetches new ones a margin before they expire.
///
/// Concurrent callers that need a refresh share one fetch. When a refresh fails (or finds nothing)
/// while the cached credentials are still valid, they keep being used and the refresh is retried
/// after `retryInterval`, so a brief outage of the credentials endpoint never fails requests.
/// Credentials without an expiration are cached for the provider's lifetime.
public actor RefreshingCredentialProvider: AWSCredentialProvider {
    private struct Cached {
        let credentials: AWSCredentials
        /// Not before this moment is the base asked again.
        var refreshAt: Date
    }

    private typealias Outcome = Result<AWSCredentialResolution, AWSCredentialError>

    private let base: any AWSCredentialProvider
    private let refreshMargin: TimeInterval
    private let retryInterval: TimeInterval
    private let now: @Sendable () -> Date
    /// Called each time a caller starts waiting on a refresh, so tests can tell when callers have piled up.
    private let waitingForRefresh: (@Sendable () -> Void)?

    private var cached: Cached?
    private var refresh: Task<Outcome, Never>?

    /// Wraps `base`; `refreshMargin` before expiry a new fetch starts, `now` is the clock (tests pass a fake one).
    public init(
        _ base: any AWSCredentialProvider,
        refreshMargin: Duration = .seconds(300),
        retryInterval: Duration = .seconds(30),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.init(base, refreshMargin: refreshMargin, retryInterval: retryInterval, now: now, waitingForRefresh: nil)
    }

    init(
        _ base: any AWSCredentialProvider,
        refreshMargin: Duration,
        retryInterval: Duration,
        now: @escaping @Sendable () -> Date,
        waitingForRefresh: (@Sendable () -> Void)?
    ) {
        self.base = base
        self.refreshMargin = refreshMargin.timeInterval
        self.retryInterval = retryInterval.timeInterval
        self.now = now
        self.waitingForRefresh = waitingForRefresh
    }

    /// The wrapped provider's name, so chain messages name the real source.
    public nonisolated var name: String { base.name }

    /// The cached credentials while fresh, otherwise the result of one shared refresh.
    public func resolve() async throws(AWSCredentialError) -> AWSCredentialResolution {
        if let cached, now() < cached.refreshAt {
            return .found(cached.credentials)
        }
        let task: Task<Outcome, Never>
        if let refresh {
            task = refresh
        } else {
            task = Task { await self.performRefresh() }
            refresh = task
        }
        waitingForRefresh?()
        return try await task.value.get()
    }

    /// Fetches from the base and settles the cache; runs once per refresh, whoever triggered it.
    private func performRefresh() async -> Outcome {
        defer { refresh = nil }
        let fetched: Outcome
        do {
            fetched = .success(try await base.resolve())
        } catch {
            fetched = .failure(error)
        }
        let now = now()
        if case .success(.found(let credentials)) = fetched {
            cached = Cached(credentials: credentials, refreshAt: refreshTime(for: credentials, now: now))
            return fetched
        }
        if var cached, let expiration = cached.credentials.expiration, now < expiration {
            cached.refreshAt = min(now.addingTimeInterval(retryInterval), expiration)
            self.cached = cached
            return .success(.found(cached.credentials))
        }
        cached = nil
        return fetched
    }

    /// When to ask again: `refreshMargin` before expiry, but when the source hands out credentials that
    /// are already inside the margin (IMDS rotates only minutes before expiry) no sooner than `retryInterval`.
    private func refreshTime(for credentials: AWSCredentials, now: Date) -> Date {
        guard let expiration = credentials.expiration else { return .distantFuture }
        let early = expiration.addingTimeInterval(-refreshMargin)
        if early > now {
            return early
        }
        return min(now.addingTimeInterval(retryInterval), expiration)
    }
}
