import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix

/// One HTTP exchange under a deadline that covers the whole response, and the sorting of its failures
/// into the kinds the retry policy knows.
enum HTTPAttempt {
    /// Why an attempt produced no response.
    enum Failure: Error {
        /// The calling task was cancelled; never retried.
        case cancelled
        /// A transport failure of the given kind, with the underlying error as text.
        case transport(AWSTransportError.Kind, String)
    }

    /// The timer won the race against the exchange.
    private struct DeadlineReached: Error {}

    /// Sends `request` and collects the whole body, giving up after `timeout`.
    ///
    /// AsyncHTTPClient's own deadline stops at the response head, so a server that sends headers and then
    /// stalls the body would hang the call; racing the complete exchange against a timer bounds both.
    static func perform(
        _ request: HTTPClientRequest,
        on client: HTTPClient,
        timeout: Duration,
        maximumResponseBytes: Int
    ) async -> Result<AWSHTTPResponse, Failure> {
        do {
            let response = try await withThrowingTaskGroup(of: AWSHTTPResponse?.self) { group in
                group.addTask {
                    let response = try await client.execute(request, timeout: .nanoseconds(timeout.saturatingNanoseconds))
                    let body = try await response.body.collect(upTo: maximumResponseBytes)
                    return AWSHTTPResponse(
                        status: Int(response.status.code),
                        headers: response.headers.map { SigV4Request.Header($0.name, $0.value) },
                        body: Array(body.readableBytesView)
                    )
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let response = first else {
                    throw DeadlineReached()
                }
                return response
            }
            return .success(response)
        } catch {
            if Task.isCancelled {
                return .failure(.cancelled)
            }
            return .failure(classify(error, timeout: timeout))
        }
    }

    /// Timeouts and broken connections are transient; anything the client cannot vouch for is `.other`.
    static func classify(_ error: any Error, timeout: Duration) -> Failure {
        switch error {
        case is DeadlineReached:
            return .transport(.timeout, "no complete response within \(timeout)")
        case let error as HTTPClientError:
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .tlsHandshakeTimeout,
                 .getConnectionFromPoolTimeout:
                return .transport(.timeout, "\(error)")
            case .remoteConnectionClosed:
                return .transport(.connection, "the server closed the connection before responding")
            default:
                return .transport(.other, "\(error)")
            }
        case is NIOTooManyBytesError:
            return .transport(.responseTooLarge, "response body exceeds the client's limit")
        case let error as ChannelError:
            if case .connectTimeout = error {
                return .transport(.timeout, "\(error)")
            }
            return .transport(.connection, "\(error)")
        case is IOError, is NIOConnectionError, is HTTPParserError:
            // Refused and reset connections, broken pipes, and responses cut off mid-message.
            return .transport(.connection, "\(error)")
        default:
            return .transport(.other, "\(error)")
        }
    }
}
