import OrderFlowCore
import Prometheus
import Synchronization

/// The metrics of one process, in one Prometheus registry (`GET /metrics`).
///
/// Counters and histograms are recorded where things happen (HTTP edge, order service, upload ingestion); the state of
/// queues, outbox, stream consumer, AWS cost meter and the process itself is sampled from the ports when the metrics
/// are read, so a scrape always shows the current values and nothing polls in between.
public final class OrderFlowMetrics: Sendable {
    /// The registry every OrderFlow metric lives in; `orderflow serve` also makes it swift-metrics' backend.
    public let registry: PrometheusCollectorRegistry
    /// Upper bounds of the HTTP latency histogram.
    public static let latencyBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(10),
    ]

    private let accepted: Counter
    private let highValue: Counter
    private let replayed: Counter
    private let totals = Mutex(SampledTotals())
    /// Responses answered and, of those, 5xx: what the HTTP error-rate alarm reads.
    private let responses = Mutex((total: 0, serverErrors: 0))
    /// Running totals of the order counters, readable (Prometheus counters are write-only here): the Lambda processor
    /// turns their change over an invocation into its metric line.
    private let orderTotals = Mutex(OrderCounts())

    /// Totals of the order counters.
    public struct OrderCounts: Sendable, Hashable {
        public var accepted = 0
        public var highValue = 0
        public var replayed = 0
        public var rejected = 0
    }

    /// The order counters so far.
    public func orderCounts() -> OrderCounts {
        orderTotals.withLock { $0 }
    }

    /// Counters that mirror a running total read elsewhere (AWS requests, CPU time): the last value seen, so each
    /// scrape adds only the difference and the Prometheus counters stay monotonic.
    private struct SampledTotals {
        var providerAttempts: [String: Int] = [:]
        var providerRetries: [String: Int] = [:]
        var cpuSeconds: Double = 0
    }

    public init() {
        registry = PrometheusCollectorRegistry()
        accepted = registry.makeCounter(name: "orderflow_orders_accepted_total", help: "New orders stored (replays not counted).")
        highValue = registry.makeCounter(name: "orderflow_orders_high_value_total", help: "New orders above the high-value threshold.")
        replayed = registry.makeCounter(name: "orderflow_orders_replayed_total", help: "Submissions identical to a stored order (answered 200, nothing written).")
    }

    // MARK: Recorded as it happens

    /// Counts the outcomes of one `submit`: new orders, high-value among them, replays, and conflicts as rejections.
    public func record(_ outcomes: [AcceptOutcome]) {
        var new = 0, high = 0, again = 0, conflicts = 0
        for outcome in outcomes {
            switch outcome {
            case .created(let order):
                new += 1
                if order.highValue { high += 1 }
            case .replayed: again += 1
            case .conflict: conflicts += 1
            }
        }
        orderTotals.withLock { totals in
            totals.accepted += new
            totals.highValue += high
            totals.replayed += again
        }
        if new > 0 { accepted.increment(by: Int64(new)) }
        if high > 0 { highValue.increment(by: Int64(high)) }
        if again > 0 { replayed.increment(by: Int64(again)) }
        if conflicts > 0 { orderRejected(reason: "order-conflict", count: conflicts) }
    }

    /// Counts orders refused before they were stored; `reason` is a stable problem kind (e.g. `validation-failed`).
    public func orderRejected(reason: String, count: Int = 1) {
        guard count > 0 else { return }
        orderTotals.withLock { $0.rejected += count }
        registry.makeCounter(name: "orderflow_orders_rejected_total", labels: [("reason", reason)],
                             help: "Orders refused, by reason (problem type of the API, or upload-invalid for bad lines in uploads).")
            .increment(by: Int64(count))
    }

    /// Records one answered HTTP request; `route` is the matched route pattern, never the raw path (bounded labels).
    public func recordRequest(method: String, route: String, status: Int, duration: Duration) {
        responses.withLock { counts in
            counts.total += 1
            if status >= 500 { counts.serverErrors += 1 }
        }
        registry.makeCounter(name: "http_requests_total", labels: [("method", method), ("route", route), ("status", String(status))],
                             help: "HTTP requests answered, by method, route pattern and status.")
            .increment()
        registry.makeDurationHistogram(name: "http_request_duration_seconds", labels: [("method", method), ("route", route)],
                                       buckets: Self.latencyBuckets, help: "Time from request head to response, by method and route pattern.")
            .record(duration)
    }

    /// Responses answered so far and how many of them were 5xx.
    public func responseCounts() -> (total: Int, serverErrors: Int) {
        responses.withLock { $0 }
    }

    // MARK: Sampled when read

    /// Samples the current state from `status` and returns the whole registry in the Prometheus text format.
    public func exposition(sampling status: SystemStatus) async -> [UInt8] {
        await sample(status)
        return registry.emitToBuffer()
    }

    func sample(_ status: SystemStatus) async {
        registry.makeGauge(name: "orderflow_build_info", labels: [("version", status.version), ("backend", status.backend)],
                           help: "Always 1; the labels name the build and the backend.").set(Int64(1))
        if let queues = try? await status.queues.queues() {
            for queue in queues {
                let labels = [("queue", queue.name)]
                registry.makeGauge(name: "orderflow_queue_visible_messages", labels: labels, help: "Messages ready to be received.")
                    .set(Int64(queue.depth.visible))
                registry.makeGauge(name: "orderflow_queue_in_flight_messages", labels: labels, help: "Messages received and not yet deleted (within their visibility timeout).")
                    .set(Int64(queue.depth.inFlight))
                registry.makeGauge(name: "orderflow_queue_dead_letter_messages", labels: labels, help: "Messages in the queue's dead-letter queue.")
                    .set(Int64(queue.depth.deadLetters))
                registry.makeGauge(name: "orderflow_queue_oldest_message_age_seconds", labels: labels, help: "Age of the oldest message not yet deleted; 0 when empty.")
                    .set(Double(queue.depth.oldestAgeMilliseconds ?? 0) / 1000)
            }
        }
        if let backlog = try? await status.outbox.backlog() {
            registry.makeGauge(name: "orderflow_outbox_backlog", help: "Events committed with their orders and not yet delivered.").set(Int64(backlog))
        }
        if let lag = try? await status.analytics.lag() {
            for (shard, behind) in lag {
                registry.makeGauge(name: "orderflow_stream_consumer_lag_records",
                                   labels: [("consumer", AnalyticsConsumer.consumerName), ("shard", shard)],
                                   help: "Stream records the consumer has not processed yet, per shard.")
                    .set(Int64(behind))
            }
        }
        if let provider = status.providerRequests {
            sampleProviderRequests(provider())
        }
        sampleProcess(startedAt: status.startedAt)
    }

    func sampleProviderRequests(_ counts: [ProviderRequestCount]) {
        for count in counts {
            let key = "\(count.service).\(count.operation)"
            let labels = [("service", count.service), ("operation", count.operation)]
            let (newAttempts, newRetries) = totals.withLock { totals in
                let attempts = count.attempts - totals.providerAttempts[key, default: 0]
                let retries = count.retries - totals.providerRetries[key, default: 0]
                totals.providerAttempts[key] = count.attempts
                totals.providerRetries[key] = count.retries
                return (attempts, retries)
            }
            let requests = registry.makeCounter(name: "orderflow_aws_requests_total", labels: labels,
                                                help: "Requests sent to AWS (every attempt is billed), by service and operation.")
            if newAttempts > 0 { requests.increment(by: Int64(newAttempts)) }
            let retries = registry.makeCounter(name: "orderflow_aws_retries_total", labels: labels,
                                               help: "Of those, attempts that repeated a failed one (throttling, 5xx, resets, timeouts).")
            if newRetries > 0 { retries.increment(by: Int64(newRetries)) }
        }
    }

    func sampleProcess(startedAt: Timestamp) {
        let process = ProcessUsage.current()
        let added = totals.withLock { totals in
            let added = max(0, process.cpuSeconds - totals.cpuSeconds)
            totals.cpuSeconds = max(totals.cpuSeconds, process.cpuSeconds)
            return added
        }
        let cpu = registry.makeCounter(name: "process_cpu_seconds_total", help: "User and system CPU time of this process.")
        if added > 0 { cpu.increment(by: added) }
        if let resident = process.residentBytes {
            registry.makeGauge(name: "process_resident_memory_bytes", help: "Resident set size of this process.").set(Int64(resident))
        }
        registry.makeGauge(name: "process_start_time_seconds", help: "Start time of the process, seconds since the Unix epoch.")
            .set(Double(startedAt.millisecondsSinceEpoch) / 1000)
    }
}

/// Requests made to a cloud provider for one operation, as the cost meter counts them.
public struct ProviderRequestCount: Sendable, Hashable {
    public var service: String
    public var operation: String
    /// Every request sent, retries included (each is billed).
    public var attempts: Int
    /// Of those, the ones that repeated a failed attempt.
    public var retries: Int
    /// Error responses (retried or final) by error code, e.g. `TransactionCanceledException`.
    public var errors: [String: Int]

    public init(service: String, operation: String, attempts: Int, retries: Int, errors: [String: Int] = [:]) {
        self.service = service
        self.operation = operation
        self.attempts = attempts
        self.retries = retries
        self.errors = errors
    }
}
