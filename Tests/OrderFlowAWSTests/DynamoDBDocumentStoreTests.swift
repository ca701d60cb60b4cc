import AWSKit
import Foundation
import MotoTestSupport
import OrderFlowCore
import Testing
@testable import OrderFlowAWS

@Suite("DynamoDB document store against moto")
struct DynamoDBDocumentStoreTests {
    static func withStore(_ body: (DynamoDBDocumentStore) async throws -> Void) async throws {
        let moto = try MotoEnvironment.require()
        try await withClient(try moto.client()) { client in
            let table = uniqueName("OrderFlowDocuments")
            try await MotoResources(client: client).table(table, hashKey: "DocumentId")
            try await body(DynamoDBDocumentStore(dynamoDB: DynamoDB(client: client), table: table))
        }
    }

    static func document(_ index: Int, kept: Bool = false) -> Document {
        let id = UUID().uuidString.lowercased()
        return Document(id: id, filename: "file-\(index).pdf", sizeBytes: Int64(1_000 + index), contentType: "application/pdf",
                        sha256: SHA256Hex.digest("content \(index)"), uploadedAt: Timestamp(millisecondsSinceEpoch: 1_790_000_000_000 + Int64(index)),
                        uploader: "apikey:00000000000000a1", objectKey: kept ? "documents/\(id)" : nil)
    }

    @Test func recordsReadsAndPagesThroughEveryDocumentOnce() async throws {
        try await Self.withStore { store in
            #expect(try await store.documents(limit: 10, cursor: nil) == DocumentPage(documents: [], nextCursor: nil))
            let documents = (1...7).map { Self.document($0, kept: $0 % 2 == 0) }
            for document in documents { try await store.insert(document) }
            #expect(try await store.document(id: documents[1].id) == documents[1])
            #expect(try await store.document(id: documents[0].id)?.objectKey == nil)
            #expect(try await store.document(id: UUID().uuidString.lowercased()) == nil)
            #expect(try await store.document(id: "") == nil)

            var seen: [Document] = []
            var cursor: String? = nil
            var pages = 0
            repeat {
                let page = try await store.documents(limit: 3, cursor: cursor)
                #expect(page.documents.count <= 3)
                seen += page.documents
                cursor = page.nextCursor
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(Set(seen) == Set(documents))
            #expect(seen.count == documents.count)
            // One page holding everything has no next cursor.
            #expect(try await store.documents(limit: 7, cursor: nil).nextCursor == nil)
        }
    }

    @Test func refusesAForeignCursorAndADuplicateId() async throws {
        try await Self.withStore { store in
            await #expect(throws: OrderStoreError.invalidCursor) { try await store.documents(limit: 3, cursor: "d12") }
            await #expect(throws: OrderStoreError.invalidCursor) { try await store.documents(limit: 3, cursor: "kNOT-A-UUID") }
            let document = Self.document(1)
            try await store.insert(document)
            var impostor = Self.document(2)
            impostor.id = document.id
            await #expect(throws: DynamoDBDocumentStoreError.duplicateId(document.id)) { try await store.insert(impostor) }
            #expect(try await store.document(id: document.id) == document)
        }
    }
}
