import Logging

/// The custom runtime's loop: initialize once (reporting an init error if that fails), then take invocations one at a
/// time, run the handler, and report its result or its error. Protocol violations end the loop with an error.
public struct LambdaRunLoop<Client: LambdaRuntimeClient>: Sendable {
    let client: Client
    let logger: Logger

    public init(client: Client, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Initializes the handler and serves invocations; `maximumInvocations` bounds the loop (nil: until an error).
    public func run<Handler: Sendable>(
        maximumInvocations: Int? = nil,
        initialize: () async throws -> Handler,
        handle: @Sendable (Handler, LambdaInvocation) async throws -> [UInt8]
    ) async throws {
        let handler: Handler
        do {
            handler = try await initialize()
        } catch {
            let failure = Self.functionError(error)
            logger.critical("initialization failed", metadata: ["errorType": "\(failure.type)", "error": "\(failure.message)"])
            try await client.reportInitError(failure)
            throw error
        }
        var served = 0
        while maximumInvocations.map({ served < $0 }) ?? true {
            let invocation = try await client.nextInvocation()
            served += 1
            var metadata: Logger.Metadata = ["requestId": "\(invocation.requestId)"]
            if let trace = invocation.traceId { metadata["traceId"] = "\(trace)" }
            do {
                let response = try await handle(handler, invocation)
                try await client.reportResponse(requestId: invocation.requestId, body: response)
                logger.info("invocation done", metadata: metadata)
            } catch let violation as LambdaRuntimeError {
                throw violation
            } catch {
                let failure = Self.functionError(error)
                logger.error("invocation failed", metadata: metadata.merging(["errorType": "\(failure.type)", "error": "\(failure.message)"]) { $1 })
                try await client.reportError(requestId: invocation.requestId, error: failure)
            }
        }
    }

    static func functionError(_ error: any Error) -> LambdaFunctionError {
        if let failure = error as? LambdaFunctionError { return failure }
        return LambdaFunctionError(type: String(describing: type(of: error)), message: "\(error)")
    }
}
