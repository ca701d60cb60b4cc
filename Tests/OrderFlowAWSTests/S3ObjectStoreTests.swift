import AWSKit
import MotoTestSupport
import OrderFlowCore
import Testing
@testable import OrderFlowAWS

@Suite("S3 object store against moto")
struct S3ObjectStoreTests {
    @Test func putGetListAndMissingObjects() async throws {
        let moto = try MotoEnvironment.require()
        try await withClient(try moto.client()) { client in
            let bucket = uniqueName("myapp-uploads")
            _ = try await client.s3("PUT", operation: "CreateBucket", bucket: bucket)
            let store = S3ObjectStore(client: client, bucket: bucket, maximumSize: 1024)

            let body = Array(#"{"OrderId":"1001","Amount":450}"#.utf8)
            let info = try await store.put(key: "orders/1001.json", bytes: body, contentType: "application/json")
            #expect(info.size == body.count && !info.etag.isEmpty)
            #expect(try await store.get(key: "orders/1001.json") == body)
            #expect(try await store.get(key: "orders/missing.json") == nil)

            for index in 1...4 { _ = try await store.put(key: "orders/batch-\(index).jsonl", bytes: [0x7B, 0x7D], contentType: nil) }
            _ = try await store.put(key: "logs/host-1.log.gz", bytes: [1, 2, 3], contentType: nil)
            // Prefix without `/`: see prefixWithSlash below for moto's bug with `/` in a signed query.
            let orders = try await store.list(prefix: "orders", limit: 100)
            #expect(orders.map(\.key) == ["orders/1001.json", "orders/batch-1.jsonl", "orders/batch-2.jsonl", "orders/batch-3.jsonl", "orders/batch-4.jsonl"])
            #expect(orders.allSatisfy { $0.lastModified.millisecondsSinceEpoch > 1_700_000_000_000 })
            #expect(try await store.list(prefix: "orders", limit: 2).map(\.key) == ["orders/1001.json", "orders/batch-1.jsonl"])
            #expect(try await store.list(prefix: "logs", limit: 10).map(\.key) == ["logs/host-1.log.gz"])

            await #expect(throws: ObjectStoreError.tooLarge(limit: 1024)) {
                try await store.put(key: "orders/big.json", bytes: Array(repeating: 0x20, count: 1025), contentType: nil)
            }
            await #expect(throws: ObjectStoreError.self) { try await store.put(key: "", bytes: [], contentType: nil) }
        }
    }

    /// `prefix=orders%2F` is signed as AWS specifies, but moto 5.2.1 recomputes the signature from a re-quoted URL
    /// that has `orders/`, so it rejects the request; boto3's `list_objects_v2(Prefix="orders/")` fails against it in
    /// the same way (checked by hand). When moto is fixed this known issue stops occurring and the test fails.
    @Test func prefixWithSlash() async throws {
        let moto = try MotoEnvironment.require()
        try await withClient(try moto.client()) { client in
            let bucket = uniqueName("myapp-uploads")
            _ = try await client.s3("PUT", operation: "CreateBucket", bucket: bucket)
            let store = S3ObjectStore(client: client, bucket: bucket)
            _ = try await store.put(key: "orders/1.json", bytes: [0x7B, 0x7D], contentType: nil)
            try await withKnownIssue("moto 5.2.1 re-quotes %2F in S3 query strings before checking signatures") {
                let keys = try await store.list(prefix: "orders/", limit: 10).map(\.key)
                #expect(keys == ["orders/1.json"])
            } matching: { issue in
                (issue.error as? AWSClientError)?.serviceError?.code == "SignatureDoesNotMatch"
            }
        }
    }

    @Test func timestampsParseWithAndWithoutFractions() {
        #expect(S3ObjectStore.timestamp("2026-11-25T06:40:00.123Z").millisecondsSinceEpoch == 1_795_588_800_123)
        #expect(S3ObjectStore.timestamp("2026-11-25T06:40:00Z").millisecondsSinceEpoch == 1_795_588_800_000)
    }
}
