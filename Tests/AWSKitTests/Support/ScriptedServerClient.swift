import MotoTestSupport
import AWSKit
import Foundation

/// A client pointed at a scripted local server, with the clock, sleep, credentials and counter a test can inspect.
struct ScriptedClientFixture {
    let server: ScriptedHTTPServer
    let client: AWSClient
    let clock = SteppingClock()
    let sleeper = SleepRecorder()
    let counter = AWSRequestCounter()

    init(
        server: ScriptedHTTPServer,
        retryPolicy: RetryPolicy,
        requestTimeout: Duration = .seconds(10),
        credentials: any AWSCredentialProvider = RotatingCredentialProvider()
    ) throws {
        self.server = server
        let clock = clock
        let sleeper = sleeper
        client = AWSClient(
            configuration: try AWSConfiguration(region: "us-east-1", globalEndpoint: server.endpoint),
            credentialProvider: credentials,
            retryPolicy: retryPolicy,
            counter: counter,
            requestTimeout: requestTimeout,
            now: { clock.now() },
            sleep: { try await sleeper.sleep($0) }
        )
    }

    /// Starts a server running `script`, runs `body` against it, then shuts client and server down.
    static func run<Result>(
        retryPolicy: RetryPolicy,
        requestTimeout: Duration = .seconds(10),
        credentials: any AWSCredentialProvider = RotatingCredentialProvider(),
        script: @escaping @Sendable (Int) -> ScriptedHTTPServer.Action,
        _ body: (ScriptedClientFixture) async throws -> Result
    ) async throws -> Result {
        let server = try await ScriptedHTTPServer.start(script: script)
        let fixture: ScriptedClientFixture
        do {
            fixture = try ScriptedClientFixture(
                server: server, retryPolicy: retryPolicy, requestTimeout: requestTimeout, credentials: credentials
            )
        } catch {
            try? await server.close()
            throw error
        }
        let result: Result
        do {
            result = try await body(fixture)
        } catch {
            try? await fixture.client.shutdown()
            try? await server.close()
            throw error
        }
        try await fixture.client.shutdown()
        try await server.close()
        return result
    }
}

/// The JSON answer the scripted server gives for a successful DynamoDB-style call.
let okJSON = ScriptedHTTPServer.Action.respond(
    status: 200, headers: ["content-type": "application/x-amz-json-1.0"], body: #"{"TableNames":["orders"]}"#
)

/// A DynamoDB-style `ListTables` output.
struct TableNames: Decodable, Equatable {
    let TableNames: [String]
}

/// An empty JSON input.
struct NoInput: Encodable {}
