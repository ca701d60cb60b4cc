import Foundation
import OrderFlowCore

/// Turns a topic message into the e-mail an e-mail subscription receives. An alarm state change (a JSON object with
/// `alarm` and `state`, as the alarms publish) reads as a sentence with the alarm's name and new state in the subject;
/// any other message is sent as its body under a generic subject. The raw message follows in every case.
enum AlertMail {
    static func message(
        to address: String, topic: String, body: Data, eventId: String?, deliveryId: Int64, createdAt: Timestamp, host: String
    ) -> MailMessage {
        let raw = String(decoding: body, as: UTF8.self)
        var subject = "[OrderFlow] message on topic \(topic)"
        var text = ""
        if let event = try? JSONParser.parse(body), let alarm = event["alarm"]?.stringValue, let state = event["state"]?.stringValue {
            subject = "[OrderFlow] \(state): \(alarm)"
            let previous = event["previousState"]?.stringValue ?? "?"
            text += "Alarm \(alarm) changed from \(previous) to \(state)"
            if let at = event["at"]?.stringValue { text += " at \(at)" }
            text += ".\n"
            if let reason = event["reason"]?.stringValue { text += "Reason: \(reason)\n" }
            text += "\n"
        }
        text += "Topic: \(topic)\n\n\(raw)\n"
        // The same delivery keeps the same Message-ID on every attempt, so a retry after a lost reply is one message.
        let messageId = "\(eventId.map(Self.idSafe) ?? "delivery-\(deliveryId)-\(createdAt.millisecondsSinceEpoch)")@\(host)"
        return MailMessage(
            to: address, subject: subject, body: text, messageId: messageId,
            date: Date(timeIntervalSince1970: Double(createdAt.millisecondsSinceEpoch) / 1000),
            extraHeaders: [("X-OrderFlow-Topic", topic)])
    }

    /// `value` with only the characters a Message-ID's left part may hold.
    private static func idSafe(_ value: String) -> String {
        String(String.UnicodeScalarView(value.unicodeScalars.filter {
            CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-._".unicodeScalars.contains($0)
        }))
    }
}
