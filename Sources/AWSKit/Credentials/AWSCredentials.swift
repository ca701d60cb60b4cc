import Foundation

/// An AWS access key pair, optionally with the session token of temporary credentials.
///
/// `description`, `debugDescription` and the reflection mirror redact the secret and the token so
/// that logging a value, interpolating it into an error, `dump` or a debugger never shows them.
public struct AWSCredentials: Sendable, Hashable {
    /// The access key ID (`AKIA…` for long-term keys, `ASIA…` for temporary ones); not secret.
    public let accessKeyID: String
    /// The secret access key used to derive signing keys.
    public let secretAccessKey: String
    /// The session token that temporary credentials must send with every request.
    public let sessionToken: String?
    /// When temporary credentials stop working, if the source said so.
    public let expiration: Date?

    /// Creates credentials from their parts.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }
}

extension AWSCredentials: CustomStringConvertible, CustomDebugStringConvertible {
    /// A form safe to log: the access key ID, with the secret and any session token redacted.
    public var description: String {
        var text = "AWSCredentials(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>"
        if sessionToken != nil {
            text += ", sessionToken: <redacted>"
        }
        if let expiration {
            text += ", expiration: \(expiration)"
        }
        return text + ")"
    }

    /// The same redacted form as `description`, so `debugPrint` and `dump`-style output stay safe too.
    public var debugDescription: String { description }
}

extension AWSCredentials: CustomReflectable {
    /// A mirror with the secret and token replaced, because `dump` and debuggers walk mirrors, not descriptions.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "accessKeyID": accessKeyID,
            "secretAccessKey": "<redacted>",
            "sessionToken": sessionToken == nil ? "nil" : "<redacted>",
            "expiration": expiration as Any,
        ], displayStyle: .struct)
    }
}
