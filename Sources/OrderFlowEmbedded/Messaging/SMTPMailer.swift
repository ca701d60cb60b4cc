import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import OrderFlowCore

/// The SMTP server that e-mail subscriptions hand their messages to (a submission server or relay: a local MTA,
/// Amazon SES's SMTP interface, a company relay), parsed from a URL:
///
/// - `smtp://[user:password@]host[:port]` (port 25 by default, 587 is the usual submission port): STARTTLS whenever
///   the server offers it, and required when credentials are given, so a password never crosses the network in clear.
/// - `smtps://[user:password@]host[:port]` (port 465 by default): TLS from the first byte.
///
/// Server certificates are verified against the system's roots plus `caFile`, if given.
public struct SMTPRelay: Sendable, Hashable, CustomStringConvertible {
    public enum Security: String, Sendable, Hashable {
        /// Plain connection upgraded with STARTTLS when offered (required when credentials are given).
        case startTLS
        /// TLS from the first byte (`smtps`).
        case implicitTLS
    }

    public var host: String
    public var port: Int
    public var security: Security
    public var username: String?
    public var password: String?
    /// Envelope and header sender of every message.
    public var from: String
    /// A PEM file of extra certificate authorities to trust (a private CA or a self-signed relay).
    public var caFile: String?
    /// The name announced in EHLO.
    public var heloName: String

    /// Parses `url`; `from` is the sender address.
    public init(url: String, from: String, caFile: String? = nil, heloName: String? = nil) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              let host = components.host, !host.isEmpty
        else { throw SMTPError.configuration("SMTP relay \(Self.redacted(url)) is not a URL like smtp://host:587 or smtps://host:465") }
        switch scheme {
        case "smtp": security = .startTLS
        case "smtps": security = .implicitTLS
        default: throw SMTPError.configuration("SMTP relay URL scheme must be smtp or smtps, not \(scheme)")
        }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        port = components.port ?? (security == .implicitTLS ? 465 : 25)
        guard (1...65_535).contains(port) else { throw SMTPError.configuration("SMTP relay port \(port) is out of range") }
        username = components.user.flatMap { $0.removingPercentEncoding ?? $0 }.flatMap { $0.isEmpty ? nil : $0 }
        password = components.password.flatMap { $0.removingPercentEncoding ?? $0 }
        if username != nil && (password ?? "").isEmpty {
            throw SMTPError.configuration("SMTP relay URL names user \(username ?? "") but no password")
        }
        guard MailAddress.isValid(from) else { throw SMTPError.configuration("sender address \(from) is not a valid e-mail address") }
        self.from = from
        self.caFile = caFile
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw SMTPError.configuration("SMTP CA file \(caFile) cannot be read")
        }
        self.heloName = heloName ?? Self.defaultHeloName()
    }

    /// The relay without its password, for logs and errors.
    public var description: String {
        "\(security == .implicitTLS ? "smtps" : "smtp")://\(username.map { "\($0)@" } ?? "")\(host):\(port)"
    }

    /// `url` with any password replaced, for an error message.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? "(unparsable URL)"
    }

    private static func defaultHeloName() -> String {
        let name = ProcessInfo.processInfo.hostName
        let allowed = name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "." }
        return !name.isEmpty && allowed ? name : "localhost"
    }
}

/// Why a message could not be handed to the relay.
public enum SMTPError: Error, Sendable, CustomStringConvertible {
    case configuration(String)
    /// The server answered `code` where the conversation needed something else.
    case reply(stage: String, code: Int, text: String)
    case protocolViolation(String)
    case connectionClosed(stage: String)
    case timedOut(after: Duration)
    /// Credentials are configured and the server does not offer STARTTLS.
    case tlsUnavailable

    public var description: String {
        switch self {
        case .configuration(let text): text
        case .reply(let stage, let code, let text): "SMTP \(stage) answered \(code) \(text)"
        case .protocolViolation(let text): "SMTP protocol violation: \(text)"
        case .connectionClosed(let stage): "SMTP connection closed during \(stage)"
        case .timedOut(let limit): "SMTP conversation timed out after \(limit)"
        case .tlsUnavailable: "the SMTP relay does not offer STARTTLS; credentials are never sent in clear"
        }
    }
}

/// Syntax checks for the addresses OrderFlow puts into an SMTP envelope.
public enum MailAddress {
    /// A plain `local@domain` address without spaces, angle brackets or control characters.
    public static func isValid(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, address.utf8.count <= 254 else { return false }
        return address.unicodeScalars.allSatisfy { $0.value > 32 && $0.value < 127 && !"<>()[]\\,;:\"".unicodeScalars.contains($0) }
    }
}

/// One message to send: headers are built by `SMTPMailer`, the body is plain text.
public struct MailMessage: Sendable {
    public var to: String
    public var subject: String
    public var body: String
    /// Stable across retries, so a receiver sees a re-sent message as the same one.
    public var messageId: String
    public var date: Date
    public var extraHeaders: [(String, String)]

    public init(to: String, subject: String, body: String, messageId: String, date: Date, extraHeaders: [(String, String)] = []) {
        self.to = to
        self.subject = subject
        self.body = body
        self.messageId = messageId
        self.date = date
        self.extraHeaders = extraHeaders
    }

    /// The RFC 5322 text with CRLF line ends, before SMTP dot-stuffing. A body that is all ASCII with short lines goes
    /// as 7bit; anything else as base64, so the message is valid whatever extensions the relay has.
    public func rendered(from: String) -> String {
        let body = self.body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        let plain = body.unicodeScalars.allSatisfy { $0.isASCII } && lines.allSatisfy { $0.utf8.count <= 998 }
        var headers: [(String, String)] = [
            ("From", from),
            ("To", to),
            ("Subject", Self.encodedHeader(subject)),
            ("Date", Self.rfc5322Date(date)),
            ("Message-ID", "<\(messageId)>"),
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Transfer-Encoding", plain ? "7bit" : "base64"),
        ]
        headers += extraHeaders.map { ($0.0, Self.encodedHeader($0.1)) }
        var text = headers.map { "\($0.0): \($0.1)\r\n" }.joined() + "\r\n"
        if plain {
            text += lines.joined(separator: "\r\n")
        } else {
            let encoded = Data(body.utf8).base64EncodedString()
            var index = encoded.startIndex
            var chunks: [Substring] = []
            while index < encoded.endIndex {
                let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
                chunks.append(encoded[index..<end])
                index = end
            }
            text += chunks.joined(separator: "\r\n")
        }
        return text + "\r\n"
    }

    /// A header value on one line: control characters dropped (no header injection), non-ASCII as an RFC 2047 word.
    static func encodedHeader(_ value: String) -> String {
        let clean = String(String.UnicodeScalarView(value.unicodeScalars.filter { $0.value >= 32 && $0.value != 127 }))
        if clean.unicodeScalars.allSatisfy({ $0.isASCII }) { return clean }
        return "=?utf-8?B?\(Data(clean.utf8).base64EncodedString())?="
    }

    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}

/// Sends messages through one `SMTPRelay`: a new connection per message (alerts are rare), EHLO, STARTTLS as the
/// relay's security asks, AUTH PLAIN or LOGIN when credentials are set, MAIL/RCPT/DATA, QUIT. Any failure throws; the
/// caller retries. The whole conversation is bounded by `timeout`.
public struct SMTPMailer: Sendable {
    public let relay: SMTPRelay
    public let timeout: Duration
    private let tlsContext: NIOSSLContext

    public init(relay: SMTPRelay, timeout: Duration = .seconds(30)) throws {
        self.relay = relay
        self.timeout = timeout
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile = relay.caFile {
            tls.additionalTrustRoots = [.file(caFile)]
        }
        do {
            tlsContext = try NIOSSLContext(configuration: tls)
        } catch {
            throw SMTPError.configuration("SMTP TLS setup failed: \(error)")
        }
    }

    /// Hands `message` to the relay; returns once the relay has accepted it (250 after the data).
    public func send(_ message: MailMessage) async throws {
        guard MailAddress.isValid(message.to) else { throw SMTPError.configuration("recipient \(message.to) is not a valid e-mail address") }
        let relay = relay
        let tlsContext = tlsContext
        let sni = Self.isIPAddress(relay.host) ? nil : relay.host
        let connectTimeout = TimeAmount.milliseconds(max(timeout.wholeMilliseconds, 1))
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(connectTimeout)
            .connect(host: relay.host, port: relay.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if relay.security == .implicitTLS {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tlsContext, serverHostname: sni))
                    }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let limit = timeout
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await channel.executeThenClose { inbound, outbound in
                    var session = SMTPSession(replies: SMTPReplyReader(inbound.makeAsyncIterator()), outbound: outbound)
                    try await session.converse(relay: relay, message: message) {
                        try await channel.channel.eventLoop.submit {
                            try channel.channel.pipeline.syncOperations.addHandler(
                                NIOSSLClientHandler(context: tlsContext, serverHostname: sni), position: .first)
                        }.get()
                    }
                }
            }
            group.addTask {
                try await Task.sleep(for: limit)
                channel.channel.close(promise: nil)
                throw SMTPError.timedOut(after: limit)
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}

/// One SMTP reply: a three-digit code and its text lines.
struct SMTPReply {
    var code: Int
    var lines: [String]
}

/// Splits the inbound bytes into CRLF lines and groups multi-line replies (`250-…` … `250 …`).
struct SMTPReplyReader {
    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private var buffer = ByteBuffer()

    init(_ iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) {
        self.iterator = iterator
    }

    mutating func next(stage: String) async throws -> SMTPReply {
        var lines: [String] = []
        while true {
            let line = try await nextLine(stage: stage)
            let bytes = Array(line.utf8)
            guard bytes.count >= 3, let code = Int(String(decoding: bytes[0..<3], as: UTF8.self)), (200...599).contains(code) else {
                throw SMTPError.protocolViolation("unexpected line \(line.prefix(80)) during \(stage)")
            }
            lines.append(String(decoding: bytes.dropFirst(4), as: UTF8.self))
            if bytes.count == 3 || bytes[3] == UInt8(ascii: " ") { return SMTPReply(code: code, lines: lines) }
            guard bytes[3] == UInt8(ascii: "-") else { throw SMTPError.protocolViolation("malformed reply line during \(stage)") }
            guard lines.count < 100 else { throw SMTPError.protocolViolation("reply of more than 100 lines during \(stage)") }
        }
    }

    private mutating func nextLine(stage: String) async throws -> String {
        while true {
            if let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                let length = newline - buffer.readerIndex + 1
                var bytes = buffer.readBytes(length: length) ?? []
                // Byte-wise: as a String, CR LF is one Character and would not end with "\n".
                while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
                return String(decoding: bytes, as: UTF8.self)
            }
            guard buffer.readableBytes < 4096 else { throw SMTPError.protocolViolation("reply line longer than 4 KiB during \(stage)") }
            guard var chunk = try await iterator.next() else { throw SMTPError.connectionClosed(stage: stage) }
            buffer.writeBuffer(&chunk)
        }
    }
}

/// The client side of one SMTP conversation.
struct SMTPSession {
    var replies: SMTPReplyReader
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

    mutating func converse(relay: SMTPRelay, message: MailMessage, startTLS: () async throws -> Void) async throws {
        try await expect(220, stage: "greeting")
        var extensions = try await hello(relay.heloName)
        if relay.security == .startTLS {
            if extensions.contains("STARTTLS") {
                try await command("STARTTLS", expecting: 220, stage: "STARTTLS")
                try await startTLS()
                extensions = try await hello(relay.heloName)
            } else if relay.username != nil {
                throw SMTPError.tlsUnavailable
            }
        }
        if let username = relay.username, let password = relay.password {
            try await authenticate(username: username, password: password, extensions: extensions)
        }
        try await command("MAIL FROM:<\(relay.from)>", expecting: 250, stage: "MAIL FROM")
        try await command("RCPT TO:<\(message.to)>", expecting: 250, 251, stage: "RCPT TO")
        try await command("DATA", expecting: 354, stage: "DATA")
        try await write(Self.dotStuffed(message.rendered(from: relay.from)) + ".\r\n")
        try await expect(250, stage: "end of data")
        // The relay has taken the message; a failed QUIT changes nothing.
        try? await command("QUIT", expecting: 221, stage: "QUIT")
    }

    /// EHLO; the upper-cased keywords of the extensions the server lists.
    private mutating func hello(_ name: String) async throws -> Set<String> {
        try await write("EHLO \(name)\r\n")
        let reply = try await replies.next(stage: "EHLO")
        guard reply.code == 250 else { throw SMTPError.reply(stage: "EHLO", code: reply.code, text: reply.lines.joined(separator: " ")) }
        var keywords = Set<String>()
        for line in reply.lines.dropFirst() {
            let words = line.uppercased().split(separator: " ")
            guard let keyword = words.first else { continue }
            keywords.insert(String(keyword))
            if keyword == "AUTH" { words.dropFirst().forEach { keywords.insert("AUTH=\($0)") } }
        }
        return keywords
    }

    private mutating func authenticate(username: String, password: String, extensions: Set<String>) async throws {
        if extensions.contains("AUTH=PLAIN") || !extensions.contains("AUTH=LOGIN") {
            let token = Data("\0\(username)\0\(password)".utf8).base64EncodedString()
            try await command("AUTH PLAIN \(token)", expecting: 235, stage: "AUTH PLAIN")
        } else {
            try await command("AUTH LOGIN", expecting: 334, stage: "AUTH LOGIN")
            try await command(Data(username.utf8).base64EncodedString(), expecting: 334, stage: "AUTH LOGIN user")
            try await command(Data(password.utf8).base64EncodedString(), expecting: 235, stage: "AUTH LOGIN password")
        }
    }

    private mutating func command(_ line: String, expecting codes: Int..., stage: String) async throws {
        try await write(line + "\r\n")
        let reply = try await replies.next(stage: stage)
        guard codes.contains(reply.code) else {
            throw SMTPError.reply(stage: stage, code: reply.code, text: reply.lines.joined(separator: " "))
        }
    }

    private mutating func expect(_ code: Int, stage: String) async throws {
        let reply = try await replies.next(stage: stage)
        guard reply.code == code else { throw SMTPError.reply(stage: stage, code: reply.code, text: reply.lines.joined(separator: " ")) }
    }

    private func write(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    /// A line that starts with a dot gets a second one (RFC 5321 4.5.2), so the body cannot end the data early.
    static func dotStuffed(_ text: String) -> String {
        var result = text.hasPrefix(".") ? "." + text : text
        result = result.replacingOccurrences(of: "\r\n.", with: "\r\n..")
        return result
    }
}
