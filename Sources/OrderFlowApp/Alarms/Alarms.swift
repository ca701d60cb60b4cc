import Logging
import OrderFlowCore
import ServiceLifecycle
import Synchronization

/// Thresholds and timing of the built-in alarms; the defaults are the seeds' CloudWatch alarms.
public struct AlarmSettings: Sendable {
    /// How often the alarms are evaluated; every datapoint covers one period.
    public var period: Duration = .seconds(60)
    /// Host CPU above this percentage…
    public var cpuPercent: Double = 70
    /// …for this many consecutive periods (5 × 60 s: "for 5 minutes").
    public var cpuPeriods = 5
    /// HTTP 5xx responses above this percentage of all responses…
    public var http5xxPercent: Double = 1
    /// …for this many consecutive periods.
    public var http5xxPeriods = 5
    /// The queue whose oldest message is watched, and the age that is too old.
    public var agedQueue = "HighValueQueue"
    public var queueAgeSeconds: Double = 300

    public init() {}
}

/// An alarm's state, with CloudWatch's names.
public enum AlarmState: String, Sendable {
    case ok = "OK"
    case alarm = "ALARM"
    /// The value cannot be measured here (e.g. host CPU where there is no /proc).
    case insufficientData = "INSUFFICIENT_DATA"
}

/// One change of an alarm's state, as published to the alerts topic.
public struct AlarmTransition: Sendable, Hashable {
    public var alarm: String
    public var from: AlarmState
    public var to: AlarmState
    public var reason: String
    public var value: Double?
    public var at: Timestamp

    var json: JSONValue {
        .object([
            "alarm": .string(alarm),
            "previousState": .string(from.rawValue),
            "state": .string(to.rawValue),
            "reason": .string(reason),
            "value": value.map { .number(Self.format($0)) } ?? .null,
            "at": .string(at.iso8601),
        ])
    }

    static func format(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int64(rounded)) : String(rounded)
    }
}

/// What one evaluation measured; nil where a value could not be read.
public struct AlarmSample: Sendable {
    public var cpuPercent: Double?
    public var http5xxPercent: Double?
    public var deadLetters: Int?
    public var oldestAgeSeconds: Double?

    public init(cpuPercent: Double? = nil, http5xxPercent: Double? = nil, deadLetters: Int? = nil, oldestAgeSeconds: Double? = nil) {
        self.cpuPercent = cpuPercent
        self.http5xxPercent = http5xxPercent
        self.deadLetters = deadLetters
        self.oldestAgeSeconds = oldestAgeSeconds
    }
}

/// The alarms of one process: each evaluation turns a sample into datapoints, an alarm goes to ALARM after its number of
/// consecutive breaching datapoints and back to OK at the first one that does not breach, and every change (and only a
/// change) is published once to the alerts topic and logged.
public final class Alarms: Sendable {
    struct Rule: Sendable {
        let name: String
        let description: String
        let threshold: String
        let periods: Int
        let measure: @Sendable (AlarmSample) -> (value: Double, breaching: Bool)?
    }

    struct Status: Sendable {
        var state: AlarmState = .ok
        var since: Timestamp
        var value: Double?
        var recent: [Bool] = []
    }

    let settings: AlarmSettings
    let rules: [Rule]
    private let topic: (any Topic)?
    private let sampler: AlarmSampler
    private let clock: any WallClock
    private let logger: Logger
    private let state: Mutex<(statuses: [String: Status], history: [AlarmTransition], evaluations: Int)>

    /// `topic` receives every state change (embedded: the `alerts` topic; AWS: an SNS topic when configured).
    public init(settings: AlarmSettings, sampler: AlarmSampler, topic: (any Topic)?, clock: any WallClock, logger: Logger) {
        self.settings = settings
        self.sampler = sampler
        self.topic = topic
        self.clock = clock
        self.logger = logger
        let minutes = { (periods: Int) in Self.span(settings.period * periods) }
        rules = [
            Rule(name: "cpu-high", description: "host CPU above \(AlarmTransition.format(settings.cpuPercent)) % for \(minutes(settings.cpuPeriods))",
                 threshold: "> \(AlarmTransition.format(settings.cpuPercent)) %", periods: settings.cpuPeriods) { sample in
                sample.cpuPercent.map { ($0, $0 > settings.cpuPercent) }
            },
            Rule(name: "http-5xx-rate", description: "HTTP 5xx above \(AlarmTransition.format(settings.http5xxPercent)) % of responses for \(minutes(settings.http5xxPeriods))",
                 threshold: "> \(AlarmTransition.format(settings.http5xxPercent)) %", periods: settings.http5xxPeriods) { sample in
                sample.http5xxPercent.map { ($0, $0 > settings.http5xxPercent) }
            },
            Rule(name: "dead-letters", description: "any message in a dead-letter queue", threshold: "> 0 messages", periods: 1) { sample in
                sample.deadLetters.map { (Double($0), $0 > 0) }
            },
            Rule(name: "queue-age", description: "oldest message in \(settings.agedQueue) older than \(Self.span(.seconds(settings.queueAgeSeconds)))",
                 threshold: "> \(AlarmTransition.format(settings.queueAgeSeconds)) s", periods: 1) { sample in
                sample.oldestAgeSeconds.map { ($0, $0 > settings.queueAgeSeconds) }
            },
        ]
        let now = clock.now()
        state = Mutex((Dictionary(uniqueKeysWithValues: rules.map { ($0.name, Status(since: now)) }), [], 0))
    }

    /// Samples the system and evaluates every alarm once; publishes and returns the changes.
    @discardableResult
    public func evaluateOnce() async -> [AlarmTransition] {
        await evaluate(sampler.sample(agedQueue: settings.agedQueue))
    }

    /// Evaluates `sample` as the next datapoint of every alarm; publishes and returns the changes.
    @discardableResult
    public func evaluate(_ sample: AlarmSample) async -> [AlarmTransition] {
        let now = clock.now()
        let transitions = state.withLock { state -> [AlarmTransition] in
            var transitions: [AlarmTransition] = []
            for rule in rules {
                var status = state.statuses[rule.name]!
                let next: AlarmState
                let reason: String
                if let (value, breaching) = rule.measure(sample) {
                    status.value = value
                    status.recent = Array((status.recent + [breaching]).suffix(rule.periods))
                    let allBreaching = status.recent.count == rule.periods && status.recent.allSatisfy { $0 }
                    next = allBreaching ? .alarm : (breaching && status.state == .alarm ? .alarm : .ok)
                    reason = next == .alarm
                        ? "\(rule.description): \(AlarmTransition.format(value)) (threshold \(rule.threshold))"
                        : "back within \(rule.threshold): \(AlarmTransition.format(value))"
                } else {
                    status.value = nil
                    status.recent = []
                    next = .insufficientData
                    reason = "no value could be measured"
                }
                if next != status.state {
                    transitions.append(AlarmTransition(alarm: rule.name, from: status.state, to: next, reason: reason, value: status.value, at: now))
                    status.state = next
                    status.since = now
                }
                state.statuses[rule.name] = status
            }
            state.history = Array((state.history + transitions).suffix(100))
            state.evaluations += 1
            return transitions
        }
        for transition in transitions {
            let metadata: Logger.Metadata = ["alarm": "\(transition.alarm)", "state": "\(transition.to.rawValue)", "reason": "\(transition.reason)"]
            if transition.to == .alarm {
                logger.warning("alarm", metadata: metadata)
            } else {
                logger.notice("alarm", metadata: metadata)
            }
        }
        let published = transitions.filter { $0.to == .alarm || $0.from == .alarm }
        if let topic, !published.isEmpty {
            do {
                try await topic.publish(published.map {
                    TopicMessage(body: Array($0.json.serialized().utf8), attributes: ["alarm": $0.alarm, "state": $0.to.rawValue])
                })
            } catch {
                logger.error("could not publish alarm state changes", metadata: ["error": "\(error)", "count": "\(published.count)"])
            }
        }
        return transitions
    }

    /// Every alarm with its state, as `GET /alarms` shows them, and the last state changes (newest last).
    public func report() -> JSONValue {
        state.withLock { state in
            .object([
                "periodSeconds": .number(AlarmTransition.format(Double(settings.period.components.seconds)
                    + Double(settings.period.components.attoseconds) / 1e18)),
                "evaluations": .int(state.evaluations),
                "alarms": .array(rules.map { rule in
                    let status = state.statuses[rule.name]!
                    return .object([
                        "name": .string(rule.name),
                        "description": .string(rule.description),
                        "threshold": .string(rule.threshold),
                        "datapoints": .int(rule.periods),
                        "state": .string(status.state.rawValue),
                        "since": .string(status.since.iso8601),
                        "value": status.value.map { .number(AlarmTransition.format($0)) } ?? .null,
                    ])
                }),
                "history": .array(state.history.map(\.json)),
            ])
        }
    }

    static func span(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        if seconds >= 60, seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(seconds / 60)) min" }
        return "\(AlarmTransition.format(seconds)) s"
    }
}

/// Evaluates the alarms every period until shutdown.
public struct AlarmService: Service {
    let alarms: Alarms

    public init(alarms: Alarms) {
        self.alarms = alarms
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: alarms.settings.period) }
            } catch {
                return
            }
            await alarms.evaluateOnce()
        }
    }
}

/// Reads what the alarms watch: host CPU since the last sample, the HTTP 5xx share since the last sample, dead letters
/// of every queue, and the age of the watched queue's oldest message.
public final class AlarmSampler: Sendable {
    let queues: any QueueAdministration
    let metrics: OrderFlowMetrics
    private let previous: Mutex<(cpu: HostCPU.Reading?, requests: (total: Int, serverErrors: Int))>

    public init(queues: any QueueAdministration, metrics: OrderFlowMetrics) {
        self.queues = queues
        self.metrics = metrics
        previous = Mutex((HostCPU.current(), metrics.responseCounts()))
    }

    func sample(agedQueue: String) async -> AlarmSample {
        var sample = AlarmSample()
        let cpu = HostCPU.current()
        let requests = metrics.responseCounts()
        previous.withLock { previous in
            if let cpu, let before = previous.cpu { sample.cpuPercent = cpu.busyPercent(since: before) }
            let total = requests.total - previous.requests.total
            let errors = requests.serverErrors - previous.requests.serverErrors
            sample.http5xxPercent = total > 0 ? Double(errors) * 100 / Double(total) : 0
            previous = (cpu ?? previous.cpu, requests)
        }
        if let infos = try? await queues.queues() {
            sample.deadLetters = infos.reduce(0) { $0 + $1.depth.deadLetters }
            sample.oldestAgeSeconds = infos.first { $0.name == agedQueue }.map { Double($0.depth.oldestAgeMilliseconds ?? 0) / 1000 }
        }
        return sample
    }
}
