import Foundation
import OrderFlowCore
import Synchronization
import Testing

extension SystemTests {
    /// The built-in alarms on a running server, with a short evaluation period: each fires once on a forced condition
    /// and clears once, and each change reaches the alerts topic exactly once.
    @Suite("Alarms")
    struct AlarmTests {
        @Test("a poison upload raises dead-letters once; fixing and redriving it clears it once", .timeLimit(.minutes(1)))
        func deadLetterAlarm() async throws {
            let data = try TemporaryDirectory("alarm-dlq")
            defer { data.remove() }
            let logFile = data.url.appendingPathComponent("app.log").path
            // The alerts topic also mails a real SMTP server (aiosmtpd).
            let relay = try await SMTPTestRelay.start(in: data)
            defer { relay.stop() }
            let server = try await ServerUnderTest.start(dataDirectory: data, arguments: [
                "--alarm-period", "0.2", "--log-level", "info", "--log-file", logFile,
                "--alert-email", "ops@example.com", "--smtp-relay", "smtp://127.0.0.1:\(relay.port)", "--alert-email-from", "orderflow@test.example",
            ])
            defer { server.stop() }

            #expect(try await state(of: "dead-letters", at: server) == "OK")
            #expect(try await server.api.send(.PUT, "/uploads/orders/poison.json", json: Array("no orders here".utf8)).status == 200)
            _ = try await eventually("dead-letters goes to ALARM", timeout: .seconds(20)) {
                try await state(of: "dead-letters", at: server) == "ALARM" ? true : nil
            }
            // The object is fixed, the dead letter redriven: the notification is processed now and the DLQ is empty.
            #expect(try await server.api.send(.PUT, "/uploads/orders/poison.json", json: Array(#"{"OrderId":"p1","Amount":5}"#.utf8)).status == 200)
            #expect(try await server.api.send(.POST, "/queues/order-uploads/dlq/redrive").status == 200)
            _ = try await eventually("dead-letters goes back to OK", timeout: .seconds(20)) {
                try await state(of: "dead-letters", at: server) == "OK" ? true : nil
            }
            // Several more periods: a steady state publishes nothing more.
            try await waitPeriods(server, count: 5)
            let history = try await transitions(of: "dead-letters", at: server)
            #expect(history == ["OK>ALARM", "ALARM>OK"], "\(history)")

            // Each change was published once to the alerts topic (its log subscription writes one line per message).
            let published = LogRecords(try String(contentsOfFile: logFile, encoding: .utf8)).with(message: "topic message")
                .filter { $0["topic"]?.stringValue == "alerts" && $0["attribute.alarm"]?.stringValue == "dead-letters" }
            #expect(published.compactMap { $0["attribute.state"]?.stringValue } == ["ALARM", "OK"], "\(published.map { $0.serialized() })")
            // …and mailed once each.
            let mails = try await eventually("two alert e-mails", timeout: .seconds(20)) {
                // Only this alarm's: on a busy host the CPU alarm may change too, and is mailed as well.
                let mails = relay.messages().map(ReceivedMail.init).filter { $0.headers["subject"]?.hasSuffix(": dead-letters") == true }
                return mails.count >= 2 ? mails : nil
            }
            #expect(Set(mails.compactMap { $0.headers["subject"] }) == ["[OrderFlow] ALARM: dead-letters", "[OrderFlow] OK: dead-letters"])
            #expect(mails.count == 2)
        }

        @Test("host CPU kept busy raises cpu-high once after its five periods; idle again clears it once", .timeLimit(.minutes(1)))
        func cpuAlarm() async throws {
            let data = try TemporaryDirectory("alarm-cpu")
            defer { data.remove() }
            let server = try await ServerUnderTest.start(dataDirectory: data, arguments: ["--alarm-period", "0.3"])
            defer { server.stop() }
            // Other work on the machine may hold the CPU high at first: start from OK.
            _ = try await eventually("cpu-high is OK before the load", timeout: .seconds(40)) {
                try await state(of: "cpu-high", at: server) == "OK" ? true : nil
            }
            let before = try await transitions(of: "cpu-high", at: server).count

            let busy = BusyLoop(threads: ProcessInfo.processInfo.activeProcessorCount + 1)
            let raised = try await eventually("cpu-high goes to ALARM", timeout: .seconds(30)) {
                try await state(of: "cpu-high", at: server) == "ALARM" ? true : nil
            }
            busy.stop()
            _ = try await eventually("cpu-high goes back to OK", timeout: .seconds(30)) {
                try await state(of: "cpu-high", at: server) == "OK" ? true : nil
            }
            let changes = Array(try await transitions(of: "cpu-high", at: server).dropFirst(before))
            #expect(raised && changes == ["OK>ALARM", "ALARM>OK"], "\(changes)")
        }

        func state(of alarm: String, at server: ServerUnderTest) async throws -> String? {
            try await server.api.json("/alarms")["alarms"]?.arrayValue?.first { $0["name"]?.stringValue == alarm }?["state"]?.stringValue
        }

        func transitions(of alarm: String, at server: ServerUnderTest) async throws -> [String] {
            (try await server.api.json("/alarms")["history"]?.arrayValue ?? [])
                .filter { $0["alarm"]?.stringValue == alarm }
                .map { "\($0["previousState"]?.stringValue ?? "?")>\($0["state"]?.stringValue ?? "?")" }
        }

        /// Waits until the alarms were evaluated `count` more times (the server counts its evaluations).
        func waitPeriods(_ server: ServerUnderTest, count: Int) async throws {
            let start = try #require(try await server.api.json("/alarms")["evaluations"]?.int64Value)
            _ = try await eventually("\(count) more alarm evaluations", timeout: .seconds(30)) {
                let now = try await server.api.json("/alarms")["evaluations"]?.int64Value ?? 0
                return now >= start + Int64(count) ? true : nil
            }
        }
    }
}

/// Threads that spin until stopped, to load every core.
final class BusyLoop: Sendable {
    private let running = Atomic<Bool>(true)

    init(threads: Int) {
        for _ in 0..<threads {
            Thread.detachNewThread { [self] in
                var x: UInt64 = 1
                while running.load(ordering: .relaxed) { x = x &* 6364136223846793005 &+ 1 }
                withExtendedLifetime(x) {}
            }
        }
    }

    func stop() {
        running.store(false, ordering: .relaxed)
    }
}
