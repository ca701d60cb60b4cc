import Hummingbird
import OrderFlowCore

extension Response {
    /// A JSON response.
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: value.serializedBytes())))
    }

    /// A JSON response from bytes that already are one JSON document.
    static func json(bytes: [UInt8], status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

extension Request {
    /// Reads the whole body, refusing more than `limit` bytes with 413 (early when Content-Length says so).
    mutating func collectBody(limit: Int) async throws -> ByteBuffer {
        if let length = headers[.contentLength].flatMap(Int.init), length > limit {
            throw Problem(.payloadTooLarge, status: .contentTooLarge, detail: "the body is \(length) bytes; the limit is \(limit)")
        }
        do {
            return try await collectBody(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw Problem(.payloadTooLarge, status: .contentTooLarge, detail: "the body exceeds the limit of \(limit) bytes")
        }
    }

    /// Refuses a body declared as something other than JSON (415). A missing Content-Type is let through to the parser.
    func requireJSONContentType() throws {
        guard let value = headers[.contentType] else { return }
        if value == "application/json" { return }
        let mediaType = value.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard mediaType == "application/json" || mediaType.hasSuffix("+json") else {
            throw Problem(.unsupportedMediaType, status: .unsupportedMediaType,
                          detail: "Content-Type is \(value); send application/json (curl: -H 'Content-Type: application/json')")
        }
    }
}
