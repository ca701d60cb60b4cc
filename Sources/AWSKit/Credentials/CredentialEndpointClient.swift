import AsyncHTTPClient
import Foundation

/// One HTTP exchange with a credentials endpoint (container or instance metadata), failures already typed.
///
/// Only the status and a size-capped body come back; bodies are never put into errors because a
/// credentials endpoint's body is either the secret itself or irrelevant to the fix.
struct CredentialEndpointClient: Sendable {
    /// The two methods the credential protocols use.
    enum Method: Sendable {
        case get
        case put
    }

    /// What the endpoint answered.
    struct Response: Sendable {
        let status: Int
        let body: String
    }

    /// Credential documents are a few kilobytes; anything far larger is not one.
    static let maximumBodyBytes = 64 * 1024

    /// The client shared by every credential provider that is not given one.
    ///
    /// It lives for the whole process like `HTTPClient.shared`, but with settings that
    /// `HTTPClient.shared` (90 s connect, 20 redirects) lacks: a 1 s connect timeout so the chain
    /// does not hang off EC2, no retried connection attempts so a refused port fails at once, and no
    /// redirects so an endpoint cannot forward the authorization header to another host.
    static let defaultHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(1), read: .seconds(5))
        )
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.proxy = nil
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    let httpClient: HTTPClient
    /// The whole exchange's limit, connecting included.
    let timeout: Duration
    /// The provider name used in errors.
    let source: String

    /// Sends one request; `shownAs` is the endpoint as errors may print it (no user info, no query).
    func send(
        _ method: Method, _ url: String, headers: [(name: String, value: String)], shownAs endpoint: String
    ) async throws(AWSCredentialError) -> Response {
        var request = HTTPClientRequest(url: url)
        switch method {
        case .get: request.method = .GET
        case .put: request.method = .PUT
        }
        for header in headers {
            request.headers.add(name: header.name, value: header.value)
        }
        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(request, timeout: .nanoseconds(timeout.totalNanoseconds))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .connectTimeout {
            throw .endpointUnreachable(source: source, endpoint: endpoint, reason: "no answer within \(timeout)")
        } catch {
            throw .endpointUnreachable(source: source, endpoint: endpoint, reason: Self.describe(error))
        }
        do {
            let buffer = try await response.body.collect(upTo: Self.maximumBodyBytes)
            return Response(status: Int(response.status.code), body: String(buffer: buffer))
        } catch {
            throw .invalidResponse(
                source: source, endpoint: endpoint,
                reason: "the body was cut off or is larger than \(Self.maximumBodyBytes) bytes (\(Self.describe(error)))"
            )
        }
    }

    /// A short reason for a transport failure, safe to print.
    ///
    /// `HTTPClientError` cases carry request values in their payload (`invalidHeaderFieldValues`
    /// echoes the header, i.e. a token), so only the case name is kept; NIO's connection errors
    /// carry just addresses and the OS error, which is the useful part.
    private static func describe(_ error: any Error) -> String {
        var text = String(describing: error)
        if error is HTTPClientError, let payload = text.firstIndex(of: "(") {
            text = String(text[..<payload])
        }
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }
}

extension Duration {
    /// The duration in whole nanoseconds, as NIO's `TimeAmount` wants it.
    var totalNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// The duration as a Foundation `TimeInterval`, for `Date` arithmetic.
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
