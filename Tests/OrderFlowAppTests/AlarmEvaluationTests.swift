import Logging
import OrderFlowApp
import OrderFlowCore
import OrderFlowEmbedded
import Synchronization
import Testing

/// A topic that keeps what is published, to see exactly which alarm changes were sent.
final class PublishedMessages: Topic {
    let name = "alerts"
    let messages = Mutex<[TopicMessage]>([])

    func publish(_ messages: [TopicMessage]) async throws {
        self.messages.withLock { $0 += messages }
    }

    var states: [String] {
        messages.withLock { $0.map { "\($0.attributes["alarm"] ?? "?"):\($0.attributes["state"] ?? "?")" } }
    }
}

@Suite("Alarm evaluation")
struct AlarmEvaluationTests {
    func alarms(_ topic: PublishedMessages) -> Alarms {
        let messaging = NoQueues.none
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return Alarms(settings: AlarmSettings(), sampler: AlarmSampler(queues: messaging, metrics: OrderFlowMetrics()),
                      topic: topic, clock: SystemClock(), logger: logger)
    }

    @Test func fiveBreachingPeriodsRaiseOnceAndOneGoodPeriodClearsOnce() async {
        let topic = PublishedMessages()
        let alarms = alarms(topic)
        let ok = AlarmSample(cpuPercent: 20, http5xxPercent: 0, deadLetters: 0, oldestAgeSeconds: 0)
        var hot = ok
        hot.http5xxPercent = 1.5
        for _ in 0..<4 { #expect(await alarms.evaluate(hot).isEmpty) }
        let raised = await alarms.evaluate(hot)
        #expect(raised.map(\.alarm) == ["http-5xx-rate"])
        #expect(raised.first?.to == .alarm)
        for _ in 0..<10 { #expect(await alarms.evaluate(hot).isEmpty) }
        let cleared = await alarms.evaluate(ok)
        #expect(cleared.map { "\($0.alarm):\($0.to.rawValue)" } == ["http-5xx-rate:OK"])
        #expect(topic.states == ["http-5xx-rate:ALARM", "http-5xx-rate:OK"])
    }

    @Test func aBreakInTheRunRestartsTheCount() async {
        let topic = PublishedMessages()
        let alarms = alarms(topic)
        let ok = AlarmSample(cpuPercent: 70, http5xxPercent: 1, deadLetters: 0, oldestAgeSeconds: 300)
        var hot = ok
        hot.cpuPercent = 70.5
        for sample in [hot, hot, hot, hot, ok, hot, hot, hot, hot] { #expect(await alarms.evaluate(sample).isEmpty) }
        #expect(await alarms.evaluate(hot).map(\.alarm) == ["cpu-high"])
        // Exactly at the thresholds nothing breaches (strictly greater, like the high-value rule).
        #expect(topic.states == ["cpu-high:ALARM"])
    }

    @Test func deadLettersAndQueueAgeAlarmAtTheFirstBreachingPeriod() async {
        let topic = PublishedMessages()
        let alarms = alarms(topic)
        let changes = await alarms.evaluate(AlarmSample(cpuPercent: 1, http5xxPercent: 0, deadLetters: 1, oldestAgeSeconds: 301))
        #expect(Set(changes.map(\.alarm)) == ["dead-letters", "queue-age"])
        #expect(await alarms.evaluate(AlarmSample(cpuPercent: 1, http5xxPercent: 0, deadLetters: 0, oldestAgeSeconds: 0)).count == 2)
        #expect(topic.states.sorted() == ["dead-letters:ALARM", "dead-letters:OK", "queue-age:ALARM", "queue-age:OK"])
    }

    @Test func anUnmeasurableValueIsInsufficientDataAndNotPublished() async {
        let topic = PublishedMessages()
        let alarms = alarms(topic)
        let changes = await alarms.evaluate(AlarmSample(cpuPercent: nil, http5xxPercent: 0, deadLetters: 0, oldestAgeSeconds: 0))
        #expect(changes.map { "\($0.alarm):\($0.to.rawValue)" } == ["cpu-high:INSUFFICIENT_DATA"])
        #expect(topic.states.isEmpty)
        let report = alarms.report()
        #expect(report["alarms"]?.arrayValue?.first { $0["name"] == .string("cpu-high") }?["state"] == .string("INSUFFICIENT_DATA"))
        #expect(report["evaluations"] == .number("1"))
    }
}

/// Queue administration with no queues: these tests feed samples directly.
enum NoQueues: QueueAdministration {
    case none

    func queues() async throws -> [QueueInfo] { [] }
    func deadLetters(of queue: String, limit: Int) async throws -> [DeadLetter] { [] }
    func redrive(_ queue: String) async throws -> Int { 0 }
}
