import AWSKit
import Foundation

/// The moto server the AWS round-trip tests run against, as `scripts/test` (via `scripts/moto-up`) describes it.
struct MotoEnvironment {
    let endpoint: URL
    let accessKeyID: String
    let secretAccessKey: String
    let region: String

    /// Why the tests cannot reach moto; thrown so the test fails (never skips) with the fix in the message.
    struct Missing: Error, CustomStringConvertible {
        let variables: [String]

        var description: String {
            "\(variables.joined(separator: ", ")) not set: run scripts/test, which starts moto "
                + "(or `scripts/moto-up ENV_FILE` and export the variables it writes)"
        }
    }

    /// Reads `ORDERFLOW_MOTO_*`, throwing `Missing` when any is absent.
    static func require() throws -> MotoEnvironment {
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
    func client(secret: String? = nil, counter: AWSRequestCounter = AWSRequestCounter()) throws -> AWSClient {
        AWSClient(
            configuration: try AWSConfiguration(region: region, globalEndpoint: endpoint),
            credentialProvider: staticCredentials(accessKeyID: accessKeyID, secret: secret ?? secretAccessKey),
            counter: counter,
            requestTimeout: .seconds(20)
        )
    }
}

/// A name no other test run uses, for buckets, tables, queues, topics and streams (lower case for S3).
func uniqueName(_ prefix: String) -> String {
    "\(prefix)-\(UUID().uuidString.prefix(13).lowercased())"
}
