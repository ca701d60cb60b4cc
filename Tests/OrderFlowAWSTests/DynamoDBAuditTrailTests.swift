import AWSKit
import Crypto
import MotoTestSupport
import OrderFlowCore
import Testing
@testable import OrderFlowAWS

@Suite("DynamoDB audit trail against moto")
struct DynamoDBAuditTrailTests {
    static func record(_ index: Int, principal: String = "apikey:00000000000000a1") -> AuditRecord {
        AuditRecord(time: Timestamp(millisecondsSinceEpoch: 1_790_000_000_000 + Int64(index)), principal: principal, method: "POST",
                    route: index % 2 == 0 ? "/orders" : "/orders/{id}/cancel", resource: "orderId=o-\(index)", status: 201,
                    sourceAddress: "10.0.0.\(index % 250)", requestId: "req-\(index)")
    }

    /// A fresh table, and a trail over it per simulated instance (each with its own client, as separate processes have).
    static func withTrails(instances: Int = 1, _ body: ([DynamoDBAuditTrail], DynamoDB, String) async throws -> Void) async throws {
        let moto = try MotoEnvironment.require()
        let clients = try (0..<instances).map { _ in try moto.client() }
        let table = uniqueName("OrderFlowAudit")
        do {
            try await MotoResources(client: clients[0]).table(table, hashKey: "Key")
            try await body(clients.map { DynamoDBAuditTrail(dynamoDB: DynamoDB(client: $0), table: table) }, DynamoDB(client: clients[0]), table)
        } catch {
            for client in clients { try? await client.shutdown() }
            throw error
        }
        for client in clients { try await client.shutdown() }
    }

    @Test func oneChainAcrossInstancesAppendingAtOnce() async throws {
        try await Self.withTrails(instances: 3) { trails, _, _ in
            // Three instances, each with several concurrent requests: every append conflicts with others at first.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (instance, trail) in trails.enumerated() {
                    for task in 0..<3 {
                        group.addTask {
                            for index in 0..<4 {
                                _ = try await trail.append([Self.record(instance * 100 + task * 10 + index, principal: "instance-\(instance)")])
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let entries = try await trails[0].allEntries()
            let key = Curve25519.Signing.PrivateKey()
            guard entries.map(\.sequence) == Array(1...36) else {
                // moto 5.2.1 snapshots the whole table (deepcopy) at the start of every TransactWriteItems and puts the
                // snapshot back when the transaction is cancelled, without a lock: an append committed by another
                // thread in between is erased (DynamoDB's transactions are serializable and cannot do this).
                withKnownIssue("moto's cancelled TransactWriteItems restores a stale copy of the table", isIntermittent: true) {
                    #expect(entries.map(\.sequence) == Array(1...36))
                }
                // Even then the verifier must tell an intact chain from a broken one. An erased tail leaves the rest
                // intact: without a signed digest past it (none is written here) the verifier must report nothing. A
                // hole must be named as deleted. A restore that interleaved with another append can also leave an entry
                // that does not chain to the one before it (seen in CI): the verifier must report that too.
                let problems = AuditVerifier.verify(entries: entries, digests: [], publicKey: key.publicKey)
                let sequences = entries.map(\.sequence)
                #expect(sequences == sequences.sorted() && Set(sequences).count == sequences.count && Set(sequences).isSubset(of: 1...36))
                let linked = (entries.first?.previousHash ?? AuditEntry.genesis) == AuditEntry.genesis
                    && zip(entries, entries.dropFirst()).allSatisfy { $1.previousHash == $0.hash } && entries.allSatisfy(\.isIntact)
                if sequences != (0..<sequences.count).map({ Int64($0) + 1 }) {
                    #expect(problems.contains { if case .deleted = $0 { true } else { false } }, "\(problems)")
                } else if linked {
                    #expect(problems == [], "an intact prefix of the chain: \(problems)")
                } else {
                    #expect(!problems.isEmpty, "a prefix whose entries do not all chain: the verifier must say so")
                }
                return
            }
            let digest = try #require(try await trails[1].writeDigest(signingKey: key, at: Timestamp(millisecondsSinceEpoch: 1_790_000_100_000)))
            #expect(digest.sequence == 36 && digest.hash == entries.last?.hash)
            // The head is signed once: another instance's attempt at the same sequence writes nothing.
            #expect(try await trails[2].writeDigest(signingKey: key, at: Timestamp(millisecondsSinceEpoch: 1_790_000_100_001)) == nil)
            #expect(AuditVerifier.verify(entries: entries, digests: try await trails[0].digests(), publicKey: key.publicKey) == [])

            // GET /audit's reads: after a sequence, limited, filtered.
            #expect(try await trails[2].entries(after: 30, limit: 100, principal: nil, route: nil).map(\.sequence) == Array(31...36))
            #expect(try await trails[2].entries(after: 0, limit: 5, principal: nil, route: nil).map(\.sequence) == Array(1...5))
            let mine = try await trails[2].entries(after: 0, limit: 100, principal: "instance-1", route: nil)
            #expect(mine.count == 12 && mine.allSatisfy { $0.record.principal == "instance-1" })
            let cancels = try await trails[0].entries(after: 0, limit: 100, principal: "instance-2", route: "/orders/{id}/cancel")
            #expect(cancels.count == 6)
        }
    }

    @Test("an instance appending alone reads the head once; after another instance appended, it reads it again and the chain holds")
    func aLoneWriterReusesTheHeadItWrote() async throws {
        let moto = try MotoEnvironment.require()
        let counter = AWSRequestCounter()
        try await withClient(try moto.client(counter: counter)) { client in
            try await withClient(try moto.client()) { otherClient in
                let table = uniqueName("OrderFlowAudit")
                try await MotoResources(client: client).table(table, hashKey: "Key")
                let trail = DynamoDBAuditTrail(dynamoDB: DynamoDB(client: client), table: table)
                let other = DynamoDBAuditTrail(dynamoDB: DynamoDB(client: otherClient), table: table)
                let before = counter.counts(service: .dynamoDB, operation: "GetItem").attempts
                for index in 1...3 { _ = try await trail.append([Self.record(index)]) }
                #expect(counter.counts(service: .dynamoDB, operation: "GetItem").attempts - before == 1)

                // Another instance moves the head: the next append's transaction is cancelled, it reads the head and
                // chains after it.
                _ = try await other.append([Self.record(4)])
                let appended = try await trail.append([Self.record(5)])
                #expect(appended.map(\.sequence) == [5])
                #expect(counter.errors(service: .dynamoDB, operation: "TransactWriteItems")["TransactionCanceledException"] == 1)
                #expect(counter.counts(service: .dynamoDB, operation: "GetItem").attempts - before == 2)
                // For a while it reads the head before each append instead of trusting what it wrote.
                _ = try await trail.append([Self.record(6)])
                #expect(counter.counts(service: .dynamoDB, operation: "GetItem").attempts - before == 3)
                let entries = try await trail.allEntries()
                #expect(entries.map(\.sequence) == Array(1...6))
                #expect(AuditVerifier.verify(entries: entries, digests: [], publicKey: Curve25519.Signing.PrivateKey().publicKey) == [])
            }
        }
    }

    @Test func appendsMoreThanOneTransactionHoldsInOrder() async throws {
        try await Self.withTrails { trails, _, _ in
            let records = (1...150).map { Self.record($0) }
            let appended = try await trails[0].append(records)
            #expect(appended.map(\.sequence) == Array(1...150))
            #expect(appended.map(\.record) == records)
            let stored = try await trails[0].allEntries()
            #expect(stored == appended)
            #expect(AuditVerifier.verify(entries: stored, digests: [], publicKey: Curve25519.Signing.PrivateKey().publicKey) == [])
        }
    }

    /// Six entries and a digest of the sixth; then `tamper` with the table, and what the verifier says.
    static func tampered(_ tamper: (DynamoDB, String, [AuditEntry]) async throws -> Void) async throws -> [AuditProblem] {
        var problems: [AuditProblem] = []
        try await withTrails { trails, dynamoDB, table in
            let trail = trails[0]
            let entries = try await trail.append((1...6).map { Self.record($0) })
            let key = Curve25519.Signing.PrivateKey()
            _ = try await trail.writeDigest(signingKey: key, at: Timestamp(millisecondsSinceEpoch: 1_790_000_100_000))
            #expect(AuditVerifier.verify(entries: try await trail.allEntries(), digests: try await trail.digests(), publicKey: key.publicKey) == [])
            try await tamper(dynamoDB, table, entries)
            problems = AuditVerifier.verify(entries: try await trail.allEntries(), digests: try await trail.digests(), publicKey: key.publicKey)
        }
        return problems
    }

    @Test func verifyNamesAnEditedEntry() async throws {
        let problems = try await Self.tampered { dynamoDB, table, _ in
            _ = try await dynamoDB.updateItem(table: table, key: DynamoDBAuditTrail.key("entry#0000000000000000003"),
                                              update: DynamoDB.Expression("SET #p = :p", names: ["#p": "Principal"], values: [":p": .string("someone-else")]))
        }
        #expect(problems == [.edited(sequence: 3)])
    }

    @Test func verifyNamesADeletedEntryAndATruncatedEnd() async throws {
        let problems = try await Self.tampered { dynamoDB, table, _ in
            let left = try await dynamoDB.batchDelete(table: table, keys: [DynamoDBAuditTrail.key("entry#0000000000000000004"),
                                                                            DynamoDBAuditTrail.key("entry#0000000000000000006")])
            #expect(left.isEmpty)
        }
        #expect(problems == [.deleted(afterSequence: 3, missing: 4...4), .truncated(digestSequence: 6, lastSequence: 5)])
    }

    @Test func verifyNamesAnInsertedEntry() async throws {
        let problems = try await Self.tampered { dynamoDB, table, entries in
            // A forged entry 3 whose own hash is right, chained after something other than entry 2.
            let forged = Self.record(99, principal: "intruder")
            let previous = String(repeating: "f", count: 64)
            let entry = AuditEntry(sequence: 3, record: forged, previousHash: previous,
                                   hash: AuditEntry.hash(sequence: 3, record: forged, previousHash: previous))
            try await dynamoDB.putItem(table: table, item: DynamoDBAuditTrail.item(for: entry))
        }
        #expect(problems.contains(.inserted(sequence: 3)))
        #expect(!problems.contains(.edited(sequence: 3)))
    }
}
