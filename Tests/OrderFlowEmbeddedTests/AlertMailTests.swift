import Foundation
import GRDB
import OrderFlowCore
@testable import OrderFlowEmbedded
import Testing

@Suite("Alert e-mail")
struct AlertMailTests {
    @Test func relayURLsParseWithDefaultsAndNeverShowThePassword() throws {
        let plain = try SMTPRelay(url: "smtp://mail.example.com", from: "orderflow@example.com")
        #expect(plain.port == 25 && plain.security == .startTLS && plain.username == nil && plain.password == nil)
        let secure = try SMTPRelay(url: "smtps://alerts%40example.com:p%3Ass@mail.example.com", from: "orderflow@example.com")
        #expect(secure.port == 465 && secure.security == .implicitTLS)
        #expect(secure.username == "alerts@example.com" && secure.password == "p:ss")
        #expect(secure.description == "smtps://alerts@example.com@mail.example.com:465")
        let submission = try SMTPRelay(url: "smtp://u:pw@[::1]:587", from: "orderflow@example.com")
        #expect(submission.host == "::1" && submission.port == 587)

        #expect(throws: SMTPError.self) { try SMTPRelay(url: "https://mail.example.com", from: "orderflow@example.com") }
        #expect(throws: SMTPError.self) { try SMTPRelay(url: "smtp://alerts@mail.example.com", from: "orderflow@example.com") }
        #expect(throws: SMTPError.self) { try SMTPRelay(url: "smtp://mail.example.com", from: "not an address") }
        #expect(throws: SMTPError.self) { try SMTPRelay(url: "smtp://mail.example.com", from: "a@b.example", caFile: "/nonexistent/ca.pem") }
        #expect(throws: SMTPError.self) { try SMTPRelay(url: "smtp://u:hunter2@", from: "orderflow@example.com") }
        do {
            _ = try SMTPRelay(url: "smtp://u:hunter2@", from: "orderflow@example.com")
        } catch {
            #expect(!"\(error)".contains("hunter2"), "\(error)")
        }
    }

    @Test func addressesAreCheckedBeforeTheyReachAnEnvelope() {
        #expect(MailAddress.isValid("ops@example.com"))
        for bad in ["", "ops", "@example.com", "ops@", "a@b@c", "ops @example.com", "ops@example.com>\r\nRCPT TO:<x@y", "<ops@example.com>"] {
            #expect(!MailAddress.isValid(bad), "\(bad)")
        }
    }

    @Test func renderedMessageHasNoInjectedHeadersAndIsDotStuffed() {
        let message = MailMessage(
            to: "ops@example.com", subject: "ALARM\r\nBcc: victim@example.com", body: ".\nline two\n..dots",
            messageId: "m1@test", date: Date(timeIntervalSince1970: 0))
        let text = message.rendered(from: "orderflow@example.com")
        #expect(!text.contains("\r\nBcc:"))
        #expect(text.contains("\r\nSubject: ALARMBcc: victim@example.com\r\n"))
        #expect(text.contains("\r\nDate: Thu, 01 Jan 1970 00:00:00 +0000\r\n"))
        #expect(text.contains("\r\nMessage-ID: <m1@test>\r\n"))
        #expect(text.contains("Content-Transfer-Encoding: 7bit\r\n\r\n.\r\nline two\r\n..dots\r\n"))
        let stuffed = SMTPSession.dotStuffed(text)
        #expect(stuffed.hasSuffix("\r\n\r\n..\r\nline two\r\n...dots\r\n"))
        #expect(!stuffed.contains("\r\n.\r\n"))

        let accented = MailMessage(to: "ops@example.com", subject: "Überlauf", body: "Grüße", messageId: "m2@test", date: Date())
            .rendered(from: "orderflow@example.com")
        #expect(accented.contains("Subject: =?utf-8?B?\(Data("Überlauf".utf8).base64EncodedString())?=\r\n"))
        #expect(accented.contains("Content-Transfer-Encoding: base64\r\n\r\n\(Data("Grüße".utf8).base64EncodedString())\r\n"))
    }

    @Test func alarmChangeReadsAsASentence() {
        let body = Data(#"{"alarm":"dead-letters","previousState":"OK","state":"ALARM","reason":"2 dead letters","value":2,"at":"2026-11-25T12:00:00.000Z"}"#.utf8)
        let mail = AlertMail.message(
            to: "ops@example.com", topic: "alerts", body: body, eventId: nil, deliveryId: 7,
            createdAt: Timestamp(millisecondsSinceEpoch: 1_795_000_000_000), host: "host.example")
        #expect(mail.subject == "[OrderFlow] ALARM: dead-letters")
        #expect(mail.body.hasPrefix("Alarm dead-letters changed from OK to ALARM at 2026-11-25T12:00:00.000Z.\nReason: 2 dead letters\n"))
        #expect(mail.body.contains(String(decoding: body, as: UTF8.self)))
        #expect(mail.messageId == "delivery-7-1795000000000@host.example")
        let other = AlertMail.message(
            to: "ops@example.com", topic: "HighValueOrderTopic", body: Data("not json".utf8), eventId: "e-1<x>", deliveryId: 8,
            createdAt: Timestamp(millisecondsSinceEpoch: 0), host: "h")
        #expect(other.subject == "[OrderFlow] message on topic HighValueOrderTopic")
        #expect(other.messageId == "e-1x@h")
    }

    @Test func configuredPushSubscriptionsReplaceOldOnes() async throws {
        let fixture = try MessagingFixture()
        try await fixture.messaging.subscribe(topic: "alerts", to: .webhook(url: "https://old.example/hook", secret: "s"))
        try await fixture.messaging.subscribe(topic: "alerts", to: .log)
        let removed = try await fixture.messaging.setPushSubscriptions(topic: "alerts", to: [.email(address: "ops@example.com")])
        #expect(removed == ["https://old.example/hook"])
        try await fixture.messaging.topic(named: "alerts").publish([TopicMessage(body: Array("{}".utf8))])
        let targets = try await fixture.messaging.context.database.pool.read { db in
            try String.fetchAll(db, sql: "SELECT s.target FROM webhook_delivery d JOIN topic_subscription s ON s.id = d.subscription_id")
        }
        #expect(targets == ["mailto:ops@example.com"])
        let kinds = try await fixture.messaging.context.database.pool.read { db in
            try String.fetchAll(db, sql: "SELECT kind FROM topic_subscription WHERE topic = 'alerts' ORDER BY kind")
        }
        #expect(kinds == ["log", "webhook"])
        await #expect(throws: MessagingError.self) {
            try await fixture.messaging.subscribe(topic: "alerts", to: .email(address: "ops@example.com>\r\nDATA"))
        }
    }
}
