import OrderFlowCore

/// One invocation handed out by the Runtime API's `next` call.
public struct LambdaInvocation: Sendable, Equatable {
    /// `Lambda-Runtime-Aws-Request-Id`: the id every report about this invocation must carry.
    public var requestId: String
    /// `Lambda-Runtime-Deadline-Ms`: when the invocation times out, in milliseconds since the epoch.
    public var deadlineMs: Int64?
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    public var invokedFunctionArn: String?
    /// `Lambda-Runtime-Trace-Id` (X-Ray), carried into logs.
    public var traceId: String?
    /// The event document.
    public var body: [UInt8]

    public init(requestId: String, deadlineMs: Int64? = nil, invokedFunctionArn: String? = nil, traceId: String? = nil, body: [UInt8]) {
        self.requestId = requestId
        self.deadlineMs = deadlineMs
        self.invokedFunctionArn = invokedFunctionArn
        self.traceId = traceId
        self.body = body
    }
}

/// A failure reported to the Runtime API: its `errorType` and `errorMessage` are what the caller (or the async
/// invocation's retry and dead-letter handling) sees.
public struct LambdaFunctionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var type: String
    public var message: String

    public init(type: String, message: String) {
        self.type = type
        self.message = message
    }

    public var description: String { "\(type): \(message)" }

    /// The Runtime API's error document: `{"errorMessage":…,"errorType":…,"stackTrace":[]}`.
    public var document: [UInt8] {
        JSONValue.object(["errorMessage": .string(message), "errorType": .string(type), "stackTrace": .array([])]).serializedBytes()
    }
}

/// A violation of the Runtime API protocol or a failure to reach it; the run loop stops on these (Lambda then restarts
/// the execution environment) instead of guessing.
public enum LambdaRuntimeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `AWS_LAMBDA_RUNTIME_API` is not set: the binary is not running inside Lambda (or a runtime emulator).
    case runtimeAPINotSet
    /// A `next` response lacked a header the protocol requires.
    case missingHeader(String)
    /// The Runtime API answered with a status the protocol does not allow for this call.
    case unexpectedStatus(call: String, status: Int, body: String)

    public var description: String {
        switch self {
        case .runtimeAPINotSet:
            "AWS_LAMBDA_RUNTIME_API is not set: `orderflow lambda` runs inside AWS Lambda (runtime provided.al2023) or a runtime emulator"
        case .missingHeader(let name):
            "the Runtime API's next invocation lacks the \(name) header"
        case .unexpectedStatus(let call, let status, let body):
            "the Runtime API answered \(call) with HTTP \(status): \(body.prefix(200))"
        }
    }
}

/// The four calls of the Lambda Runtime API. The run loop is generic over it so it can be tested without sockets; the
/// real one speaks HTTP to `AWS_LAMBDA_RUNTIME_API`.
public protocol LambdaRuntimeClient: Sendable {
    /// Blocks until Lambda hands out the next invocation.
    func nextInvocation() async throws -> LambdaInvocation
    /// Reports the invocation's result.
    func reportResponse(requestId: String, body: [UInt8]) async throws
    /// Reports that the invocation failed.
    func reportError(requestId: String, error: LambdaFunctionError) async throws
    /// Reports that initialization failed (before any `next`); Lambda then fails the invocation and restarts.
    func reportInitError(_ error: LambdaFunctionError) async throws
}
