import Foundation

/// The parts of an HTTP request that SigV4 signs, independent of any HTTP client's types.
public struct SigV4Request: Sendable, Equatable {
    /// One HTTP header field as it will be sent; repeated names are allowed and keep their order.
    public struct Header: Sendable, Hashable {
        /// The field name, in any case.
        public var name: String
        /// The field value as it will be sent (may contain folded line breaks).
        public var value: String

        /// Creates a header field.
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// One query parameter in decoded form; the signer does the encoding.
    public struct QueryParameter: Sendable, Hashable {
        /// The decoded parameter name.
        public var name: String
        /// The decoded parameter value (empty for a bare `name`).
        public var value: String

        /// Creates a query parameter.
        public init(_ name: String, _ value: String = "") {
            self.name = name
            self.value = value
        }
    }

    /// The HTTP method, e.g. `GET`.
    public var method: String
    /// The path exactly as it goes on the wire, i.e. already percent-encoded once (`/my%20file`).
    public var path: String
    /// The query parameters, decoded.
    public var query: [QueryParameter]
    /// The headers to sign; must include `Host`.
    public var headers: [Header]
    /// The body, or how to stand for it in the signature.
    public var payload: SigV4Payload

    /// Creates a request from its parts.
    public init(
        method: String,
        path: String,
        query: [QueryParameter] = [],
        headers: [Header],
        payload: SigV4Payload = .empty
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.payload = payload
    }

    /// Creates a request from a URL, taking its encoded path and decoded query and adding `Host` if missing.
    public init(method: String, url: URL, headers: [Header] = [], payload: SigV4Payload = .empty) {
        let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        let encodedPath = components?.percentEncodedPath ?? ""
        let query = (components?.percentEncodedQueryItems ?? []).map {
            QueryParameter(AWSURIEncoding.decode($0.name), AWSURIEncoding.decode($0.value ?? ""))
        }
        var headers = headers
        if !headers.contains(where: { $0.name.lowercased() == "host" }), let host = components?.host {
            // Default ports are left out because HTTP clients omit them from Host, and Host is signed.
            let scheme = components?.scheme?.lowercased()
            let port = components?.port.flatMap { port in
                (scheme == "https" && port == 443) || (scheme == "http" && port == 80) ? nil : ":\(port)"
            } ?? ""
            headers.insert(Header("Host", host + port), at: 0)
        }
        self.init(method: method, path: encodedPath, query: query, headers: headers, payload: payload)
    }
}
