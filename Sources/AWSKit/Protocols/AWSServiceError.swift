/// An error response from an AWS service, decoded from whichever wire protocol the service speaks.
public struct AWSServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The service that answered.
    public let service: AWSService
    /// The operation that was called, e.g. `PutItem`.
    public let operation: String
    /// The HTTP status of the response.
    public let status: Int
    /// The error code, e.g. `ConditionalCheckFailedException` or `NoSuchKey`.
    ///
    /// For services that moved from the query protocol to JSON but keep their old codes (SQS), this is the
    /// query-era code from `x-amzn-query-error`, as the AWS SDKs report it; the JSON type is in `errorType`.
    public let code: String
    /// The JSON error type when it differs from `code` (SQS: `QueueDoesNotExist` next to
    /// `AWS.SimpleQueueService.NonExistentQueue`); nil otherwise.
    public let errorType: String?
    /// The service's message, if it sent one.
    public let message: String?
    /// The request ID AWS support asks for, if the response carried one.
    public let requestID: String?

    /// Creates an error from its parts.
    public init(
        service: AWSService,
        operation: String,
        status: Int,
        code: String,
        errorType: String? = nil,
        message: String? = nil,
        requestID: String? = nil
    ) {
        self.service = service
        self.operation = operation
        self.status = status
        self.code = code
        self.errorType = errorType == code ? nil : errorType
        self.message = message
        self.requestID = requestID
    }

    /// Whether the error is `code`, under either of its names.
    public func hasCode(_ code: String) -> Bool {
        self.code == code || errorType == code
    }

    /// `<Service> <Operation> failed with HTTP <status> <code>: <message> (request id <id>)`.
    public var description: String {
        var text = "\(service.id) \(operation) failed with HTTP \(status) \(code)"
        if let errorType {
            text += " (\(errorType))"
        }
        if let message, !message.isEmpty {
            text += ": \(message)"
        }
        if let requestID {
            text += " (request id \(requestID))"
        }
        return text
    }

    /// A code for responses whose body says nothing (S3 `HEAD`, a proxy's HTML page): named after the status,
    /// as the AWS SDKs name a bodiless 404 `NotFound`.
    static func code(forStatus status: Int) -> String {
        switch status {
        case 301: "MovedPermanently"
        case 304: "NotModified"
        case 307: "TemporaryRedirect"
        case 400: "BadRequest"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "NotFound"
        case 405: "MethodNotAllowed"
        case 409: "Conflict"
        case 412: "PreconditionFailed"
        case 413: "RequestEntityTooLarge"
        case 429: "TooManyRequests"
        case 500: "InternalServerError"
        case 502: "BadGateway"
        case 503: "ServiceUnavailable"
        case 504: "GatewayTimeout"
        default: "HTTP\(status)"
        }
    }
}
