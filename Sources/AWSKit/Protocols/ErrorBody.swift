import Foundation

/// The code, message and request ID found in an error response body, whatever its format.
///
/// Services do not always answer in their own protocol's format: moto (and AWS front ends) reject bad
/// signatures of JSON services with a query-style XML body, and proxies answer with HTML. So the body is
/// sniffed rather than trusted to match the protocol.
struct ErrorBody: Equatable {
    var code: String?
    var message: String?
    var requestID: String?

    /// The error of an XML-answering protocol (query, REST-XML): code, message and request ID from the body,
    /// the code named after the status when the body has none (a `HEAD` error, a proxy's HTML page).
    static func serviceError(from response: AWSHTTPResponse, service: AWSService, operation: String) -> AWSServiceError {
        let body = read(response.body)
        return AWSServiceError(
            service: service,
            operation: operation,
            status: response.status,
            code: body?.code ?? AWSServiceError.code(forStatus: response.status),
            message: body?.message,
            requestID: response.requestID ?? body?.requestID
        )
    }

    /// Reads `body` as JSON (`__type`/`code`, `message`/`Message`) or XML (the first `<Error>` with a `<Code>`,
    /// which covers `<ErrorResponse><Error>`, `<Response><Errors><Error>` and S3's bare `<Error>`).
    static func read(_ body: [UInt8]) -> ErrorBody? {
        switch body.first(where: { !Self.isWhitespace($0) }) {
        case UInt8(ascii: "{"):
            return readJSON(body)
        case UInt8(ascii: "<"):
            return readXML(body)
        default:
            return nil
        }
    }

    /// The bare error name: `com.amazonaws.dynamodb.v20120810#ResourceNotFoundException` and
    /// `ValidationException:http://internal.amazon.com/coral/…` both become the part AWS SDKs match on.
    static func sanitizedCode(_ raw: String) -> String {
        var code = Substring(raw)
        if let hash = code.lastIndex(of: "#") {
            code = code[code.index(after: hash)...]
        }
        if let colon = code.firstIndex(of: ":") {
            code = code[..<colon]
        }
        return code.trimmingCharacters(in: .whitespaces)
    }

    private struct JSONFields: Decodable {
        let type: String?
        let code: String?
        let message: String?
        let capitalMessage: String?

        enum CodingKeys: String, CodingKey {
            case type = "__type"
            case code
            case message
            case capitalMessage = "Message"
        }
    }

    private static func readJSON(_ body: [UInt8]) -> ErrorBody? {
        guard let fields = try? JSONDecoder().decode(JSONFields.self, from: Data(body)) else { return nil }
        let code = (fields.code ?? fields.type).map(sanitizedCode).flatMap { $0.isEmpty ? nil : $0 }
        return ErrorBody(code: code, message: fields.message ?? fields.capitalMessage, requestID: nil)
    }

    private static func readXML(_ body: [UInt8]) -> ErrorBody? {
        guard let root = try? AWSXMLElement.parse(body), let error = firstError(in: root) else { return nil }
        let requestID = root.firstDescendant(named: "RequestId") ?? root.firstDescendant(named: "RequestID")
        return ErrorBody(
            code: error.value(at: "Code").map(sanitizedCode),
            message: error.value(at: "Message") ?? error.value(at: "message"),
            requestID: requestID?.text
        )
    }

    private static func firstError(in element: AWSXMLElement) -> AWSXMLElement? {
        if element.name == "Error", element.child("Code") != nil {
            return element
        }
        for child in element.children {
            if let found = firstError(in: child) {
                return found
            }
        }
        return nil
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t")
    }
}
