import AWSKit
import Foundation

/// The moto server the AWS round-trip tests run against, as `scripts/test` (via `scripts/moto-up`) describes it.
/// A library target only tests depend on; nothing in the product links it.
public struct MotoEnvironment: Sendable {
    public let endpoint: URL
    public let accessKeyID: String
    public let secretAccessKey: String
    public let region: String

    /// Why the tests cannot reach moto; thrown so the test fails (never skips) with the fix in the message.
    public struct Missing: Error, CustomStringConvertible {
        public let variables: [String]

        public var description: String {
            "\(variables.joined(separator: ", ")) not set: run scripts/test, which starts moto "
                + "(or `scripts/moto-up ENV_FILE` and export the variables it writes)"
        }
    }

    /// Reads `ORDERFLOW_MOTO_*`, throwing `Missing` when any is absent.
    public static func require() throws -> MotoEnvironment {
        let environment = ProcessInfo.processInfo.environment
        let names = ["ORDERFLOW_MOTO_ENDPOINT", "ORDERFLOW_MOTO_ACCESS_KEY_ID", "ORDERFLOW_MOTO_SECRET_ACCESS_KEY", "ORDERFLOW_MOTO_REGION"]
        let missing = names.filter { (environment[$0] ?? "").isEmpty }
        guard missing.isEmpty,
              let endpointText = environment["ORDERFLOW_MOTO_ENDPOINT"], let endpoint = URL(string: endpointText),
              let accessKeyID = environment["ORDERFLOW_MOTO_ACCESS_KEY_ID"],
              let secret = environment["ORDERFLOW_MOTO_SECRET_ACCESS_KEY"],
              let region = environment["ORDERFLOW_MOTO_REGION"] else {
            throw Missing(variables: missing.isEmpty ? ["ORDERFLOW_MOTO_ENDPOINT (not a URL)"] : missing)
        }
        return MotoEnvironment(endpoint: endpoint, accessKeyID: accessKeyID, secretAccessKey: secret, region: region)
    }

    /// A client for moto signing with the test principal's keys, or with `secret` instead of its real secret.
    public func client(secret: String? = nil, counter: AWSRequestCounter = AWSRequestCounter()) throws -> AWSClient {
        AWSClient(
            configuration: try AWSConfiguration(region: region, globalEndpoint: endpoint),
            credentialProvider: staticCredentials(accessKeyID: accessKeyID, secret: secret ?? secretAccessKey),
            counter: counter,
            requestTimeout: .seconds(20)
        )
    }
}

/// A name no other test run uses, for buckets, tables, queues, topics and streams (lower case for S3).
public func uniqueName(_ prefix: String) -> String {
    "\(prefix)-\(UUID().uuidString.prefix(13).lowercased())"
}

/// Fixed credentials, through the environment provider as production code would get them.
public func staticCredentials(accessKeyID: String, secret: String) -> EnvironmentCredentialProvider {
    EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": accessKeyID, "AWS_SECRET_ACCESS_KEY": secret])
}

/// Runs `body` with a client, shutting the client down afterwards whether or not `body` throws.
public func withClient<Result>(_ client: AWSClient, _ body: (AWSClient) async throws -> Result) async throws -> Result {
    let result: Result
    do {
        result = try await body(client)
    } catch {
        try? await client.shutdown()
        throw error
    }
    try await client.shutdown()
    return result
}
