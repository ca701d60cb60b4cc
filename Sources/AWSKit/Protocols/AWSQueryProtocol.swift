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
    /// Values are percent-encoded with the RFC 3986 rules SigV4 uses (space as `%20`, `+` as `%2B`),
    /// which form decoders accept and which leave no `+` to be misread as a space.
    public func request(action: String, parameters: [String: String]) -> AWSHTTPRequest {
        var fields = [("Action", action), ("Version", apiVersion)]
        // Sorted so that the same call always produces the same body (and signature).
        fields += parameters.filter { $0.key != "Action" && $0.key != "Version" }.sorted { $0.key < $1.key }
        let body = fields.map { AWSURIEncoding.encode($0.0) + "=" + AWSURIEncoding.encode($0.1) }.joined(separator: "&")
        return AWSHTTPRequest(
            method: "POST",
            path: "/",
            headers: [SigV4Request.Header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            body: Array(body.utf8)
        )
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
