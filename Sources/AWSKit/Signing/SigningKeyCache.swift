import Crypto
import Synchronization

/// Remembers the last derived SigV4 signing key, which only changes when the secret or the UTC day does.
///
/// One entry is enough: a signer has a fixed region and service, and requests signed at the same
/// time share a day, so this turns four HMACs per request into one comparison under a lock.
final class SigningKeyCache: Sendable, CustomReflectable {
    private struct Entry: Sendable {
        let secret: String
        let date: String
        let region: String
        let service: String
        // Raw bytes because swift-crypto's SymmetricKey is not Sendable.
        let key: [UInt8]
    }

    private let latest = Mutex<Entry?>(nil)

    /// An empty mirror: the entry holds the secret and a live signing key, which `dump(signer)` must not show.
    var customMirror: Mirror {
        Mirror(self, children: [:])
    }

    /// The `kSigning` key for the scope, derived on a miss.
    func key(secret: String, date: String, region: String, service: String) -> SymmetricKey {
        if let entry = latest.withLock({ $0 }),
           entry.secret == secret, entry.date == date, entry.region == region, entry.service == service {
            return SymmetricKey(data: entry.key)
        }
        let key = Self.derive(secret: secret, date: date, region: region, service: service)
        latest.withLock {
            $0 = Entry(secret: secret, date: date, region: region, service: service, key: key.withUnsafeBytes { Array($0) })
        }
        return key
    }

    /// The HMAC chain from the AWS specification: secret → date → region → service → `aws4_request`.
    static func derive(secret: String, date: String, region: String, service: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array("AWS4\(secret)".utf8))
        for step in [date, region, service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(step.utf8), using: key))
        }
        return key
    }
}
