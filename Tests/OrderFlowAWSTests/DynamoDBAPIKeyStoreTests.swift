import AWSKit
import MotoTestSupport
import OrderFlowApp
import OrderFlowCore
import Testing
@testable import OrderFlowAWS

@Suite("DynamoDB API-key store against moto")
struct DynamoDBAPIKeyStoreTests {
    static func withStore(_ body: (DynamoDBAPIKeyStore, DynamoDB, String) async throws -> Void) async throws {
        let moto = try MotoEnvironment.require()
        try await withClient(try moto.client()) { client in
            let dynamoDB = DynamoDB(client: client)
            let table = uniqueName("OrderFlowApiKeys")
            try await MotoResources(client: client).table(table, hashKey: "KeyId")
            try await body(DynamoDBAPIKeyStore(dynamoDB: dynamoDB, table: table), dynamoDB, table)
        }
    }

    @Test func createAuthenticateRevokeRefused() async throws {
        try await Self.withStore { store, _, _ in
            let keys = APIKeys(store: store)
            let (key, text) = try await keys.create(name: "shop-backend", scopes: [.ordersWrite, .ordersRead])
            let principal = try #require(try await keys.authenticate(text))
            #expect(principal.id == "apikey:\(key.id)")
            #expect(principal.scopes == [.ordersWrite, .ordersRead])

            // A wrong secret for a real id, and an unknown id, are refused.
            let wrongSecret = String(text.dropLast()) + (text.hasSuffix("0") ? "1" : "0")
            #expect(try await keys.authenticate(wrongSecret) == nil)
            #expect(try await keys.authenticate("ofk_0000000000000000_" + String(repeating: "a", count: 64)) == nil)

            let revokedAt = Timestamp(millisecondsSinceEpoch: 1_790_000_000_000)
            #expect(try await store.revoke(id: key.id, at: revokedAt))
            #expect(try await keys.authenticate(text) == nil)
            // A second revocation keeps the first time; an unknown id is no key.
            #expect(try await store.revoke(id: key.id, at: Timestamp(millisecondsSinceEpoch: 1_790_000_999_000)))
            #expect(try await store.key(id: key.id)?.revokedAt == revokedAt)
            #expect(try await store.revoke(id: "ffffffffffffffff", at: revokedAt) == false)
        }
    }

    @Test func listsOldestFirstAndRefusesADuplicateId() async throws {
        try await Self.withStore { store, _, _ in
            let scopes: Set<Scope> = [.admin]
            let second = APIKey(id: "00000000000000b2", name: "second", scopes: scopes, secretHash: "h2",
                                createdAt: Timestamp(millisecondsSinceEpoch: 2_000))
            let first = APIKey(id: "00000000000000a1", name: "first", scopes: [.ordersRead, .reviewsWrite], secretHash: "h1",
                               createdAt: Timestamp(millisecondsSinceEpoch: 1_000))
            try await store.insert(second)
            try await store.insert(first)
            #expect(try await store.keys() == [first, second])
            await #expect(throws: DynamoDBAPIKeyStoreError.duplicateId(first.id)) {
                try await store.insert(APIKey(id: first.id, name: "impostor", scopes: [.admin], secretHash: "x",
                                              createdAt: Timestamp(millisecondsSinceEpoch: 3_000)))
            }
            #expect(try await store.key(id: first.id) == first)
        }
    }

    @Test func onlyTheHashOfTheSecretIsStored() async throws {
        try await Self.withStore { store, dynamoDB, table in
            let (key, text) = try await APIKeys(store: store).create(name: "reporting", scopes: [.ordersRead])
            let secret = String(try #require(text.split(separator: "_").last))
            #expect(secret.count == 64)
            let page = try await dynamoDB.scan(table: table)
            #expect(page.items.count == 1)
            let stored = page.items.map { "\($0)" }.joined()
            #expect(!stored.contains(secret))
            #expect(!stored.contains(text))
            #expect(page.items.first?["SecretHash"]?.stringValue == SHA256Hex.digest(secret))
            #expect(page.items.first?["KeyId"]?.stringValue == key.id)
        }
    }
}
