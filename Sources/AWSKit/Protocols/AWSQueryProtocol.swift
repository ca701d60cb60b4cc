import Foundation

/// The AWS query protocol as one service speaks it: a form-encoded `POST /` with `Action` and `Version`,
/// answered in XML; errors as `<ErrorResponse><Error><Code>`.
public struct AWSQueryProtocol: AWSWireProtocol {
    /// The service the requests go to.
    public let service: AWSService
    /// The API version sent as `Version`, e.g. `2010-03-31`.
    public let apiVersion: String

    /// Describes a service's use of the query protocol.
    public init(service: AWSService, apiVersion: String) {
        self.service = service
        self.apiVersion = apiVersion
    }

    /// SNS, API version `2010-03-31`.
    public static let sns = AWSQueryProtocol(service: .sns, apiVersion: "2010-03-31")
    /// CloudWatch, API version `2010-08-01`.
    public static let cloudWatch = AWSQueryProtocol(service: .cloudWatch, apiVersion: "2010-08-01")

    /// Default SigV4 rules.
    public var signingOptions: SigV4Options { SigV4Options() }

    /// The request for `action`; `parameters` use the protocol's flattened names (`Attributes.entry.1.key`).
    ///
    /// The body is `application/x-www-form-urlencoded` exactly as the AWS SDKs write it: everything but
    /// `A–Z a–z 0–9 - . _ ~` percent-encoded, a space as `+` and therefore a `+` as `%2B`. AWS hashes the raw
    /// body, but emulators that re-encode the parsed form to check the signature (moto) only agree on this form.
    public func request(action: String, parameters: [String: String]) -> AWSHTTPRequest {
        var fields = [("Action", action), ("Version", apiVersion)]
        // Sorted so that the same call always produces the same body (and signature).
        fields += parameters.filter { $0.key != "Action" && $0.key != "Version" }.sorted { $0.key < $1.key }
        let body = fields.map { Self.formEncode($0.0) + "=" + Self.formEncode($0.1) }.joined(separator: "&")
        return AWSHTTPRequest(
            method: "POST",
            path: "/",
            headers: [SigV4Request.Header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            body: Array(body.utf8)
        )
    }

    /// RFC 3986 encoding with the one form-encoding difference: a space is `+` (a literal `+` is already `%2B`).
    static func formEncode(_ text: String) -> String {
        AWSURIEncoding.encode(text).replacingOccurrences(of: "%20", with: "+")
    }

    /// The code, message and request ID of the XML error document; the status names the code when there is none.
    public func decodeError(_ response: AWSHTTPResponse, operation: String) -> AWSServiceError {
        ErrorBody.serviceError(from: response, service: service, operation: operation)
    }
}

extension AWSClient {
    /// Calls a query-protocol `action` and returns the response document's root element (`<ActionResponse>`).
    public func query(
        _ api: AWSQueryProtocol,
        action: String,
        parameters: [String: String] = [:],
        timeout: Duration? = nil
    ) async throws(AWSClientError) -> AWSXMLElement {
        let response = try await send(
            api.request(action: action, parameters: parameters), operation: action, using: api, timeout: timeout
        )
        do {
            return try AWSXMLElement.parse(response.body)
        } catch {
            throw .malformedResponse(service: api.service, operation: action, reason: error.description)
        }
    }
}
