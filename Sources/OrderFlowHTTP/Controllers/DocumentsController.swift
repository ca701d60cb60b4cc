import Crypto
import Foundation
import Hummingbird
import OrderFlowApp
import OrderFlowCore

/// Seed 004's document metadata service: `POST /upload` (multipart/form-data, field `file`) records who uploaded what
/// — sanitized name, size, type, SHA-256, time — computing size and hash while the body streams in, so a file is never
/// held in memory (unless the server keeps contents). Over the limit is `413` as soon as it is known; a body that ends
/// early or is malformed is `400`; in every refused case nothing is recorded.
struct DocumentsController {
    let documents: any DocumentStore
    let objects: any ObjectStore
    let settings: DocumentSettings
    let clock: any WallClock

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("/upload", use: upload)
        router.get("/documents", use: list)
        router.get("/documents/:id", use: get)
    }

    /// Bytes of form fields other than `file` that are read and ignored, at most.
    static let otherFieldsLimit = 64 * 1024

    @Sendable func upload(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let contentType = request.headers[.contentType], let boundary = MultipartStream.boundary(fromContentType: contentType) else {
            throw Problem(.unsupportedMediaType, status: .unsupportedMediaType, detail: "send multipart/form-data with a boundary and the file in the field 'file'")
        }
        let limit = settings.maximumBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit + Self.otherFieldsLimit + 16 * 1024 {
            throw tooLarge(limit)
        }
        var parser = MultipartStream(boundary: boundary)
        var hasher = SHA256()
        var size = 0
        var inFile = false
        var fileSeen = false
        var otherBytes = 0
        var filename = "unnamed"
        var fileType = "application/octet-stream"
        var kept: [UInt8]? = settings.keepContent ? [] : nil
        do {
            for try await chunk in request.body {
                for event in try parser.feed(chunk.readableBytesView) {
                    switch event {
                    case .partStart(let headers):
                        let disposition = headers["content-disposition"] ?? ""
                        inFile = ContentDisposition.parameter("name", in: disposition) == "file"
                        if inFile {
                            guard !fileSeen else { throw Problem.malformed("the body holds more than one 'file' field") }
                            fileSeen = true
                            filename = ContentDisposition.sanitizedFilename(ContentDisposition.parameter("filename", in: disposition) ?? "")
                            fileType = Self.mediaType(headers["content-type"])
                        }
                    case .content(let bytes):
                        if inFile {
                            size += bytes.count
                            guard size <= limit else { throw tooLarge(limit) }
                            hasher.update(data: bytes)
                            kept?.append(contentsOf: bytes)
                        } else {
                            otherBytes += bytes.count
                            guard otherBytes <= Self.otherFieldsLimit else { throw tooLarge(limit) }
                        }
                    case .partEnd:
                        inFile = false
                    case .end:
                        break
                    }
                }
            }
        } catch let failure as MultipartStream.Failure {
            throw Problem.malformed(failure.description)
        }
        guard parser.isFinished else { throw Problem.malformed("the multipart body ended before its closing boundary") }
        guard fileSeen else { throw Problem.invalidField("file", "is missing: send the document in the form field 'file'") }

        let id = UUID().uuidString.lowercased()
        var objectKey: String?
        if let kept {
            let key = "documents/\(id)"
            _ = try await objects.put(key: key, bytes: kept, contentType: fileType)
            objectKey = key
        }
        let document = Document(id: id, filename: filename, sizeBytes: Int64(size), contentType: fileType,
                                sha256: SHA256Hex.hex(hasher.finalize()),
                                uploadedAt: clock.now(), uploader: context.principal?.id ?? "anonymous", objectKey: objectKey)
        try await documents.insert(document)
        return .json(document.json, status: .created, headers: [.location: "/documents/\(id)"])
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        var limit = 100
        if let text = request.uri.queryParameters.get("limit") {
            guard let value = Int(text), (1...1000).contains(value) else { throw Problem.invalidField("limit", "must be a whole number from 1 to 1000") }
            limit = value
        }
        let page: DocumentPage
        do {
            page = try await documents.documents(limit: limit, cursor: request.uri.queryParameters.get("cursor"))
        } catch OrderStoreError.invalidCursor {
            throw Problem.invalidField("cursor", "is not a cursor this service issued")
        }
        return .json(.object(["documents": .array(page.documents.map(\.json)), "nextCursor": .string(orNull: page.nextCursor)]))
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        guard let document = try await documents.document(id: id) else { throw Problem.notFound("document \(id) does not exist") }
        return .json(document.json)
    }

    func tooLarge(_ limit: Int) -> Problem {
        Problem(.payloadTooLarge, status: .contentTooLarge, detail: "the document is larger than the limit of \(limit) bytes")
    }

    /// The part's media type, or octet-stream when it sent none or something that is not `type/subtype`.
    static func mediaType(_ value: String?) -> String {
        guard let value, let type = value.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased(),
              type.split(separator: "/").count == 2, type.count <= 127,
              type.allSatisfy({ $0.isLetter || $0.isNumber || "/+-.".contains($0) }) else { return "application/octet-stream" }
        return type
    }
}

/// Limits and options of the document service.
public struct DocumentSettings: Sendable {
    /// Largest document accepted (default 25 MiB).
    public var maximumBytes: Int = 25 << 20
    /// Also store the content in the object store (`documents/<id>`); off by default (metadata only, as in seed 004).
    public var keepContent = false

    public init() {}
}
