import Crypto

/// One line of the audit trail: who did what, with what result, when, from where.
public struct AuditRecord: Sendable, Hashable {
    /// This record of an order submission with the status the API answers for `outcome` (201, 200 or 409) and the
    /// order's id as its resource (none for a conflict, as the API's answer names no new resource).
    public func completed(by outcome: AcceptOutcome) -> AuditRecord {
        var record = self
        switch outcome {
        case .created(let order): (record.status, record.resource) = (201, "id=\(order.id)")
        case .replayed(let order): (record.status, record.resource) = (200, "id=\(order.id)")
        case .conflict: (record.status, record.resource) = (409, "")
        }
        return record
    }

    public var time: Timestamp
    /// `apikey:<id>`, `jwt:<sub>`, `anonymous`, or `cli` for commands run on the host.
    public var principal: String
    public var method: String
    /// The route pattern, e.g. `/orders/{id}/cancel`.
    public var route: String
    /// The ids the request named (`orderId=1001`, `queue=HighValueQueue`), space-separated.
    public var resource: String
    public var status: Int
    public var sourceAddress: String
    public var requestId: String

    public init(time: Timestamp, principal: String, method: String, route: String, resource: String, status: Int,
                sourceAddress: String, requestId: String) {
        self.time = time
        self.principal = principal
        self.method = method
        self.route = route
        self.resource = resource
        self.status = status
        self.sourceAddress = sourceAddress
        self.requestId = requestId
    }
}

/// A stored entry: the record, its place in the chain, and the chain hashes.
public struct AuditEntry: Sendable, Hashable {
    public var sequence: Int64
    public var record: AuditRecord
    /// The hash of the entry before (64 zeros for the first).
    public var previousHash: String
    /// SHA-256 over the sequence, the record's fields and `previousHash`.
    public var hash: String

    public init(sequence: Int64, record: AuditRecord, previousHash: String, hash: String) {
        self.sequence = sequence
        self.record = record
        self.previousHash = previousHash
        self.hash = hash
    }

    public static let genesis = String(repeating: "0", count: 64)

    /// The chain hash of `record` at `sequence` after `previousHash`. Fields are length-prefixed, so no two different
    /// entries serialize alike.
    public static func hash(sequence: Int64, record: AuditRecord, previousHash: String) -> String {
        var input: [UInt8] = []
        for field in [String(sequence), String(record.time.millisecondsSinceEpoch), record.principal, record.method, record.route,
                      record.resource, String(record.status), record.sourceAddress, record.requestId, previousHash] {
            let bytes = Array(field.utf8)
            input += Array(String(bytes.count).utf8) + [0x3A] + bytes
        }
        return SHA256Hex.digest(bytes: input)
    }

    /// Whether the stored hash is the hash of the stored content.
    public var isIntact: Bool { hash == Self.hash(sequence: sequence, record: record, previousHash: previousHash) }
}

/// A signed statement that the chain reached `sequence` with `hash`: it pins the end of the chain, so deleting the
/// newest entries (which a hash chain alone cannot notice) is detected too.
public struct AuditDigest: Sendable, Hashable {
    public var sequence: Int64
    public var hash: String
    public var time: Timestamp
    /// Ed25519 signature (hex) over `"<sequence>:<hash>:<time ms>"`.
    public var signature: String

    public init(sequence: Int64, hash: String, time: Timestamp, signature: String) {
        self.sequence = sequence
        self.hash = hash
        self.time = time
        self.signature = signature
    }

    public var signedText: String { "\(sequence):\(hash):\(time.millisecondsSinceEpoch)" }
}

/// What `verify` found: nothing, or the first problem with the entry it concerns.
public enum AuditProblem: Sendable, Hashable, CustomStringConvertible {
    case edited(sequence: Int64)
    case inserted(sequence: Int64)
    case deleted(afterSequence: Int64, missing: ClosedRange<Int64>)
    case truncated(digestSequence: Int64, lastSequence: Int64)
    case badDigestSignature(sequence: Int64)
    case digestMismatch(sequence: Int64)

    public var description: String {
        switch self {
        case .edited(let sequence): "entry \(sequence) was edited: its content does not match its hash"
        case .inserted(let sequence): "entry \(sequence) was inserted or replaced: it does not continue the chain of the entry before it"
        case .deleted(let after, let missing):
            missing.count == 1 ? "entry \(missing.lowerBound) was deleted (after entry \(after))" : "entries \(missing.lowerBound)–\(missing.upperBound) were deleted (after entry \(after))"
        case .truncated(let digest, let last): "entries after \(last) were deleted: a signed digest vouches for entry \(digest)"
        case .badDigestSignature(let sequence): "the digest at entry \(sequence) has an invalid signature"
        case .digestMismatch(let sequence): "entry \(sequence) differs from what its signed digest recorded"
        }
    }
}

/// Checks a chain read in sequence order against its digests; returns every problem found (empty: intact).
public enum AuditVerifier {
    public static func verify(entries: [AuditEntry], digests: [AuditDigest], publicKey: Curve25519.Signing.PublicKey) -> [AuditProblem] {
        var problems: [AuditProblem] = []
        var byHash: [Int64: String] = [:]
        for (index, entry) in entries.enumerated() {
            if index == 0 {
                if entry.sequence != 1 {
                    problems.append(.deleted(afterSequence: 0, missing: 1...max(1, entry.sequence - 1)))
                } else if entry.previousHash != AuditEntry.genesis {
                    problems.append(.inserted(sequence: entry.sequence))
                }
            } else {
                let previous = entries[index - 1]
                if entry.sequence > previous.sequence + 1 {
                    problems.append(.deleted(afterSequence: previous.sequence, missing: (previous.sequence + 1)...(entry.sequence - 1)))
                } else if entry.previousHash != previous.hash {
                    // An entry that chains to the one two back skips its predecessor: that one was put in afterwards.
                    if index >= 2, entry.previousHash == entries[index - 2].hash {
                        problems.append(.inserted(sequence: previous.sequence))
                    } else {
                        problems.append(.inserted(sequence: entry.sequence))
                    }
                }
            }
            if !entry.isIntact {
                problems.append(.edited(sequence: entry.sequence))
            }
            byHash[entry.sequence] = entry.hash
        }
        let last = entries.last?.sequence ?? 0
        for digest in digests {
            guard let signature = hexBytes(digest.signature),
                  publicKey.isValidSignature(signature, for: Array(digest.signedText.utf8)) else {
                problems.append(.badDigestSignature(sequence: digest.sequence))
                continue
            }
            if digest.sequence > last {
                problems.append(.truncated(digestSequence: digest.sequence, lastSequence: last))
            } else if let hash = byHash[digest.sequence], hash != digest.hash {
                problems.append(.digestMismatch(sequence: digest.sequence))
            }
        }
        return problems
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let bytes = Array(text.utf8)
        guard bytes.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            guard let value = UInt8(String(decoding: bytes[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            out.append(value)
            index += 2
        }
        return out
    }
}

/// Where the audit trail is kept (port; embedded: SQLite).
public protocol AuditTrail: Sendable {
    /// Appends records durably, chained after the last entry, in order; returns the entries.
    func append(_ records: [AuditRecord]) async throws -> [AuditEntry]
    /// Entries with a sequence above `after`, oldest first, filtered.
    func entries(after: Int64, limit: Int, principal: String?, route: String?) async throws -> [AuditEntry]
    /// Writes a signed digest of the current end of the chain (nothing when the chain is empty or already vouched for).
    func writeDigest(signingKey: Curve25519.Signing.PrivateKey, at time: Timestamp) async throws -> AuditDigest?
    func digests() async throws -> [AuditDigest]
}
