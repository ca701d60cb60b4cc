import AWSKit
import Foundation
import OrderFlowCore

/// The `ObjectStore` port on S3. The object-created notification to `order-uploads` is the bucket's own configuration
/// (deploy/cloudformation/data.yaml), so `put` only stores.
public struct S3ObjectStore: ObjectStore {
    public let bucket: String
    private let client: AWSClient
    private let maximumSize: Int

    public init(client: AWSClient, bucket: String, maximumSize: Int = 64 << 20) {
        self.client = client
        self.bucket = bucket
        self.maximumSize = maximumSize
    }

    public func put(key: String, bytes: [UInt8], contentType: String?) async throws -> ObjectInfo {
        guard !key.isEmpty, key.utf8.count <= 1024, !key.hasPrefix("/") else {
            throw ObjectStoreError.invalidKey("must be 1–1024 bytes and not start with /")
        }
        guard bytes.count <= maximumSize else { throw ObjectStoreError.tooLarge(limit: maximumSize) }
        var headers: [SigV4Request.Header] = []
        if let contentType { headers.append(SigV4Request.Header("Content-Type", contentType)) }
        let response = try await client.s3("PUT", operation: "PutObject", bucket: bucket, key: key, headers: headers, body: bytes)
        let etag = (response.header("ETag") ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        return ObjectInfo(key: key, size: bytes.count, etag: etag,
                          lastModified: Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000)))
    }

    public func get(key: String) async throws -> [UInt8]? {
        do {
            return try await client.s3("GET", operation: "GetObject", bucket: bucket, key: key).body
        } catch {
            if let serviceError = error.serviceError, serviceError.status == 404 { return nil }
            throw error
        }
    }

    public func list(prefix: String, limit: Int) async throws -> [ObjectInfo] {
        let limit = max(1, limit)
        var objects: [ObjectInfo] = []
        var token: String? = nil
        repeat {
            var query: [SigV4Request.QueryParameter] = [
                SigV4Request.QueryParameter("list-type", "2"),
                SigV4Request.QueryParameter("prefix", prefix),
                SigV4Request.QueryParameter("max-keys", String(min(1000, limit - objects.count))),
            ]
            if let token { query.append(SigV4Request.QueryParameter("continuation-token", token)) }
            let response = try await client.s3("GET", operation: "ListObjectsV2", bucket: bucket, query: query)
            let document = try AWSXMLElement.parse(response.body)
            for content in document.children(named: "Contents") {
                guard let key = content.value(at: "Key") else { continue }
                objects.append(ObjectInfo(
                    key: key, size: Int(content.value(at: "Size") ?? "") ?? 0,
                    etag: (content.value(at: "ETag") ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\"")),
                    lastModified: Self.timestamp(content.value(at: "LastModified"))
                ))
            }
            token = document.value(at: "IsTruncated") == "true" ? document.value(at: "NextContinuationToken") : nil
        } while token != nil && objects.count < limit
        return Array(objects.prefix(limit))
    }

    /// S3's `2026-11-25T06:40:00.000Z` (fractional seconds optional).
    static func timestamp(_ text: String?) -> Timestamp {
        guard let text else { return Timestamp(millisecondsSinceEpoch: 0) }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let date = formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text)
        return Timestamp(millisecondsSinceEpoch: Int64(((date?.timeIntervalSince1970 ?? 0) * 1000).rounded()))
    }
}
