import ArgumentParser
import AsyncHTTPClient
import AWSKit
import Foundation
import Logging
import OrderFlowCore
import OrderFlowLambda
import OrderFlowServer

/// `orderflow lambda`: the Lambda processor as a custom runtime (the `bootstrap` of scripts/package-lambda runs it).
/// A configuration problem is reported to Lambda as an init error with one readable message.
struct LambdaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lambda",
        abstract: "Run as the Lambda processor (custom runtime; needs AWS_LAMBDA_RUNTIME_API, set by Lambda)."
    )

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let runtimeAPI = environment["AWS_LAMBDA_RUNTIME_API"], !runtimeAPI.isEmpty else {
            printError("orderflow lambda: AWS_LAMBDA_RUNTIME_API is not set: this command runs inside AWS Lambda's custom runtime (see scripts/package-lambda)")
            throw ExitCode(2)
        }
        var logger = Logger(label: "orderflow.lambda")
        logger.logLevel = environment["ORDERFLOW_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        let loop = LambdaRunLoop(client: HTTPLambdaRuntimeClient(runtimeAPI: runtimeAPI, http: http), logger: logger)
        var awsClient: AWSClient?
        do {
            try await loop.run(initialize: { () async throws -> AWSLambdaProcessor in
                let (processor, client) = try Self.makeProcessor(environment: environment, logger: logger)
                awsClient = client
                return processor
            }) { processor, invocation in
                try await processor.handle(invocation)
            }
        } catch {
            printError("orderflow lambda: \(error)")
            try? await awsClient?.shutdown()
            try? await http.shutdown()
            throw ExitCode(1)
        }
        try? await awsClient?.shutdown()
        try? await http.shutdown()
    }

    /// The processor from the function's environment (the compute stack sets it); errors are `LambdaFunctionError`s
    /// of type `Configuration` so Lambda shows what is wrong.
    static func makeProcessor(environment: [String: String], logger: Logger) throws -> (AWSLambdaProcessor, AWSClient) {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        func configurationError(_ message: String) -> LambdaFunctionError { LambdaFunctionError(type: "Configuration", message: message) }
        let thresholdText = value("ORDERFLOW_HIGH_VALUE_THRESHOLD") ?? "300"
        guard let policy = HighValuePolicy(threshold: thresholdText) else {
            throw configurationError("ORDERFLOW_HIGH_VALUE_THRESHOLD=\(thresholdText) is not a non-negative decimal number")
        }
        guard let topicARN = value("ORDERFLOW_AWS_HIGH_VALUE_TOPIC_ARN") else {
            throw configurationError("ORDERFLOW_AWS_HIGH_VALUE_TOPIC_ARN is not set")
        }
        var resources = AWSLambdaProcessor.Resources(highValueTopicARN: topicARN)
        if let table = value("ORDERFLOW_AWS_ORDERS_TABLE") { resources.ordersTable = table }
        if let table = value("ORDERFLOW_AWS_OUTBOX_TABLE") { resources.outboxTable = table }
        if let bucket = value("ORDERFLOW_AWS_UPLOADS_BUCKET") { resources.uploadsBucket = bucket }
        if let stream = value("ORDERFLOW_AWS_STREAM") { resources.streamName = stream }
        let client: AWSClient
        do {
            (client, _) = try AWSSettings.client(environment: environment, logger: logger, timeout: .seconds(10))
        } catch {
            throw configurationError("\(error)")
        }
        return (AWSLambdaProcessor(policy: policy, resources: resources, client: client, logger: logger,
                                   functionName: value("AWS_LAMBDA_FUNCTION_NAME") ?? "orderflow-processor"), client)
    }
}
