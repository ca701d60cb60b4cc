/// Metadata of an uploaded document (seed 004's document metadata service). The content itself is kept only when the
/// server is configured to; then `objectKey` names it in the object store.
public struct Document: Sendable, Hashable {
    public var id: String
    /// The client's file name, sanitized (last path segment, no control characters).
    public var filename: String
    public var sizeBytes: Int64
    public var contentType: String
    /// SHA-256 of the content, hex.
    public var sha256: String
    public var uploadedAt: Timestamp
    /// Who uploaded it (the principal's id).
    public var uploader: String
    public var objectKey: String?

    public init(id: String, filename: String, sizeBytes: Int64, contentType: String, sha256: String, uploadedAt: Timestamp,
                uploader: String, objectKey: String? = nil) {
        self.id = id
        self.filename = filename
        self.sizeBytes = sizeBytes
        self.contentType = contentType
        self.sha256 = sha256
        self.uploadedAt = uploadedAt
        self.uploader = uploader
        self.objectKey = objectKey
    }

    public var json: JSONValue {
        .object([
            "id": .string(id),
            "filename": .string(filename),
            "size_bytes": .int(sizeBytes),
            "content_type": .string(contentType),
            "sha256": .string(sha256),
            "uploaded_at": .string(uploadedAt.iso8601),
            "uploader": .string(uploader),
            "stored": .bool(objectKey != nil),
        ])
    }
}

/// A page of documents, oldest first.
public struct DocumentPage: Sendable, Hashable {
    public var documents: [Document]
    public var nextCursor: String?

    public init(documents: [Document], nextCursor: String?) {
        self.documents = documents
        self.nextCursor = nextCursor
    }
}

/// Where document metadata is kept (port; embedded: SQLite).
public protocol DocumentStore: Sendable {
    func insert(_ document: Document) async throws
    func document(id: String) async throws -> Document?
    /// `cursor` is a previous page's `nextCursor`; nil from the start.
    func documents(limit: Int, cursor: String?) async throws -> DocumentPage
}
