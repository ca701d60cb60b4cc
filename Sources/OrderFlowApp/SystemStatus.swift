import OrderFlowCore

/// Everything `GET /status` and the CLI's `status` report, gathered from the ports.
public struct SystemStatus: Sendable {
    public let version: String
    public let backend: String
    public let startedAt: Timestamp
    let clock: any WallClock
    let databaseHealthy: @Sendable () async -> Bool
    let outbox: any Outbox
    let queues: any QueueAdministration
    let analytics: AnalyticsConsumer
    let providerRequests: (@Sendable () -> [ProviderRequestCount])?

    /// `providerRequests`, on a cloud backend, reports the requests this process made to the provider (the cost meter).
    public init(version: String, backend: String, clock: any WallClock, databaseHealthy: @escaping @Sendable () async -> Bool,
                outbox: any Outbox, queues: any QueueAdministration, analytics: AnalyticsConsumer,
                providerRequests: (@Sendable () -> [ProviderRequestCount])? = nil) {
        self.version = version
        self.backend = backend
        self.startedAt = clock.now()
        self.clock = clock
        self.databaseHealthy = databaseHealthy
        self.outbox = outbox
        self.queues = queues
        self.analytics = analytics
        self.providerRequests = providerRequests
    }

    /// The cost meter's report, or nil on a backend without one: every request to the provider is billed, so retries
    /// count; `{"total": {"attempts": N, "retries": R}, "byOperation": {"DynamoDB.TransactWriteItems": {"attempts": …,
    /// "retries": …, "errors": {"TransactionCanceledException": …}}}}` (`errors` only where there were error responses).
    public func costReport() -> JSONValue? {
        guard let providerRequests else { return nil }
        return Self.costReport(providerRequests())
    }

    /// The cost meter's report of `counts` (see `costReport()`).
    public static func costReport(_ counts: [ProviderRequestCount]) -> JSONValue {
        let counts = counts.sorted { ($0.service, $0.operation) < ($1.service, $1.operation) }
        let members = counts.map { count in
            var value: [JSONMember] = [JSONMember(key: "attempts", value: .int(count.attempts)), JSONMember(key: "retries", value: .int(count.retries))]
            if !count.errors.isEmpty {
                value.append(JSONMember(key: "errors", value: .object(count.errors.sorted { $0.key < $1.key }.map { JSONMember(key: $0.key, value: .int($0.value)) })))
            }
            return JSONMember(key: "\(count.service).\(count.operation)", value: .object(value))
        }
        var attempts = 0, retries = 0
        for count in counts {
            attempts += count.attempts
            retries += count.retries
        }
        let total: JSONValue = .object(["attempts": .int(attempts), "retries": .int(retries)])
        return .object(["total": total, "byOperation": .object(members)])
    }

    /// A report of the running system. Parts that fail are reported as errors rather than failing the whole report.
    public func report() async -> JSONValue {
        let now = clock.now()
        let healthy = await databaseHealthy()
        var queueList: JSONValue = .null
        if let infos = try? await queues.queues() {
            queueList = .array(infos.map(\.json))
        }
        let backlog = try? await outbox.backlog()
        let lag = try? await analytics.lag()
        let report: JSONValue = .object([
            "version": .string(version),
            "backend": .string(backend),
            "startedAt": .string(startedAt.iso8601),
            "uptimeSeconds": .int((now.millisecondsSinceEpoch - startedAt.millisecondsSinceEpoch) / 1000),
            "database": .object(["ok": .bool(healthy)]),
            "queues": queueList,
            "outboxBacklog": backlog.map { .int($0) } ?? .null,
            "streamConsumerLag": lag.map { lag in
                .object([
                    "consumer": .string(AnalyticsConsumer.consumerName),
                    "total": .int(lag.values.reduce(0, +)),
                    "shards": .object(lag.sorted { $0.key < $1.key }.map { JSONMember(key: $0.key, value: .int($0.value)) }),
                ])
            } ?? .null,
        ])
        guard let meter = costReport(), case .object(var members) = report else { return report }
        members.append(JSONMember(key: "awsRequests", value: meter))
        return .object(members)
    }
}

extension QueueInfo {
    /// The queue as operators see it.
    public var json: JSONValue {
        .object([
            "name": .string(name),
            "visible": .int(depth.visible),
            "inFlight": .int(depth.inFlight),
            "deadLetters": .int(depth.deadLetters),
            "oldestAgeSeconds": depth.oldestAgeMilliseconds.map { .int($0 / 1000) } ?? .null,
            "deadLetterQueue": .string(orNull: deadLetterQueue),
            "maxReceiveCount": .int(maxReceiveCount),
            "visibilityTimeoutSeconds": .int(visibilityTimeoutSeconds),
        ])
    }
}

extension AnalyticsSnapshot {
    /// The aggregates as `GET /stats` shows them: revenue as exact decimals, 60 per-minute buckets oldest first.
    public func json(now: Timestamp) -> JSONValue {
        let current = now.epochMinute
        let minutes: [JSONValue] = ((current - 59)...current).map { minute in
            .object([
                "minute": .string(Timestamp(millisecondsSinceEpoch: minute * 60_000).iso8601),
                "orders": .int(ordersPerMinute[minute] ?? 0),
            ])
        }
        let revenue: [JSONMember] = revenueMinor.sorted { $0.key < $1.key }.map { code, minor in
            let text = Currency.named(code).map { Money(minorUnits: minor, currency: $0).decimalString } ?? String(minor)
            return JSONMember(key: code, value: .string(text))
        }
        return .object([
            "orders": .int(orders),
            "highValueOrders": .int(highValueOrders),
            "revenue": .object(revenue),
            "ordersPerMinute": .array(minutes),
        ])
    }
}
