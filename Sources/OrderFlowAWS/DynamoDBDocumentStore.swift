import AWSKit
import OrderFlowCore

/// The `DocumentStore` on a DynamoDB table (`OrderFlowDocuments`, key `DocumentId`): one item per uploaded document's
/// metadata. The content, when the server keeps it, is in the uploads bucket under `documents/` (the controller puts it
/// through the object store); this table only names its key.
public struct DynamoDBDocumentStore: DocumentStore {
    private let dynamoDB: DynamoDB
    private let table: String

    enum Attribute {
        static let id = "DocumentId"
        static let filename = "Filename"
        static let size = "SizeBytes"
        static let contentType = "ContentType"
        static let sha256 = "Sha256"
        static let uploadedAt = "UploadedAt"
        static let uploader = "Uploader"
        static let objectKey = "ObjectKey"
    }

    /// The store over `table` (the data stack's default name unless configured).
    public init(dynamoDB: DynamoDB, table: String = "OrderFlowDocuments") {
        self.dynamoDB = dynamoDB
        self.table = table
    }

    static func key(_ id: String) -> DynamoDBItem { [Attribute.id: .string(id)] }

    /// Records a document; an id recorded already is refused (ids are random UUIDs, so this guards, never happens).
    public func insert(_ document: Document) async throws {
        var item = Self.key(document.id)
        item[Attribute.filename] = .string(document.filename)
        item[Attribute.size] = .int(document.sizeBytes)
        item[Attribute.contentType] = .string(document.contentType)
        item[Attribute.sha256] = .string(document.sha256)
        item[Attribute.uploadedAt] = .int(document.uploadedAt.millisecondsSinceEpoch)
        item[Attribute.uploader] = .string(document.uploader)
        if let objectKey = document.objectKey { item[Attribute.objectKey] = .string(objectKey) }
        do {
            try await dynamoDB.putItem(table: table, item: item,
                                       condition: DynamoDB.Expression("attribute_not_exists(#id)", names: ["#id": Attribute.id]))
        } catch {
            guard error.serviceError?.hasCode("ConditionalCheckFailedException") == true else { throw error }
            throw DynamoDBDocumentStoreError.duplicateId(document.id)
        }
    }

    public func document(id: String) async throws -> Document? {
        // DynamoDB refuses an empty key value outright; no document has one.
        guard !id.isEmpty else { return nil }
        guard let item = try await dynamoDB.getItem(table: table, key: Self.key(id)) else { return nil }
        return try Self.document(from: item)
    }

    /// Lists in the table's own stable order (DynamoDB's key order), not by upload time: a scan has no other order,
    /// and documents carry their `uploaded_at`. The cursor is the last returned id; the next page's scan starts after it.
    public func documents(limit: Int, cursor: String?) async throws -> DocumentPage {
        let count = max(1, min(limit, 1000))
        var startKey: DynamoDBItem? = nil
        if let cursor {
            guard let id = Self.decodeCursor(cursor) else { throw OrderStoreError.invalidCursor }
            startKey = Self.key(id)
        }
        var documents: [Document] = []
        while true {
            let page = try await dynamoDB.scan(table: table, limit: count - documents.count + 1, startKey: startKey)
            for item in page.items {
                if documents.count == count {
                    // One more exists: there is a next page, starting after the last one returned.
                    return DocumentPage(documents: documents, nextCursor: documents.last.map { Self.encodeCursor($0.id) })
                }
                documents.append(try Self.document(from: item))
            }
            guard let next = page.lastEvaluatedKey else { return DocumentPage(documents: documents, nextCursor: nil) }
            startKey = next
        }
    }

    static func encodeCursor(_ id: String) -> String { "k" + id }

    /// The id in a cursor this store issued: `k` and a lower-case UUID (the controller's ids).
    static func decodeCursor(_ cursor: String) -> String? {
        guard cursor.hasPrefix("k") else { return nil }
        let id = String(cursor.dropFirst())
        guard id.count == 36, id.allSatisfy({ $0 == "-" || $0.isHexDigit && !$0.isUppercase }) else { return nil }
        return id
    }

    static func document(from item: DynamoDBItem) throws -> Document {
        guard let id = item[Attribute.id]?.stringValue, let filename = item[Attribute.filename]?.stringValue,
              let size = item[Attribute.size]?.int64Value, let contentType = item[Attribute.contentType]?.stringValue,
              let sha256 = item[Attribute.sha256]?.stringValue, let uploadedAt = item[Attribute.uploadedAt]?.int64Value,
              let uploader = item[Attribute.uploader]?.stringValue else {
            throw DynamoDBDocumentStoreError.malformedItem(item[Attribute.id]?.stringValue ?? "?")
        }
        return Document(id: id, filename: filename, sizeBytes: size, contentType: contentType, sha256: sha256,
                        uploadedAt: Timestamp(millisecondsSinceEpoch: uploadedAt), uploader: uploader,
                        objectKey: item[Attribute.objectKey]?.stringValue)
    }
}

/// Why the DynamoDB document store refused or could not read a document.
public enum DynamoDBDocumentStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A document with this id is recorded already.
    case duplicateId(String)
    /// The item lacks an attribute every document has (written by something else than this store).
    case malformedItem(String)

    public var description: String {
        switch self {
        case .duplicateId(let id): "a document with id \(id) is recorded already"
        case .malformedItem(let id): "the document item \(id) lacks one of its attributes"
        }
    }
}
