import Hummingbird
import OrderFlowApp
import OrderFlowCore

/// `PUT /uploads/{key}`: the S3 `PutObject` of the embedded mode. Keys under `orders/` trigger ingestion.
struct UploadsController {
    let objects: any ObjectStore
    let bodyLimit: Int

    func addRoutes(to router: Router<AppRequestContext>) {
        router.put("/uploads/**", use: put)
    }

    @Sendable func put(_ request: Request, context: AppRequestContext) async throws -> Response {
        let path = request.uri.path
        let prefix = "/uploads/"
        guard path.hasPrefix(prefix) else { throw Problem.notFound("no route for \(path)") }
        // The path arrives percent-encoded; decode it exactly once into the object key.
        guard let key = String(path.dropFirst(prefix.count)).removingPercentEncoding, !key.isEmpty else {
            throw Problem(.invalidObjectKey, status: .badRequest, detail: "the key is empty or not valid percent-encoding")
        }
        var request = request
        let body = try await request.collectBody(limit: bodyLimit)
        let info: ObjectInfo
        do {
            info = try await objects.put(key: key, bytes: Array(buffer: body), contentType: request.headers[.contentType])
        } catch let error as ObjectStoreError {
            switch error {
            case .invalidKey: throw Problem(.invalidObjectKey, status: .badRequest, detail: error.description)
            case .tooLarge: throw Problem(.payloadTooLarge, status: .contentTooLarge, detail: error.description)
            }
        }
        return .json(.object([
            "bucket": .string(objects.bucket),
            "key": .string(info.key),
            "size": .int(info.size),
            "etag": .string(info.etag),
            "lastModified": .string(info.lastModified.iso8601),
        ]), headers: [.eTag: info.etag])
    }
}
