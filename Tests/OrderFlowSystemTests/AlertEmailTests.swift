import Foundation
import Logging
import OrderFlowCore
import OrderFlowEmbedded
import Testing

extension SystemTests {
    /// E-mail subscriptions of the alerts topic against a real SMTP server (aiosmtpd, started by the test): what arrives,
    /// STARTTLS and AUTH, credentials never in clear, and a relay that is down when the alarm fires.
    @Suite("Alert e-mail over SMTP")
    struct AlertEmailTests {
        static let alarm = #"{"alarm":"dead-letters","previousState":"OK","state":"ALARM","reason":"3 messages in dead-letter queues","value":3,"at":"2026-11-25T12:00:00.000Z"}"#
        static let sender = "orderflow@test.example"

        /// Embedded messaging in a fresh database on a manual clock, with `address` subscribed to the alerts topic.
        static func alertsMailing(_ address: String, in data: TemporaryDirectory) async throws -> (SQLiteMessaging, ManualClock) {
            let database = try AppDatabase(path: data.url.appendingPathComponent("orderflow.sqlite").path)
            let clock = ManualClock()
            let messaging = SQLiteMessaging(database: database, clock: clock, logger: Logger(label: "alert-email-test") { _ in SwiftLogNoOpLogHandler() })
            try await messaging.subscribe(topic: "alerts", to: .email(address: address))
            try await messaging.topic(named: "alerts").publish([
                TopicMessage(body: Array(alarm.utf8), attributes: ["alarm": "dead-letters", "state": "ALARM"]),
            ])
            return (messaging, clock)
        }

        static func testMessage(_ id: String) -> MailMessage {
            MailMessage(to: "ops@example.com", subject: "[OrderFlow] test", body: "Grüße from the test\n.\nend", messageId: "\(id)@test", date: Date())
        }

        @Test("an alarm change is mailed through a real SMTP server, once", .timeLimit(.minutes(1)))
        func alarmIsMailed() async throws {
            let data = try TemporaryDirectory("smtp-plain")
            defer { data.remove() }
            let relay = try await SMTPTestRelay.start(in: data)
            defer { relay.stop() }
            let (messaging, _) = try await Self.alertsMailing("ops@example.com", in: data)
            let mailer = try SMTPMailer(relay: SMTPRelay(url: "smtp://127.0.0.1:\(relay.port)", from: Self.sender))
            let dispatcher = WebhookDispatcher(messaging: messaging, mailer: mailer)

            let round = try await dispatcher.deliverDue()
            #expect(round.attempted == 1 && round.delivered == 1, "\(round)")
            let mails = relay.messages().map(ReceivedMail.init)
            try #require(mails.count == 1)
            #expect(mails[0].headers["subject"] == "[OrderFlow] ALARM: dead-letters")
            #expect(mails[0].headers["to"] == "ops@example.com")
            #expect(mails[0].headers["from"] == Self.sender)
            #expect(mails[0].headers["x-orderflow-topic"] == "alerts")
            #expect(mails[0].body.contains("Alarm dead-letters changed from OK to ALARM at 2026-11-25T12:00:00.000Z."))
            #expect(mails[0].body.contains("Reason: 3 messages in dead-letter queues"))
            #expect(mails[0].body.contains(Self.alarm))
            // Delivered means done: nothing is sent again.
            #expect(try await dispatcher.deliverDue().attempted == 0)
            #expect(relay.messages().count == 1)
        }

        @Test("STARTTLS and AUTH: the relay that demands both gets the mail; a wrong password or an untrusted certificate fails", .timeLimit(.minutes(1)))
        func startTLSAndAuth() async throws {
            let data = try TemporaryDirectory("smtp-tls")
            defer { data.remove() }
            let relay = try await SMTPTestRelay.start(in: data, tls: true, user: "alerts", password: "s3cret pass")
            defer { relay.stop() }
            let url = "smtp://alerts:s3cret%20pass@127.0.0.1:\(relay.port)"

            try await SMTPMailer(relay: SMTPRelay(url: url, from: Self.sender, caFile: relay.caFile)).send(Self.testMessage("tls-1"))
            let mails = relay.messages().map(ReceivedMail.init)
            try #require(mails.count == 1)
            #expect(mails[0].headers["message-id"] == "<tls-1@test>")
            // A non-ASCII body travels as base64 and arrives intact, dot line included.
            let decoded = Data(base64Encoded: mails[0].body.replacingOccurrences(of: "\n", with: "")).map { String(decoding: $0, as: UTF8.self) }
            #expect(decoded == "Grüße from the test\n.\nend")

            let wrongPassword = try SMTPMailer(relay: SMTPRelay(url: "smtp://alerts:nope@127.0.0.1:\(relay.port)", from: Self.sender, caFile: relay.caFile))
            await #expect { try await wrongPassword.send(Self.testMessage("tls-2")) } throws: { "\($0)".contains("535") }
            let untrusting = try SMTPMailer(relay: SMTPRelay(url: url, from: Self.sender))
            await #expect(throws: (any Error).self) { try await untrusting.send(Self.testMessage("tls-3")) }
            #expect(relay.messages().count == 1)
        }

        @Test("credentials are never sent to a relay that does not offer STARTTLS", .timeLimit(.minutes(1)))
        func noCredentialsInClear() async throws {
            let data = try TemporaryDirectory("smtp-clear")
            defer { data.remove() }
            let relay = try await SMTPTestRelay.start(in: data)
            defer { relay.stop() }
            let mailer = try SMTPMailer(relay: SMTPRelay(url: "smtp://alerts:secret@127.0.0.1:\(relay.port)", from: Self.sender))
            await #expect { try await mailer.send(Self.testMessage("clear-1")) } throws: { error in
                guard case SMTPError.tlsUnavailable = error else { return false }
                return true
            }
            #expect(relay.messages().isEmpty)
        }

        @Test("a relay that is down when the alarm fires gets the mail once it is up, exactly once", .timeLimit(.minutes(1)))
        func relayDownThenUp() async throws {
            let data = try TemporaryDirectory("smtp-down")
            defer { data.remove() }
            let closed = try ListeningSocket()
            closed.close()
            let (messaging, clock) = try await Self.alertsMailing("ops@example.com", in: data)
            let mailer = try SMTPMailer(relay: SMTPRelay(url: "smtp://127.0.0.1:\(closed.port)", from: Self.sender), timeout: .seconds(10))
            let dispatcher = WebhookDispatcher(messaging: messaging, mailer: mailer)

            let failed = try await dispatcher.deliverDue()
            #expect(failed.attempted == 1 && failed.delivered == 0 && failed.gaveUp == 0, "\(failed)")
            let due = try #require(failed.nextDueAt)
            #expect(due > clock.now())
            // Not again before the backoff has passed.
            #expect(try await dispatcher.deliverDue().attempted == 0)

            let relay = try await SMTPTestRelay.start(in: data, port: closed.port)
            defer { relay.stop() }
            clock.advance(milliseconds: due.millisecondsSinceEpoch - clock.now().millisecondsSinceEpoch)
            let retried = try await dispatcher.deliverDue()
            #expect(retried.attempted == 1 && retried.delivered == 1, "\(retried)")
            let mails = relay.messages().map(ReceivedMail.init)
            #expect(mails.map { $0.headers["subject"] } == ["[OrderFlow] ALARM: dead-letters"])
            clock.advance(milliseconds: 3_600_000)
            #expect(try await dispatcher.deliverDue().attempted == 0)
            #expect(relay.messages().count == 1)
        }
    }
}
