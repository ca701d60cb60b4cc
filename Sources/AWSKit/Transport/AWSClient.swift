import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// Sends signed requests to AWS services: resolves the endpoint, signs every attempt afresh, enforces the
/// per-request timeout, decodes error responses through the service's wire protocol and retries what is transient.
///
/// Each attempt is signed with credentials and a date obtained for that attempt, because temporary
/// credentials rotate and a signature older than five minutes is rejected: re-sending an old signature
/// after a long backoff would turn a throttle into an authentication failure.
public final class AWSClient: Sendable {
    /// Where and in which region requests go.
    public let configuration: AWSConfiguration
    /// Where signing credentials come from; asked on every attempt.
    public let credentialProvider: any AWSCredentialProvider
    /// Which failures are retried, how often and after what delay.
    public let retryPolicy: RetryPolicy
    /// Counts every attempt by service and operation.
    public let counter: AWSRequestCounter
    /// How long one attempt may take, from sending to the last byte of the body, unless a call says otherwise.
    public let requestTimeout: Duration
    /// The largest response body accepted; a bigger one fails the call instead of exhausting memory.
    public let maximumResponseBytes: Int

    private let httpClient: HTTPClient
    private let ownsHTTPClient: Bool
    private let now: @Sendable () -> Date
    private let sleep: @Sendable (Duration) async throws -> Void
    private let logger: Logger
    /// One signer per signing name and options, kept because each caches its derived signing key.
    private let signers = Mutex<[SignerKey: SigV4Signer]>([:])

    private struct SignerKey: Hashable {
        let signingName: String
        let options: SigV4Options
    }

    /// Creates a client.
    ///
    /// - Parameters:
    ///   - httpClient: an HTTP client to share; when nil the client creates its own (redirects off, since a
    ///     followed redirect would carry a signature for the wrong host) and `shutdown()` closes it.
    ///   - now: the clock signatures are dated by.
    ///   - sleep: how to wait between attempts; tests pass one that records instead of sleeping.
    public init(
        configuration: AWSConfiguration,
        credentialProvider: any AWSCredentialProvider,
        retryPolicy: RetryPolicy = .standard,
        counter: AWSRequestCounter = AWSRequestCounter(),
        requestTimeout: Duration = .seconds(30),
        maximumResponseBytes: Int = 16 * 1024 * 1024,
        httpClient: HTTPClient? = nil,
        logger: Logger = Logger(label: "orderflow.awskit"),
        now: @escaping @Sendable () -> Date = { Date() },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.configuration = configuration
        self.credentialProvider = credentialProvider
        self.retryPolicy = retryPolicy
        self.counter = counter
        self.requestTimeout = requestTimeout
        self.maximumResponseBytes = maximumResponseBytes
        if let httpClient {
            self.httpClient = httpClient
            ownsHTTPClient = false
        } else {
            var httpConfiguration = HTTPClient.Configuration()
            httpConfiguration.redirectConfiguration = .disallow
            // Report a refused connection at once; the retry policy, not the pool, decides whether to try again.
            httpConfiguration.connectionPool.retryConnectionEstablishment = false
            httpConfiguration.timeout.connect = .seconds(10)
            self.httpClient = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: httpConfiguration)
            ownsHTTPClient = true
        }
        self.logger = logger
        self.now = now
        self.sleep = sleep
    }

    /// Closes the HTTP client if this client created it; a shared one is left to its owner.
    public func shutdown() async throws {
        if ownsHTTPClient {
            try await httpClient.shutdown()
        }
    }

    /// Sends `request` as `operation` of the protocol's service, retrying per the policy, and returns the 2xx response.
    ///
    /// - Parameter timeout: the limit for each attempt; `requestTimeout` when nil.
    /// - Throws: `.service` for an error response (after retries if it was retryable), `.transport` when no
    ///   response arrived, `.credentials` when signing credentials are unavailable, `.cancelled`.
    public func send(
        _ request: AWSHTTPRequest,
        operation: String,
        using wire: some AWSWireProtocol,
        timeout: Duration? = nil
    ) async throws(AWSClientError) -> AWSHTTPResponse {
        let service = wire.service
        let url = try Self.url(for: request, endpoint: configuration.endpoint(for: service), service: service, operation: operation)
        let signer = signer(for: wire)
        let attemptTimeout = timeout ?? requestTimeout
        var attempt = 0
        while true {
            attempt += 1
            if Task.isCancelled {
                throw .cancelled
            }
            let credentials = try await currentCredentials()
            let httpRequest = signedRequest(request, url: url, signer: signer, credentials: credentials)
            counter.recordAttempt(service: service, operation: operation, isRetry: attempt > 1)
            let reason: String
            switch await HTTPAttempt.perform(
                httpRequest, on: httpClient, timeout: attemptTimeout, maximumResponseBytes: maximumResponseBytes
            ) {
            case .success(let response) where response.isSuccess:
                return response
            case .success(let response):
                let error = wire.decodeError(response, operation: operation)
                counter.recordError(service: service, operation: operation, code: error.code)
                guard attempt < retryPolicy.maximumAttempts, retryPolicy.isRetryable(error) else {
                    throw .service(error)
                }
                reason = error.code
            case .failure(.cancelled):
                throw .cancelled
            case .failure(.transport(let kind, let detail)):
                guard attempt < retryPolicy.maximumAttempts, retryPolicy.isRetryable(kind) else {
                    throw .transport(AWSTransportError(
                        service: service, operation: operation, kind: kind, attempts: attempt, detail: detail
                    ))
                }
                reason = detail
            }
            let delay = retryPolicy.delay(beforeRetry: attempt)
            logger.debug("retrying AWS request", metadata: [
                "aws.service": "\(service.id)", "aws.operation": "\(operation)", "aws.attempt": "\(attempt)",
                "aws.reason": "\(reason)", "aws.delay": "\(delay)",
            ])
            do {
                try await sleep(delay)
            } catch {
                throw .cancelled
            }
        }
    }

    private func currentCredentials() async throws(AWSClientError) -> AWSCredentials {
        do throws(AWSCredentialError) {
            switch try await credentialProvider.resolve() {
            case .found(let credentials):
                return credentials
            case .notFound(let reason):
                throw AWSCredentialError.noCredentials(attempts: [.init(provider: credentialProvider.name, reason: reason)])
            }
        } catch {
            throw .credentials(error)
        }
    }

    private func signer(for wire: some AWSWireProtocol) -> SigV4Signer {
        let key = SignerKey(signingName: wire.service.signingName, options: wire.signingOptions)
        return signers.withLock { signers in
            if let signer = signers[key] {
                return signer
            }
            let signer = SigV4Signer(region: configuration.region, service: key.signingName, options: key.options)
            signers[key] = signer
            return signer
        }
    }

    private func signedRequest(
        _ request: AWSHTTPRequest,
        url: URL,
        signer: SigV4Signer,
        credentials: AWSCredentials
    ) -> HTTPClientRequest {
        let signable = SigV4Request(
            method: request.method, url: url, headers: request.headers,
            payload: request.body.isEmpty ? .empty : .bytes(request.body)
        )
        let signature = signer.signHeaders(signable, credentials: credentials, date: now())
        var httpRequest = HTTPClientRequest(url: url.absoluteString)
        httpRequest.method = HTTPMethod(rawValue: request.method)
        for header in signable.headers + signature.headersToAdd {
            httpRequest.headers.add(name: header.name, value: header.value)
        }
        httpRequest.headers.replaceOrAdd(name: "User-Agent", value: Self.userAgent)
        if !request.body.isEmpty || !Self.methodsWithoutBody.contains(request.method) {
            // An explicit empty body makes the client send `Content-Length: 0`, which S3 requires on a bodiless PUT.
            httpRequest.body = .bytes(ByteBuffer(bytes: request.body))
        }
        return httpRequest
    }

    /// The endpoint (its own path kept, trailing `/` dropped) plus the request's path and query,
    /// the query encoded exactly as the signer encodes it so that the wire and the signature agree.
    static func url(
        for request: AWSHTTPRequest,
        endpoint: URL,
        service: AWSService,
        operation: String
    ) throws(AWSClientError) -> URL {
        guard var components = URLComponents(url: endpoint, resolvingAgainstBaseURL: false) else {
            throw .invalidRequest(service: service, operation: operation, reason: "endpoint \(endpoint) is not a URL")
        }
        var basePath = components.percentEncodedPath
        while basePath.hasSuffix("/") {
            basePath.removeLast()
        }
        components.percentEncodedPath = ""
        components.percentEncodedQuery = nil
        components.fragment = nil
        let path = request.path.hasPrefix("/") ? request.path : "/" + request.path
        var text = (components.string ?? "") + basePath + path
        if !request.query.isEmpty {
            text += "?" + request.query
                .map { AWSURIEncoding.encode($0.name) + "=" + AWSURIEncoding.encode($0.value) }
                .joined(separator: "&")
        }
        guard let url = URL(string: text) else {
            throw .invalidRequest(service: service, operation: operation, reason: "\(text) is not a valid URL")
        }
        return url
    }

    private static let methodsWithoutBody: Set<String> = ["GET", "HEAD", "DELETE", "OPTIONS"]
    private static let userAgent = "OrderFlow-AWSKit/1"
}
