import AsyncHTTPClient
import Foundation
import GRDB
import Logging
import OrderFlowCore
import ServiceLifecycle

/// Delivers the durable push deliveries that topic publishes create: signed HTTP POSTs to webhook subscriptions and
/// e-mails (through `mailer`) to `mailto:` subscriptions, retried with jittered exponential backoff until a 2xx answer
/// (or the relay's acceptance) or the last attempt. Runs as a `Service`; a graceful shutdown lets the
/// deliveries in flight finish (each is bounded by the request timeout) and claims no new ones.
public struct WebhookDispatcher: Service {
    /// The message attribute whose value is sent as `X-OrderFlow-Event-Id`, so receivers can de-duplicate.
    public static let eventIdAttribute = "eventId"
    /// The header carrying the published message's `eventId` attribute.
    public static let eventIdHeader = "X-OrderFlow-Event-Id"
    /// The header carrying the 1-based attempt number.
    public static let attemptHeader = "X-OrderFlow-Delivery-Attempt"
    /// The target prefix of an e-mail subscription.
    public static let mailtoPrefix = "mailto:"

    /// Limits of delivery.
    public struct Configuration: Sendable {
        /// Attempts before a delivery is marked failed.
        public var maxAttempts: Int
        /// Delay between attempts.
        public var backoff: RetryBackoff
        /// Time limit of one POST, response included.
        public var requestTimeout: Duration
        /// Deliveries attempted concurrently in one round.
        public var batchSize: Int

        /// Defaults: 8 attempts, backoff from 1 s up to 5 min, 10 s per request, 8 at a time.
        public init(
            maxAttempts: Int = 8, backoff: RetryBackoff = RetryBackoff(base: .seconds(1), cap: .seconds(300)),
            requestTimeout: Duration = .seconds(10), batchSize: Int = 8
        ) {
            self.maxAttempts = max(maxAttempts, 1)
            self.backoff = backoff
            self.requestTimeout = requestTimeout
            self.batchSize = max(batchSize, 1)
        }
    }

    /// What one round of `deliverDue` did.
    public struct Round: Sendable, Hashable {
        /// Deliveries attempted.
        public var attempted: Int
        /// Deliveries answered with 2xx (and removed).
        public var delivered: Int
        /// Deliveries whose last attempt failed, now marked failed.
        public var gaveUp: Int
        /// When the earliest pending delivery is due, if any is pending.
        public var nextDueAt: Timestamp?
    }

    private let context: MessagingContext
    private let httpClient: HTTPClient
    private let mailer: SMTPMailer?
    private let configuration: Configuration
    private let logger: Logger

    /// A dispatcher for the push subscriptions of `messaging`, posting with `httpClient` (owned by the caller) and
    /// mailing through `mailer` (without one, an e-mail delivery fails and is retried until one is configured).
    public init(
        messaging: SQLiteMessaging, httpClient: HTTPClient = .shared, mailer: SMTPMailer? = nil, configuration: Configuration = Configuration(),
        logger: Logger? = nil
    ) {
        context = messaging.context
        self.httpClient = httpClient
        self.mailer = mailer
        self.configuration = configuration
        self.logger = logger ?? messaging.context.logger
    }

    /// Delivers until cancelled or gracefully shut down, waking on new deliveries and when the next retry is due.
    public func run() async throws {
        let signal = context.signals.signal(.webhooks)
        // Without anything due, look again now and then anyway: another process may share the database.
        let idlePause: Duration = .seconds(60)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let seen = signal.generation
            var pause = idlePause
            do {
                let round = try await deliverDue()
                if round.attempted == configuration.batchSize { continue }
                if let nextDueAt = round.nextDueAt {
                    let untilDue = nextDueAt.millisecondsSinceEpoch - context.clock.now().millisecondsSinceEpoch
                    pause = min(idlePause, .milliseconds(max(untilDue, 1)))
                }
            } catch {
                if Task.isCancelled { break }
                logger.error("webhook delivery round failed", metadata: ["error": "\(error)"])
                pause = .seconds(1)
            }
            let timeout = pause
            let signals = context.signals
            await cancelWhenGracefulShutdown {
                await signals.wait(on: .webhooks, since: seen, timeout: timeout)
            }
        }
    }

    /// Attempts every delivery due now, up to the batch size, concurrently; records the outcomes.
    public func deliverDue() async throws -> Round {
        let claims = try await claimDue()
        guard !claims.isEmpty else {
            return Round(attempted: 0, delivered: 0, gaveUp: 0, nextDueAt: try await nextDueAt())
        }
        let outcomes = await withTaskGroup(of: (Claim, Outcome).self) { group in
            for claim in claims {
                group.addTask { (claim, await attempt(claim)) }
            }
            var outcomes: [(Claim, Outcome)] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        return try await record(outcomes)
    }

    // MARK: Steps

    private struct Claim: Sendable {
        var id: Int64
        var url: String
        var secret: String
        var body: Data
        var eventId: String?
        var attempt: Int
        var topic: String
        var createdAt: Timestamp
    }

    private enum Outcome: Sendable {
        case delivered
        case failed(String)
        /// Shut down mid-request: the claim's lease runs out and another round retries it.
        case abandoned
    }

    /// Takes due deliveries and pushes their due time past the request timeout, so neither a second dispatcher on the
    /// same database nor the next round posts them twice; a crash mid-request only delays the retry.
    private func claimDue() async throws -> [Claim] {
        let batchSize = configuration.batchSize
        let leaseMs = configuration.requestTimeout.wholeMilliseconds + 30_000
        return try await context.database.write { [context] db in
            let now = context.clock.now().millisecondsSinceEpoch
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT d.id, d.body, d.event_id, d.attempts, d.created_at, s.target, s.secret, s.topic
                    FROM webhook_delivery d JOIN topic_subscription s ON s.id = d.subscription_id
                    WHERE d.state = 'pending' AND d.next_attempt_at <= ?
                    ORDER BY d.next_attempt_at, d.id LIMIT ?
                    """,
                arguments: [now, batchSize])
            var claims: [Claim] = []
            for row in rows {
                let claim = Claim(
                    id: row["id"], url: row["target"], secret: row["secret"] ?? "", body: row["body"], eventId: row["event_id"],
                    attempt: (row["attempts"] as Int) + 1, topic: row["topic"],
                    createdAt: Timestamp(millisecondsSinceEpoch: row["created_at"]))
                try db.execute(
                    sql: "UPDATE webhook_delivery SET attempts = ?, next_attempt_at = ? WHERE id = ?",
                    arguments: [claim.attempt, now + leaseMs, claim.id])
                claims.append(claim)
            }
            return claims
        }
    }

    private func attempt(_ claim: Claim) async -> Outcome {
        if claim.url.hasPrefix(Self.mailtoPrefix) { return await mail(claim) }
        var request = HTTPClientRequest(url: claim.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "OrderFlow-Webhooks/1")
        request.headers.add(name: WebhookSignature.headerName, value: WebhookSignature.headerValue(for: [UInt8](claim.body), secret: claim.secret))
        if let eventId = claim.eventId {
            request.headers.add(name: Self.eventIdHeader, value: eventId)
        }
        request.headers.add(name: Self.attemptHeader, value: String(claim.attempt))
        request.body = .bytes(claim.body)
        do {
            let response = try await httpClient.execute(request, timeout: .milliseconds(configuration.requestTimeout.wholeMilliseconds))
            let status = Int(response.status.code)
            // Read a little of the answer: it explains a failure, and a drained body lets the connection be reused.
            let answer = try? await response.body.collect(upTo: 4096)
            if (200..<300).contains(status) { return .delivered }
            let text = answer.map { String(decoding: $0.readableBytesView.prefix(512), as: UTF8.self) } ?? ""
            return .failed("HTTP \(status)" + (text.isEmpty ? "" : ": \(text)"))
        } catch {
            if Task.isCancelled { return .abandoned }
            return .failed(String(describing: error))
        }
    }

    private func mail(_ claim: Claim) async -> Outcome {
        guard let mailer else { return .failed("no SMTP relay is configured for e-mail subscriptions") }
        let message = AlertMail.message(
            to: String(claim.url.dropFirst(Self.mailtoPrefix.count)), topic: claim.topic, body: claim.body,
            eventId: claim.eventId, deliveryId: claim.id, createdAt: claim.createdAt, host: mailer.relay.heloName)
        do {
            try await mailer.send(message)
            return .delivered
        } catch {
            if Task.isCancelled { return .abandoned }
            return .failed(String(describing: error))
        }
    }

    private func record(_ outcomes: [(Claim, Outcome)]) async throws -> Round {
        let maxAttempts = configuration.maxAttempts
        let backoff = configuration.backoff
        let logger = logger
        return try await context.database.write { [context] db in
            let now = context.clock.now().millisecondsSinceEpoch
            var round = Round(attempted: outcomes.count, delivered: 0, gaveUp: 0, nextDueAt: nil)
            for (claim, outcome) in outcomes {
                var metadata: Logger.Metadata = [
                    "topic": "\(claim.topic)", "url": "\(claim.url)", "deliveryId": "\(claim.id)", "attempt": "\(claim.attempt)",
                ]
                if let eventId = claim.eventId { metadata["eventId"] = "\(eventId)" }
                switch outcome {
                case .delivered:
                    try db.execute(sql: "DELETE FROM webhook_delivery WHERE id = ?", arguments: [claim.id])
                    round.delivered += 1
                case .abandoned:
                    continue
                case .failed(let reason):
                    metadata["error"] = "\(reason)"
                    if claim.attempt >= maxAttempts {
                        try db.execute(
                            sql: "UPDATE webhook_delivery SET state = 'failed', last_error = ? WHERE id = ?",
                            arguments: [reason, claim.id])
                        round.gaveUp += 1
                        // Logged once the transaction commits: a write body may run more than once (AppDatabase.write).
                        let failed = metadata
                        db.afterNextTransaction { _ in logger.error("webhook delivery failed for good", metadata: failed) }
                    } else {
                        let delay = backoff.delay(afterAttempt: claim.attempt).wholeMilliseconds
                        try db.execute(
                            sql: "UPDATE webhook_delivery SET next_attempt_at = ?, last_error = ? WHERE id = ?",
                            arguments: [now + delay, reason, claim.id])
                        let retried = metadata
                        db.afterNextTransaction { _ in logger.warning("webhook delivery attempt failed; will retry", metadata: retried) }
                    }
                }
            }
            round.nextDueAt = try Self.nextDueAt(db)
            return round
        }
    }

    private func nextDueAt() async throws -> Timestamp? {
        try await context.database.pool.read { db in try Self.nextDueAt(db) }
    }

    private static func nextDueAt(_ db: Database) throws -> Timestamp? {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT MIN(next_attempt_at) FROM webhook_delivery WHERE state = 'pending'"))
            .map { Timestamp(millisecondsSinceEpoch: $0) }
    }
}
